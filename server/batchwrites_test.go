package server_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"

	"switchboard/auth"
	"switchboard/ent/agentstatus"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/viewer"
)

// Under 32 concurrent writers on PostgreSQL, status changes are made many
// to a statement, and yet every change is committed before its answer (a
// separate connection sees it at once), and each agent's history holds its
// changes in the order they were answered; another tenant's agents are not
// touched.
func TestStatusWritesInBatches(t *testing.T) {
	url := testenv.PostgresURL(t)
	s := testenv.NewServerOn(t, url)
	A, B := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
	const writers, perWriter, changes = 32, 2, 12
	admin := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: gid.ID(A.ID), Email: "admin@acme.example"})
	var statuses []gid.ID
	for i := range 3 {
		statuses = append(statuses, s.Store.Client.AgentStatus.Create().SetName(fmt.Sprint("S", i)).SetType(agentstatus.TypeCUSTOM).SaveX(admin).ID)
	}
	var agents []gid.ID
	for i := range writers * perWriter {
		id, _ := s.NewAgent(t, A, fmt.Sprintf("Agent %02d", i), fmt.Sprintf("a%02d@acme.example", i), auth.RoleAgent)
		agents = append(agents, gid.ID(id))
	}
	bolt, _ := s.NewAgent(t, B, "Bo", "bo@bolt.example", auth.RoleAgent)
	other, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	sup := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleSupervisor, TenantID: gid.ID(A.ID), Email: "sup@acme.example"})

	statements0, changes0 := s.App.Status().BatchStats()
	answered := make([][]gid.ID, len(agents)) // by agent: the statuses set, in the order answered
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range changes {
				k := w*perWriter + c%perWriter
				want := statuses[(c/perWriter+k)%len(statuses)]
				a, err := s.App.Status().SetStatus(sup, &agents[k], want)
				if err != nil {
					t.Error(err)
					return
				}
				if a.CurrentStatusID == nil || *a.CurrentStatusID != want {
					t.Errorf("agent %d answered with %v, want %s", k, a.CurrentStatusID, want)
					return
				}
				var got string
				if err := other.QueryRow(`SELECT current_status_id FROM agents WHERE id = $1`, agents[k]).Scan(&got); err != nil || got != string(want) {
					t.Errorf("agent %d: answered before its change was committed: %q %v", k, got, err)
					return
				}
				answered[k] = append(answered[k], want)
			}
		}()
	}
	wg.Wait()
	statements, made := s.App.Status().BatchStats()
	statements, made = statements-statements0, made-changes0
	t.Logf("%d changes in %d statements", made, statements)
	if made != writers*changes || statements >= made {
		t.Errorf("%d changes made in %d statements: no batches", made, statements)
	}
	for k, id := range agents {
		rows, err := other.Query(`SELECT status_id FROM agent_status_changes WHERE agent_id = $1 ORDER BY changed_at, id`, id)
		if err != nil {
			t.Fatal(err)
		}
		var history []gid.ID
		for rows.Next() {
			var st string
			_ = rows.Scan(&st)
			history = append(history, gid.ID(st))
		}
		rows.Close()
		if fmt.Sprint(history) != fmt.Sprint(answered[k]) {
			t.Fatalf("agent %d: history %v, answered %v", k, history, answered[k])
		}
	}
	var n int
	if err := other.QueryRow(`SELECT count(*) FROM agent_status_changes WHERE agent_id = $1`, bolt).Scan(&n); err != nil || n != 0 {
		t.Fatalf("Bolt's agent has %d changes: %v", n, err)
	}
}
