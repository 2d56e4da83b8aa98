package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"switchboard/auth"
	"switchboard/internal/testenv"
)

// TestSCIMWiring: an admin creates a SCIM token through GraphQL; the
// identity provider provisions a contact with it under /scim/v2; agents
// find it while it is active; revoking the token shuts SCIM out.
func TestSCIMWiring(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		ta, tb := s.NewTenant(t, "Alpha"), s.NewTenant(t, "Beta")
		_, agentA := s.NewAgent(t, ta, "Ann", "ann@alpha.example", auth.RoleAgent)
		_, agentB := s.NewAgent(t, tb, "Bob", "bob@beta.example", auth.RoleAgent)
		if r := s.Do(t, agentA, `mutation { createScimToken(name: "x") { token } }`, nil); r.Code() != "FORBIDDEN" {
			t.Fatalf("an agent creates a token: %+v", r)
		}
		var created struct {
			CreateScimToken struct {
				Token     string
				ScimToken struct{ ID, Name string }
			} `json:"createScimToken"`
		}
		s.MustDo(t, ta.AdminToken, `mutation { createScimToken(name: "Entra ID") { token scimToken { id name createdBy lastUsedAt revokedAt } } }`, nil, &created)
		tok := created.CreateScimToken.Token
		scimDo := func(method, path, body string) (int, map[string]any) {
			req, _ := http.NewRequest(method, s.URL+path, bytes.NewBufferString(body))
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/scim+json")
			res, err := s.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			var out map[string]any
			_ = json.NewDecoder(res.Body).Decode(&out)
			return res.StatusCode, out
		}
		status, u := scimDo("POST", "/scim/v2/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"zed@alpha.example","displayName":"Zed Zulu","emails":[{"type":"work","value":"zed@alpha.example","primary":true}],"active":true}`)
		if status != 201 {
			t.Fatalf("POST: %d %v", status, u)
		}
		id := u["id"].(string)
		search := func(token string) int {
			var out struct {
				SearchContacts struct{ TotalCount int } `json:"searchContacts"`
			}
			s.MustDo(t, token, `query { searchContacts(query: "zulu") { totalCount } }`, nil, &out)
			return out.SearchContacts.TotalCount
		}
		if n := search(agentA); n != 1 {
			t.Fatalf("agent A finds %d", n)
		}
		if n := search(agentB); n != 0 {
			t.Fatalf("agent B finds %d", n)
		}
		if status, _ := scimDo("PATCH", "/scim/v2/Users/"+id, `{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`); status != 200 {
			t.Fatalf("PATCH: %d", status)
		}
		if n := search(agentA); n != 0 {
			t.Fatalf("agent A finds a deactivated contact: %d", n)
		}
		var revoked struct {
			RevokeScimToken struct{ RevokedAt *string } `json:"revokeScimToken"`
		}
		if r := s.Do(t, tb.AdminToken, `mutation($id: ID!) { revokeScimToken(id: $id) { id } }`, map[string]any{"id": created.CreateScimToken.ScimToken.ID}); r.Code() != "NOT_FOUND" {
			t.Fatalf("B revokes A's token: %+v", r)
		}
		s.MustDo(t, ta.AdminToken, `mutation($id: ID!) { revokeScimToken(id: $id) { revokedAt } }`, map[string]any{"id": created.CreateScimToken.ScimToken.ID}, &revoked)
		if revoked.RevokeScimToken.RevokedAt == nil {
			t.Fatal("not revoked")
		}
		if status, _ := scimDo("GET", "/scim/v2/Users/"+id, ""); status != 401 {
			t.Fatalf("revoked token: %d", status)
		}
	})
}
