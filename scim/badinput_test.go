package scim_test

import (
	"net/http"
	"strings"
	"testing"

	"switchboard/internal/testenv"
	"switchboard/scim"
)

// TestBadInput: bad requests get SCIM errors with the right status and
// scimType, never a 500, and change nothing.
func TestBadInput(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		id := e.newUser(e.a.token, "bad@alpha.example")
		user := "/scim/v2/Users/" + id
		patch := func(ops string) string { return `{"schemas":["` + scim.PatchOpSchema + `"],"Operations":` + ops + `}` }
		for _, tc := range []struct {
			name, method, path, token, body string
			status                          int
			scimType                        string
		}{
			{"malformed JSON", "POST", "/scim/v2/Users", "", `{"userName": "x@alpha.example"`, 400, "invalidSyntax"},
			{"two JSON values", "POST", "/scim/v2/Users", "", `{"userName":"x@alpha.example"} {}`, 400, "invalidSyntax"},
			{"empty body", "POST", "/scim/v2/Users", "", ``, 400, "invalidSyntax"},
			{"not an object", "POST", "/scim/v2/Users", "", `[1,2]`, 400, "invalidValue"},
			{"no userName", "POST", "/scim/v2/Users", "", `{"displayName":"Nobody"}`, 400, "invalidValue"},
			{"blank userName", "POST", "/scim/v2/Users", "", `{"userName":"   "}`, 400, "invalidValue"},
			{"userName of the wrong type", "POST", "/scim/v2/Users", "", `{"userName":42}`, 400, "invalidValue"},
			{"active not a boolean", "POST", "/scim/v2/Users", "", `{"userName":"y@alpha.example","active":"maybe"}`, 400, "invalidValue"},
			{"bad email", "POST", "/scim/v2/Users", "", `{"userName":"y@alpha.example","emails":[{"value":"not an address"}]}`, 400, "invalidValue"},
			{"bad phone", "POST", "/scim/v2/Users", "", `{"userName":"y@alpha.example","phoneNumbers":[{"value":"call me"}]}`, 400, "invalidValue"},
			{"userName too long", "POST", "/scim/v2/Users", "", `{"userName":"` + strings.Repeat("u", 400) + `"}`, 400, "invalidValue"},
			{"body too large", "POST", "/scim/v2/Users", "", `{"userName":"` + strings.Repeat("u", 2<<20) + `"}`, 413, ""},
			{"unterminated filter string", "GET", filterPath(`userName eq "x`), "", "", 400, "invalidFilter"},
			{"filter without a value", "GET", filterPath(`userName eq`), "", "", 400, "invalidFilter"},
			{"unknown operator", "GET", filterPath(`userName like "x"`), "", "", 400, "invalidFilter"},
			{"dangling and", "GET", filterPath(`userName eq "x" and`), "", "", 400, "invalidFilter"},
			{"unbalanced parenthesis", "GET", filterPath(`(userName eq "x"`), "", "", 400, "invalidFilter"},
			{"unsupported attribute", "GET", filterPath(`nickName eq "x"`), "", "", 400, "invalidFilter"},
			{"extension attribute", "GET", filterPath(`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x"`), "", "", 400, "invalidFilter"},
			{"gt on a string", "GET", filterPath(`userName gt "x"`), "", "", 400, "invalidFilter"},
			{"a string for active", "GET", filterPath(`active eq "yes"`), "", "", 400, "invalidFilter"},
			{"nested value filters", "GET", filterPath(`emails[type eq "work" and emails[value pr]]`), "", "", 400, "invalidFilter"},
			{"filter too deep", "GET", filterPath(strings.Repeat("(", 100) + `userName pr` + strings.Repeat(")", 100)), "", "", 400, "invalidFilter"},
			{"count not a number", "GET", "/scim/v2/Users?count=ten", "", "", 400, "invalidValue"},
			{"sortBy", "GET", "/scim/v2/Users?sortBy=userName", "", "", 400, "invalidValue"},
			{"bad attributes", "GET", "/scim/v2/Users?attributes=emails[type", "", "", 400, "invalidValue"},
			{"PATCH malformed JSON", "PATCH", user, "", `{"Operations":[`, 400, "invalidSyntax"},
			{"PATCH without operations", "PATCH", user, "", patch(`[]`), 400, "invalidValue"},
			{"PATCH unknown op", "PATCH", user, "", patch(`[{"op":"merge","path":"title","value":"x"}]`), 400, "invalidSyntax"},
			{"PATCH malformed path", "PATCH", user, "", patch(`[{"op":"replace","path":"emails[type eq \"work\"","value":"x"}]`), 400, "invalidPath"},
			{"PATCH path with a space", "PATCH", user, "", patch(`[{"op":"replace","path":"name. givenName","value":"x"}]`), 400, "invalidPath"},
			{"PATCH unknown attribute", "PATCH", user, "", patch(`[{"op":"replace","path":"favouriteColour","value":"x"}]`), 400, "invalidPath"},
			{"PATCH unknown sub-attribute", "PATCH", user, "", patch(`[{"op":"replace","path":"name.nickName","value":"x"}]`), 400, "invalidPath"},
			{"PATCH filter on a simple attribute", "PATCH", user, "", patch(`[{"op":"replace","path":"title[value eq \"x\"]","value":"x"}]`), 400, "invalidPath"},
			{"PATCH bad value filter", "PATCH", user, "", patch(`[{"op":"replace","path":"emails[colour eq \"red\"].value","value":"x@alpha.example"}]`), 400, "invalidPath"},
			{"PATCH read-only id", "PATCH", user, "", patch(`[{"op":"replace","path":"id","value":"x"}]`), 400, "mutability"},
			{"PATCH remove without path", "PATCH", user, "", patch(`[{"op":"remove"}]`), 400, "noTarget"},
			{"PATCH remove userName", "PATCH", user, "", patch(`[{"op":"remove","path":"userName"}]`), 400, "invalidValue"},
			{"PATCH replace without value", "PATCH", user, "", patch(`[{"op":"replace","path":"title"}]`), 400, "invalidValue"},
			{"PATCH value of the wrong type", "PATCH", user, "", patch(`[{"op":"replace","path":"title","value":{"x":1}}]`), 400, "invalidValue"},
			{"PATCH active not a boolean", "PATCH", user, "", patch(`[{"op":"replace","path":"active","value":"Perhaps"}]`), 400, "invalidValue"},
			{"PATCH no path, not an object", "PATCH", user, "", patch(`[{"op":"replace","value":"x"}]`), 400, "invalidValue"},
			{"PATCH no path, bad key", "PATCH", user, "", patch(`[{"op":"replace","value":{"name..givenName":"x"}}]`), 400, "invalidPath"},
			{"PATCH bad phone", "PATCH", user, "", patch(`[{"op":"replace","path":"phoneNumbers[type eq \"work\"].value","value":"12"}]`), 400, "invalidValue"},
			{"PATCH no target", "PATCH", user, "", patch(`[{"op":"replace","path":"emails[value co \"zzz\"].type","value":"home"}]`), 400, "noTarget"},
			{"PUT malformed", "PUT", user, "", `{"userName":`, 400, "invalidSyntax"},
			{"unknown endpoint", "GET", "/scim/v2/Groups", "", "", 404, ""},
			{"unknown method", "POST", user, "", `{}`, 405, ""},
			{"PUT on the collection", "PUT", "/scim/v2/Users", "", `{}`, 405, ""},
			// Across tenants: B's token, A's user. Malformed bodies are
			// refused before the user is looked for; good ones find nothing.
			{"B: PATCH A's user, malformed", "PATCH", user, "B", `{"Operations":[`, 400, "invalidSyntax"},
			{"B: PATCH A's user, bad path", "PATCH", user, "B", patch(`[{"op":"replace","path":"favouriteColour","value":"x"}]`), 404, ""},
			{"B: PATCH A's user, bad value", "PATCH", user, "B", patch(`[{"op":"replace","path":"active","value":"Perhaps"}]`), 404, ""},
			{"B: bad filter", "GET", filterPath(`userName eq`), "B", "", 400, "invalidFilter"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				token := e.a.token
				if tc.token == "B" {
					token = e.b.token
				}
				var body any
				if tc.body != "" || tc.method == "POST" {
					body = tc.body
				}
				e.do(tc.method, tc.path, token, body).scimError(t, tc.status, tc.scimType)
			})
		}
		// Nothing changed.
		r := e.do("GET", user, e.a.token, nil).must(t, http.StatusOK)
		if r.str("userName") != "bad@alpha.example" || r.str("title") != "" || r.body["active"] != true {
			t.Fatalf("after bad requests: %s", r.raw)
		}
		r = e.do("GET", "/scim/v2/Users", e.a.token, nil).must(t, http.StatusOK)
		if r.num("totalResults") != 1 {
			t.Fatalf("bad requests created users: %s", r.raw)
		}
	})
}
