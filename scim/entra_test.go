package scim_test

import (
	"net/http"
	"testing"

	"switchboard/ent"
	"switchboard/ent/contact"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/scim"
)

// TestEntraProvisioningSequence plays what Microsoft Entra ID's
// provisioning service sends to a SCIM endpoint, in its order and in its
// shapes: a connection test, a lookup before creating, the create, lookups
// by userName, externalId and work email, updates with its PATCH
// operations ("Replace" with a capital R, booleans as strings), soft
// deletion (active false), restoration and hard deletion. After each step
// it checks the SCIM response and the contact as an agent of the tenant
// reads it through the data layer.
func TestEntraProvisioningSequence(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		tok := e.a.token
		stored := func(id string) *ent.Contact {
			t.Helper()
			c, err := e.client.Contact.Get(e.a.agent, gid.ID(id))
			if err != nil {
				t.Fatalf("the agent reads contact %s: %v", id, err)
			}
			return c
		}

		// Test connection: a filter on a userName nobody has.
		r := e.do("GET", filterPath(`userName eq "e3b0c442-98fc-1c14-9afb-f4c8996fb924"`), tok, nil).must(t, http.StatusOK)
		if got := r.resources(t); len(got) != 0 || r.num("totalResults") != 0 {
			t.Fatalf("connection test: %s", r.raw)
		}

		// Matching before creating: the user is not there yet.
		const upn = "Megan.Bowen@Alpha.example"
		r = e.do("GET", filterPath(`userName eq "`+upn+`"`), tok, nil).must(t, http.StatusOK)
		if r.num("totalResults") != 0 {
			t.Fatalf("found before creation: %s", r.raw)
		}

		// Create, as Entra ID writes a new user.
		r = e.do("POST", "/scim/v2/Users", tok, `{
			"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
			"externalId": "megan.bowen",
			"userName": "`+upn+`",
			"active": true,
			"addresses": [{"primary": true, "type": "work", "formatted": "1 Harbour St", "postalCode": "2000", "country": "AU"}],
			"displayName": "Megan Bowen",
			"emails": [{"primary": true, "type": "work", "value": "Megan.Bowen@Alpha.example"}],
			"meta": {"resourceType": "User"},
			"name": {"formatted": "Megan Bowen", "familyName": "Bowen", "givenName": "Megan"},
			"phoneNumbers": [{"type": "work", "value": "02 9374 4000"}, {"type": "mobile", "value": "+61 412 345 678"}],
			"title": "Marketing Manager",
			"preferredLanguage": "en-AU",
			"roles": [],
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Marketing", "employeeNumber": "1042", "manager": {"value": "CT0000000000000000000000000"}}
		}`).must(t, http.StatusCreated)
		id := r.str("id")
		if gid.ID(id).Prefix() != "CT" {
			t.Fatalf("id %q", id)
		}
		if loc := r.header.Get("Location"); loc != e.srv.URL+"/scim/v2/Users/"+id || r.str("meta.location") != loc {
			t.Fatalf("Location %q, meta.location %q", loc, r.str("meta.location"))
		}
		for path, want := range map[string]string{
			"userName": upn, "externalId": "megan.bowen", "displayName": "Megan Bowen", "title": "Marketing Manager",
			"name.givenName": "Megan", "name.familyName": "Bowen", "name.formatted": "Megan Bowen", "meta.resourceType": "User",
		} {
			if got := r.str(path); got != want {
				t.Errorf("created %s = %q, want %q", path, got, want)
			}
		}
		if r.body["active"] != true || r.str("meta.created") == "" || r.str("meta.lastModified") == "" {
			t.Errorf("created: %s", r.raw)
		}
		c := stored(id)
		if c.Scope != contact.ScopeORGANISATION || c.Source != contact.SourceSCIM || !c.Active ||
			c.Name != "Megan Bowen" || c.GivenName != "Megan" || c.FamilyName != "Bowen" || c.JobTitle != "Marketing Manager" ||
			c.Email != "megan.bowen@alpha.example" || c.PhoneNumber != "+61293744000" ||
			*c.ScimUserName != upn || *c.ScimExternalID != "megan.bowen" {
			t.Fatalf("stored contact: %+v", c)
		}
		if len(c.PhoneNumbers) != 2 || c.PhoneNumbers[1].Value != "+61412345678" || c.PhoneNumbers[1].Type != "mobile" {
			t.Fatalf("stored phones: %+v", c.PhoneNumbers)
		}

		// The lookups Entra ID makes: by userName (in any case), by
		// externalId, by work email; then by id.
		for _, f := range []string{
			`userName eq "` + upn + `"`,
			`userName eq "megan.bowen@alpha.example"`,
			`externalId eq "megan.bowen"`,
			`emails[type eq "work"].value eq "megan.bowen@alpha.example"`,
			`userName eq "` + upn + `" and externalId eq "megan.bowen"`,
		} {
			r = e.do("GET", filterPath(f, "startIndex=1", "count=100"), tok, nil).must(t, http.StatusOK)
			got := r.resources(t)
			if len(got) != 1 || got[0]["id"] != id || r.num("totalResults") != 1 || r.num("startIndex") != 1 {
				t.Fatalf("filter %s: %s", f, r.raw)
			}
		}
		e.do("GET", "/scim/v2/Users/"+id, tok, nil).must(t, http.StatusOK)

		// Updates: Entra ID sends the changed attributes.
		r = e.do("PATCH", "/scim/v2/Users/"+id, tok, `{
			"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations": [
				{"op": "Replace", "path": "name.givenName", "value": "Meg"},
				{"op": "Replace", "path": "displayName", "value": "Meg Bowen"},
				{"op": "Replace", "path": "title", "value": "Head of Marketing"},
				{"op": "Replace", "path": "phoneNumbers[type eq \"work\"].value", "value": "(02) 8000 1234"},
				{"op": "Add", "path": "phoneNumbers[type eq \"fax\"].value", "value": "02 8000 1299"},
				{"op": "Replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Brand"}
			]
		}`).must(t, http.StatusOK)
		if r.str("name.givenName") != "Meg" || r.str("displayName") != "Meg Bowen" || r.str("title") != "Head of Marketing" || r.str("userName") != upn {
			t.Fatalf("patched: %s", r.raw)
		}
		c = stored(id)
		if c.GivenName != "Meg" || c.FamilyName != "Bowen" || c.Name != "Meg Bowen" || c.JobTitle != "Head of Marketing" || c.PhoneNumber != "+61280001234" {
			t.Fatalf("stored after patch: %+v", c)
		}
		if len(c.PhoneNumbers) != 3 || c.PhoneNumbers[1].Value != "+61412345678" || c.PhoneNumbers[2].Type != "fax" || c.PhoneNumbers[2].Value != "+61280001299" {
			t.Fatalf("stored phones after patch: %+v", c.PhoneNumbers)
		}

		// Soft deletion: Entra ID replaces active with "False".
		r = e.do("PATCH", "/scim/v2/Users/"+id, tok, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"Replace","path":"active","value":"False"}]}`).must(t, http.StatusOK)
		if r.body["active"] != false {
			t.Fatalf("deactivated: %s", r.raw)
		}
		if c = stored(id); c.Active || c.Name != "Meg Bowen" {
			t.Fatalf("stored after deactivation: %+v", c)
		}
		// SCIM still sees the user, by id and by filter.
		r = e.do("GET", "/scim/v2/Users/"+id, tok, nil).must(t, http.StatusOK)
		if r.body["active"] != false {
			t.Fatalf("deactivated user read back: %s", r.raw)
		}
		r = e.do("GET", filterPath(`userName eq "`+upn+`"`), tok, nil).must(t, http.StatusOK)
		if got := r.resources(t); len(got) != 1 || got[0]["active"] != false {
			t.Fatalf("deactivated user by filter: %s", r.raw)
		}

		// Restoration, written as a value object without a path.
		r = e.do("PATCH", "/scim/v2/Users/"+id, tok, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"replace","value":{"active":true}}]}`).must(t, http.StatusOK)
		if r.body["active"] != true || !stored(id).Active {
			t.Fatalf("reactivated: %s", r.raw)
		}

		// Hard deletion.
		e.do("DELETE", "/scim/v2/Users/"+id, tok, nil).must(t, http.StatusNoContent)
		e.do("GET", "/scim/v2/Users/"+id, tok, nil).scimError(t, http.StatusNotFound, "")
		if _, err := e.client.Contact.Get(e.a.agent, gid.ID(id)); !ent.IsNotFound(err) {
			t.Fatalf("the contact outlives its deletion: %v", err)
		}
		e.do("DELETE", "/scim/v2/Users/"+id, tok, nil).scimError(t, http.StatusNotFound, "")
		r = e.do("GET", filterPath(`userName eq "`+upn+`"`), tok, nil).must(t, http.StatusOK)
		if r.num("totalResults") != 0 {
			t.Fatalf("deleted user found: %s", r.raw)
		}
	})
}

// TestDiscovery reads the discovery endpoints, which need a token too.
func TestDiscovery(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		for _, tc := range []struct {
			name, token string
		}{{"tenant A", e.a.token}, {"tenant B", e.b.token}} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do("GET", "/scim/v2/ServiceProviderConfig", tc.token, nil).must(t, http.StatusOK)
				flag := func(k string) any { m, _ := r.body[k].(map[string]any); return m["supported"] }
				if flag("patch") != true || flag("filter") != true || flag("bulk") != false || flag("sort") != false ||
					flag("etag") != false || flag("changePassword") != false {
					t.Fatalf("ServiceProviderConfig: %s", r.raw)
				}
				if f, _ := r.body["filter"].(map[string]any); f["maxResults"] != float64(200) {
					t.Fatalf("maxResults: %s", r.raw)
				}
				schemes, _ := r.body["authenticationSchemes"].([]any)
				if len(schemes) != 1 || schemes[0].(map[string]any)["type"] != "oauthbearertoken" {
					t.Fatalf("authenticationSchemes: %s", r.raw)
				}
				r = e.do("GET", "/scim/v2/ResourceTypes", tc.token, nil).must(t, http.StatusOK)
				if rt := r.resources(t); len(rt) != 1 || rt[0]["id"] != "User" || rt[0]["endpoint"] != "/Users" || rt[0]["schema"] != scim.UserSchema {
					t.Fatalf("ResourceTypes: %s", r.raw)
				}
				e.do("GET", "/scim/v2/ResourceTypes/User", tc.token, nil).must(t, http.StatusOK)
				e.do("GET", "/scim/v2/ResourceTypes/Group", tc.token, nil).scimError(t, http.StatusNotFound, "")
				r = e.do("GET", "/scim/v2/Schemas", tc.token, nil).must(t, http.StatusOK)
				s := r.resources(t)
				if len(s) != 1 || s[0]["id"] != scim.UserSchema {
					t.Fatalf("Schemas: %s", r.raw)
				}
				names := map[string]bool{}
				for _, a := range s[0]["attributes"].([]any) {
					names[a.(map[string]any)["name"].(string)] = true
				}
				for _, n := range []string{"userName", "name", "displayName", "title", "active", "emails", "phoneNumbers"} {
					if !names[n] {
						t.Errorf("Schemas lacks %s", n)
					}
				}
				e.do("GET", "/scim/v2/Schemas/"+scim.UserSchema, tc.token, nil).must(t, http.StatusOK)
			})
		}
		t.Run("no token", func(t *testing.T) {
			for _, p := range []string{"/scim/v2/ServiceProviderConfig", "/scim/v2/ResourceTypes", "/scim/v2/Schemas", "/scim/v2/Users"} {
				r := e.do("GET", p, "", nil)
				r.scimError(t, http.StatusUnauthorized, "")
				if r.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: no WWW-Authenticate", p)
				}
			}
		})
	})
}
