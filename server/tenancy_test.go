package server_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"switchboard/auth"
	"switchboard/internal/testenv"
)

// TestRoles: who may create tenants, agents and statuses.
func TestRoles(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		a := s.NewTenant(t, "Acme")
		_, agentTok := s.NewAgent(t, a, "Alex Agent", "alex@acme.example", auth.RoleAgent)
		_, supTok := s.NewAgent(t, a, "Sam Supervisor", "sam@acme.example", auth.RoleSupervisor)
		createTenant := `mutation { createTenant(input: {name: "Evil"}) { id } }`
		createAgent := `mutation($e: String!) { createAgent(input: {name: "New", email: $e}) { id role } }`
		createStatus := `mutation($n: String!) { createAgentStatus(input: {name: $n, type: CUSTOM}) { id } }`
		cases := []struct {
			who, token, query string
			vars              map[string]any
			want              string
		}{
			{"agent creates tenant", agentTok, createTenant, nil, "FORBIDDEN"},
			{"agent creates agent", agentTok, createAgent, map[string]any{"e": "x1@acme.example"}, "FORBIDDEN"},
			{"agent creates status", agentTok, createStatus, map[string]any{"n": "S1"}, "FORBIDDEN"},
			{"supervisor creates agent", supTok, createAgent, map[string]any{"e": "x2@acme.example"}, "FORBIDDEN"},
			{"supervisor creates status", supTok, createStatus, map[string]any{"n": "S2"}, "FORBIDDEN"},
			{"admin creates tenant", a.AdminToken, createTenant, nil, "FORBIDDEN"},
			{"operator creates agent", s.OperatorToken(t), createAgent, map[string]any{"e": "x3@acme.example"}, "FORBIDDEN"},
			{"admin creates agent", a.AdminToken, createAgent, map[string]any{"e": "x4@acme.example"}, ""},
			{"admin creates status", a.AdminToken, createStatus, map[string]any{"n": "S3"}, ""},
			{"operator creates tenant", s.OperatorToken(t), createTenant, nil, ""},
			{"admin: duplicate email", a.AdminToken, createAgent, map[string]any{"e": "X4@acme.example"}, "CONFLICT"},
			{"admin: bad email", a.AdminToken, createAgent, map[string]any{"e": "not an email"}, "BAD_USER_INPUT"},
			{"admin: bad enum", a.AdminToken, `mutation { createAgentStatus(input: {name: "Z", type: NOPE}) { id } }`, nil, "BAD_USER_INPUT"},
			{"admin: operator agent", a.AdminToken, `mutation { createAgent(input: {name: "O", email: "o@acme.example", role: OPERATOR}) { id } }`, nil, "BAD_USER_INPUT"},
			{"admin: empty name", a.AdminToken, createStatus, map[string]any{"n": ""}, "BAD_USER_INPUT"},
		}
		for _, c := range cases {
			t.Run(c.who, func(t *testing.T) {
				r := s.Do(t, c.token, c.query, c.vars)
				if r.Code() != c.want {
					t.Fatalf("code = %q, want %q: %+v", r.Code(), c.want, r.Errors)
				}
			})
		}
		// The refused writes left nothing behind.
		var out struct {
			Agents   struct{ TotalCount int } `json:"agents"`
			Statuses []struct{ Name string }  `json:"agentStatuses"`
		}
		s.MustDo(t, a.AdminToken, `{ agents { totalCount } agentStatuses { name } }`, nil, &out)
		if out.Agents.TotalCount != 3 || len(out.Statuses) != 1 {
			t.Fatalf("after refused writes: %+v", out)
		}
		var tenants struct {
			Tenants struct{ TotalCount int } `json:"tenants"`
		}
		s.MustDo(t, s.OperatorToken(t), `{ tenants { totalCount } }`, nil, &tenants)
		if tenants.Tenants.TotalCount != 2 {
			t.Fatalf("tenants = %d, want 2", tenants.Tenants.TotalCount)
		}
		// The new agent's role defaulted to AGENT.
		var created struct {
			CreateAgent struct{ Role string } `json:"createAgent"`
		}
		s.MustDo(t, a.AdminToken, createAgent, map[string]any{"e": "x5@acme.example"}, &created)
		if created.CreateAgent.Role != "AGENT" {
			t.Fatalf("default role = %q", created.CreateAgent.Role)
		}
	})
}

// TestTenantIsolation: tenant B can neither read nor change anything of tenant A's.
func TestTenantIsolation(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		a := s.NewTenant(t, "Acme")
		bt := s.NewTenant(t, "Bolt")
		aAgent, aAgentTok := s.NewAgent(t, a, "Alex", "alex@acme.example", auth.RoleAgent)
		bAgent, _ := s.NewAgent(t, bt, "Bea", "bea@bolt.example", auth.RoleAgent)
		var st struct {
			CreateAgentStatus struct{ ID string } `json:"createAgentStatus"`
		}
		s.MustDo(t, a.AdminToken, `mutation { createAgentStatus(input: {name: "Lunch", type: CUSTOM}) { id } }`, nil, &st)
		aStatus := st.CreateAgentStatus.ID
		var md struct {
			CreateModule struct{ ID string } `json:"createModule"`
		}
		s.MustDo(t, a.AdminToken, `mutation { createModule(input: {name: "KB", url: "https://kb.acme.example"}) { id } }`, nil, &md)
		aIDs := []string{a.ID, aAgent, aStatus, md.CreateModule.ID}

		t.Run("node", func(t *testing.T) {
			for _, id := range aIDs {
				var out struct{ Node json.RawMessage }
				s.MustDo(t, bt.AdminToken, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}, &out)
				if string(out.Node) != "null" {
					t.Errorf("tenant B sees A's %s: %s", id, out.Node)
				}
				// ...while tenant A's admin does.
				s.MustDo(t, a.AdminToken, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}, &out)
				if string(out.Node) == "null" {
					t.Errorf("tenant A cannot see its own %s", id)
				}
			}
		})
		t.Run("nodes", func(t *testing.T) {
			var out struct{ Nodes []json.RawMessage }
			ids := append([]string{bAgent}, aIDs...)
			s.MustDo(t, bt.AdminToken, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids}, &out)
			if len(out.Nodes) != len(ids) || string(out.Nodes[0]) == "null" {
				t.Fatalf("nodes: %s", out.Nodes)
			}
			for i, n := range out.Nodes[1:] {
				if string(n) != "null" {
					t.Errorf("tenant B sees %s: %s", aIDs[i], n)
				}
			}
		})
		t.Run("malformed ids", func(t *testing.T) {
			for _, id := range []string{"", "x", "AG", "ZZ01M8AZ887ZNV6K8JPJJPM8RBZZ", aAgent + "x", "AG' OR 1=1 --"} {
				var out struct{ Node json.RawMessage }
				s.MustDo(t, bt.AdminToken, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}, &out)
				if string(out.Node) != "null" {
					t.Errorf("node(%q) = %s", id, out.Node)
				}
			}
		})
		t.Run("connections", func(t *testing.T) {
			var out struct {
				Agents struct {
					TotalCount int
					Edges      []struct{ Node struct{ ID string } }
				}
				AgentStatuses []struct{ ID string } `json:"agentStatuses"`
				Viewer        struct {
					Tenant struct {
						ID      string
						Modules []struct{ ID string }
					}
				}
				Tenants struct{ TotalCount int }
			}
			s.MustDo(t, bt.AdminToken, `{ agents(first: 50) { totalCount edges { node { id } } } agentStatuses { id }
				viewer { tenant { id modules { id } } } tenants { totalCount } }`, nil, &out)
			if out.Agents.TotalCount != 1 || len(out.Agents.Edges) != 1 || out.Agents.Edges[0].Node.ID != bAgent {
				t.Errorf("B's agents: %+v", out.Agents)
			}
			if len(out.AgentStatuses) != 0 || len(out.Viewer.Tenant.Modules) != 0 || out.Viewer.Tenant.ID != bt.ID {
				t.Errorf("B sees: %+v", out)
			}
			if out.Tenants.TotalCount != 1 {
				t.Errorf("B's admin sees %d tenants", out.Tenants.TotalCount)
			}
		})
		t.Run("writes", func(t *testing.T) {
			writes := []struct {
				name, query string
				vars        map[string]any
			}{
				{"update agent", `mutation($id: ID!) { updateAgent(id: $id, input: {name: "Pwned"}) { id } }`, map[string]any{"id": aAgent}},
				{"delete agent", `mutation($id: ID!) { deleteAgent(id: $id) }`, map[string]any{"id": aAgent}},
				{"update status", `mutation($id: ID!) { updateAgentStatus(id: $id, input: {name: "Pwned"}) { id } }`, map[string]any{"id": aStatus}},
				{"update tenant", `mutation($id: ID!) { updateTenant(id: $id, input: {name: "Pwned"}) { id } }`, map[string]any{"id": a.ID}},
				{"delete module", `mutation($id: ID!) { deleteModule(id: $id) }`, map[string]any{"id": md.CreateModule.ID}},
			}
			for _, w := range writes {
				r := s.Do(t, bt.AdminToken, w.query, w.vars)
				if c := r.Code(); c != "NOT_FOUND" && c != "FORBIDDEN" {
					t.Errorf("%s: code %q, want NOT_FOUND or FORBIDDEN (%+v)", w.name, c, r.Errors)
				}
			}
			// A's records are unchanged.
			var out struct {
				Viewer struct {
					Name   string
					Tenant struct {
						Name    string
						Modules []struct{ ID string }
					}
				}
				AgentStatuses []struct{ Name string } `json:"agentStatuses"`
			}
			s.MustDo(t, aAgentTok, `{ viewer { name tenant { name modules { id } } } agentStatuses { name } }`, nil, &out)
			if out.Viewer.Name != "Alex" || out.Viewer.Tenant.Name != "Acme" || len(out.Viewer.Tenant.Modules) != 1 ||
				len(out.AgentStatuses) != 1 || out.AgentStatuses[0].Name != "Lunch" {
				t.Fatalf("A's records changed: %+v", out)
			}
		})
		t.Run("agent updates own tenant", func(t *testing.T) {
			r := s.Do(t, aAgentTok, `mutation($id: ID!) { updateTenant(id: $id, input: {name: "Mine"}) { id } }`, map[string]any{"id": a.ID})
			if r.Code() != "FORBIDDEN" {
				t.Fatalf("code %q", r.Code())
			}
		})
	})
}

// TestWallboard pages through agents by name with cursors and a correct total.
func TestWallboard(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		a := s.NewTenant(t, "Acme")
		other := s.NewTenant(t, "Other")
		s.NewAgent(t, other, "Aaron Other", "aaron@other.example", auth.RoleAgent)
		const n = 130
		for i := 0; i < n; i++ {
			s.NewAgent(t, a, fmt.Sprintf("Agent %03d", n-i), fmt.Sprintf("agent%03d@acme.example", i), auth.RoleAgent)
		}
		var names []string
		var after any
		pages := 0
		for {
			var out struct {
				Agents struct {
					TotalCount int
					PageInfo   struct {
						HasNextPage bool
						EndCursor   string
					}
					Edges []struct {
						Cursor string
						Node   struct{ Name string }
					}
				}
			}
			s.MustDo(t, a.AdminToken, wallboard, map[string]any{"first": 50, "after": after}, &out)
			pages++
			if out.Agents.TotalCount != n {
				t.Fatalf("totalCount = %d, want %d", out.Agents.TotalCount, n)
			}
			for _, e := range out.Agents.Edges {
				names = append(names, e.Node.Name)
			}
			if !out.Agents.PageInfo.HasNextPage {
				break
			}
			after = out.Agents.PageInfo.EndCursor
			if pages > 10 {
				t.Fatal("pagination does not end")
			}
		}
		if pages != 3 || len(names) != n {
			t.Fatalf("%d pages, %d names", pages, len(names))
		}
		for i, name := range names {
			if want := fmt.Sprintf("Agent %03d", i+1); name != want {
				t.Fatalf("names[%d] = %q, want %q", i, name, want)
			}
		}
		r := s.Do(t, a.AdminToken, wallboard, map[string]any{"first": 100000})
		if r.Code() != "BAD_USER_INPUT" {
			t.Fatalf("huge page: %q", r.Code())
		}
	})
}

const wallboard = `query Wallboard($first: Int = 100, $after: Cursor) {
  agents(first: $first, after: $after, orderBy: { field: NAME, direction: ASC }) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id name email currentStatus { status { id name type } since } } }
  }
}`

// TestModuleURLsAreHTTPS: a module is an iframe in every agent's desktop,
// so only an https page with a host is taken; anything else is
// BAD_USER_INPUT and nothing is stored.
func TestModuleURLsAreHTTPS(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		a := s.NewTenant(t, "Acme")
		other := s.NewTenant(t, "Bolt")
		create := `mutation($url: String!) { createModule(input: {name: "Panel", url: $url}) { id url } }`
		modules := func(tok string) int {
			var out struct {
				Viewer struct {
					Tenant struct{ Modules []struct{ URL string } }
				}
			}
			s.MustDo(t, tok, `{ viewer { tenant { modules { url } } } }`, nil, &out)
			return len(out.Viewer.Tenant.Modules)
		}
		before := modules(a.AdminToken)
		for _, bad := range []string{
			"javascript:alert(document.cookie)",
			"JavaScript:alert(1)",
			"data:text/html,<script>alert(1)</script>",
			"vbscript:msgbox(1)",
			"file:///etc/passwd",
			"http://kb.acme.example",
			"//evil.example/page",
			"https:evil.example",
			"https://",
			"https://user:pass@kb.acme.example",
			"kb.acme.example",
			" https://kb.acme.example",
		} {
			if r := s.Do(t, a.AdminToken, create, map[string]any{"url": bad}); r.Code() != "BAD_USER_INPUT" {
				t.Errorf("url %q: code %q (%+v), want BAD_USER_INPUT", bad, r.Code(), r.Errors)
			}
		}
		if n := modules(a.AdminToken); n != before {
			t.Fatalf("modules after refused URLs: %d, want %d", n, before)
		}
		var ok struct {
			CreateModule struct{ URL string } `json:"createModule"`
		}
		s.MustDo(t, a.AdminToken, create, map[string]any{"url": "https://kb.acme.example/articles?q=1"}, &ok)
		if ok.CreateModule.URL != "https://kb.acme.example/articles?q=1" {
			t.Errorf("an https module was stored as %q", ok.CreateModule.URL)
		}
		if n := modules(a.AdminToken); n != before+1 {
			t.Errorf("modules after an https one: %d, want %d", n, before+1)
		}
		if n := modules(other.AdminToken); n != 0 {
			t.Errorf("tenant B sees %d modules, want none of A's", n)
		}
	})
}

// TestTenantDetailsAreChecked: a tenant's contact details, region and
// status names are checked where they enter; a refused update changes
// nothing, and another tenant's admin cannot change them at all.
func TestTenantDetailsAreChecked(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		a := s.NewTenant(t, "Acme")
		other := s.NewTenant(t, "Bolt")
		update := `mutation($id: ID!, $input: UpdateTenantInput!) { updateTenant(id: $id, input: $input) { id contactEmail contactPhone defaultRegion } }`
		good := map[string]any{"contactEmail": "ops@acme.example", "contactPhone": "+61 2 9876 5432", "defaultRegion": "AU"}
		s.MustDo(t, a.AdminToken, update, map[string]any{"id": a.ID, "input": good}, nil)
		for _, c := range []struct {
			field, value string
		}{
			{"contactEmail", "bad"},
			{"contactEmail", "Ops <ops@acme.example>"},
			{"contactPhone", "abc"},
			{"contactPhone", "02 9876 5432"}, // no country code
			{"defaultRegion", "ZZ"},
			{"defaultRegion", "au"},
			{"defaultRegion", "A"},
		} {
			r := s.Do(t, a.AdminToken, update, map[string]any{"id": a.ID, "input": map[string]any{c.field: c.value}})
			if r.Code() != "BAD_USER_INPUT" {
				t.Errorf("%s %q: code %q (%+v), want BAD_USER_INPUT", c.field, c.value, r.Code(), r.Errors)
			}
		}
		var got struct {
			Node struct{ ContactEmail, ContactPhone, DefaultRegion string }
		}
		s.MustDo(t, a.AdminToken, `query($id: ID!) { node(id: $id) { ... on Tenant { contactEmail contactPhone defaultRegion } } }`, map[string]any{"id": a.ID}, &got)
		if got.Node.ContactEmail != "ops@acme.example" || got.Node.ContactPhone != "+61 2 9876 5432" || got.Node.DefaultRegion != "AU" {
			t.Errorf("after refused updates the tenant holds %+v", got.Node)
		}
		if r := s.Do(t, other.AdminToken, update, map[string]any{"id": a.ID, "input": good}); r.Code() == "" {
			t.Errorf("tenant B's admin updated tenant A")
		}
		for _, name := range []string{"   ", "\t", ""} {
			r := s.Do(t, a.AdminToken, `mutation($name: String!) { createAgentStatus(input: {name: $name, type: CUSTOM}) { id } }`, map[string]any{"name": name})
			if r.Code() != "BAD_USER_INPUT" {
				t.Errorf("status name %q: code %q, want BAD_USER_INPUT", name, r.Code())
			}
		}
	})
}
