package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"switchboard/ent/agentstatus"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/viewer"
)

// TestWallboardStatements: the wallboard issues the same, small number of
// SQL statements whether a page holds 10 agents or 100.
func TestWallboardStatements(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		counts := map[int]int64{}
		for _, n := range []int{10, 150} {
			tn := s.NewTenant(t, fmt.Sprintf("T%d", n))
			ctx := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: gid.ID(tn.ID), Email: "seed@x.example"})
			c := s.Store.Client
			statuses := c.AgentStatus.CreateBulk(
				c.AgentStatus.Create().SetName("Available").SetType(agentstatus.TypeROUTABLE),
				c.AgentStatus.Create().SetName("Lunch").SetType(agentstatus.TypeCUSTOM),
			).SaveX(ctx)
			for i := 0; i < n; i++ {
				c.Agent.Create().
					SetName(fmt.Sprintf("Agent %03d", i)).SetEmail(fmt.Sprintf("a%d@t.example", i)).
					SetCurrentStatusID(statuses[i%2].ID).SetStatusSince(time.Now()).
					SaveX(ctx)
			}
			before := s.Counter.Count()
			var out struct {
				Agents struct {
					Edges []struct {
						Node struct {
							CurrentStatus *struct {
								Status struct{ Name string }
							}
						}
					}
				}
			}
			s.MustDo(t, tn.AdminToken, wallboard, map[string]any{"first": 100}, &out)
			counts[n] = s.Counter.Count() - before
			want := min(n, 100)
			if len(out.Agents.Edges) != want {
				t.Fatalf("%d agents: page of %d", n, len(out.Agents.Edges))
			}
			for i, e := range out.Agents.Edges {
				if e.Node.CurrentStatus == nil || e.Node.CurrentStatus.Status.Name == "" {
					t.Fatalf("agent %d has no current status", i)
				}
			}
		}
		t.Logf("statements: %v", counts)
		if counts[10] != counts[150] {
			t.Fatalf("statements grow with the page: %v", counts)
		}
		if counts[150] > 5 {
			t.Fatalf("wallboard took %d statements", counts[150])
		}
	})
}
