package scim_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"switchboard/ent"
	"switchboard/ent/contact"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/scim"
)

// TestTenancy: a token reaches its own tenant's users only; another
// tenant's user is not found whatever the request.
func TestTenancy(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		aID := e.newUser(e.a.token, "ann@alpha.example")
		bID := e.newUser(e.b.token, "bob@beta.example")
		patch := `{"schemas":["` + scim.PatchOpSchema + `"],"Operations":[{"op":"replace","path":"title","value":"Pwned"}]}`
		put := `{"schemas":["` + scim.UserSchema + `"],"userName":"pwned@beta.example"}`
		for _, tc := range []struct {
			name, method, token, id, body string
		}{
			{"B reads A's user", "GET", e.b.token, aID, ""},
			{"B patches A's user", "PATCH", e.b.token, aID, patch},
			{"B replaces A's user", "PUT", e.b.token, aID, put},
			{"B deletes A's user", "DELETE", e.b.token, aID, ""},
			{"A reads B's user", "GET", e.a.token, bID, ""},
			{"A patches B's user", "PATCH", e.a.token, bID, patch},
			{"A deletes B's user", "DELETE", e.a.token, bID, ""},
			{"an ID of no user", "GET", e.a.token, string(gid.New("CT")), ""},
			{"another kind of ID", "GET", e.a.token, string(e.a.tenant.ID), ""},
			{"a malformed ID", "GET", e.a.token, "not-an-id", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				var body any
				if tc.body != "" {
					body = tc.body
				}
				e.do(tc.method, "/scim/v2/Users/"+tc.id, tc.token, body).scimError(t, http.StatusNotFound, "")
			})
		}
		// Both users are untouched.
		for _, tc := range []struct {
			token, id, userName string
		}{{e.a.token, aID, "ann@alpha.example"}, {e.b.token, bID, "bob@beta.example"}} {
			r := e.do("GET", "/scim/v2/Users/"+tc.id, tc.token, nil).must(t, http.StatusOK)
			if r.str("userName") != tc.userName || r.str("title") != "" {
				t.Fatalf("after the other tenant's attempts: %s", r.raw)
			}
		}
		// Lists and filters see the token's tenant only.
		for _, tc := range []struct {
			name, token, filter, want string
		}{
			{"A lists", e.a.token, "", aID},
			{"B lists", e.b.token, "", bID},
			{"B filters on A's userName", e.b.token, `userName eq "ann@alpha.example"`, ""},
			{"A filters on B's userName", e.a.token, `userName eq "bob@beta.example"`, ""},
			{"B filters on A's email", e.b.token, `emails[type eq "work"].value eq "ann@alpha.example"`, ""},
			{"B filters on A's id", e.b.token, `id eq "` + aID + `"`, ""},
			{"B filters on anything", e.b.token, `userName pr or not (userName pr)`, bID},
		} {
			t.Run(tc.name, func(t *testing.T) {
				path := "/scim/v2/Users"
				if tc.filter != "" {
					path = filterPath(tc.filter)
				}
				r := e.do("GET", path, tc.token, nil).must(t, http.StatusOK)
				got := r.resources(t)
				if tc.want == "" {
					if len(got) != 0 || r.num("totalResults") != 0 {
						t.Fatalf("found %s", r.raw)
					}
					return
				}
				if len(got) != 1 || got[0]["id"] != tc.want || r.num("totalResults") != 1 {
					t.Fatalf("want only %s: %s", tc.want, r.raw)
				}
			})
		}
		// A userName is unique within a tenant, not across tenants.
		e.newUser(e.b.token, "ann@alpha.example")
	})
}

// TestHandMadeContactsOutOfReach: SCIM neither sees nor changes the
// organisation contacts that admins make by hand.
func TestHandMadeContactsOutOfReach(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		manual, err := e.client.Contact.Create().SetScope(contact.ScopeORGANISATION).SetName("Reception").
			SetPhoneNumber("+61 2 9000 0000").Save(e.a.admin)
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ name, token string }{{"own tenant", e.a.token}, {"other tenant", e.b.token}} {
			t.Run(tc.name, func(t *testing.T) {
				e.do("GET", "/scim/v2/Users/"+string(manual.ID), tc.token, nil).scimError(t, http.StatusNotFound, "")
				e.do("DELETE", "/scim/v2/Users/"+string(manual.ID), tc.token, nil).scimError(t, http.StatusNotFound, "")
				r := e.do("GET", "/scim/v2/Users", tc.token, nil).must(t, http.StatusOK)
				if len(r.resources(t)) != 0 {
					t.Fatalf("listed: %s", r.raw)
				}
			})
		}
		if _, err := e.client.Contact.Get(e.a.agent, manual.ID); err != nil {
			t.Fatalf("the hand-made contact: %v", err)
		}
	})
}

// TestTokens: creation by admins only, the token shown once and stored
// hashed, revocation, and what Authenticate accepts.
func TestTokens(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		tok, rec, err := scim.CreateToken(e.a.admin, e.client, "  Okta  ", "admin@alpha.example")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tok, scim.TokenPrefix) || len(tok) != len(scim.TokenPrefix)+43 || rec.Name != "Okta" || rec.TenantID != e.a.tenant.ID {
			t.Fatalf("token %q, record %+v", tok, rec)
		}
		if strings.Contains(string(rec.TokenHash), tok) || len(rec.TokenHash) != 32 {
			t.Fatalf("stored hash %x", rec.TokenHash)
		}
		if tid, err := scim.Authenticate(t.Context(), e.client, tok); err != nil || tid != e.a.tenant.ID {
			t.Fatalf("authenticate: %v %v", tid, err)
		}
		if got := e.client.ScimToken.GetX(e.a.admin, rec.ID); got.LastUsedAt == nil {
			t.Fatal("last_used_at not recorded")
		}
		t.Run("who may create", func(t *testing.T) {
			for name, ctx := range map[string]context.Context{
				"agent":        e.a.agent,
				"scim service": scim.ServiceContext(t.Context(), e.a.tenant.ID),
				"no viewer":    t.Context(),
			} {
				if _, _, err := scim.CreateToken(ctx, e.client, "x", ""); err == nil {
					t.Errorf("%s created a token", name)
				}
			}
		})
		t.Run("bad tokens", func(t *testing.T) {
			_, recB, err := scim.CreateToken(e.b.admin, e.client, "doomed", "")
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct{ name, header string }{
				{"no header", ""},
				{"empty bearer", "Bearer "},
				{"basic auth", "Basic " + tok},
				{"unknown token", "Bearer sbs_" + strings.Repeat("A", 43)},
				{"not a SCIM token", "Bearer eyJhbGciOiJIUzI1NiJ9.e30.x"},
				{"token with a suffix", "Bearer " + tok + "x"},
				{"another tenant's token's hash", "Bearer " + fmt.Sprintf("%x", recB.TokenHash)},
			} {
				t.Run(tc.name, func(t *testing.T) {
					req, _ := http.NewRequest("GET", e.srv.URL+"/scim/v2/Users", nil)
					if tc.header != "" {
						req.Header.Set("Authorization", tc.header)
					}
					res, err := e.http.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					res.Body.Close()
					if res.StatusCode != http.StatusUnauthorized {
						t.Fatalf("status %d", res.StatusCode)
					}
				})
			}
		})
		t.Run("revocation", func(t *testing.T) {
			id := e.newUser(tok, "rev@alpha.example")
			// B's admin cannot revoke A's token.
			if _, err := scim.RevokeToken(e.b.admin, e.client, rec.ID); err == nil {
				t.Fatal("B revoked A's token")
			}
			if _, err := scim.RevokeToken(e.a.agent, e.client, rec.ID); err == nil {
				t.Fatal("an agent revoked a token")
			}
			e.do("GET", "/scim/v2/Users/"+id, tok, nil).must(t, http.StatusOK)
			got, err := scim.RevokeToken(e.a.admin, e.client, rec.ID)
			if err != nil || got.RevokedAt == nil {
				t.Fatalf("revoke: %+v %v", got, err)
			}
			if again, err := scim.RevokeToken(e.a.admin, e.client, rec.ID); err != nil || !again.RevokedAt.Equal(*got.RevokedAt) {
				t.Fatalf("revoking again: %+v %v", again, err)
			}
			e.do("GET", "/scim/v2/Users/"+id, tok, nil).scimError(t, http.StatusUnauthorized, "")
			e.do("DELETE", "/scim/v2/Users/"+id, tok, nil).scimError(t, http.StatusUnauthorized, "")
			if _, err := scim.Authenticate(t.Context(), e.client, tok); err != scim.ErrUnauthenticated {
				t.Fatalf("a revoked token authenticates: %v", err)
			}
			// The tenant's other token still works.
			e.do("GET", "/scim/v2/Users/"+id, e.a.token, nil).must(t, http.StatusOK)
		})
	})
}

// TestUniqueUserName: a userName is taken regardless of case, by POST, PUT
// and PATCH, even by concurrent requests; other tenants may use it.
func TestUniqueUserName(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		first := e.newUser(e.a.token, "Dup@Alpha.example")
		second := e.newUser(e.a.token, "other@alpha.example")
		for _, tc := range []struct {
			name, method, path, token, body string
			status                          int
		}{
			{"POST the same", "POST", "/scim/v2/Users", e.a.token, `{"userName":"Dup@Alpha.example"}`, http.StatusConflict},
			{"POST in another case", "POST", "/scim/v2/Users", e.a.token, `{"userName":"dup@alpha.EXAMPLE"}`, http.StatusConflict},
			{"PATCH onto it", "PATCH", "/scim/v2/Users/" + second, e.a.token,
				`{"Operations":[{"op":"Replace","path":"userName","value":"DUP@alpha.example"}]}`, http.StatusConflict},
			{"PUT onto it", "PUT", "/scim/v2/Users/" + second, e.a.token, `{"userName":"dup@alpha.example"}`, http.StatusConflict},
			{"PATCH its own case", "PATCH", "/scim/v2/Users/" + first, e.a.token,
				`{"Operations":[{"op":"Replace","path":"userName","value":"dup@alpha.example"}]}`, http.StatusOK},
			{"POST it in tenant B", "POST", "/scim/v2/Users", e.b.token, `{"userName":"dup@alpha.example"}`, http.StatusCreated},
			{"B PATCHes A's user onto B's", "PATCH", "/scim/v2/Users/" + second, e.b.token,
				`{"Operations":[{"op":"Replace","path":"userName","value":"x@beta.example"}]}`, http.StatusNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do(tc.method, tc.path, tc.token, tc.body)
				if tc.status == http.StatusConflict {
					r.scimError(t, http.StatusConflict, "uniqueness")
					return
				}
				r.must(t, tc.status)
			})
		}
		t.Run("concurrent creation", func(t *testing.T) {
			var wg sync.WaitGroup
			statuses := make([]int, 8)
			for i := range statuses {
				wg.Add(1)
				go func() {
					defer wg.Done()
					name := "race@alpha.example"
					if i%2 == 1 {
						name = "RACE@alpha.example"
					}
					statuses[i] = e.do("POST", "/scim/v2/Users", e.a.token, `{"userName":"`+name+`"}`).status
				}()
			}
			wg.Wait()
			created := 0
			for _, s := range statuses {
				switch s {
				case http.StatusCreated:
					created++
				case http.StatusConflict:
				default:
					t.Errorf("status %d", s)
				}
			}
			if created != 1 {
				t.Fatalf("%d created: %v", created, statuses)
			}
		})
	})
}

// TestPaging: startIndex and count over the tenant's users only.
func TestPaging(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		var ids []string
		for i := range 5 {
			ids = append(ids, e.newUser(e.a.token, fmt.Sprintf("user%d@alpha.example", i)))
		}
		for i := range 3 {
			e.newUser(e.b.token, fmt.Sprintf("user%d@beta.example", i))
		}
		for _, tc := range []struct {
			name, token, query string
			total, start       int
			want               []string
		}{
			{"first page", e.a.token, "startIndex=1&count=2", 5, 1, ids[0:2]},
			{"second page", e.a.token, "startIndex=3&count=2", 5, 3, ids[2:4]},
			{"last page", e.a.token, "startIndex=5&count=2", 5, 5, ids[4:5]},
			{"past the end", e.a.token, "startIndex=6&count=2", 5, 6, nil},
			{"count 0", e.a.token, "count=0", 5, 1, nil},
			{"startIndex below 1", e.a.token, "startIndex=0&count=1", 5, 1, ids[0:1]},
			{"negative count", e.a.token, "count=-3", 5, 1, nil},
			{"default count", e.a.token, "", 5, 1, ids},
			{"count over the maximum", e.a.token, "count=100000", 5, 1, ids},
			{"filtered page", e.a.token, "count=1&startIndex=2&filter=" + strings.ReplaceAll(`userName sw "user" and not (userName eq "user0@alpha.example")`, " ", "+"), 4, 2, ids[2:3]},
			{"filtered on emails, paged in memory", e.a.token, "count=2&startIndex=2&filter=" + strings.ReplaceAll(`emails[type eq "work"].value co "alpha"`, " ", "+"), 5, 2, ids[1:3]},
			{"tenant B", e.b.token, "count=10", 3, 1, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do("GET", "/scim/v2/Users?"+tc.query, tc.token, nil).must(t, http.StatusOK)
				got := r.resources(t)
				if r.num("totalResults") != tc.total || r.num("startIndex") != tc.start {
					t.Fatalf("totalResults %d startIndex %d: %s", r.num("totalResults"), r.num("startIndex"), r.raw)
				}
				if tc.token == e.b.token {
					for _, u := range got {
						if !strings.HasSuffix(u["userName"].(string), "@beta.example") {
							t.Fatalf("B sees %v", u)
						}
					}
					if len(got) != 3 {
						t.Fatalf("B sees %d", len(got))
					}
					return
				}
				if len(got) != len(tc.want) {
					t.Fatalf("%d resources, want %d: %s", len(got), len(tc.want), r.raw)
				}
				for i, u := range got {
					if u["id"] != tc.want[i] {
						t.Fatalf("resource %d is %v, want %s", i, u["id"], tc.want[i])
					}
				}
			})
		}
		t.Run("search by POST", func(t *testing.T) {
			r := e.do("POST", "/scim/v2/Users/.search", e.a.token, map[string]any{
				"schemas": []string{scim.SearchRequestSchema}, "filter": `userName eq "user3@alpha.example"`,
				"attributes": []string{"userName"}, "startIndex": 1, "count": 10,
			}).must(t, http.StatusOK)
			got := r.resources(t)
			if len(got) != 1 || got[0]["id"] != ids[3] || got[0]["userName"] != "user3@alpha.example" || got[0]["emails"] != nil {
				t.Fatalf(".search: %s", r.raw)
			}
			r = e.do("POST", "/scim/v2/Users/.search", e.b.token, map[string]any{"filter": `userName eq "user3@alpha.example"`}).must(t, http.StatusOK)
			if len(r.resources(t)) != 0 {
				t.Fatalf("B's .search: %s", r.raw)
			}
		})
		t.Run("attributes", func(t *testing.T) {
			r := e.do("GET", "/scim/v2/Users/"+ids[0]+"?attributes=userName,emails.value", e.a.token, nil).must(t, http.StatusOK)
			em, _ := r.body["emails"].([]any)
			if r.str("id") != ids[0] || r.str("userName") == "" || r.body["name"] != nil || len(em) != 1 || em[0].(map[string]any)["type"] != nil {
				t.Fatalf("attributes: %s", r.raw)
			}
			r = e.do("GET", "/scim/v2/Users/"+ids[0]+"?excludedAttributes=emails,name", e.a.token, nil).must(t, http.StatusOK)
			if r.body["emails"] != nil || r.body["name"] != nil || r.str("userName") == "" {
				t.Fatalf("excludedAttributes: %s", r.raw)
			}
		})
	})
}

// TestPutReplacesTheUser: PUT writes every attribute; those left out are
// cleared, but active, which it keeps.
func TestPutReplacesTheUser(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		id := e.newUser(e.a.token, "put@alpha.example")
		e.do("PATCH", "/scim/v2/Users/"+id, e.a.token, `{"Operations":[{"op":"replace","path":"active","value":false},{"op":"add","path":"title","value":"Chef"}]}`).must(t, http.StatusOK)
		r := e.do("PUT", "/scim/v2/Users/"+id, e.a.token, `{"schemas":["`+scim.UserSchema+`"],"id":"ignored","userName":"put2@alpha.example",
			"displayName":"Pat Tee","phoneNumbers":[{"value":"+44 20 7946 0000","type":"Work","primary":"True"}]}`).must(t, http.StatusOK)
		if r.str("id") != id || r.str("userName") != "put2@alpha.example" || r.str("title") != "" || r.body["name"] != nil || r.body["emails"] != nil || r.body["active"] != false {
			t.Fatalf("PUT: %s", r.raw)
		}
		c, err := e.client.Contact.Get(e.a.agent, gid.ID(id))
		if err != nil {
			t.Fatal(err)
		}
		if c.Name != "Pat Tee" || c.Email != "" || c.PhoneNumber != "+442079460000" || c.GivenName != "" || c.JobTitle != "" || c.Active ||
			len(c.PhoneNumbers) != 1 || c.PhoneNumbers[0].Type != "work" || !c.PhoneNumbers[0].Primary {
			t.Fatalf("stored: %+v", c)
		}
		e.do("PUT", "/scim/v2/Users/"+id, e.b.token, `{"userName":"x@beta.example"}`).scimError(t, http.StatusNotFound, "")
	})
}

// TestPatchOperations: the PATCH forms that identity providers send.
func TestPatchOperations(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		for _, tc := range []struct {
			name  string
			token string // "" for A's
			ops   string
			check func(t *testing.T, c *ent.Contact, r response)
		}{
			{"value object with paths as keys", "", `[{"op":"Replace","value":{"name.givenName":"Grace","name.familyName":"Hopper","displayName":"Grace Hopper","emails[type eq \"work\"].value":"grace@alpha.example","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department":"Navy"}}]`,
				func(t *testing.T, c *ent.Contact, r response) {
					if c.GivenName != "Grace" || c.FamilyName != "Hopper" || c.Name != "Grace Hopper" || c.Email != "grace@alpha.example" || len(c.Emails) != 1 {
						t.Fatalf("%+v", c)
					}
				}},
			{"value object under the core schema", "", `[{"op":"add","value":{"urn:ietf:params:scim:schemas:core:2.0:User":{"title":"Admiral"},"active":"false"}}]`,
				func(t *testing.T, c *ent.Contact, r response) {
					if c.JobTitle != "Admiral" || c.Active {
						t.Fatalf("%+v", c)
					}
				}},
			{"ops in any case, attributes in any case", "", `[{"op":"REPLACE","path":"NAME.GIVENNAME","value":"G"},{"op":"rEpLaCe","path":"Title","value":"T"},{"op":"Replace","path":"Active","value":"TRUE"}]`,
				func(t *testing.T, c *ent.Contact, r response) {
					if c.GivenName != "G" || c.JobTitle != "T" || !c.Active {
						t.Fatalf("%+v", c)
					}
				}},
			{"add emails, then a primary one", "", `[{"op":"add","path":"emails","value":[{"value":"home@alpha.example","type":"home"}]},{"op":"add","path":"emails","value":[{"value":"new@alpha.example","type":"other","primary":true}]}]`,
				func(t *testing.T, c *ent.Contact, r response) {
					if len(c.Emails) != 3 || c.Email != "new@alpha.example" {
						t.Fatalf("%+v", c.Emails)
					}
				}},
			{"remove by filter", "", `[{"op":"Remove","path":"emails[type eq \"work\"]"},{"op":"remove","path":"name.familyName"}]`,
				func(t *testing.T, c *ent.Contact, r response) {
					for _, em := range c.Emails {
						if em.Type == "work" {
							t.Fatalf("%+v", c.Emails)
						}
					}
					if c.FamilyName != "" {
						t.Fatalf("%+v", c)
					}
				}},
			{"replace the phone numbers, mobile first", "", `[{"op":"replace","path":"phoneNumbers","value":[{"value":"0412 000 111","type":"mobile","primary":true},{"value":"02 9000 1111","type":"work"}]}]`,
				func(t *testing.T, c *ent.Contact, r response) {
					if c.PhoneNumber != "+61412000111" || len(c.PhoneNumbers) != 2 {
						t.Fatalf("%+v", c.PhoneNumbers)
					}
				}},
			{"make the work phone primary", "", `[{"op":"replace","path":"phoneNumbers[type eq \"work\"].primary","value":true}]`,
				func(t *testing.T, c *ent.Contact, r response) {
					if c.PhoneNumber != "+61290001111" {
						t.Fatalf("%+v", c.PhoneNumbers)
					}
				}},
			{"remove a phone by value", "", `[{"op":"remove","path":"phoneNumbers","value":[{"value":"+61412000111"}]}]`,
				func(t *testing.T, c *ent.Contact, r response) {
					if len(c.PhoneNumbers) != 1 || c.PhoneNumber != "+61290001111" {
						t.Fatalf("%+v", c.PhoneNumbers)
					}
				}},
			{"ignored attributes", "", `[{"op":"add","path":"addresses[type eq \"work\"].locality","value":"Sydney"},{"op":"replace","path":"preferredLanguage","value":"en"},{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"X"}]`,
				func(t *testing.T, c *ent.Contact, r response) {}},
			{"remove the display name: the name's parts name the contact", "", `[{"op":"remove","path":"displayName"},{"op":"replace","path":"name","value":{"givenName":"Ada","familyName":"Lovelace"}}]`,
				func(t *testing.T, c *ent.Contact, r response) {
					if c.Name != "Ada Lovelace" || r.str("displayName") != "Ada Lovelace" {
						t.Fatalf("%+v", c)
					}
				}},
			{"a derived name follows its parts", "", `[{"op":"replace","path":"name.givenName","value":"Augusta"}]`,
				func(t *testing.T, c *ent.Contact, r response) {
					if c.Name != "Augusta Lovelace" {
						t.Fatalf("%+v", c)
					}
				}},
			{"single values written as lists, as older Entra ID jobs do", "", `[{"op":"Add","path":"title","value":[{"value":"Legacy"}]},{"op":"Replace","path":"active","value":[{"value":"True"}]}]`,
				func(t *testing.T, c *ent.Contact, r response) {
					if c.JobTitle != "Legacy" || !c.Active {
						t.Fatalf("%+v", c)
					}
				}},
			{"tenant B patches A's user", "B", `[{"op":"replace","path":"title","value":"x"}]`, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				id := e.userForPatch(t)
				token := e.a.token
				if tc.token == "B" {
					token = e.b.token
				}
				r := e.do("PATCH", "/scim/v2/Users/"+id, token, `{"schemas":["`+scim.PatchOpSchema+`"],"Operations":`+tc.ops+`}`)
				if tc.check == nil {
					r.scimError(t, http.StatusNotFound, "")
					return
				}
				r.must(t, http.StatusOK)
				c, err := e.client.Contact.Get(e.a.agent, gid.ID(id))
				if err != nil {
					t.Fatal(err)
				}
				tc.check(t, c, r)
			})
		}
	})
}

// userForPatch returns the user TestPatchOperations works on, one for the
// whole table, so that each case starts where the one before ended.
func (e *env) userForPatch(t *testing.T) string {
	t.Helper()
	if e.patchUser == "" {
		e.patchUser = e.newUser(e.a.token, "patch@alpha.example")
	}
	return e.patchUser
}
