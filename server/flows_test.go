package server_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"switchboard/auth"
	"switchboard/flows"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/viewer"
)

// Modules by role on both stores: DesktopBootstrap's modules are those for
// everyone and those listing the viewer's role; admins see and manage them
// all; updateModule replaces or clears the roles, refuses roles that are
// not a tenant's people's and URLs that are not https, and cannot reach
// another tenant's module.
func TestModulesByRole(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		A, B := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
		_, agent := s.NewAgent(t, A, "Ann", "ann@acme.example", auth.RoleAgent)
		_, sup := s.NewAgent(t, A, "Sam", "sam@acme.example", auth.RoleSupervisor)
		create := `mutation($in: CreateModuleInput!) { createModule(input: $in) { id name roles } }`
		ids := map[string]string{}
		for name, roles := range map[string][]string{"all": nil, "agents": {"AGENT"}, "supervisors": {"SUPERVISOR", "ADMIN"}} {
			in := map[string]any{"name": name, "url": "https://" + name + ".acme.example"}
			if roles != nil {
				in["roles"] = roles
			}
			var out struct {
				CreateModule struct{ ID string } `json:"createModule"`
			}
			s.MustDo(t, A.AdminToken, create, map[string]any{"in": in}, &out)
			ids[name] = out.CreateModule.ID
		}
		seen := func(tok string) string {
			t.Helper()
			var out struct {
				Viewer struct {
					Tenant struct{ Modules []struct{ Name string } }
				}
			}
			s.MustDo(t, tok, testenv.ContractOperation(t, "DesktopBootstrap"), nil, &out)
			var names []string
			for _, m := range out.Viewer.Tenant.Modules {
				names = append(names, m.Name)
			}
			sort.Strings(names)
			return strings.Join(names, ",")
		}
		for who, c := range map[string]struct{ tok, want string }{
			"agent": {agent, "agents,all"}, "supervisor": {sup, "all,supervisors"}, "admin": {A.AdminToken, "agents,all,supervisors"}, "B's admin": {B.AdminToken, ""},
		} {
			if got := seen(c.tok); got != c.want {
				t.Errorf("%s sees %q, want %q", who, got, c.want)
			}
		}
		update := testenv.ContractOperation(t, "UpdateModule")
		for _, bad := range []map[string]any{
			{"roles": []string{"OPERATOR"}}, {"roles": []string{"AGENT", "AGENT"}}, {"url": "http://agents.acme.example"},
			{"url": "https://user@agents.acme.example"}, {"name": ""},
		} {
			if r := s.Do(t, A.AdminToken, update, map[string]any{"id": ids["agents"], "input": bad}); r.Code() != "BAD_USER_INPUT" {
				t.Errorf("update %v: %+v", bad, r)
			}
		}
		if r := s.Do(t, B.AdminToken, update, map[string]any{"id": ids["agents"], "input": map[string]any{"name": "mine"}}); r.Code() != "NOT_FOUND" {
			t.Errorf("B's admin updates A's module: %+v", r)
		}
		if r := s.Do(t, sup, update, map[string]any{"id": ids["agents"], "input": map[string]any{"name": "mine"}}); r.Code() != "FORBIDDEN" && r.Code() != "NOT_FOUND" {
			t.Errorf("a supervisor updates a module: %+v", r)
		}
		if got := seen(agent); got != "agents,all" {
			t.Fatalf("refused updates changed what the agent sees: %q", got)
		}
		s.MustDo(t, A.AdminToken, update, map[string]any{"id": ids["supervisors"], "input": map[string]any{"roles": []string{"AGENT", "SUPERVISOR"}, "position": 1}}, nil)
		s.MustDo(t, A.AdminToken, update, map[string]any{"id": ids["agents"], "input": map[string]any{"clearRoles": true, "name": "everyone"}}, nil)
		if got := seen(agent); got != "all,everyone,supervisors" {
			t.Errorf("after updates the agent sees %q", got)
		}
	})
}

// Operational parameters on both stores: admins set (create, then update)
// and delete them; supervisors read them, agents may not; names and values
// are checked and a refused one stores nothing; another tenant sees and
// deletes none of them.
func TestOperationalParameters(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		A, B := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
		_, agent := s.NewAgent(t, A, "Ann", "ann@acme.example", auth.RoleAgent)
		_, sup := s.NewAgent(t, A, "Sam", "sam@acme.example", auth.RoleSupervisor)
		set := testenv.ContractOperation(t, "SetOperationalParameter")
		list := testenv.ContractOperation(t, "OperationalParameters")
		type param struct{ ID, Group, Key, Value string }
		read := func(tok string, group any) []param {
			t.Helper()
			var out struct {
				OperationalParameters []param `json:"operationalParameters"`
			}
			s.MustDo(t, tok, list, map[string]any{"group": group}, &out)
			return out.OperationalParameters
		}
		var first struct {
			SetOperationalParameter param `json:"setOperationalParameter"`
		}
		s.MustDo(t, A.AdminToken, set, map[string]any{"group": "ivr", "key": "welcome", "value": "Hello"}, &first)
		s.MustDo(t, A.AdminToken, set, map[string]any{"group": "ivr", "key": "welcome", "value": "Welcome to Acme"}, nil)
		s.MustDo(t, A.AdminToken, set, map[string]any{"group": "ivr", "key": "closed.message", "value": ""}, nil)
		s.MustDo(t, A.AdminToken, set, map[string]any{"group": "routing", "key": "overflow_queue", "value": "Q2"}, nil)
		s.MustDo(t, B.AdminToken, set, map[string]any{"group": "ivr", "key": "welcome", "value": "Bolt here"}, nil)

		got := read(sup, "ivr")
		if len(got) != 2 || got[0].Key != "closed.message" || got[1].Key != "welcome" || got[1].Value != "Welcome to Acme" || got[1].ID != first.SetOperationalParameter.ID {
			t.Fatalf("A's ivr group: %+v", got)
		}
		if n := len(read(A.AdminToken, nil)); n != 3 {
			t.Errorf("A has %d parameters, want 3", n)
		}
		if r := s.Do(t, agent, list, nil); r.Code() != "FORBIDDEN" {
			t.Errorf("an agent reads parameters: %+v", r)
		}
		if r := s.Do(t, sup, set, map[string]any{"group": "ivr", "key": "welcome", "value": "x"}); r.Code() != "FORBIDDEN" {
			t.Errorf("a supervisor sets a parameter: %+v", r)
		}
		for _, bad := range []map[string]any{
			{"group": "", "key": "k", "value": "v"}, {"group": "ivr", "key": "", "value": "v"},
			{"group": "ivr", "key": "has space", "value": "v"}, {"group": "ivr", "key": "-dash", "value": "v"},
			{"group": strings.Repeat("g", 65), "key": "k", "value": "v"}, {"group": "ivr", "key": strings.Repeat("k", 65), "value": "v"},
			{"group": "ivr", "key": "big", "value": strings.Repeat("v", 1025)},
		} {
			if r := s.Do(t, A.AdminToken, set, bad); r.Code() != "BAD_USER_INPUT" {
				t.Errorf("set %.80v: %+v", bad, r)
			}
		}
		if n := len(read(A.AdminToken, nil)); n != 3 {
			t.Errorf("after refused sets A has %d parameters", n)
		}
		del := testenv.ContractOperation(t, "DeleteOperationalParameter")
		if r := s.Do(t, B.AdminToken, del, map[string]any{"id": first.SetOperationalParameter.ID}); r.Code() != "NOT_FOUND" {
			t.Errorf("B deletes A's parameter: %+v", r)
		}
		if got := read(B.AdminToken, nil); len(got) != 1 || got[0].Value != "Bolt here" {
			t.Errorf("B's parameters: %+v", got)
		}
		s.MustDo(t, A.AdminToken, del, map[string]any{"id": first.SetOperationalParameter.ID}, nil)
		if n := len(read(A.AdminToken, "ivr")); n != 1 {
			t.Errorf("after delete A's ivr has %d", n)
		}
	})
}

// A tenant keeps at most schema.MaxParameters parameters; setting one that
// exists is still allowed at the limit.
func TestOperationalParameterLimit(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		A := s.NewTenant(t, "Acme")
		ctx := viewer.NewContext(context.Background(), &viewer.Viewer{Email: "admin@acme.example", Role: viewer.RoleAdmin, TenantID: gid.ID(A.ID)})
		for i := range 1000 {
			if _, err := flows.SetParameter(ctx, s.Store.Client, "g", fmt.Sprintf("k%d", i), "v"); err != nil {
				t.Fatalf("parameter %d: %v", i, err)
			}
		}
		set := testenv.ContractOperation(t, "SetOperationalParameter")
		if r := s.Do(t, A.AdminToken, set, map[string]any{"group": "g", "key": "one-more", "value": "v"}); r.Code() != "BAD_USER_INPUT" {
			t.Errorf("the 1001st: %+v", r)
		}
		s.MustDo(t, A.AdminToken, set, map[string]any{"group": "g", "key": "k7", "value": "changed"}, nil)
	})
}

// The flows key: admins alone rotate it; it is shown once and found by
// TenantOfKey; rotating again ends the old one; a tenant's key names that
// tenant and no other.
func TestRotateFlowsKey(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		A, B := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
		_, sup := s.NewAgent(t, A, "Sam", "sam@acme.example", auth.RoleSupervisor)
		rotate := testenv.ContractOperation(t, "RotateFlowsKey")
		if r := s.Do(t, sup, rotate, nil); r.Code() != "FORBIDDEN" {
			t.Errorf("a supervisor rotates the key: %+v", r)
		}
		key := func(tn testenv.Tenant) string {
			var out struct {
				RotateFlowsKey struct{ Key, CreatedAt string } `json:"rotateFlowsKey"`
			}
			s.MustDo(t, tn.AdminToken, rotate, nil, &out)
			if !strings.HasPrefix(out.RotateFlowsKey.Key, flows.KeyPrefix) || out.RotateFlowsKey.CreatedAt == "" {
				t.Fatalf("rotated: %+v", out)
			}
			return out.RotateFlowsKey.Key
		}
		a1, bKey := key(A), key(B)
		ctx := context.Background()
		if id, err := flows.TenantOfKey(ctx, s.Store.Client, a1); err != nil || string(id) != A.ID {
			t.Fatalf("A's key names %s, %v", id, err)
		}
		a2 := key(A)
		if _, err := flows.TenantOfKey(ctx, s.Store.Client, a1); err != flows.ErrUnknownKey {
			t.Errorf("A's old key after rotation: %v", err)
		}
		for k, want := range map[string]string{a2: A.ID, bKey: B.ID} {
			if id, err := flows.TenantOfKey(ctx, s.Store.Client, k); err != nil || string(id) != want {
				t.Errorf("key names %s, %v; want %s", id, err, want)
			}
		}
		if _, err := flows.TenantOfKey(ctx, s.Store.Client, a2[:len(a2)-1]+"x"); err != flows.ErrUnknownKey {
			t.Errorf("a forged key: %v", err)
		}
	})
}
