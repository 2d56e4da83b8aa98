package server_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"switchboard/auth"
	"switchboard/ent"
	"switchboard/ent/agent"
	"switchboard/ent/agentstatus"
	"switchboard/ent/agentstatuschange"
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
			// The admin's first request also records the sign-in
			// (consoleusers); the wallboard is measured after it.
			s.MustDo(t, tn.AdminToken, `{ viewer { email } }`, nil, nil)
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

// TestStatusChangeStatements: on PostgreSQL a status change through the
// contract's mutation is one statement, with no transaction around it, and
// the agent and statuses it returns are what the store holds, field for
// field. Another tenant's agent or status changes nothing.
func TestStatusChangeStatements(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		tn, other := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
		ctx := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: gid.ID(tn.ID), Email: "admin@acme.example"})
		otherCtx := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: gid.ID(other.ID), Email: "admin@bolt.example"})
		c := s.Store.Client
		// Every field set, so that a field the statement failed to read shows.
		available := c.AgentStatus.Create().SetName("Available").SetType(agentstatus.TypeROUTABLE).
			SetDisplayOrder(3).SetConnectStatusID("cs-1").SetConnectStatusArn("arn:aws:connect:eu-west-2:1:instance/i/agent-state/cs-1").SaveX(ctx)
		lunch := c.AgentStatus.Create().SetName("Lunch").SetType(agentstatus.TypeCUSTOM).SetDisplayOrder(7).SaveX(ctx)
		alex := c.Agent.Create().SetName("Alex").SetEmail("alex@acme.example").SetConnectUsername("alex").
			SetConnectUserID("cu-1").SetRole(viewer.RoleAgent).SaveX(ctx)
		theirs := c.AgentStatus.Create().SetName("Available").SetType(agentstatus.TypeROUTABLE).SaveX(otherCtx)
		cy := c.Agent.Create().SetName("Cy").SetEmail("cy@bolt.example").SaveX(otherCtx)
		token := s.Token(t, auth.Claims{Email: "alex@acme.example", Tenant: tn.ID, Role: auth.RoleAgent})
		set := testenv.ContractOperation(t, "SetAgentStatus")

		// What any request of Alex's costs (finding Alex's agent), to
		// subtract, once the tenant gate has read Acme (it reads a tenant
		// again only after tenants.DefaultRecheck).
		s.MustDo(t, token, `{ __typename }`, nil, nil)
		before := s.Counter.Count()
		s.MustDo(t, token, `{ __typename }`, nil, nil)
		identity := s.Counter.Count() - before
		for i, st := range []*ent.AgentStatus{available, lunch, available} {
			before := s.Counter.Count()
			r := s.Do(t, token, set, map[string]any{"statusId": st.ID})
			if len(r.Errors) > 0 {
				t.Fatalf("change %d: %+v", i, r.Errors)
			}
			n := s.Counter.Count() - before - identity
			t.Logf("change %d: %d statements besides the %d of every request", i, n, identity)
			if b.Name == "postgres" && n != 1 {
				t.Errorf("change %d took %d statements on PostgreSQL", i, n)
			}
		}

		// The service's answer against the store, field for field.
		sup := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleSupervisor, TenantID: gid.ID(tn.ID), Email: "sam@acme.example"})
		got, err := s.App.Status().SetStatus(sup, &alex.ID, lunch.ID)
		if err != nil {
			t.Fatal(err)
		}
		stored := c.Agent.Query().Where(agent.ID(alex.ID)).WithCurrentStatus().OnlyX(sup)
		opts := cmp.Options{cmpopts.IgnoreUnexported(ent.Agent{}, ent.AgentStatus{}),
			cmpopts.IgnoreFields(ent.Agent{}, "Edges"), cmpopts.IgnoreFields(ent.AgentStatus{}, "Edges"), cmpopts.EquateApproxTime(0)}
		if diff := cmp.Diff(stored, got, opts); diff != "" {
			t.Errorf("SetStatus returned the agent (-stored +returned):\n%s", diff)
		}
		if diff := cmp.Diff(stored.Edges.CurrentStatus, got.Edges.CurrentStatus, opts); diff != "" {
			t.Errorf("SetStatus returned the status (-stored +returned):\n%s", diff)
		}
		// And the previous status, as the event carries it to subscribers.
		ch := c.AgentStatusChange.Query().Where(agentstatuschange.AgentID(alex.ID)).
			Order(ent.Desc(agentstatuschange.FieldChangedAt)).FirstX(sup)
		if ch.PreviousStatusID == nil || *ch.PreviousStatusID != available.ID || !ch.ChangedAt.Equal(*got.StatusSince) {
			t.Errorf("last change %+v; want from %s at %s", ch, available.ID, got.StatusSince)
		}

		// Nothing changes for another tenant's status or agent.
		changes := c.AgentStatusChange.Query().CountX(sup)
		for _, vars := range []map[string]any{{"statusId": theirs.ID}, {"statusId": available.ID, "agentId": cy.ID}} {
			r := s.Do(t, token, set, vars)
			if len(r.Errors) == 0 {
				t.Errorf("%v: no error", vars)
			}
		}
		if _, err := s.App.Status().SetStatus(sup, &cy.ID, available.ID); err == nil {
			t.Error("a supervisor moved another tenant's agent")
		}
		if _, err := s.App.Status().SetStatus(sup, &alex.ID, theirs.ID); err == nil {
			t.Error("a supervisor gave an agent another tenant's status")
		}
		if after := c.AgentStatusChange.Query().CountX(sup); after != changes {
			t.Errorf("%d changes recorded after refusals", after-changes)
		}
		if n := c.AgentStatusChange.Query().CountX(otherCtx); n != 0 {
			t.Errorf("the other tenant has %d changes", n)
		}
		if got := c.Agent.GetX(otherCtx, cy.ID); got.CurrentStatusID != nil {
			t.Errorf("Cy holds %s", *got.CurrentStatusID)
		}
	})
}
