package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"switchboard/auth"
	"switchboard/cmd/switchboard/wire"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
)

type queueFigures struct {
	Queue                   struct{ ID, Name string }
	AgentsOnline            int
	AgentsAvailable         int
	AgentsOnContact         int
	ContactsInQueue         int
	OldestContactAgeSeconds int
	UpdatedAt               time.Time
}

// queuesPush reads the next queueMetricsChanged of a watched connection.
func queuesPush(t *testing.T, w *watched, id string) []queueFigures {
	t.Helper()
	m := w.next(t)
	if m.Type != "next" || m.ID != id {
		t.Fatalf("want next for %s, got %+v %s", id, m, m.Payload)
	}
	var p struct {
		Data struct {
			QueueMetricsChanged []queueFigures `json:"queueMetricsChanged"`
		}
		Errors []testenv.GQLError
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
		t.Fatalf("payload %s: %v", m.Payload, err)
	}
	return p.Data.QueueMetricsChanged
}

// queueTenant is a tenant with its own account and instance.
type queueTenant struct {
	testenv.Tenant
	instance string
}

// configureQueues gives tenant n its own account, role and instance.
func configureQueues(t *testing.T, s *testenv.Server, sts *fakeaws.STS, fc *fakeaws.Connect, tn testenv.Tenant, n int) queueTenant {
	t.Helper()
	account := fmt.Sprintf("%012d", 100000000000+n)
	role := "arn:aws:iam::" + account + ":role/SwitchboardAccess"
	sts.AllowRole(role, "ext")
	id := fmt.Sprintf("%08d-2222-3333-4444-555555555555", n)
	fc.AddInstance(id)
	s.MustDo(t, tn.AdminToken, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"instanceArn": "arn:aws:connect:eu-west-2:" + account + ":instance/" + id,
		"region":      "eu-west-2", "roleArn": role, "externalId": "ext",
	}}, nil)
	return queueTenant{Tenant: tn, instance: id}
}

// Queue figures on both stores: a tenant's people read and watch their own
// instance's queues, by name, with Connect's figures and their time; a
// change in Connect reaches the watchers at the next poll; however many
// watch, Connect is asked about once per interval, and not at all for a
// tenant nobody watches, nor once its watchers have gone; throttling backs
// off; Connect failing is UPSTREAM; a tenant without an instance is told
// to configure one.
func TestQueueMetrics(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		const interval = 150 * time.Millisecond
		fc := fakeaws.NewConnect(t)
		s, sts := serverWithAWS(t, b, func(c *wire.Config) {
			c.AWS.ConnectEndpoint = fc.URL
			c.QueueMetricsInterval = interval
		})
		fc.TrustSTS(sts)
		A := configureQueues(t, s, sts, fc, s.NewTenant(t, "Acme"), 1)
		B := configureQueues(t, s, sts, fc, s.NewTenant(t, "Bolt"), 2)
		C := configureQueues(t, s, sts, fc, s.NewTenant(t, "Cove"), 3)
		D := s.NewTenant(t, "Dune") // no instance
		fc.SetQueues(A.instance, fakeaws.Queue{ID: "qa-sales", Name: "Sales", Type: "STANDARD"},
			fakeaws.Queue{ID: "qa-billing", Name: "Billing", Type: "STANDARD"})
		fc.SetQueueMetrics(A.instance, "qa-sales", fakeaws.QueueMetrics{AgentsOnline: 7, AgentsAvailable: 2, AgentsOnContact: 4,
			ContactsInQueue: 3, OldestContactAge: 95 * time.Second})
		fc.SetQueues(B.instance, fakeaws.Queue{ID: "qb-desk", Name: "Bolt desk", Type: "STANDARD"})
		fc.SetQueues(C.instance, fakeaws.Queue{ID: "qc-1", Name: "Cove", Type: "STANDARD"})
		_, agentA := s.NewAgent(t, A.Tenant, "Al", "al@acme.example", auth.RoleAgent)
		_, supA := s.NewAgent(t, A.Tenant, "Sue", "sue@acme.example", auth.RoleSupervisor)
		_, agentB := s.NewAgent(t, B.Tenant, "Bo", "bo@bolt.example", auth.RoleAgent)
		_, agentD := s.NewAgent(t, D, "Di", "di@dune.example", auth.RoleAgent)

		var out struct {
			QueueMetrics []queueFigures `json:"queueMetrics"`
		}
		before := time.Now().Add(-time.Second)
		s.MustDo(t, agentA, testenv.ContractOperation(t, "QueueMetrics"), nil, &out)
		q := out.QueueMetrics
		if len(q) != 2 || q[0].Queue.Name != "Billing" || q[0].AgentsOnline != 0 || q[1].Queue.ID != "qa-sales" ||
			q[1].AgentsOnline != 7 || q[1].AgentsAvailable != 2 || q[1].AgentsOnContact != 4 || q[1].ContactsInQueue != 3 ||
			q[1].OldestContactAgeSeconds != 95 || q[1].UpdatedAt.Before(before) {
			t.Fatalf("A's queues %+v", q)
		}
		if r := s.Do(t, agentD, testenv.ContractOperation(t, "QueueMetrics"), nil); r.Code() != "BAD_USER_INPUT" {
			t.Fatalf("a tenant without an instance: %q", r.Code())
		}

		op := testenv.ContractOperation(t, "QueueMetricsChanged")
		var watchers []*watched
		for i := range 5 { // five of A's desktops
			tok := agentA
			if i%2 == 1 {
				tok = supA
			}
			conn := s.DialWS(t, tok)
			conn.Subscribe("q", op, nil)
			watchers = append(watchers, watch(conn))
		}
		bConn := s.DialWS(t, agentB)
		bConn.Subscribe("q", op, nil)
		bWatch := watch(bConn)
		for _, w := range watchers {
			if got := queuesPush(t, w, "q"); len(got) != 2 || got[1].AgentsOnline != 7 {
				t.Fatalf("A's first push %+v", got)
			}
		}
		if got := queuesPush(t, bWatch, "q"); len(got) != 1 || got[0].Queue.Name != "Bolt desk" {
			t.Fatalf("B's first push %+v", got)
		}

		// A change in Connect reaches every watcher, within a poll or two.
		fc.SetQueueMetrics(A.instance, "qa-billing", fakeaws.QueueMetrics{AgentsOnline: 1, ContactsInQueue: 9})
		for _, w := range watchers {
			for deadline := time.Now().Add(5 * time.Second); ; {
				if got := queuesPush(t, w, "q"); got[0].ContactsInQueue == 9 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("the change never came")
				}
			}
		}

		// However many watch, Connect is asked about once per interval.
		callsA, callsB := fc.MetricCalls(A.instance), fc.MetricCalls(B.instance)
		const window = 20 * interval
		time.Sleep(window)
		for name, n := range map[string]int{"A": fc.MetricCalls(A.instance) - callsA, "B": fc.MetricCalls(B.instance) - callsB} {
			if n > int(window/interval)+1 || n < int(window/interval)/4 {
				t.Errorf("%s: %d calls in %v at one per %v", name, n, window, interval)
			}
		}
		if n := fc.MetricCalls(C.instance); n != 0 {
			t.Errorf("Cove, whom nobody watches, was asked %d times", n)
		}
		for _, r := range fc.RequestsFor(fakeaws.OpGetCurrentMetricData) {
			creds, ok := sts.Lookup(r.AccessKeyID)
			switch {
			case !ok:
				t.Fatalf("signed by %s", r.AccessKeyID)
			case r.Path == "/metrics/current/"+A.instance && creds.RoleARN != "arn:aws:iam::100000000001:role/SwitchboardAccess",
				r.Path == "/metrics/current/"+B.instance && creds.RoleARN != "arn:aws:iam::100000000002:role/SwitchboardAccess":
				t.Fatalf("%s signed as %s", r.Path, creds.RoleARN)
			}
		}

		// Throttled: the poller backs off, doubling its wait.
		fc.Fail(fakeaws.OpGetCurrentMetricData, fakeaws.Failure{Status: 429, Code: "ThrottlingException", Message: "Rate exceeded", Times: 8})
		throttledFrom := len(fc.RequestsFor(fakeaws.OpGetCurrentMetricData))
		time.Sleep(10 * interval)
		if n := len(fc.RequestsFor(fakeaws.OpGetCurrentMetricData)) - throttledFrom; n > 2*4 {
			// Without backoff, two tenants at one per interval: 20.
			t.Errorf("%d calls in 10 intervals while throttled", n)
		}
		fc.ClearFailures()

		// B's watcher goes: B is no longer asked.
		bConn.Complete("q")
		time.Sleep(4 * interval)
		stopped := fc.MetricCalls(B.instance)
		time.Sleep(5 * interval)
		if n := fc.MetricCalls(B.instance) - stopped; n != 0 {
			t.Errorf("B was asked %d times after its watcher went", n)
		}

		// Connect failing, with no fresh figures: UPSTREAM.
		fc.Fail(fakeaws.OpGetCurrentMetricData, fakeaws.Failure{Status: 500, Code: "InternalServiceException", Message: "down", Times: 100})
		time.Sleep(3 * interval)
		if r := s.Do(t, agentB, testenv.ContractOperation(t, "QueueMetrics"), nil); r.Code() != "UPSTREAM" {
			t.Fatalf("Connect down: %q %+v", r.Code(), r.Errors)
		}
	})
}

// 1,000 queueMetricsChanged subscriptions over ten tenants on two
// replicas: each tenant's instance is asked about once per interval, by
// one of them, never beyond Connect's rate; every subscription gets its own
// tenant's figures, and only them, on either replica.
func TestQueueMetricsReplicas(t *testing.T) {
	url := testenv.PostgresURL(t)
	const interval = 250 * time.Millisecond
	sts, fc, opt := testenv.FakeConnect(t, interval)
	one := testenv.NewServerOn(t, url, opt)
	two := testenv.NewServerOn(t, url, opt)
	two.Secret = one.Secret
	replicas := []*testenv.Server{one, two}

	const tenants, people, perConn = 10, 10, 10
	type sub struct {
		w      *watched
		prefix string // of the tenant's queue IDs
	}
	var subs []sub
	var instances []string
	for n := range tenants {
		tn := configureQueues(t, one, sts, fc, one.NewTenant(t, fmt.Sprintf("Tenant %d", n)), 10+n)
		instances = append(instances, tn.instance)
		prefix := fmt.Sprintf("t%d-", n)
		fc.SetQueues(tn.instance, fakeaws.Queue{ID: prefix + "a", Name: "A", Type: "STANDARD"},
			fakeaws.Queue{ID: prefix + "b", Name: "B", Type: "STANDARD"})
		fc.SetQueueMetrics(tn.instance, prefix+"a", fakeaws.QueueMetrics{AgentsOnline: n + 1})
		for p := range people {
			_, tok := one.NewAgent(t, tn.Tenant, fmt.Sprintf("Agent %d", p), fmt.Sprintf("a%d@t%d.example", p, n), auth.RoleAgent)
			conn := replicas[p%2].DialWS(t, tok)
			for i := range perConn {
				conn.Subscribe(fmt.Sprint("q", i), testenv.ContractOperation(t, "QueueMetricsChanged"), nil)
			}
			subs = append(subs, sub{w: watch(conn), prefix: prefix})
		}
	}
	if len(subs)*perConn != 1000 {
		t.Fatalf("%d subscriptions", len(subs)*perConn)
	}
	// check reads what each connection has received: its own tenant's
	// figures only, on every subscription.
	check := func() (pushes int) {
		t.Helper()
		for _, s := range subs {
			got := s.w.got()
			for _, m := range got {
				var p struct {
					Data struct {
						QueueMetricsChanged []queueFigures `json:"queueMetricsChanged"`
					}
				}
				if err := json.Unmarshal(m.Payload, &p); err != nil || m.Type != "next" || len(p.Data.QueueMetricsChanged) != 2 {
					t.Fatalf("push %+v %s", m, m.Payload)
				}
				for _, f := range p.Data.QueueMetricsChanged {
					if !strings.HasPrefix(f.Queue.ID, s.prefix) {
						t.Fatalf("a subscriber of %s saw queue %s", s.prefix, f.Queue.ID)
					}
				}
			}
			pushes += len(got)
		}
		return pushes
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		ready := 0
		for _, s := range subs {
			if len(s.w.got()) >= perConn {
				ready++
			}
		}
		if ready == len(subs) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d connections have a push on every subscription", ready, len(subs))
		}
		time.Sleep(10 * time.Millisecond)
	}
	before := make([]int, tenants)
	for n, id := range instances {
		before[n] = fc.MetricCalls(id)
	}
	pushesBefore := check()
	const window = 16 * interval
	time.Sleep(window)
	for n, id := range instances {
		calls := fc.MetricCalls(id) - before[n]
		if calls > int(window/interval)+1 || calls < int(window/interval)/4 {
			t.Errorf("tenant %d: %d GetCurrentMetricData in %v at one per %v", n, calls, window, interval)
		}
		if th := fc.Throttled(id); th != 0 {
			t.Errorf("tenant %d: throttled %d times", n, th)
		}
	}
	if pushes := check() - pushesBefore; pushes < 1000*int(window/interval)/4 {
		t.Errorf("%d pushes to 1,000 subscriptions in %v", pushes, window)
	}
}
