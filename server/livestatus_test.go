package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/auth"
	"switchboard/clienttest"
	"switchboard/cmd/switchboard/wire"
	"switchboard/ent"
	"switchboard/ent/agentstatuschange"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/viewer"
)

const statusChanged = `subscription AgentStatusChanged($agentIds: [ID!]) {
  agentStatusChanged(agentIds: $agentIds) {
    agent { id name }
    status { id name type }
    previousStatus { id name type }
    changedAt
  }
}`

type statusEvent struct {
	AgentStatusChanged struct {
		Agent          struct{ ID, Name string }
		Status         struct{ ID, Name, Type string }
		PreviousStatus *struct{ ID, Name, Type string }
		ChangedAt      time.Time
	} `json:"agentStatusChanged"`
}

func nextEvent(t *testing.T, ws *testenv.WS, id string) statusEvent {
	t.Helper()
	m := ws.Read(10 * time.Second)
	if m.Type != "next" || m.ID != id {
		t.Fatalf("want next for %s, got %+v %s", id, m, m.Payload)
	}
	var p struct {
		Data   statusEvent
		Errors []testenv.GQLError
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
		t.Fatalf("payload %s: %v", m.Payload, err)
	}
	return p.Data
}

type liveFixture struct {
	s                *testenv.Server
	a, b             testenv.Tenant
	alex, bea, cy    string // agents of A (alex, bea) and B (cy)
	alexTok, beaTok  string
	supTok, cyTok    string
	available, lunch string // A's statuses
	bAvailable       string
}

func newLiveFixture(t *testing.T, b testenv.Backend, opts ...testenv.ServerOption) *liveFixture {
	s := testenv.NewServer(t, b, opts...)
	f := &liveFixture{s: s, a: s.NewTenant(t, "Acme"), b: s.NewTenant(t, "Bolt")}
	f.alex, f.alexTok = s.NewAgent(t, f.a, "Alex", "alex@acme.example", auth.RoleAgent)
	f.bea, f.beaTok = s.NewAgent(t, f.a, "Bea", "bea@acme.example", auth.RoleAgent)
	_, f.supTok = s.NewAgent(t, f.a, "Sam", "sam@acme.example", auth.RoleSupervisor)
	f.cy, f.cyTok = s.NewAgent(t, f.b, "Cy", "cy@bolt.example", auth.RoleAgent)
	f.available = f.status(t, f.a, "Available", "ROUTABLE")
	f.lunch = f.status(t, f.a, "Lunch", "CUSTOM")
	f.bAvailable = f.status(t, f.b, "Available", "ROUTABLE")
	return f
}

func (f *liveFixture) status(t *testing.T, tn testenv.Tenant, name, typ string) string {
	var out struct {
		CreateAgentStatus struct{ ID string } `json:"createAgentStatus"`
	}
	f.s.MustDo(t, tn.AdminToken, `mutation($n: String!, $t: AgentStatusType!) { createAgentStatus(input: {name: $n, type: $t}) { id } }`,
		map[string]any{"n": name, "t": typ}, &out)
	return out.CreateAgentStatus.ID
}

func (f *liveFixture) set(t *testing.T, token, statusID string, agentID any) testenv.Response {
	return f.s.Do(t, token, testenv.ContractOperation(t, "SetAgentStatus"), map[string]any{"statusId": statusID, "agentId": agentID})
}

func TestSetAgentStatusAndSubscribe(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newLiveFixture(t, b)
		wallboard := f.s.DialWS(t, f.supTok)
		wallboard.Subscribe("wb", testenv.ContractOperation(t, "AgentStatusChanged"), nil)
		beaOnly := f.s.DialWS(t, f.supTok)
		beaOnly.Subscribe("bea", statusChanged, map[string]any{"agentIds": []string{f.bea}})
		alexDesk := f.s.DialWS(t, f.alexTok)
		alexDesk.Subscribe("me", statusChanged, nil) // an agent's own desktop: itself only
		other := f.s.DialWS(t, f.b.AdminToken)
		other.Subscribe("other", statusChanged, nil)
		waitSubscriptions(t, f.s, 4)
		direct := metric(t, f.s, "switchboard_ws_direct_messages_total")

		// Alex sets its own status.
		r := f.set(t, f.alexTok, f.available, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("SetAgentStatus: %+v", r.Errors)
		}
		var set struct {
			SetAgentStatus struct {
				ID            string
				CurrentStatus struct {
					Status struct{ ID, Name, Type string }
					Since  time.Time
				}
			} `json:"setAgentStatus"`
		}
		_ = json.Unmarshal(r.Data, &set)
		if set.SetAgentStatus.ID != f.alex || set.SetAgentStatus.CurrentStatus.Status.ID != f.available ||
			time.Since(set.SetAgentStatus.CurrentStatus.Since) > time.Minute {
			t.Fatalf("SetAgentStatus returned %s", r.Data)
		}
		for _, ws := range []*testenv.WS{wallboard, alexDesk} {
			id := map[*testenv.WS]string{wallboard: "wb", alexDesk: "me"}[ws]
			ev := nextEvent(t, ws, id).AgentStatusChanged
			if ev.Agent.ID != f.alex || ev.Agent.Name != "Alex" || ev.Status.Name != "Available" || ev.Status.Type != "ROUTABLE" || ev.PreviousStatus != nil {
				t.Fatalf("first event: %+v", ev)
			}
		}
		// Then lunch: the event names the previous status.
		if r := f.set(t, f.alexTok, f.lunch, nil); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		ev := nextEvent(t, wallboard, "wb").AgentStatusChanged
		if ev.Status.Name != "Lunch" || ev.PreviousStatus == nil || ev.PreviousStatus.Name != "Available" {
			t.Fatalf("second event: %+v", ev)
		}
		if ev := nextEvent(t, alexDesk, "me").AgentStatusChanged; ev.Status.Name != "Lunch" {
			t.Fatalf("alex's desk: %+v", ev)
		}
		// Setting the status it already has records and publishes nothing.
		if r := f.set(t, f.alexTok, f.lunch, nil); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		// A supervisor sets Bea's status: the wallboard and Bea's filter see it; Alex's desk does not.
		if r := f.set(t, f.supTok, f.available, f.bea); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		if ev := nextEvent(t, wallboard, "wb").AgentStatusChanged; ev.Agent.ID != f.bea {
			t.Fatalf("wallboard: %+v (a repeated status was published?)", ev)
		}
		if ev := nextEvent(t, beaOnly, "bea").AgentStatusChanged; ev.Agent.ID != f.bea || ev.Status.Name != "Available" {
			t.Fatalf("bea filter: %+v", ev)
		}
		// Tenant B's change reaches B's subscriber, whose first event it must be.
		if r := f.set(t, f.cyTok, f.bAvailable, nil); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		if ev := nextEvent(t, other, "other").AgentStatusChanged; ev.Agent.ID != f.cy {
			t.Fatalf("tenant B received another tenant's event: %+v", ev)
		}
		// ...and no one of A's.
		if m, ok := wallboard.TryRead(300 * time.Millisecond); ok {
			t.Fatalf("A's wallboard got %+v %s", m, m.Payload)
		}
		if m, ok := alexDesk.TryRead(100 * time.Millisecond); ok {
			t.Fatalf("alex's desk got %+v %s", m, m.Payload)
		}
		// The seven events above were written straight to their sockets.
		if n := metric(t, f.s, "switchboard_ws_direct_messages_total") - direct; n != 7 {
			t.Errorf("%v events written directly, want 7", n)
		}
		if m, ok := beaOnly.TryRead(100 * time.Millisecond); ok {
			t.Fatalf("bea's filter got %+v %s", m, m.Payload)
		}
	})
}

func TestSetAgentStatusRefusals(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newLiveFixture(t, b)
		cases := []struct {
			name          string
			token, status string
			agent         any
			want          string
		}{
			{"agent sets another agent", f.alexTok, f.available, f.bea, "FORBIDDEN"},
			{"another tenant's status", f.alexTok, f.bAvailable, nil, "BAD_USER_INPUT"},
			{"supervisor, another tenant's agent", f.supTok, f.available, f.cy, "NOT_FOUND"},
			{"tenant B admin sets A's agent", f.b.AdminToken, f.bAvailable, f.alex, "NOT_FOUND"},
			{"unknown status", f.alexTok, "AS01M8AZ887ZNV6K8JPJJ69100YE", nil, "BAD_USER_INPUT"},
			{"malformed status", f.alexTok, "nope", nil, "BAD_USER_INPUT"},
			{"admin without an agent record", f.a.AdminToken, f.available, nil, "BAD_USER_INPUT"},
			{"operator", f.s.OperatorToken(t), f.available, f.alex, "FORBIDDEN"},
			{"no token", "", f.available, nil, "UNAUTHENTICATED"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := f.set(t, c.token, c.status, c.agent)
				if r.Code() != c.want {
					t.Fatalf("code %q, want %q: %+v", r.Code(), c.want, r.Errors)
				}
			})
		}
		// Nothing was recorded: every agent is still without a status.
		var out struct {
			Agents struct {
				Edges []struct {
					Node struct{ CurrentStatus json.RawMessage }
				}
			}
		}
		for _, tok := range []string{f.supTok, f.b.AdminToken} {
			f.s.MustDo(t, tok, wallboard, nil, &out)
			for _, e := range out.Agents.Edges {
				if string(e.Node.CurrentStatus) != "null" {
					t.Fatalf("a refused change was recorded: %s", e.Node.CurrentStatus)
				}
			}
		}
		// Watching: an agent only itself.
		ws := f.s.DialWS(t, f.alexTok)
		ws.Subscribe("x", statusChanged, map[string]any{"agentIds": []string{f.bea}})
		m := ws.Read(5 * time.Second)
		if (m.Type != "error" && m.Type != "next") || !containsCode(m.Payload, "FORBIDDEN") {
			t.Fatalf("agent watching another: %+v %s", m, m.Payload)
		}
		if m := ws.Read(5 * time.Second); m.Type != "complete" || m.ID != "x" {
			t.Fatalf("the refused subscription goes on: %+v", m)
		}
		ws.Subscribe("y", statusChanged, map[string]any{"agentIds": []string{f.alex}})
		waitSubscriptions(t, f.s, 1)
		if r := f.set(t, f.alexTok, f.available, nil); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		if ev := nextEvent(t, ws, "y").AgentStatusChanged; ev.Agent.ID != f.alex {
			t.Fatalf("own watch: %+v", ev)
		}
	})
}

// containsCode reports whether an error or next payload carries the code.
func containsCode(payload json.RawMessage, code string) bool {
	var errs []testenv.GQLError
	if err := json.Unmarshal(payload, &errs); err != nil {
		var res struct{ Errors []testenv.GQLError }
		if err := json.Unmarshal(payload, &res); err != nil {
			return false
		}
		errs = res.Errors
	}
	for _, e := range errs {
		if e.Extensions["code"] == code {
			return true
		}
	}
	return false
}

func TestAgentStatusHistory(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newLiveFixture(t, b)
		t0 := time.Now().UTC()
		for _, st := range []string{f.available, f.lunch, f.available} {
			if r := f.set(t, f.alexTok, st, nil); len(r.Errors) > 0 {
				t.Fatal(r.Errors)
			}
			time.Sleep(20 * time.Millisecond)
		}
		t1 := time.Now().UTC()
		history := testenv.ContractOperation(t, "AgentStatusHistory")
		type interval struct {
			Status             struct{ Name string }
			StartedAt, EndedAt time.Time
		}
		var out struct {
			AgentStatusHistory []interval `json:"agentStatusHistory"`
		}
		f.s.MustDo(t, f.alexTok, history, map[string]any{"agentId": f.alex, "from": t0.Add(-time.Hour), "to": t1.Add(time.Hour)}, &out)
		h := slices.Clone(out.AgentStatusHistory) // out is decoded into again below
		if len(h) != 3 || h[0].Status.Name != "Available" || h[1].Status.Name != "Lunch" || h[2].Status.Name != "Available" {
			t.Fatalf("history: %+v", h)
		}
		for i := 0; i < 2; i++ {
			if !h[i].EndedAt.Equal(h[i+1].StartedAt) || !h[i].StartedAt.Before(h[i].EndedAt) {
				t.Fatalf("intervals do not chain: %+v", h)
			}
		}
		if h[2].EndedAt.After(time.Now().Add(time.Second)) {
			t.Fatalf("the current interval ends in the future: %v", h[2].EndedAt)
		}
		// Clipped: a window inside the lunch interval returns just that, clipped to it.
		mid := h[1].StartedAt.Add(h[1].EndedAt.Sub(h[1].StartedAt) / 2)
		f.s.MustDo(t, f.supTok, history, map[string]any{"agentId": f.alex, "from": mid, "to": mid.Add(time.Millisecond)}, &out)
		if len(out.AgentStatusHistory) != 1 || out.AgentStatusHistory[0].Status.Name != "Lunch" ||
			!out.AgentStatusHistory[0].StartedAt.Equal(mid) || !out.AgentStatusHistory[0].EndedAt.Equal(mid.Add(time.Millisecond)) {
			t.Fatalf("clipped: %+v (mid %v)", out.AgentStatusHistory, mid)
		}
		// The same window written in other time zones gives the same history.
		for _, zone := range []*time.Location{time.FixedZone("+05:00", 5*3600), time.FixedZone("-07:00", -7*3600)} {
			from, to := t0.Add(-time.Hour).In(zone), t1.Add(time.Hour).In(zone)
			var in struct {
				AgentStatusHistory []interval `json:"agentStatusHistory"`
			}
			f.s.MustDo(t, f.supTok, history, map[string]any{"agentId": f.alex, "from": from.Format(time.RFC3339Nano), "to": to.Format(time.RFC3339Nano)}, &in)
			got := in.AgentStatusHistory
			if len(got) != 3 || !got[0].StartedAt.Equal(h[0].StartedAt) || !got[1].StartedAt.Equal(h[1].StartedAt) || !got[2].StartedAt.Equal(h[2].StartedAt) {
				t.Fatalf("in %s: %+v, want %+v", zone, got, h)
			}
		}
		// Before any status: nothing.
		f.s.MustDo(t, f.alexTok, history, map[string]any{"agentId": f.alex, "from": t0.Add(-2 * time.Hour), "to": t0.Add(-time.Hour)}, &out)
		if len(out.AgentStatusHistory) != 0 {
			t.Fatalf("before: %+v", out.AgentStatusHistory)
		}
		for _, c := range []struct {
			name, token, agent string
			from, to           time.Time
			want               string
		}{
			{"agent reads another", f.beaTok, f.alex, t0, t1, "FORBIDDEN"},
			{"other tenant", f.b.AdminToken, f.alex, t0, t1, "NOT_FOUND"},
			{"other tenant's supervisor-level", f.cyTok, f.alex, t0, t1, "FORBIDDEN"},
			{"reversed range", f.supTok, f.alex, t1, t0, "BAD_USER_INPUT"},
			{"huge range", f.supTok, f.alex, t0.Add(-400 * 24 * time.Hour), t1, "BAD_USER_INPUT"},
		} {
			r := f.s.Do(t, c.token, history, map[string]any{"agentId": c.agent, "from": c.from, "to": c.to})
			if r.Code() != c.want {
				t.Errorf("%s: code %q, want %q", c.name, r.Code(), c.want)
			}
		}
	})
}

// TestManySubscriptionsLeaveNothingBehind opens and closes 1,024
// subscriptions concurrently and checks no goroutine or subscription stays.
func TestManySubscriptionsLeaveNothingBehind(t *testing.T) {
	f := newLiveFixture(t, testenv.Backends()[0], func(c *wire.Config) { c.Limits.WSConnsPerPerson = -1 })
	base := runtime.NumGoroutine()
	const conns, perConn = 64, 16
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for c := 0; c < conns; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws := f.s.DialWS(t, f.supTok)
			for i := 0; i < perConn; i++ {
				ws.Subscribe(fmt.Sprint(i), statusChanged, nil)
			}
			for i := 0; i < perConn; i++ {
				ws.Complete(fmt.Sprint(i))
			}
			ws.Conn.Close()
		}()
	}
	wg.Wait()
	close(errs)
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := f.s.App.Status().Broker().Stats()
		g := runtime.NumGoroutine()
		if st.Subscriptions == 0 && g <= base+2 {
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			n := runtime.Stack(buf, true)
			t.Fatalf("left behind: %d subscriptions, %d goroutines (from %d)\n%s", st.Subscriptions, g, base, buf[:n])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitSubscriptions waits until the broker holds n subscriptions.
func waitSubscriptions(t *testing.T, s *testenv.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.App.Status().Broker().Stats().Subscriptions != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscriptions, want %d", s.App.Status().Broker().Stats().Subscriptions, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSubscriptionEndsWithToken: a subscription lasts no longer than the
// token it was opened with.
func TestSubscriptionEndsWithToken(t *testing.T) {
	f := newLiveFixture(t, testenv.Backends()[0])
	short, err := auth.Mint(f.s.Secret, auth.Claims{Email: "sam@acme.example", Tenant: f.a.ID, Role: auth.RoleSupervisor}, 2*time.Second, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	long := f.s.DialWS(t, f.supTok) // the control: an hour's token
	long.Subscribe("wb", statusChanged, nil)
	ws := f.s.DialWS(t, short)
	ws.Subscribe("wb", statusChanged, nil)
	waitSubscriptions(t, f.s, 2)
	if r := f.set(t, f.alexTok, f.available, nil); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	nextEvent(t, ws, "wb") // live while the token is
	start := time.Now()
	_ = ws.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		var m testenv.WSMessage
		err := ws.Conn.ReadJSON(&m)
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			if ce.Code != 4403 || ce.Text != "token expired" {
				t.Fatalf("closed with %d %q, want 4403 token expired", ce.Code, ce.Text)
			}
			break
		}
		if err != nil {
			t.Fatalf("ended without a close frame: %v", err)
		}
		if m.Type == "ping" {
			_ = ws.Conn.WriteJSON(testenv.WSMessage{Type: "pong"})
		}
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("the connection outlived its token by %v", time.Since(start))
	}
	waitSubscriptions(t, f.s, 1)
	nextEvent(t, long, "wb")
	if r := f.set(t, f.alexTok, f.lunch, nil); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	if ev := nextEvent(t, long, "wb").AgentStatusChanged; ev.Status.Name != "Lunch" {
		t.Fatalf("the control connection: %+v", ev)
	}
}

// TestGraphQLWSClient: the public graphql-ws client (npm) subscribes with
// the contract's operation and receives its tenant's changes only.
func TestGraphQLWSClient(t *testing.T) {
	f := newLiveFixture(t, testenv.Backends()[0])
	wsURL := "ws" + strings.TrimPrefix(f.s.URL, "http") + "/query"
	wallboard := clienttest.Start(t, wsURL, f.supTok, testenv.ContractOperation(t, "AgentStatusChanged"), nil)
	other := clienttest.Start(t, wsURL, f.b.AdminToken, statusChanged, nil)
	for _, c := range []*clienttest.Client{wallboard, other} {
		if ev := c.Next(t, 30*time.Second); ev.Type != "connected" {
			t.Fatalf("got %+v", ev)
		}
	}
	waitSubscriptions(t, f.s, 2)
	if r := f.set(t, f.alexTok, f.available, nil); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	ev := wallboard.Next(t, 10*time.Second)
	if ev.Type != "next" || !strings.Contains(string(ev.Payload), `"name":"Alex"`) || !strings.Contains(string(ev.Payload), `"Available"`) {
		t.Fatalf("wallboard got %+v %s", ev, ev.Payload)
	}
	if r := f.set(t, f.cyTok, f.bAvailable, nil); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	if ev := other.Next(t, 10*time.Second); ev.Type != "next" || !strings.Contains(string(ev.Payload), `"name":"Cy"`) {
		t.Fatalf("tenant B's first event is not its own: %+v %s", ev, ev.Payload)
	}
	// A refused token: the client sees the protocol's 4403.
	refused := clienttest.Start(t, wsURL, "not-a-token", statusChanged, nil)
	for {
		ev := refused.Next(t, 30*time.Second)
		if ev.Type == "closed" {
			if ev.Code != 4403 {
				t.Fatalf("closed with %d, want 4403", ev.Code)
			}
			break
		}
		if ev.Type == "next" {
			t.Fatalf("a refused client got data: %s", ev.Payload)
		}
	}
}

// Changes of one agent made at once, from desktops and supervisors, on every
// store: each is recorded against the status the agent held just before it,
// whatever the interleaving, and the agent ends holding the last.
func TestConcurrentStatusChangesKeepOneChain(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newLiveFixture(t, b)
		brk := f.status(t, f.a, "Break", "CUSTOM")
		statuses := []string{f.available, f.lunch, brk}
		const writers, each = 6, 8
		var wg sync.WaitGroup
		errs := make(chan string, writers*each)
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for k := 0; k < each; k++ {
					st := statuses[(w+k)%len(statuses)]
					var r testenv.Response
					if w%2 == 0 {
						r = f.set(t, f.alexTok, st, nil) // Alex's desktops
					} else {
						r = f.set(t, f.supTok, st, f.alex) // a supervisor
					}
					if len(r.Errors) > 0 {
						errs <- fmt.Sprintf("writer %d: %+v", w, r.Errors)
					}
				}
			}(w)
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}

		ctx := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleSupervisor, TenantID: gid.ID(f.a.ID)})
		changes := f.s.Store.Client.AgentStatusChange.Query().
			Where(agentstatuschange.AgentID(gid.ID(f.alex))).
			Order(ent.Asc(agentstatuschange.FieldChangedAt)).
			AllX(ctx)
		if len(changes) < 2 {
			t.Fatalf("%d changes recorded", len(changes))
		}
		if changes[0].PreviousStatusID != nil {
			t.Errorf("the first change has a previous status %s", *changes[0].PreviousStatusID)
		}
		for i := 1; i < len(changes); i++ {
			prev, cur := changes[i-1], changes[i]
			if cur.PreviousStatusID == nil || *cur.PreviousStatusID != prev.StatusID {
				recorded := "none"
				if cur.PreviousStatusID != nil {
					recorded = string(*cur.PreviousStatusID)
				}
				t.Errorf("change %d (%s) follows %s but records %s as previous", i, cur.StatusID, prev.StatusID, recorded)
			}
			if cur.StatusID == prev.StatusID {
				t.Errorf("change %d records no change (%s)", i, cur.StatusID)
			}
			if !cur.ChangedAt.After(prev.ChangedAt) {
				t.Errorf("change %d at %s, not after %s", i, cur.ChangedAt, prev.ChangedAt)
			}
		}
		last := changes[len(changes)-1]
		alex := f.s.Store.Client.Agent.GetX(ctx, gid.ID(f.alex))
		if alex.CurrentStatusID == nil || *alex.CurrentStatusID != last.StatusID || !alex.StatusSince.Equal(last.ChangedAt) {
			t.Errorf("Alex holds %v since %v; the last change is %s at %s", alex.CurrentStatusID, alex.StatusSince, last.StatusID, last.ChangedAt)
		}
		// The other tenant's agent was not touched.
		other := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleSupervisor, TenantID: gid.ID(f.b.ID)})
		if n := f.s.Store.Client.AgentStatusChange.Query().CountX(other); n != 0 {
			t.Errorf("tenant B has %d changes", n)
		}
	})
}

// metric reads a counter or gauge without labels from the server's /metrics.
func metric(t *testing.T, s *testenv.Server, name string) float64 {
	t.Helper()
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	t.Fatalf("no %s in /metrics", name)
	return 0
}
