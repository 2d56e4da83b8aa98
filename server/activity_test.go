package server_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"switchboard/auth"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
)

type activityEvent struct {
	AgentActivityChanged struct {
		Agent    struct{ ID string }
		Activity activity
	} `json:"agentActivityChanged"`
}

type activity struct {
	OnContact        bool
	AfterContactWork bool
	Since            time.Time
	Contacts         []struct {
		ContactID string `json:"contactId"`
		Channel   string
		State     string
		Since     time.Time
	}
	NextStatus *struct{ ID, Name string }
}

// watched is a connection read in the background (testenv.WS.Watch), so
// that a test can also show that nothing arrives: gorilla's connection is
// done with after a read times out.
type watched struct {
	got  func() []testenv.WSMessage
	read int
}

func watch(ws *testenv.WS) *watched { return &watched{got: ws.Watch()} }

// next waits for the next message.
func (w *watched) next(t *testing.T) testenv.WSMessage {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got := w.got(); len(got) > w.read {
			w.read++
			return got[w.read-1]
		}
		if time.Now().After(deadline) {
			t.Fatal("no message within 10s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// quiet fails t if a message arrives within d.
func (w *watched) quiet(t *testing.T, d time.Duration, what string) {
	t.Helper()
	time.Sleep(d)
	if got := w.got(); len(got) > w.read {
		t.Fatalf("%s: %+v %s", what, got[w.read], got[w.read].Payload)
	}
}

func nextActivity(t *testing.T, w *watched, id string) activityEvent {
	t.Helper()
	m := w.next(t)
	if m.Type != "next" || m.ID != id {
		t.Fatalf("want next for %s, got %+v %s", id, m, m.Payload)
	}
	var p struct {
		Data   activityEvent
		Errors []testenv.GQLError
	}
	if err := json.Unmarshal(m.Payload, &p); err != nil || len(p.Errors) > 0 {
		t.Fatalf("payload %s: %v", m.Payload, err)
	}
	return p.Data
}

func waitActivitySubscriptions(t *testing.T, s *testenv.Server, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.App.Status().ActivityStats().Subscriptions != n {
		if time.Now().After(deadline) {
			t.Fatalf("%d activity subscriptions, want %d", s.App.Status().ActivityStats().Subscriptions, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// contactEvent is an agent event whose snapshot shows the agent, in its
// chosen status, with one contact in state (none when state is empty), and
// the status Connect will apply next (none when empty).
func contactEvent(eventID, userID, status string, at time.Time, contactID, state string, stateSince time.Time, next string) map[string]any {
	e := agentEvent(eventID, userID, status, at.Add(-time.Hour))
	e["EventTimestamp"] = at.UTC().Format("2006-01-02T15:04:05.000Z")
	snap := e["CurrentAgentSnapshot"].(map[string]any)
	if state != "" {
		snap["Contacts"] = []any{map[string]any{
			"ContactId": contactID, "InitialContactId": contactID, "Channel": "VOICE", "InitiationMethod": "INBOUND",
			"State": state, "StateStartTimestamp": stateSince.UTC().Format("2006-01-02T15:04:05.000Z"),
		}}
	}
	if next != "" {
		snap["NextAgentStatus"] = map[string]any{"ARN": instanceARN + "/agent-state/cs-" + lower(next), "Name": next,
			"EnqueuedTimestamp": at.UTC().Format("2006-01-02T15:04:05.000Z")}
	}
	return e
}

// An agent's activity comes from the agent event stream: on a contact
// whatever status it chose, then in after-contact work, then neither; the
// wallboard sees each change once, in order, and an agent's desktop its
// own; late, repeated and heartbeat events change nothing; another
// tenant's agent of the same Connect user ID, and that tenant's
// subscribers, see none of it.
func TestAgentActivity(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newConnectFixture(t, b)
		var key struct {
			RotateAgentEventKey string `json:"rotateAgentEventKey"`
		}
		f.s.MustDo(t, f.a.AdminToken, `mutation { rotateAgentEventKey }`, nil, &key)
		// Bolt's Cy has the same Connect user ID, in Bolt's own instance.
		f.s.MustDo(t, f.b.AdminToken, `mutation($id: ID!) { updateAgent(id: $id, input: {connectUserID: "user-alex"}) { id } }`,
			map[string]any{"id": f.cy}, nil)

		op := testenv.ContractOperation(t, "AgentActivityChanged")
		wbConn := f.s.DialWS(t, f.supTok)
		wbConn.Subscribe("wb", op, nil)
		wb := watch(wbConn)
		alexConn := f.s.DialWS(t, f.alexTok)
		alexConn.Subscribe("me", op, nil)
		alexDesk := watch(alexConn)
		other := f.s.DialWS(t, f.b.AdminToken)
		other.Subscribe("other", op, nil)
		otherGot := other.Watch()
		waitActivitySubscriptions(t, f.s, 3)

		// An agent may not watch another's activity.
		spy := f.s.DialWS(t, f.alexTok)
		spy.Subscribe("spy", op, map[string]any{"agentIds": []string{f.bea}})
		if m := spy.Read(10 * time.Second); !containsCode(m.Payload, "FORBIDDEN") {
			t.Fatalf("an agent watching another: %+v %s", m, m.Payload)
		}

		t0 := time.Now().Add(-10 * time.Minute).Truncate(time.Millisecond)
		send := func(events ...map[string]any) {
			t.Helper()
			if code := deliver(t, f.s, key.RotateAgentEventKey, events...); code != http.StatusOK {
				t.Fatalf("delivery: %d", code)
			}
		}
		// Alex chose Available and is on a call, with Lunch to follow.
		send(contactEvent("a1", "user-alex", "Available", t0, "c-1", "CONNECTED", t0.Add(-5*time.Second), "Lunch"))
		for _, ws := range []*watched{wb, alexDesk} {
			id := "wb"
			if ws == alexDesk {
				id = "me"
			}
			ev := nextActivity(t, ws, id).AgentActivityChanged
			a := ev.Activity
			if ev.Agent.ID != f.alex || !a.OnContact || a.AfterContactWork || !a.Since.Equal(t0.Add(-5*time.Second)) ||
				len(a.Contacts) != 1 || a.Contacts[0].ContactID != "c-1" || a.Contacts[0].State != "CONNECTED" || a.Contacts[0].Channel != "VOICE" ||
				a.NextStatus == nil || a.NextStatus.Name != "Lunch" || a.NextStatus.ID != f.lunch {
				t.Fatalf("%s: %+v", id, ev)
			}
		}
		wallboard := func(token string) map[string]*activity {
			t.Helper()
			var out struct {
				Agents struct {
					Edges []struct {
						Node struct {
							ID       string
							Activity *activity
						}
					}
				}
			}
			f.s.MustDo(t, token, testenv.ContractOperation(t, "WallboardActivity"), nil, &out)
			got := map[string]*activity{}
			for _, e := range out.Agents.Edges {
				got[e.Node.ID] = e.Node.Activity
			}
			return got
		}
		got := wallboard(f.supTok)
		if a := got[f.alex]; a == nil || !a.OnContact || a.NextStatus == nil || a.NextStatus.Name != "Lunch" {
			t.Fatalf("wallboard: Alex %+v", a)
		}
		if a, ok := got[f.bea]; !ok || a != nil {
			t.Fatalf("wallboard: Bea, of whom Connect said nothing: %+v (listed %v)", a, ok)
		}
		// Still Available as chosen: activity is beside the status, not instead.
		var st struct {
			Node struct {
				CurrentStatus struct{ Status struct{ Name string } }
			}
		}
		f.s.MustDo(t, f.supTok, `query($id: ID!) { node(id: $id) { ... on Agent { currentStatus { status { name } } } } }`, map[string]any{"id": f.alex}, &st)
		if st.Node.CurrentStatus.Status.Name != "Available" {
			t.Fatalf("Alex's status %q", st.Node.CurrentStatus.Status.Name)
		}

		// The call ends: after-contact work, since the contact ended.
		t1 := t0.Add(30 * time.Second)
		send(contactEvent("a2", "user-alex", "Available", t1, "c-1", "ENDED", t1.Add(-time.Second), "Lunch"))
		if a := nextActivity(t, wb, "wb").AgentActivityChanged.Activity; a.OnContact || !a.AfterContactWork || !a.Since.Equal(t1.Add(-time.Second)) || a.Contacts[0].State != "ENDED" {
			t.Fatalf("after the call: %+v", a)
		}
		nextActivity(t, alexDesk, "me")
		// A late event (older than a2), a2 again, and a heartbeat that shows
		// the same: nothing is published, nothing changes.
		send(contactEvent("a0", "user-alex", "Available", t0.Add(10*time.Second), "c-1", "CONNECTED_ONHOLD", t0, "Lunch"),
			contactEvent("a2", "user-alex", "Available", t1, "c-1", "ENDED", t1.Add(-time.Second), "Lunch"))
		hb := contactEvent("a3", "user-alex", "Available", t1.Add(5*time.Second), "c-1", "ENDED", t1.Add(-time.Second), "Lunch")
		hb["EventType"] = "HEART_BEAT"
		send(hb)
		wb.quiet(t, 300*time.Millisecond, "a late, repeated or unchanged event was published")
		if a := wallboard(f.supTok)[f.alex]; a == nil || !a.AfterContactWork || a.OnContact {
			t.Fatalf("after the late events: %+v", a)
		}
		// Done: neither, since the event; no next status.
		t2 := t1.Add(time.Minute)
		send(contactEvent("a4", "user-alex", "Lunch", t2, "", "", time.Time{}, ""))
		if a := nextActivity(t, wb, "wb").AgentActivityChanged.Activity; a.OnContact || a.AfterContactWork || !a.Since.Equal(t2) || len(a.Contacts) != 0 || a.NextStatus != nil {
			t.Fatalf("idle: %+v", a)
		}
		nextActivity(t, alexDesk, "me")
		// Bea's contact reaches the wallboard, not Alex's desktop.
		send(contactEvent("b1", "user-bea", "Available", t2, "c-2", "CONNECTING", t2, ""))
		if ev := nextActivity(t, wb, "wb").AgentActivityChanged; ev.Agent.ID != f.bea || !ev.Activity.OnContact {
			t.Fatalf("Bea: %+v", ev)
		}
		alexDesk.quiet(t, 300*time.Millisecond, "Alex's desktop saw another agent")
		// Bolt saw nothing, and its Cy has no activity.
		if got := otherGot(); len(got) != 0 {
			t.Fatalf("Bolt's subscriber received %+v", got)
		}
		if a, ok := wallboard(f.b.AdminToken)[f.cy]; !ok || a != nil {
			t.Fatalf("Bolt's Cy: %+v (listed %v)", a, ok)
		}
	})
}

// Two replicas on one PostgreSQL: an activity delivered to one reaches the
// other's wallboard, its next status with it, and not another tenant's
// subscriber there.
func TestReplicasShareActivity(t *testing.T) {
	url := testenv.PostgresURL(t)
	sts := fakeaws.NewSTS(t)
	sts.AllowRole(roleARN, externalID)
	fc := fakeaws.NewConnect(t)
	fc.TrustSTS(sts)
	fc.AddInstance(instanceID)
	fc.SetAgentStatuses(instanceID, fakeaws.AgentStatus{ID: "cs-available", Name: "Available", Type: "ROUTABLE"},
		fakeaws.AgentStatus{ID: "cs-lunch", Name: "Lunch", Type: "CUSTOM"})
	one := testenv.NewServerOn(t, url, throughFakes(sts, fc))
	two := testenv.NewServerOn(t, url, throughFakes(sts, fc))
	two.Secret = one.Secret
	A, B := one.NewTenant(t, "Acme"), one.NewTenant(t, "Bolt")
	alex, _ := one.NewAgent(t, A, "Alex", "alex@acme.example", auth.RoleAgent)
	_, sup := one.NewAgent(t, A, "Sam", "sam@acme.example", auth.RoleSupervisor)
	one.MustDo(t, A.AdminToken, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`,
		map[string]any{"in": map[string]any{"instanceArn": instanceARN, "region": "ap-southeast-2", "roleArn": roleARN, "externalId": externalID}}, nil)
	one.MustDo(t, A.AdminToken, `mutation { importAgentStatuses { id } }`, nil, nil)
	one.MustDo(t, A.AdminToken, `mutation($id: ID!) { updateAgent(id: $id, input: {connectUserID: "user-alex"}) { id } }`, map[string]any{"id": alex}, nil)
	var key struct {
		RotateAgentEventKey string `json:"rotateAgentEventKey"`
	}
	one.MustDo(t, A.AdminToken, `mutation { rotateAgentEventKey }`, nil, &key)

	op := testenv.ContractOperation(t, "AgentActivityChanged")
	wbConn := two.DialWS(t, sup)
	wbConn.Subscribe("wb", op, nil)
	wb := watch(wbConn)
	otherConn := two.DialWS(t, B.AdminToken)
	otherConn.Subscribe("other", op, nil)
	other := watch(otherConn)
	waitActivitySubscriptions(t, two, 2)

	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	if code := deliver(t, one, key.RotateAgentEventKey, contactEvent("r1", "user-alex", "Available", at, "c-9", "CONNECTED", at, "Lunch")); code != http.StatusOK {
		t.Fatalf("delivery: %d", code)
	}
	ev := nextActivity(t, wb, "wb").AgentActivityChanged
	if ev.Agent.ID != alex || !ev.Activity.OnContact || len(ev.Activity.Contacts) != 1 || ev.Activity.Contacts[0].ContactID != "c-9" ||
		ev.Activity.NextStatus == nil || ev.Activity.NextStatus.Name != "Lunch" {
		t.Fatalf("relayed: %+v", ev)
	}
	other.quiet(t, 300*time.Millisecond, "another tenant's subscriber on the other replica")
}
