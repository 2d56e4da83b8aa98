package schema_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"switchboard/ent"
	"switchboard/ent/agentstatus"
	"switchboard/ent/privacy"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/viewer"
)

// TestDataLayerTenancy exercises the privacy rules through the ent client
// itself, as a resolver that forgot a filter would.
func TestDataLayerTenancy(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		st := testenv.OpenStore(t, b.URL(t))
		c := st.Client
		bg := context.Background()
		op := viewer.NewContext(bg, &viewer.Viewer{Role: viewer.RoleOperator, Email: "op@x"})
		ta := c.Tenant.Create().SetName("A").SaveX(op)
		tb := c.Tenant.Create().SetName("B").SaveX(op)
		as := func(tn *ent.Tenant, r viewer.Role) context.Context {
			return viewer.NewContext(bg, &viewer.Viewer{Role: r, TenantID: tn.ID, Email: "x@" + string(tn.ID)})
		}
		aAdmin, bAdmin := as(ta, viewer.RoleAdmin), as(tb, viewer.RoleAdmin)
		aStatus := c.AgentStatus.Create().SetName("Available").SetType(agentstatus.TypeROUTABLE).SaveX(aAdmin)
		aAgent := c.Agent.Create().SetName("Alex").SetEmail("alex@a.example").SaveX(aAdmin)
		bAgent := c.Agent.Create().SetName("Bea").SetEmail("bea@b.example").SaveX(bAdmin)

		t.Run("no viewer reads nothing", func(t *testing.T) {
			if _, err := c.Agent.Query().All(bg); !errors.Is(err, privacy.Deny) {
				t.Fatalf("query without viewer: %v", err)
			}
			if _, err := c.Tenant.Query().All(bg); !errors.Is(err, privacy.Deny) {
				t.Fatalf("tenants without viewer: %v", err)
			}
			if err := c.Agent.Create().SetName("N").SetEmail("n@a.example").SetTenantID(ta.ID).Exec(bg); !errors.Is(err, privacy.Deny) {
				t.Fatalf("create without viewer: %v", err)
			}
		})
		t.Run("reads are confined", func(t *testing.T) {
			agents := c.Agent.Query().AllX(bAdmin)
			if len(agents) != 1 || agents[0].ID != bAgent.ID {
				t.Fatalf("B reads %v", agents)
			}
			if _, err := c.Agent.Get(bAdmin, aAgent.ID); !ent.IsNotFound(err) {
				t.Fatalf("B gets A's agent: %v", err)
			}
			if n := c.AgentStatus.Query().CountX(bAdmin); n != 0 {
				t.Fatalf("B counts %d statuses", n)
			}
			if tenants := c.Tenant.Query().AllX(bAdmin); len(tenants) != 1 || tenants[0].ID != tb.ID {
				t.Fatalf("B reads tenants %v", tenants)
			}
			if n := c.Agent.Query().CountX(op); n != 0 {
				t.Fatalf("an operator reads %d agents", n)
			}
		})
		t.Run("writes are confined", func(t *testing.T) {
			if err := c.Agent.UpdateOneID(aAgent.ID).SetName("Pwned").Exec(bAdmin); !ent.IsNotFound(err) {
				t.Fatalf("B updates A's agent: %v", err)
			}
			if n, err := c.Agent.Update().SetName("Pwned").Save(bAdmin); err != nil || n != 1 {
				t.Fatalf("B's bulk update touched %d rows: %v", n, err)
			}
			if n, err := c.AgentStatus.Delete().Exec(bAdmin); err != nil || n != 0 {
				t.Fatalf("B's bulk delete removed %d rows: %v", n, err)
			}
			if got := c.Agent.GetX(aAdmin, aAgent.ID); got.Name != "Alex" {
				t.Fatalf("A's agent renamed to %q", got.Name)
			}
			if err := c.Agent.Create().SetName("N").SetEmail("n@b.example").SetTenantID(ta.ID).Exec(bAdmin); !errors.Is(err, privacy.Deny) {
				t.Fatalf("B creates into A: %v", err)
			}
			if err := c.Agent.Create().SetName("N").SetEmail("n@o.example").Exec(op); !errors.Is(err, privacy.Deny) {
				t.Fatalf("operator creates an agent: %v", err)
			}
		})
		t.Run("edges across tenants are refused", func(t *testing.T) {
			err := c.Agent.UpdateOneID(bAgent.ID).SetCurrentStatusID(aStatus.ID).SetStatusSince(time.Now()).Exec(bAdmin)
			if !errors.Is(err, privacy.Deny) {
				t.Fatalf("B's agent takes A's status: %v", err)
			}
			err = c.AgentStatusChange.Create().SetAgentID(aAgent.ID).SetStatusID(aStatus.ID).Exec(bAdmin)
			if !errors.Is(err, privacy.Deny) {
				t.Fatalf("B records a change of A's agent: %v", err)
			}
			err = c.AgentStatusChange.Create().SetAgentID(aAgent.ID).SetStatusID(gid.New("AS")).Exec(aAdmin)
			if !errors.Is(err, privacy.Deny) {
				t.Fatalf("a change to an unknown status: %v", err)
			}
			// Within the tenant the same edge is fine.
			c.AgentStatusChange.Create().SetAgentID(aAgent.ID).SetStatusID(aStatus.ID).ExecX(aAdmin)
		})
		t.Run("status changes are append-only", func(t *testing.T) {
			if _, err := c.AgentStatusChange.Update().SetUpdatedAt(time.Now()).Save(aAdmin); !errors.Is(err, privacy.Deny) {
				t.Fatalf("update of history: %v", err)
			}
			if _, err := c.AgentStatusChange.Delete().Exec(aAdmin); !errors.Is(err, privacy.Deny) {
				t.Fatalf("delete of history: %v", err)
			}
		})
		t.Run("decommissioning removes only that tenant", func(t *testing.T) {
			c.Tenant.DeleteOneID(tb.ID).ExecX(op)
			if n := c.Agent.Query().CountX(bAdmin); n != 0 {
				t.Fatalf("B's agents left: %d", n)
			}
			if n := c.Agent.Query().CountX(aAdmin); n != 1 {
				t.Fatalf("A's agents: %d", n)
			}
		})
	})
}
