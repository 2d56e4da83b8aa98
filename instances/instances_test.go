package instances_test

import (
	"context"
	"strings"
	"testing"

	"switchboard/apierror"
	"switchboard/apierror/classify"
	"switchboard/ent"
	"switchboard/ent/schema"
	"switchboard/gid"
	"switchboard/instances"
	"switchboard/internal/testenv"
	"switchboard/viewer"
)

// fixture is a store with two tenants, A and B, with no instance yet.
type fixture struct {
	client   *ent.Client
	op       context.Context
	a, b     gid.ID
	adminA   context.Context
	agentA   context.Context
	adminB   context.Context
	agentB   context.Context
	configA  instances.Config
	configB  instances.Config
	noTenant context.Context
}

func newFixture(t *testing.T, b testenv.Backend) *fixture {
	t.Helper()
	st := testenv.OpenStore(t, b.URL(t))
	f := &fixture{
		client: st.Client,
		op:     viewer.NewContext(context.Background(), &viewer.Viewer{Email: "op@switchboard", Role: viewer.RoleOperator}),
		configA: instances.Config{
			InstanceARN: "arn:aws:connect:eu-west-2:111111111111:instance/aaaaaaaa-0000-4000-8000-000000000001",
			Alias:       "acme", Region: "eu-west-2",
			RoleARN: "arn:aws:iam::111111111111:role/SwitchboardAccess", ExternalID: "ext-a",
			ChatContactFlowID: "flow-a", Modules: []string{"email"},
		},
		configB: instances.Config{
			InstanceARN: "arn:aws:connect:us-east-1:222222222222:instance/bbbbbbbb-0000-4000-8000-000000000002",
			Alias:       "bolt", Region: "us-east-1",
			RoleARN: "arn:aws:iam::222222222222:role/service-role/SwitchboardAccess", ExternalID: "ext-b",
		},
		noTenant: viewer.NewContext(context.Background(), &viewer.Viewer{Email: "nobody@example.com", Role: viewer.RoleAdmin}),
	}
	for _, x := range []struct {
		name string
		id   *gid.ID
	}{{"Acme", &f.a}, {"Bolt", &f.b}} {
		tn, err := f.client.Tenant.Create().SetName(x.name).Save(f.op)
		if err != nil {
			t.Fatal(err)
		}
		*x.id = tn.ID
	}
	f.adminA = viewer.NewContext(context.Background(), &viewer.Viewer{Email: "admin@acme.example", Role: viewer.RoleAdmin, TenantID: f.a})
	f.agentA = viewer.NewContext(context.Background(), &viewer.Viewer{Email: "agent@acme.example", Role: viewer.RoleAgent, TenantID: f.a})
	f.adminB = viewer.NewContext(context.Background(), &viewer.Viewer{Email: "admin@bolt.example", Role: viewer.RoleAdmin, TenantID: f.b})
	f.agentB = viewer.NewContext(context.Background(), &viewer.Viewer{Email: "agent@bolt.example", Role: viewer.RoleAgent, TenantID: f.b})
	return f
}

// code is the contract code of err.
func code(err error) apierror.Code {
	c, _ := classify.Of(err)
	return c
}

func TestGetAndFind(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newFixture(t, b)

		// No instance: Get says to configure it, Find says nothing.
		for name, ctx := range map[string]context.Context{"A": f.adminA, "B": f.adminB} {
			inst, err := instances.Get(ctx, f.client)
			if inst != nil || code(err) != apierror.BadUserInput || !strings.Contains(err.Error(), "configure the Amazon Connect instance first") {
				t.Errorf("%s: Get with no instance = %v, %v", name, inst, err)
			}
			if inst, err := instances.Find(ctx, f.client); inst != nil || err != nil {
				t.Errorf("%s: Find with no instance = %v, %v", name, inst, err)
			}
		}

		// A configures its instance: A's viewers get it, B's never do.
		instA, err := instances.Configure(f.adminA, f.client, f.configA)
		if err != nil {
			t.Fatal(err)
		}
		// (An agent reads it only for using it, under schema.ReadInstance.)
		for name, ctx := range map[string]context.Context{"admin": f.adminA, "agent": schema.ReadInstance(f.agentA)} {
			if got, err := instances.Get(ctx, f.client); err != nil || got.ID != instA.ID || got.TenantID != f.a {
				t.Errorf("A's %s: Get = %v, %v", name, got, err)
			}
			if got, err := instances.Find(ctx, f.client); err != nil || got == nil || got.ID != instA.ID {
				t.Errorf("A's %s: Find = %v, %v", name, got, err)
			}
		}
		if got, err := instances.Find(f.agentA, f.client); got != nil || err == nil {
			t.Errorf("A's agent, not under ReadInstance: Find = %v, %v", got, err)
		}
		for name, ctx := range map[string]context.Context{"admin": f.adminB, "agent": schema.ReadInstance(f.agentB)} {
			if got, err := instances.Get(ctx, f.client); got != nil || code(err) != apierror.BadUserInput {
				t.Errorf("B's %s: Get with only A's instance = %v, %v", name, got, err)
			}
		}
		if got, err := instances.Find(f.adminB, f.client); got != nil || err != nil {
			t.Errorf("B: Find with only A's instance = %v, %v", got, err)
		}

		// B configures its own: each tenant gets its own and only its own.
		instB, err := instances.Configure(f.adminB, f.client, f.configB)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name string
			ctx  context.Context
			want *ent.Instance
		}{
			{"A", f.adminA, instA}, {"B", f.adminB, instB},
			{"A's agent", schema.ReadInstance(f.agentA), instA}, {"B's agent", schema.ReadInstance(f.agentB), instB},
		} {
			got, err := instances.Get(c.ctx, f.client)
			if err != nil || got.ID != c.want.ID || got.InstanceArn != c.want.InstanceArn {
				t.Errorf("%s: Get = %v, %v; want %s", c.name, got, err, c.want.ID)
			}
		}

		// A viewer of no tenant gets no instance.
		if got, err := instances.Get(f.noTenant, f.client); got != nil || err == nil {
			t.Errorf("no tenant: Get = %v, %v", got, err)
		}
		if got, err := instances.Get(context.Background(), f.client); got != nil || err == nil {
			t.Errorf("no viewer: Get = %v, %v", got, err)
		}
	})
}

func TestPrivilegedLookups(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newFixture(t, b)
		instA, err := instances.Configure(f.adminA, f.client, f.configA)
		if err != nil {
			t.Fatal(err)
		}
		instB, err := instances.Configure(f.adminB, f.client, f.configB)
		if err != nil {
			t.Fatal(err)
		}
		// ForTenant and InAccount read across tenants, with no viewer at all.
		ctx := context.Background()
		for _, want := range []*ent.Instance{instA, instB} {
			got, err := instances.ForTenant(ctx, f.client, want.TenantID)
			if err != nil || got.ID != want.ID {
				t.Errorf("ForTenant(%s) = %v, %v", want.TenantID, got, err)
			}
		}
		if _, err := instances.ForTenant(ctx, f.client, gid.New("TN")); !ent.IsNotFound(err) {
			t.Errorf("ForTenant of an unknown tenant: %v", err)
		}
		for account, want := range map[string]*ent.Instance{"111111111111": instA, "222222222222": instB, "333333333333": nil, "": nil} {
			got, err := instances.InAccount(ctx, f.client, account)
			if err != nil {
				t.Fatal(err)
			}
			if want == nil && len(got) != 0 || want != nil && (len(got) != 1 || got[0].ID != want.ID) {
				t.Errorf("InAccount(%q) = %v, want %v", account, got, want)
			}
		}
	})
}

func TestConfigure(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newFixture(t, b)
		first, err := instances.Configure(f.adminA, f.client, f.configA)
		if err != nil {
			t.Fatal(err)
		}
		if first.InstanceArn != f.configA.InstanceARN || first.RoleArn != f.configA.RoleARN || first.ExternalID != "ext-a" ||
			first.Alias != "acme" || first.ChatContactFlowID != "flow-a" || len(first.Modules) != 1 {
			t.Errorf("configured %+v", first)
		}

		// Configuring again replaces the settings of the same instance.
		next := f.configA
		next.InstanceARN = "arn:aws:connect:eu-west-1:111111111111:instance/cccccccc-0000-4000-8000-000000000003"
		next.Region, next.ExternalID, next.Modules = "eu-west-1", "ext-a2", nil
		second, err := instances.Configure(f.adminA, f.client, next)
		if err != nil {
			t.Fatal(err)
		}
		if second.ID != first.ID || second.InstanceArn != next.InstanceARN || second.Region != "eu-west-1" || second.ExternalID != "ext-a2" {
			t.Errorf("reconfigured %+v (first %s)", second, first.ID)
		}
		if n := f.client.Instance.Query().CountX(f.adminA); n != 1 {
			t.Errorf("%d instances after reconfiguring", n)
		}

		// Refused: a region other than the ARN's, ARNs that are not an
		// instance's or a role's, and any viewer but the tenant's admin.
		bad := map[string]instances.Config{}
		c := f.configA
		c.Region = "us-east-1"
		bad["region mismatch"] = c
		c = f.configA
		c.InstanceARN = "arn:aws:connect:eu-west-2:111111111111:instance/abc"
		bad["instance ID"] = c
		c = f.configA
		c.InstanceARN = "arn:aws:connect:eu-west-2:1111:instance/aaaaaaaa-0000-4000-8000-000000000001"
		bad["account"] = c
		c = f.configA
		c.InstanceARN = "not an ARN"
		bad["not an ARN"] = c
		c = f.configA
		c.RoleARN = "arn:aws:iam::111111111111:user/bob"
		bad["user not role"] = c
		for name, cfg := range bad {
			if _, err := instances.Configure(f.adminA, f.client, cfg); code(err) != apierror.BadUserInput {
				t.Errorf("%s: error %v (%s)", name, err, code(err))
			}
		}
		if _, err := instances.Configure(f.agentA, f.client, f.configA); code(err) != apierror.Forbidden {
			t.Errorf("agent configuring: error %v", err)
		}
		inst, err := instances.Get(f.adminA, f.client)
		if err != nil || inst.InstanceArn != next.InstanceARN || inst.ExternalID != "ext-a2" {
			t.Errorf("after refused changes: %+v, %v", inst, err)
		}
	})
}

func TestAgentEventKey(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newFixture(t, b)
		ctx := context.Background()

		if key, err := instances.RotateAgentEventKey(f.adminA, f.client); key != "" || code(err) != apierror.BadUserInput ||
			!strings.Contains(err.Error(), "configure the Amazon Connect instance first") {
			t.Errorf("rotating with no instance: %q, %v", key, err)
		}
		instA, err := instances.Configure(f.adminA, f.client, f.configA)
		if err != nil {
			t.Fatal(err)
		}
		instB, err := instances.Configure(f.adminB, f.client, f.configB)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := instances.RotateAgentEventKey(f.agentA, f.client); code(err) != apierror.Forbidden {
			t.Errorf("agent rotating: error %v", err)
		}

		keyA, err := instances.RotateAgentEventKey(f.adminA, f.client)
		if err != nil || !strings.HasPrefix(keyA, "sbe_") || len(keyA) < 40 {
			t.Fatalf("key %q, %v", keyA, err)
		}
		keyB, err := instances.RotateAgentEventKey(f.adminB, f.client)
		if err != nil || keyB == keyA {
			t.Fatalf("B's key %q, %v", keyB, err)
		}
		// Only the key's hash is kept.
		stored, err := f.client.Instance.Get(f.adminA, instA.ID)
		if err != nil || stored.AgentEventKeyHash == nil || strings.Contains(string(*stored.AgentEventKeyHash), keyA) {
			t.Errorf("stored %v, %v", stored.AgentEventKeyHash, err)
		}

		// Each key finds its own tenant's instance, whoever asks.
		for key, want := range map[string]*ent.Instance{keyA: instA, keyB: instB} {
			got, err := instances.ForAgentEventKey(ctx, f.client, key)
			if err != nil || got.ID != want.ID || got.Edges.Tenant == nil || got.Edges.Tenant.ID != want.TenantID {
				t.Errorf("ForAgentEventKey = %v, %v; want %s", got, err, want.ID)
			}
		}
		for _, key := range []string{"sbe_wrong", keyA + "x", strings.ToUpper(keyA)} {
			if got, err := instances.ForAgentEventKey(ctx, f.client, key); !ent.IsNotFound(err) {
				t.Errorf("ForAgentEventKey(%q) = %v, %v", key, got, err)
			}
		}
		if got, err := instances.ForAgentEventKey(ctx, f.client, ""); err == nil || ent.IsNotFound(err) {
			t.Errorf("ForAgentEventKey of no key = %v, %v", got, err)
		}

		// Rotating replaces the key: the old one no longer works.
		newA, err := instances.RotateAgentEventKey(f.adminA, f.client)
		if err != nil || newA == keyA {
			t.Fatalf("rotated %q, %v", newA, err)
		}
		if _, err := instances.ForAgentEventKey(ctx, f.client, keyA); !ent.IsNotFound(err) {
			t.Errorf("old key: %v", err)
		}
		if got, err := instances.ForAgentEventKey(ctx, f.client, newA); err != nil || got.ID != instA.ID {
			t.Errorf("new key: %v, %v", got, err)
		}
	})
}
