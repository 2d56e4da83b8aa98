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
		search := func(token string, q ...string) int {
			query := "zulu"
			if len(q) > 0 {
				query = q[0]
			}
			var out struct {
				SearchContacts struct{ TotalCount int } `json:"searchContacts"`
			}
			s.MustDo(t, token, `query($q: String!) { searchContacts(query: $q) { totalCount } }`, map[string]any{"q": query}, &out)
			return out.SearchContacts.TotalCount
		}
		if n := search(agentA); n != 1 {
			t.Fatalf("agent A finds %d", n)
		}
		if n := search(agentB); n != 0 {
			t.Fatalf("agent B finds %d", n)
		}
		// Entra's next steps, each seen through GraphQL search.
		type found struct {
			Name, Email, PhoneNumber, JobTitle string
		}
		find := func(q string) []found {
			var out struct {
				SearchContacts struct {
					Edges []struct{ Node found }
				} `json:"searchContacts"`
			}
			s.MustDo(t, agentA, testenv.ContractOperation(t, "SearchContacts"), map[string]any{"query": q}, &out)
			var got []found
			for _, e := range out.SearchContacts.Edges {
				got = append(got, e.Node)
			}
			return got
		}
		if status, list := scimDo("GET", `/scim/v2/Users?filter=userName+eq+%22ZED@alpha.example%22`, ""); status != 200 || list["totalResults"].(float64) != 1 {
			t.Fatalf("find by userName: %d %v", status, list)
		}
		if status, _ := scimDo("PATCH", "/scim/v2/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
			{"op":"Replace","path":"displayName","value":"Zed Zebra"},
			{"op":"Replace","path":"title","value":"Head of Support"},
			{"op":"Add","path":"phoneNumbers[type eq \"work\"].value","value":"+1 415 555 0100"}]}`); status != 200 {
			t.Fatalf("PATCH name, title, phone: %d", status)
		}
		if got := find("zebra"); len(got) != 1 || got[0].JobTitle != "Head of Support" || got[0].PhoneNumber != "+14155550100" {
			t.Fatalf("after PATCH: %+v", got)
		}
		if got := find("4155550"); len(got) != 1 || got[0].Name != "Zed Zebra" {
			t.Fatalf("by the new phone: %+v", got)
		}
		if status, _ := scimDo("PATCH", "/scim/v2/Users/"+id, `{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`); status != 200 {
			t.Fatalf("PATCH: %d", status)
		}
		if n := len(find("zebra")); n != 0 {
			t.Fatalf("agent A finds a deactivated contact: %d", n)
		}
		if status, u := scimDo("GET", "/scim/v2/Users/"+id, ""); status != 200 || u["active"] != false {
			t.Fatalf("a deactivated user is still SCIM's: %d %v", status, u)
		}
		if status, _ := scimDo("PATCH", "/scim/v2/Users/"+id, `{"Operations":[{"op":"replace","value":{"active":true}}]}`); status != 200 {
			t.Fatalf("reactivate: %d", status)
		}
		if n := len(find("zebra")); n != 1 {
			t.Fatalf("after reactivation agent A finds %d", n)
		}
		if n := search(agentB, "zebra"); n != 0 {
			t.Fatalf("agent B finds %d", n)
		}
		// Read-only through GraphQL, even for the tenant's admin.
		if r := s.Do(t, ta.AdminToken, testenv.ContractOperation(t, "UpdateContact"), map[string]any{"id": id, "input": map[string]any{"name": "Hand-edited"}}); r.Code() != "NOT_FOUND" {
			t.Fatalf("GraphQL edits a SCIM contact: %q", r.Code())
		}
		if status, _ := scimDo("DELETE", "/scim/v2/Users/"+id, ""); status != 204 {
			t.Fatalf("DELETE: %d", status)
		}
		if n := len(find("zebra")); n != 0 {
			t.Fatalf("after DELETE agent A finds %d", n)
		}
		if status, _ := scimDo("GET", "/scim/v2/Users/"+id, ""); status != 404 {
			t.Fatalf("GET after DELETE: %d", status)
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
