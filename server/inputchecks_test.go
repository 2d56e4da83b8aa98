package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"switchboard/auth"
	"switchboard/internal/testenv"
)

const createEmailAddress = `mutation($in: CreateEmailAddressInput!) { createEmailAddress(input: $in) { id address } }`

// TestInboundAddressBelongsToOneTenant: an inbound email address is one
// tenant's only, platform-wide, however it is cased; another tenant's
// attempt is a CONFLICT that names no one and stores nothing.
func TestInboundAddressBelongsToOneTenant(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, be testenv.Backend) {
		s := testenv.NewServer(t, be)
		a := s.NewTenant(t, "Acme")
		b := s.NewTenant(t, "Globex")
		in := func(addr string) map[string]any {
			return map[string]any{"in": map[string]any{"address": addr, "sesIdentityArn": "arn:aws:ses:ap-southeast-2:123456789012:identity/acme.example"}}
		}
		s.MustDo(t, a.AdminToken, createEmailAddress, in("support@acme.example"), nil)
		for _, c := range []struct{ who, token, addr string }{
			{"another tenant", b.AdminToken, "support@acme.example"},
			{"another tenant, cased otherwise", b.AdminToken, "Support@ACME.example"},
			{"the same tenant again", a.AdminToken, "SUPPORT@acme.example"},
		} {
			r := s.Do(t, c.token, createEmailAddress, in(c.addr))
			if r.Code() != "CONFLICT" || strings.Contains(r.Errors[0].Message, a.ID) || strings.Contains(r.Errors[0].Message, "Acme") {
				t.Fatalf("%s: %q %+v", c.who, r.Code(), r.Errors)
			}
		}
		var list struct{ EmailAddresses []struct{ Address string } }
		s.MustDo(t, b.AdminToken, `{ emailAddresses { address } }`, nil, &list)
		if len(list.EmailAddresses) != 0 {
			t.Fatalf("tenant B holds %+v", list.EmailAddresses)
		}
		s.MustDo(t, a.AdminToken, `{ emailAddresses { address } }`, nil, &list)
		if len(list.EmailAddresses) != 1 || list.EmailAddresses[0].Address != "support@acme.example" {
			t.Fatalf("tenant A holds %+v", list.EmailAddresses)
		}
		s.MustDo(t, b.AdminToken, createEmailAddress, in("support@globex.example"), nil)
	})
}

// TestSESIdentityARNIsChecked: an email address's SES identity must be an
// SES identity's ARN, of a domain or an address.
func TestSESIdentityARNIsChecked(t *testing.T) {
	s := testenv.NewServerOn(t, testenv.SQLiteURL(t))
	a := s.NewTenant(t, "Acme")
	for i, c := range []struct {
		arn string
		ok  bool
	}{
		{"arn:aws:ses:ap-southeast-2:123456789012:identity/acme.example", true},
		{"arn:aws:ses:us-east-1:123456789012:identity/support@acme.example", true},
		{"not-arn", false},
		{"arn:aws:sns:ap-southeast-2:123456789012:identity/acme.example", false},
		{"arn:aws:ses:ap-southeast-2:123456789012:configuration-set/x", false},
		{"arn:aws:ses::123456789012:identity/acme.example", false},
		{"arn:aws:ses:ap-southeast-2:1234:identity/acme.example", false},
		{"arn:aws:ses:ap-southeast-2:123456789012:identity/", false},
	} {
		r := s.Do(t, a.AdminToken, createEmailAddress, map[string]any{"in": map[string]any{
			"address": fmt.Sprintf("box%d@acme.example", i), "sesIdentityArn": c.arn}})
		if got := len(r.Errors) == 0; got != c.ok || !c.ok && r.Code() != "BAD_USER_INPUT" {
			t.Errorf("%s: %q %+v, want ok %v", c.arn, r.Code(), r.Errors, c.ok)
		}
	}
}

// TestContactPointsAreBounded: a contact holds at most 20 emails and 20
// phone numbers, through GraphQL and through SCIM; more is refused and
// changes nothing.
func TestContactPointsAreBounded(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, be testenv.Backend) {
		s := testenv.NewServer(t, be)
		a := s.NewTenant(t, "Acme")
		_, agent := s.NewAgent(t, a, "Ann", "ann@acme.test", auth.RoleAgent)
		points := func(n int, f string) []map[string]any {
			var ps []map[string]any
			for i := range n {
				ps = append(ps, map[string]any{"value": fmt.Sprintf(f, i)})
			}
			return ps
		}
		create := `mutation($in: CreateContactInput!) { createContact(input: $in) { id emails { value } } }`
		var made struct {
			CreateContact struct {
				ID     string
				Emails []struct{ Value string }
			}
		}
		s.MustDo(t, agent, create, map[string]any{"in": map[string]any{"name": "Twenty", "emails": points(20, "p%d@example.com")}}, &made)
		if len(made.CreateContact.Emails) != 20 {
			t.Fatalf("20 emails: %+v", made)
		}
		for _, c := range []struct {
			name string
			in   map[string]any
		}{
			{"21 emails", map[string]any{"name": "Many", "emails": points(21, "m%d@example.com")}},
			{"20,000 emails", map[string]any{"name": "Lots", "emails": points(20_000, "l%d@example.com")}},
			{"21 phone numbers", map[string]any{"name": "Many", "phoneNumbers": points(21, "+6129876%04d")}},
		} {
			if r := s.Do(t, agent, create, map[string]any{"in": c.in}); r.Code() != "BAD_USER_INPUT" {
				t.Errorf("create with %s: %q", c.name, r.Code())
			}
		}
		update := `mutation($id: ID!, $in: UpdateContactInput!) { updateContact(id: $id, input: $in) { id } }`
		if r := s.Do(t, agent, update, map[string]any{"id": made.CreateContact.ID, "in": map[string]any{"emails": points(21, "u%d@example.com")}}); r.Code() != "BAD_USER_INPUT" {
			t.Errorf("update to 21 emails: %q", r.Code())
		}
		var got struct {
			Node struct{ Emails []struct{ Value string } }
		}
		s.MustDo(t, agent, `query($id: ID!) { node(id: $id) { ... on Contact { emails { value } } } }`, map[string]any{"id": made.CreateContact.ID}, &got)
		if len(got.Node.Emails) != 20 || got.Node.Emails[0].Value != "p0@example.com" {
			t.Fatalf("after the refused update: %+v", got.Node.Emails)
		}

		// SCIM, with tenant A's token.
		var tok struct {
			CreateScimToken struct{ Token string } `json:"createScimToken"`
		}
		s.MustDo(t, a.AdminToken, `mutation { createScimToken(name: "Entra ID") { token } }`, nil, &tok)
		var emails []map[string]any
		for i := range 21 {
			emails = append(emails, map[string]any{"type": "work", "value": fmt.Sprintf("s%d@acme.example", i)})
		}
		body, _ := json.Marshal(map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
			"userName": "sam@acme.example", "displayName": "Sam", "emails": emails, "active": true})
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/scim/v2/Users", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok.CreateScimToken.Token)
		req.Header.Set("Content-Type", "application/scim+json")
		res, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || out["scimType"] != "invalidValue" {
			t.Fatalf("SCIM user with 21 emails: %d %v", res.StatusCode, out)
		}
	})
}
