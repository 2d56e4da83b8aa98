package contacts_test

import (
	"context"
	"testing"

	"switchboard/ent"
	"switchboard/ent/contact"
	"switchboard/internal/testenv"
	"switchboard/viewer"
)

// fixture is a store with two tenants. Acme (A) reads phone numbers as
// Australian and has agents Alex and Bea, a supervisor Sam with an agent
// record and an admin without one; Bolt (B) reads them as British and has
// an agent Cy and an admin.
type fixture struct {
	c  *ent.Client
	op context.Context

	adminA, alexCtx, beaCtx, samCtx context.Context
	adminB, cyCtx                   context.Context
	alex, bea, sam, cy              *ent.Agent
}

func newFixture(t *testing.T, b testenv.Backend) *fixture {
	t.Helper()
	st := testenv.OpenStore(t, b.URL(t))
	f := &fixture{c: st.Client}
	f.op = viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleOperator, Email: "op@platform.example"})
	acme := f.tenant(t, "Acme", "AU")
	bolt := f.tenant(t, "Bolt", "GB")
	f.adminA = as(&viewer.Viewer{Role: viewer.RoleAdmin, TenantID: acme.ID, Email: "admin@acme.example"})
	f.adminB = as(&viewer.Viewer{Role: viewer.RoleAdmin, TenantID: bolt.ID, Email: "admin@bolt.example"})
	f.alex, f.alexCtx = f.agent(t, f.adminA, "Alex", "alex@acme.example", viewer.RoleAgent)
	f.bea, f.beaCtx = f.agent(t, f.adminA, "Bea", "bea@acme.example", viewer.RoleAgent)
	f.sam, f.samCtx = f.agent(t, f.adminA, "Sam", "sam@acme.example", viewer.RoleSupervisor)
	f.cy, f.cyCtx = f.agent(t, f.adminB, "Cy", "cy@bolt.example", viewer.RoleAgent)
	return f
}

func as(v *viewer.Viewer) context.Context { return viewer.NewContext(context.Background(), v) }

func (f *fixture) tenant(t *testing.T, name, region string) *ent.Tenant {
	t.Helper()
	tn, err := f.c.Tenant.Create().SetName(name).SetDefaultRegion(region).Save(f.op)
	if err != nil {
		t.Fatal(err)
	}
	return tn
}

// agent creates an agent with the role and returns it with its viewer.
func (f *fixture) agent(t *testing.T, admin context.Context, name, email string, role viewer.Role) (*ent.Agent, context.Context) {
	t.Helper()
	ag, err := f.c.Agent.Create().SetName(name).SetEmail(email).SetRole(role).Save(admin)
	if err != nil {
		t.Fatal(err)
	}
	tenant := viewer.FromContext(admin).TenantID
	return ag, as(&viewer.Viewer{Role: role, TenantID: tenant, AgentID: ag.ID, Email: email, Name: name})
}

// personal creates a personal contact of the agent whose viewer ctx is.
func (f *fixture) personal(t *testing.T, ctx context.Context, name, email, phone string) *ent.Contact {
	t.Helper()
	ct, err := f.c.Contact.Create().SetName(name).SetEmail(email).SetPhoneNumber(phone).
		SetOwnerID(viewer.FromContext(ctx).AgentID).Save(ctx)
	if err != nil {
		t.Fatalf("personal contact %s: %v", name, err)
	}
	return ct
}

// organisation creates an organisation contact as the admin whose viewer ctx is.
func (f *fixture) organisation(t *testing.T, ctx context.Context, name, email, phone string, active bool) *ent.Contact {
	t.Helper()
	ct, err := f.c.Contact.Create().SetScope(contact.ScopeORGANISATION).SetName(name).
		SetEmail(email).SetPhoneNumber(phone).SetActive(active).Save(ctx)
	if err != nil {
		t.Fatalf("organisation contact %s: %v", name, err)
	}
	return ct
}
