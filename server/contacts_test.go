package server_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"switchboard/auth"
	"switchboard/internal/testenv"
)

type contactFixture struct {
	s                      *testenv.Server
	a, b                   testenv.Tenant
	alexTok, beaTok, cyTok string
	alex, bea              string
}

func newContactFixture(t *testing.T, b testenv.Backend) *contactFixture {
	s := testenv.NewServer(t, b)
	f := &contactFixture{s: s, a: s.NewTenant(t, "Acme"), b: s.NewTenant(t, "Bolt")}
	// Acme is in Australia: numbers without a country code are Australian.
	s.MustDo(t, f.a.AdminToken, `mutation($id: ID!) { updateTenant(id: $id, input: {defaultRegion: "AU"}) { id } }`, map[string]any{"id": f.a.ID}, nil)
	f.alex, f.alexTok = s.NewAgent(t, f.a, "Alex", "alex@acme.example", auth.RoleAgent)
	f.bea, f.beaTok = s.NewAgent(t, f.a, "Bea", "bea@acme.example", auth.RoleAgent)
	_, f.cyTok = s.NewAgent(t, f.b, "Cy", "cy@bolt.example", auth.RoleAgent)
	return f
}

type contactOut struct {
	ID, Name, Scope, Source string
	Email, PhoneNumber      *string
	JobTitle                *string
}

func (f *contactFixture) create(t *testing.T, token string, input map[string]any) (contactOut, testenv.Response) {
	var out struct{ CreateContact contactOut }
	r := f.s.Do(t, token, testenv.ContractOperation(t, "CreateContact"), map[string]any{"input": input})
	if len(r.Errors) == 0 {
		_ = json.Unmarshal(r.Data, &out)
	}
	return out.CreateContact, r
}

func (f *contactFixture) search(t *testing.T, token, q string, first int, after any) (names []string, total int, end string, next bool) {
	var out struct {
		SearchContacts struct {
			TotalCount int
			PageInfo   struct {
				HasNextPage bool
				EndCursor   string
			}
			Edges []struct{ Node contactOut }
		}
	}
	f.s.MustDo(t, token, testenv.ContractOperation(t, "SearchContacts"), map[string]any{"query": q, "first": first, "after": after}, &out)
	for _, e := range out.SearchContacts.Edges {
		names = append(names, e.Node.Name)
	}
	return names, out.SearchContacts.TotalCount, out.SearchContacts.PageInfo.EndCursor, out.SearchContacts.PageInfo.HasNextPage
}

func TestContacts(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newContactFixture(t, b)
		mine, r := f.create(t, f.alexTok, map[string]any{
			"name": "Jordan Customer", "email": "Jordan@Customer.Example", "phoneNumber": "02 9876 5432",
			"phoneNumbers": []map[string]any{{"type": "mobile", "value": "+61 412 345 678"}},
		})
		if len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}
		if mine.Scope != "PERSONAL" || mine.Source != "MANUAL" || *mine.Email != "jordan@customer.example" || *mine.PhoneNumber != "+61298765432" {
			t.Fatalf("created %+v", mine)
		}
		org, r := f.create(t, f.a.AdminToken, map[string]any{"name": "IT Service Desk", "scope": "ORGANISATION", "phoneNumber": "+44 20 7946 0000", "jobTitle": "Desk"})
		if len(r.Errors) > 0 {
			t.Fatal(r.Errors)
		}

		t.Run("bad input stores nothing", func(t *testing.T) {
			for _, c := range []struct {
				name, token string
				input       map[string]any
				want        string
			}{
				{"no name", f.alexTok, map[string]any{"name": "  "}, "BAD_USER_INPUT"},
				{"long name", f.alexTok, map[string]any{"name": string(make([]byte, 300))}, "BAD_USER_INPUT"},
				{"bad email", f.alexTok, map[string]any{"name": "X", "email": "not-an-email"}, "BAD_USER_INPUT"},
				{"bad phone", f.alexTok, map[string]any{"name": "X", "phoneNumber": "12"}, "BAD_USER_INPUT"},
				{"bad listed email", f.alexTok, map[string]any{"name": "X", "emails": []map[string]any{{"value": "@@"}}}, "BAD_USER_INPUT"},
				{"agent creates organisation contact", f.alexTok, map[string]any{"name": "X", "scope": "ORGANISATION"}, "FORBIDDEN"},
				{"admin without agent record creates personal", f.a.AdminToken, map[string]any{"name": "X"}, "BAD_USER_INPUT"},
			} {
				if _, r := f.create(t, c.token, c.input); r.Code() != c.want {
					t.Errorf("%s: code %q, want %q (%+v)", c.name, r.Code(), c.want, r.Errors)
				}
			}
			if names, total, _, _ := f.search(t, f.alexTok, "", 50, nil); total != 2 {
				t.Fatalf("after refused creates alex sees %v", names)
			}
		})

		t.Run("who sees what", func(t *testing.T) {
			for _, c := range []struct {
				who, token string
				want       []string
			}{
				{"owner", f.alexTok, []string{"IT Service Desk", "Jordan Customer"}},
				{"another agent of the tenant", f.beaTok, []string{"IT Service Desk"}},
				{"the tenant's admin", f.a.AdminToken, []string{"IT Service Desk"}},
				{"another tenant", f.cyTok, nil},
				{"another tenant's admin", f.b.AdminToken, nil},
			} {
				names, total, _, _ := f.search(t, c.token, "", 50, nil)
				if fmt.Sprint(names) != fmt.Sprint(c.want) || total != len(c.want) {
					t.Errorf("%s sees %v (total %d), want %v", c.who, names, total, c.want)
				}
			}
			for _, tok := range []string{f.beaTok, f.cyTok, f.b.AdminToken, f.a.AdminToken} {
				var out struct{ Node json.RawMessage }
				f.s.MustDo(t, tok, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": mine.ID}, &out)
				if string(out.Node) != "null" {
					t.Errorf("a personal contact is readable by another: %s", out.Node)
				}
			}
		})

		t.Run("who changes what", func(t *testing.T) {
			update := testenv.ContractOperation(t, "UpdateContact")
			del := testenv.ContractOperation(t, "DeleteContact")
			for _, c := range []struct {
				who, token, id string
			}{
				{"another agent, personal", f.beaTok, mine.ID},
				{"the admin, someone's personal", f.a.AdminToken, mine.ID},
				{"another tenant, personal", f.cyTok, mine.ID},
				{"another tenant's admin, organisation", f.b.AdminToken, org.ID},
				{"an agent, organisation", f.alexTok, org.ID},
			} {
				if r := f.s.Do(t, c.token, update, map[string]any{"id": c.id, "input": map[string]any{"name": "Pwned"}}); r.Code() != "NOT_FOUND" {
					t.Errorf("%s updates: %q", c.who, r.Code())
				}
				if r := f.s.Do(t, c.token, del, map[string]any{"id": c.id}); r.Code() != "NOT_FOUND" {
					t.Errorf("%s deletes: %q", c.who, r.Code())
				}
			}
			var out struct{ UpdateContact contactOut }
			f.s.MustDo(t, f.alexTok, update, map[string]any{"id": mine.ID, "input": map[string]any{"jobTitle": "Buyer", "phoneNumber": "0400 000 001"}}, &out)
			if *out.UpdateContact.JobTitle != "Buyer" || *out.UpdateContact.PhoneNumber != "+61400000001" || out.UpdateContact.Name != "Jordan Customer" {
				t.Fatalf("update: %+v", out.UpdateContact)
			}
			f.s.MustDo(t, f.a.AdminToken, update, map[string]any{"id": org.ID, "input": map[string]any{"name": "IT Help Desk"}}, &out)
			if r := f.s.Do(t, f.alexTok, update, map[string]any{"id": mine.ID, "input": map[string]any{"email": "nope"}}); r.Code() != "BAD_USER_INPUT" {
				t.Fatalf("bad update: %q", r.Code())
			}
			names, _, _, _ := f.search(t, f.alexTok, "", 50, nil)
			if fmt.Sprint(names) != "[IT Help Desk Jordan Customer]" {
				t.Fatalf("after updates: %v", names)
			}
		})

		t.Run("search", func(t *testing.T) {
			for _, c := range []struct{ q, want string }{
				{"jordan", "[Jordan Customer]"},
				{"CUSTOM", "[Jordan Customer]"},
				{"ordan cust", "[Jordan Customer]"},
				{"customer.example", "[Jordan Customer]"},
				{"9876", "[Jordan Customer]"},
				{"+61 2 9876", "[Jordan Customer]"},
				{"(02) 9876 5432", "[Jordan Customer]"},
				{"0412 345 678", "[Jordan Customer]"},
				{"7946", "[IT Help Desk]"},
				{"desk", "[IT Help Desk]"},
				{"zzz", "[]"},
				{"%", "[]"},
				{"_", "[]"},
			} {
				names, total, _, _ := f.search(t, f.alexTok, c.q, 20, nil)
				if fmt.Sprint(names) != c.want || total != len(names) {
					t.Errorf("search %q: %v (total %d), want %s", c.q, names, total, c.want)
				}
			}
			if names, _, _, _ := f.search(t, f.beaTok, "jordan", 20, nil); len(names) != 0 {
				t.Errorf("bea finds alex's personal contact: %v", names)
			}
			if names, _, _, _ := f.search(t, f.cyTok, "desk", 20, nil); len(names) != 0 {
				t.Errorf("tenant B finds A's contact: %v", names)
			}
		})

		t.Run("ranking and paging", func(t *testing.T) {
			for i, name := range []string{"Sam Able", "Abbott Zed", "Zoe Abraham", "Abe Young", "Mabel Stone"} {
				if _, r := f.create(t, f.beaTok, map[string]any{"name": name, "email": fmt.Sprintf("p%d@x.example", i)}); len(r.Errors) > 0 {
					t.Fatal(r.Errors)
				}
			}
			// "ab": names with a word starting "ab" first (by name), then the rest.
			var all []string
			var after any
			for page := 0; page < 5; page++ {
				names, total, end, next := f.search(t, f.beaTok, "ab", 2, after)
				if total != 5 {
					t.Fatalf("total %d", total)
				}
				all = append(all, names...)
				if !next {
					break
				}
				after = end
			}
			if fmt.Sprint(all) != "[Abbott Zed Abe Young Sam Able Zoe Abraham Mabel Stone]" {
				t.Fatalf("ranked pages: %v", all)
			}
			if r := f.s.Do(t, f.beaTok, testenv.ContractOperation(t, "SearchContacts"), map[string]any{"query": "ab", "first": 1000}); r.Code() != "BAD_USER_INPUT" {
				t.Fatalf("huge page: %q", r.Code())
			}
		})
	})
}

func TestInteractions(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newContactFixture(t, b)
		_, supTok := f.s.NewAgent(t, f.a, "Sam", "sam@acme.example", auth.RoleSupervisor)
		record := testenv.ContractOperation(t, "RecordInteraction")
		start := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
		in := func(contactID string, offset time.Duration, phone string) map[string]any {
			return map[string]any{"input": map[string]any{
				"contactId": contactID, "channel": "VOICE", "phoneNumber": phone, "connectionType": "INBOUND",
				"startedAt": start.Add(offset),
			}}
		}
		for i, id := range []string{"c-1", "c-2", "c-3"} {
			f.s.MustDo(t, f.alexTok, record, in(id, time.Duration(i)*time.Hour, "02 9876 5432"), nil)
		}
		f.s.MustDo(t, f.beaTok, record, in("c-9", 0, "+61 2 9876 5432"), nil)
		// The same contact again updates it.
		again := in("c-2", time.Hour, "02 9876 5432")
		again["input"].(map[string]any)["endedAt"] = start.Add(90 * time.Minute)
		var rec struct {
			RecordInteraction struct {
				ID, ContactID, PhoneNumber string
				EndedAt                    *time.Time
			}
		}
		f.s.MustDo(t, f.alexTok, record, again, &rec)
		if rec.RecordInteraction.PhoneNumber != "+61298765432" || rec.RecordInteraction.EndedAt == nil {
			t.Fatalf("recorded %+v", rec)
		}

		recent := func(token string) []string {
			var out struct {
				Viewer struct {
					Agent *struct {
						Interactions struct {
							Edges []struct{ Node struct{ ContactID string } }
						}
					}
				}
			}
			f.s.MustDo(t, token, testenv.ContractOperation(t, "RecentInteractions"), nil, &out)
			var ids []string
			if out.Viewer.Agent != nil {
				for _, e := range out.Viewer.Agent.Interactions.Edges {
					ids = append(ids, e.Node.ContactID)
				}
			}
			return ids
		}
		if got := fmt.Sprint(recent(f.alexTok)); got != "[c-3 c-2 c-1]" {
			t.Fatalf("alex's recent: %s", got)
		}
		if got := fmt.Sprint(recent(f.beaTok)); got != "[c-9]" {
			t.Fatalf("bea's recent: %s", got)
		}
		if got := recent(f.cyTok); len(got) != 0 {
			t.Fatalf("tenant B sees %v", got)
		}
		// Bea cannot take over Alex's interaction, nor record for Alex.
		if r := f.s.Do(t, f.beaTok, record, in("c-1", 0, "")); r.Code() != "CONFLICT" {
			t.Fatalf("bea re-records alex's contact: %q", r.Code())
		}
		forAlex := in("c-5", 0, "")
		forAlex["input"].(map[string]any)["agentId"] = f.alex
		if r := f.s.Do(t, f.beaTok, record, forAlex); r.Code() != "FORBIDDEN" {
			t.Fatalf("bea records for alex: %q", r.Code())
		}
		// By phone: supervisors see the tenant's, newest first; agents may not look up.
		byPhone := `query($p: String!) { interactionsByPhone(phoneNumber: $p) { edges { node { contactId } } } }`
		var out struct {
			InteractionsByPhone struct {
				Edges []struct{ Node struct{ ContactID string } }
			}
		}
		f.s.MustDo(t, supTok, byPhone, map[string]any{"p": "(02) 9876-5432"}, &out)
		var ids []string
		for _, e := range out.InteractionsByPhone.Edges {
			ids = append(ids, e.Node.ContactID)
		}
		if fmt.Sprint(ids) != "[c-3 c-2 c-1 c-9]" && fmt.Sprint(ids) != "[c-3 c-2 c-9 c-1]" {
			t.Fatalf("by phone: %v", ids)
		}
		if r := f.s.Do(t, f.alexTok, byPhone, map[string]any{"p": "0298765432"}); r.Code() != "FORBIDDEN" {
			t.Fatalf("agent looks up by phone: %q", r.Code())
		}
		f.s.MustDo(t, f.b.AdminToken, byPhone, map[string]any{"p": "+61298765432"}, &out)
		if len(out.InteractionsByPhone.Edges) != 0 {
			t.Fatalf("tenant B finds A's interactions")
		}
	})
}
