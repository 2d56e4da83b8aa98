package viewer_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"switchboard/apierror"
	"switchboard/gid"
	"switchboard/viewer"
)

func TestParseRole(t *testing.T) {
	cases := []struct {
		in   string
		want viewer.Role
		ok   bool
	}{
		{"AGENT", viewer.RoleAgent, true},
		{"agent", viewer.RoleAgent, true},
		{"Supervisor", viewer.RoleSupervisor, true},
		{"supervisor", viewer.RoleSupervisor, true},
		{"ADMIN", viewer.RoleAdmin, true},
		{"admin", viewer.RoleAdmin, true},
		{"OPERATOR", viewer.RoleOperator, true},
		{"operator", viewer.RoleOperator, true},
		{"", "", false},
		{"root", "", false},
		{" AGENT", "", false},
		{"AGENTS", "", false},
		{"TENANT_ADMIN", "", false},
	}
	for _, c := range cases {
		got, err := viewer.ParseRole(c.in)
		if c.ok && (err != nil || got != c.want) {
			t.Errorf("ParseRole(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
		if !c.ok && (err == nil || got != "") {
			t.Errorf("ParseRole(%q) = %q, %v; want an error", c.in, got, err)
		}
		if !c.ok && err != nil && !strings.Contains(err.Error(), "unknown role") {
			t.Errorf("ParseRole(%q): error %q does not say the role is unknown", c.in, err)
		}
	}
}

func TestRoleValues(t *testing.T) {
	got := viewer.Role("").Values()
	want := []string{"AGENT", "SUPERVISOR", "ADMIN", "OPERATOR"}
	if !slices.Equal(got, want) {
		t.Fatalf("Values() = %v, want %v", got, want)
	}
	for _, v := range got {
		if r, err := viewer.ParseRole(v); err != nil || string(r) != v {
			t.Errorf("the value %q does not parse: %q, %v", v, r, err)
		}
	}
}

func TestRoleAtLeast(t *testing.T) {
	const (
		A = viewer.RoleAgent
		S = viewer.RoleSupervisor
		D = viewer.RoleAdmin
		O = viewer.RoleOperator
	)
	cases := []struct {
		role, min viewer.Role
		want      bool
	}{
		{A, A, true}, {A, S, false}, {A, D, false},
		{S, A, true}, {S, S, true}, {S, D, false},
		{D, A, true}, {D, S, true}, {D, D, true},
		// The operator is outside the tenant order: never at least a
		// tenant role, not even its own.
		{O, A, false}, {O, S, false}, {O, D, false}, {O, O, false},
		// No role, or one not in the vocabulary, is nothing.
		{"", A, false}, {"", "", false}, {"ROOT", A, false}, {"admin", A, false},
	}
	for _, c := range cases {
		if got := c.role.AtLeast(c.min); got != c.want {
			t.Errorf("%q.AtLeast(%q) = %v, want %v", c.role, c.min, got, c.want)
		}
	}
}

func TestInTenantAndOperator(t *testing.T) {
	tenantA := gid.New("TN")
	cases := []struct {
		name     string
		v        *viewer.Viewer
		min      viewer.Role
		in       bool
		operator bool
	}{
		{"nil viewer", nil, viewer.RoleAgent, false, false},
		{"agent of A, as agent", &viewer.Viewer{Role: viewer.RoleAgent, TenantID: tenantA}, viewer.RoleAgent, true, false},
		{"agent of A, as supervisor", &viewer.Viewer{Role: viewer.RoleAgent, TenantID: tenantA}, viewer.RoleSupervisor, false, false},
		{"supervisor of A, as supervisor", &viewer.Viewer{Role: viewer.RoleSupervisor, TenantID: tenantA}, viewer.RoleSupervisor, true, false},
		{"supervisor of A, as admin", &viewer.Viewer{Role: viewer.RoleSupervisor, TenantID: tenantA}, viewer.RoleAdmin, false, false},
		{"admin of A, as admin", &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: tenantA}, viewer.RoleAdmin, true, false},
		{"admin without a tenant", &viewer.Viewer{Role: viewer.RoleAdmin}, viewer.RoleAgent, false, false},
		{"operator", &viewer.Viewer{Role: viewer.RoleOperator}, viewer.RoleAgent, false, true},
		{"operator claiming a tenant", &viewer.Viewer{Role: viewer.RoleOperator, TenantID: tenantA}, viewer.RoleAgent, false, true},
		{"SCIM client of A", &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: tenantA, Service: viewer.ServiceSCIM}, viewer.RoleAdmin, true, false},
		{"no role", &viewer.Viewer{TenantID: tenantA}, viewer.RoleAgent, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.v.InTenant(c.min); got != c.in {
				t.Errorf("InTenant(%q) = %v, want %v", c.min, got, c.in)
			}
			if got := c.v.Operator(); got != c.operator {
				t.Errorf("Operator() = %v, want %v", got, c.operator)
			}
		})
	}
}

func TestActingFor(t *testing.T) {
	tenantA, tenantB := gid.New("TN"), gid.New("TN")
	alex, bea := gid.New("AG"), gid.New("AG") // agents of A
	cy := gid.New("AG")                       // an agent of B
	samA := gid.New("AG")                     // a supervisor of A
	ptr := func(id gid.ID) *gid.ID { return &id }
	cases := []struct {
		name    string
		v       *viewer.Viewer
		agentID *gid.ID
		want    gid.ID
		code    apierror.Code // "" for success
	}{
		{"agent for itself, implicitly", &viewer.Viewer{Role: viewer.RoleAgent, TenantID: tenantA, AgentID: alex}, nil, alex, ""},
		{"agent for itself, by name", &viewer.Viewer{Role: viewer.RoleAgent, TenantID: tenantA, AgentID: alex}, ptr(alex), alex, ""},
		{"agent for another of its tenant", &viewer.Viewer{Role: viewer.RoleAgent, TenantID: tenantA, AgentID: alex}, ptr(bea), "", apierror.Forbidden},
		{"agent for another tenant's agent", &viewer.Viewer{Role: viewer.RoleAgent, TenantID: tenantA, AgentID: alex}, ptr(cy), "", apierror.Forbidden},
		{"agent without a record", &viewer.Viewer{Role: viewer.RoleAgent, TenantID: tenantA}, nil, "", apierror.BadUserInput},
		{"agent without a record, naming nobody", &viewer.Viewer{Role: viewer.RoleAgent, TenantID: tenantA}, ptr(""), "", apierror.BadUserInput},
		{"agent without a record, naming another", &viewer.Viewer{Role: viewer.RoleAgent, TenantID: tenantA}, ptr(bea), "", apierror.Forbidden},
		{"supervisor for itself", &viewer.Viewer{Role: viewer.RoleSupervisor, TenantID: tenantA, AgentID: samA}, nil, samA, ""},
		{"supervisor for another", &viewer.Viewer{Role: viewer.RoleSupervisor, TenantID: tenantA, AgentID: samA}, ptr(bea), bea, ""},
		{"supervisor without a record, naming nobody", &viewer.Viewer{Role: viewer.RoleSupervisor, TenantID: tenantA}, nil, "", apierror.BadUserInput},
		{"supervisor without a record, for another", &viewer.Viewer{Role: viewer.RoleSupervisor, TenantID: tenantA}, ptr(bea), bea, ""},
		{"admin for another", &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: tenantA}, ptr(alex), alex, ""},
		{"admin without a record, naming nobody", &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: tenantA}, nil, "", apierror.BadUserInput},
		// ActingFor decides only the role; the agent's tenant is the data
		// layer's to check (an edge across tenants is refused there), so a
		// supervisor of A naming B's agent gets B's ID back here.
		{"supervisor of A for B's agent", &viewer.Viewer{Role: viewer.RoleSupervisor, TenantID: tenantA, AgentID: samA}, ptr(cy), cy, ""},
		{"agent of B for A's agent", &viewer.Viewer{Role: viewer.RoleAgent, TenantID: tenantB, AgentID: cy}, ptr(alex), "", apierror.Forbidden},
		{"operator", &viewer.Viewer{Role: viewer.RoleOperator}, nil, "", apierror.Forbidden},
		{"operator naming an agent", &viewer.Viewer{Role: viewer.RoleOperator}, ptr(alex), "", apierror.Forbidden},
		{"operator claiming a tenant and an agent", &viewer.Viewer{Role: viewer.RoleOperator, TenantID: tenantA, AgentID: alex}, nil, "", apierror.Forbidden},
		{"nil viewer", nil, nil, "", apierror.Forbidden},
		{"nil viewer naming an agent", nil, ptr(alex), "", apierror.Forbidden},
		{"role without a tenant", &viewer.Viewer{Role: viewer.RoleAdmin, AgentID: alex}, nil, "", apierror.Forbidden},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.v.ActingFor(c.agentID, "record interactions")
			if c.code == "" {
				if err != nil || got != c.want {
					t.Fatalf("ActingFor = %q, %v; want %q", got, err, c.want)
				}
				return
			}
			var ae *apierror.Error
			if !errors.As(err, &ae) || ae.Code != c.code {
				t.Fatalf("ActingFor = %q, %v; want %s", got, err, c.code)
			}
			if got != "" {
				t.Errorf("a refusal names the agent %q", got)
			}
			if c.code == apierror.Forbidden && !strings.Contains(ae.Message, "record interactions") {
				t.Errorf("refusal %q does not say what was refused", ae.Message)
			}
		})
	}
}

func TestContext(t *testing.T) {
	if v := viewer.FromContext(context.Background()); v != nil {
		t.Fatalf("a bare context carries %+v", v)
	}
	alex := &viewer.Viewer{Subject: "s-1", Email: "alex@acme.example", Role: viewer.RoleAgent, TenantID: gid.New("TN"), AgentID: gid.New("AG")}
	ctx := viewer.NewContext(context.Background(), alex)
	if got := viewer.FromContext(ctx); got != alex {
		t.Fatalf("FromContext = %+v, want %+v", got, alex)
	}
	// A later viewer shadows the earlier one in derived contexts only.
	cy := &viewer.Viewer{Role: viewer.RoleAgent, TenantID: gid.New("TN"), AgentID: gid.New("AG")}
	inner := viewer.NewContext(ctx, cy)
	if viewer.FromContext(inner) != cy || viewer.FromContext(ctx) != alex {
		t.Fatal("NewContext changed its parent")
	}
	// Another package's key of the same shape is not the viewer's.
	type ctxKey struct{}
	if v := viewer.FromContext(context.WithValue(context.Background(), ctxKey{}, alex)); v != nil {
		t.Fatalf("a foreign key yields %+v", v)
	}
	// A nil viewer in the context reads as none.
	if v := viewer.FromContext(viewer.NewContext(ctx, nil)); v != nil {
		t.Fatalf("NewContext(nil) yields %+v", v)
	}
}

func TestRoleGraphQL(t *testing.T) {
	for _, r := range []viewer.Role{viewer.RoleAgent, viewer.RoleSupervisor, viewer.RoleAdmin, viewer.RoleOperator} {
		var buf bytes.Buffer
		r.MarshalGQL(&buf)
		if got, want := buf.String(), `"`+string(r)+`"`; got != want {
			t.Errorf("MarshalGQL(%q) = %s, want %s", r, got, want)
		}
		var back viewer.Role
		if err := back.UnmarshalGQL(string(r)); err != nil || back != r {
			t.Errorf("UnmarshalGQL(%q) = %q, %v", r, back, err)
		}
	}
	var lower viewer.Role
	if err := lower.UnmarshalGQL("supervisor"); err != nil || lower != viewer.RoleSupervisor {
		t.Errorf("UnmarshalGQL(supervisor) = %q, %v", lower, err)
	}
	for _, v := range []any{"ROOT", "", " ADMIN", 1, nil, true, []byte("ADMIN")} {
		r := viewer.RoleAgent
		if err := r.UnmarshalGQL(v); err == nil {
			t.Errorf("UnmarshalGQL(%#v) accepted: %q", v, r)
		}
		if r != viewer.RoleAgent {
			t.Errorf("a refused UnmarshalGQL(%#v) changed the role to %q", v, r)
		}
	}
}
