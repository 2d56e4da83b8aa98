package server_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/auth"
	"switchboard/internal/testenv"
)

// TestReplicasShareStatus: two servers on one PostgreSQL database are two
// replicas; a change made on one reaches the other's subscribers, also after
// the listening connection is killed.
func TestReplicasShareStatus(t *testing.T) {
	url := testenv.PostgresURL(t)
	one := testenv.NewServerOn(t, url)
	two := testenv.NewServerOn(t, url)
	two.Secret = one.Secret // the same signing secret on every replica

	f := &liveFixture{s: one, a: one.NewTenant(t, "Acme"), b: one.NewTenant(t, "Bolt")}
	f.alex, f.alexTok = one.NewAgent(t, f.a, "Alex", "alex@acme.example", auth.RoleAgent)
	_, f.supTok = one.NewAgent(t, f.a, "Sam", "sam@acme.example", auth.RoleSupervisor)
	f.available = f.status(t, f.a, "Available", "ROUTABLE")
	f.lunch = f.status(t, f.a, "Lunch", "CUSTOM")

	wbOne := one.DialWS(t, f.supTok)
	wbOne.Subscribe("wb", statusChanged, nil)
	wbTwo := two.DialWS(t, f.supTok)
	wbTwo.Subscribe("wb", statusChanged, nil)
	otherTwo := two.DialWS(t, f.b.AdminToken)
	otherTwo.Subscribe("other", statusChanged, nil)
	otherTwoGot := otherTwo.Watch()
	// Edges of a relayed event's agent are queried through replica one's store.
	edgesOne := one.DialWS(t, f.supTok)
	edgesOne.Subscribe("edges", `subscription { agentStatusChanged { agent { id interactions(first: 5) { totalCount } } } }`, nil)
	waitSubscriptions(t, one, 2)
	waitSubscriptions(t, two, 2)

	// A change made on replica two reaches replica one, and vice versa; the
	// answer's agent, too, can be asked for its edges.
	if r := two.Do(t, f.alexTok, `mutation($s: ID!) { setAgentStatus(input: {statusId: $s}) { id interactions(first: 5) { totalCount } } }`,
		map[string]any{"s": f.available}); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	m := edgesOne.Read(10 * time.Second)
	if m.Type != "next" || strings.Contains(string(m.Payload), `"errors"`) || !strings.Contains(string(m.Payload), `"totalCount":0`) {
		t.Fatalf("relayed event with edges: %+v %s", m, m.Payload)
	}
	for _, ws := range []*testenv.WS{wbOne, wbTwo} {
		if ev := nextEvent(t, ws, "wb").AgentStatusChanged; ev.Agent.ID != f.alex || ev.Agent.Name != "Alex" || ev.Status.Name != "Available" || ev.PreviousStatus != nil {
			t.Fatalf("event %+v", ev)
		}
	}
	if r := one.Do(t, f.alexTok, testenv.ContractOperation(t, "SetAgentStatus"), map[string]any{"statusId": f.lunch}); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	for _, ws := range []*testenv.WS{wbOne, wbTwo} {
		if ev := nextEvent(t, ws, "wb").AgentStatusChanged; ev.Status.Name != "Lunch" || ev.PreviousStatus == nil || ev.PreviousStatus.Name != "Available" {
			t.Fatalf("event %+v", ev)
		}
	}

	// Kill every listening connection; events flow again without a restart.
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var killed int
	if err := db.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = 'switchboard-listener'`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed != 2 {
		t.Fatalf("killed %d listeners, want 2", killed)
	}
	received := make(chan testenv.WSMessage, 16)
	go func() {
		for {
			var m testenv.WSMessage
			if err := wbOne.Conn.ReadJSON(&m); err != nil {
				close(received)
				return
			}
			switch m.Type {
			case "next":
				received <- m
			case "ping":
				_ = wbOne.Conn.WriteJSON(testenv.WSMessage{Type: "pong"})
			}
		}
	}()
	status := []string{f.available, f.lunch}
	deadline := time.Now().Add(20 * time.Second)
	for i := 0; ; i++ {
		if r := two.Do(t, f.alexTok, testenv.ContractOperation(t, "SetAgentStatus"), map[string]any{"statusId": status[i%2]}); len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		nextEvent(t, wbTwo, "wb") // local delivery never depends on the listener
		select {
		case _, ok := <-received:
			if !ok {
				t.Fatal("replica one's subscription ended")
			}
		case <-time.After(500 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("no event reached replica one after its listener was killed")
			}
			continue
		}
		break
	}
	// Tenant B's subscriber on replica two saw none of it.
	time.Sleep(200 * time.Millisecond)
	for _, m := range otherTwoGot() {
		t.Fatalf("tenant B received %s %s", m.Type, m.Payload)
	}
}

// TestReplicaFillsTheGap: while replica one's listening connection is cut
// again and again, replica two changes its agents' statuses; the events
// notified while one was not listening are read back from the change log
// when it listens again, so that one's wallboard ends showing each agent
// where the store has it, with no agent left on an old status. Tenant B's
// subscriber sees none of it.
func TestReplicaFillsTheGap(t *testing.T) {
	url := testenv.PostgresURL(t)
	one := testenv.NewServerOn(t, url)
	two := testenv.NewServerOn(t, url)
	two.Secret = one.Secret

	f := &liveFixture{s: one, a: one.NewTenant(t, "Acme"), b: one.NewTenant(t, "Bolt")}
	_, f.supTok = one.NewAgent(t, f.a, "Sam", "sam@acme.example", auth.RoleSupervisor)
	f.available = f.status(t, f.a, "Available", "ROUTABLE")
	f.lunch = f.status(t, f.a, "Lunch", "CUSTOM")
	var agents []string
	for i := range 8 {
		id, _ := one.NewAgent(t, f.a, fmt.Sprintf("Agent %d", i), fmt.Sprintf("agent%d@acme.example", i), auth.RoleAgent)
		agents = append(agents, id)
	}
	wb := one.DialWS(t, f.supTok)
	wb.Subscribe("wb", statusChanged, nil)
	other := one.DialWS(t, f.b.AdminToken)
	other.Subscribe("other", statusChanged, nil)
	waitSubscriptions(t, one, 2)
	otherGot := other.Watch()

	var mu sync.Mutex
	shown := map[string]string{} // agent → status name on one's wallboard
	go func() {
		for {
			var m testenv.WSMessage
			if err := wb.Conn.ReadJSON(&m); err != nil {
				return
			}
			switch m.Type {
			case "ping":
				_ = wb.Conn.WriteJSON(testenv.WSMessage{Type: "pong"})
			case "next":
				var p struct{ Data statusEvent }
				if json.Unmarshal(m.Payload, &p) == nil {
					mu.Lock()
					shown[p.Data.AgentStatusChanged.Agent.ID] = p.Data.AgentStatusChanged.Status.Name
					mu.Unlock()
				}
			}
		}
	}()

	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cut := func() {
		_, _ = db.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = 'switchboard-listener'`)
	}
	want := map[string]string{}
	names := map[string]string{f.available: "Available", f.lunch: "Lunch"}
	status := []string{f.available, f.lunch}
	for round := range 12 {
		cut()
		for i, agent := range agents {
			s := status[(round+i)%2]
			if r := two.Do(t, f.supTok, testenv.ContractOperation(t, "SetAgentStatus"), map[string]any{"statusId": s, "agentId": agent}); len(r.Errors) > 0 {
				t.Fatal(r.Errors)
			}
			want[agent] = names[s]
		}
		time.Sleep(50 * time.Millisecond)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		wrong := 0
		for agent, name := range want {
			if shown[agent] != name {
				wrong++
			}
		}
		mu.Unlock()
		if wrong == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d agents left on an old status on replica one's wallboard (relay %+v)", wrong, len(want), one.App.Relay().Stats())
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	for _, m := range otherGot() {
		t.Fatalf("tenant B received %s %s", m.Type, m.Payload)
	}
}
