package server_test

import (
	"encoding/json"
	"strings"
	"testing"

	"switchboard/auth"
	"switchboard/internal/testenv"
)

// TestAdminOnlyNodes: a tenant's Amazon Connect instance and its SCIM
// tokens are its admins' alone. node(id:), which relies on the ent
// policies only, answers null to the tenant's agents and supervisors and
// to another tenant's admin; the list queries refuse them with the
// policy's own message.
func TestAdminOnlyNodes(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		a, other := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
		_, agentTok := s.NewAgent(t, a, "Alex", "alex@acme.example", auth.RoleAgent)
		_, supTok := s.NewAgent(t, a, "Sam", "sam@acme.example", auth.RoleSupervisor)
		_, otherAgentTok := s.NewAgent(t, other, "Cy", "cy@bolt.example", auth.RoleAgent)

		var inst struct {
			ConfigureInstance struct{ ID string } `json:"configureInstance"`
		}
		s.MustDo(t, a.AdminToken, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"instanceArn": instanceARN, "region": "ap-southeast-2", "roleArn": roleARN, "externalId": externalID}}, &inst)
		var tok struct {
			CreateScimToken struct{ ScimToken struct{ ID string } } `json:"createScimToken"`
		}
		s.MustDo(t, a.AdminToken, `mutation { createScimToken(name: "Entra ID") { scimToken { id } } }`, nil, &tok)
		// Tenant B's own rows, for the cross-tenant cases the other way round.
		var otherTok struct {
			CreateScimToken struct{ ScimToken struct{ ID string } } `json:"createScimToken"`
		}
		s.MustDo(t, other.AdminToken, `mutation { createScimToken(name: "Okta") { scimToken { id } } }`, nil, &otherTok)

		node := func(token, id string) string {
			t.Helper()
			var out struct{ Node json.RawMessage }
			s.MustDo(t, token, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": id}, &out)
			return string(out.Node)
		}
		nodes := map[string]string{"instance": inst.ConfigureInstance.ID, "SCIM token": tok.CreateScimToken.ScimToken.ID}
		for what, id := range nodes {
			if id == "" {
				t.Fatalf("no %s ID", what)
			}
			if got := node(a.AdminToken, id); !strings.Contains(got, id) {
				t.Errorf("the tenant's admin reads its %s as %s", what, got)
			}
			for _, c := range []struct{ who, token string }{
				{"the tenant's agent", agentTok},
				{"the tenant's supervisor", supTok},
				{"another tenant's admin", other.AdminToken},
				{"another tenant's agent", otherAgentTok},
				{"an operator", s.OperatorToken(t)},
			} {
				if got := node(c.token, id); got != "null" {
					t.Errorf("%s reads the %s: %s", c.who, what, got)
				}
			}
		}
		if got := node(a.AdminToken, otherTok.CreateScimToken.ScimToken.ID); got != "null" {
			t.Errorf("tenant A's admin reads B's SCIM token: %s", got)
		}
		var many struct{ Nodes []json.RawMessage }
		s.MustDo(t, agentTok, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`,
			map[string]any{"ids": []string{inst.ConfigureInstance.ID, tok.CreateScimToken.ScimToken.ID}}, &many)
		if len(many.Nodes) != 2 || string(many.Nodes[0]) != "null" || string(many.Nodes[1]) != "null" {
			t.Errorf("an agent's nodes: %s", many.Nodes)
		}

		// The list queries say why, in the policy's words.
		for _, c := range []struct{ query, message string }{
			{`{ instance { id } }`, "only the tenant's admins manage its Amazon Connect instance"},
			{`{ scimTokens { id } }`, "only the tenant's admins manage SCIM tokens"},
		} {
			for _, token := range []string{agentTok, supTok} {
				r := s.Do(t, token, c.query, nil)
				if r.Code() != "FORBIDDEN" || r.Errors[0].Message != c.message {
					t.Errorf("%s: %+v, want FORBIDDEN %q", c.query, r.Errors, c.message)
				}
			}
		}
		var list struct {
			ScimTokens []struct{ ID string } `json:"scimTokens"`
		}
		s.MustDo(t, other.AdminToken, `{ scimTokens { id } }`, nil, &list)
		if len(list.ScimTokens) != 1 || list.ScimTokens[0].ID != otherTok.CreateScimToken.ScimToken.ID {
			t.Errorf("tenant B's admin lists %+v", list.ScimTokens)
		}
	})
}
