package contacts_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"entgo.io/contrib/entgql"

	"switchboard/apierror"
	"switchboard/contacts"
	"switchboard/gid"
	"switchboard/internal/testenv"
)

// directory is the fixture's contacts, as TestSearch expects them.
//
//	Acme, organisation: IT Service Desk (+44 20 7946 0000), Bjorn Major,
//	                    Alex Jorgensen, Pat Lee (jory@acme.example),
//	                    Jordan Gone (inactive)
//	Acme, Alex's:       Jordan Customer (0412 345 678, read in AU)
//	Acme, Bea's:        Jordan Secret
//	Bolt, organisation: Jordan Bolt
//	Bolt, Cy's:         Jory Cy (0412 345 678, read in GB)
func directory(t *testing.T, f *fixture) {
	t.Helper()
	f.organisation(t, f.adminA, "IT Service Desk", "desk@acme.example", "+44 20 7946 0000", true)
	f.organisation(t, f.adminA, "Bjorn Major", "bjorn@major.example", "", true)
	f.organisation(t, f.adminA, "Alex Jorgensen", "alex.j@acme.example", "", true)
	f.organisation(t, f.adminA, "Pat Lee", "jory@acme.example", "", true)
	f.organisation(t, f.adminA, "Jordan Gone", "gone@acme.example", "", false)
	f.personal(t, f.alexCtx, "Jordan Customer", "jordan@customer.example", "0412 345 678")
	f.personal(t, f.beaCtx, "Jordan Secret", "secret@bea.example", "0400 000 000")
	f.organisation(t, f.adminB, "Jordan Bolt", "jordan@bolt.example", "", true)
	f.personal(t, f.cyCtx, "Jory Cy", "jory@cy.example", "0412 345 678")
}

// search runs a search as ctx, reading the query in region.
func search(t *testing.T, f *fixture, ctx context.Context, q, region string, first *int, after *entgql.Cursor[gid.ID]) (names []string, total int, next bool, end *entgql.Cursor[gid.ID]) {
	t.Helper()
	query, err := contacts.ParseQuery(q, region)
	if err != nil {
		t.Fatalf("ParseQuery(%q, %q): %v", q, region, err)
	}
	conn, err := contacts.Search(ctx, f.c, query, first, after)
	if err != nil {
		t.Fatalf("Search(%q): %v", q, err)
	}
	for _, e := range conn.Edges {
		names = append(names, e.Node.Name)
	}
	if conn.PageInfo.EndCursor != nil {
		end = wire(t, *conn.PageInfo.EndCursor)
	}
	if conn.PageInfo.HasPreviousPage != (after != nil) {
		t.Errorf("hasPreviousPage %v after %v", conn.PageInfo.HasPreviousPage, after)
	}
	return names, conn.TotalCount, conn.PageInfo.HasNextPage, end
}

// wire sends a cursor through GraphQL and back, as a client does.
func wire(t *testing.T, c entgql.Cursor[gid.ID]) *entgql.Cursor[gid.ID] {
	t.Helper()
	var buf bytes.Buffer
	c.MarshalGQL(&buf)
	s, err := strconv.Unquote(buf.String())
	if err != nil {
		t.Fatal(err)
	}
	var back entgql.Cursor[gid.ID]
	if err := back.UnmarshalGQL(s); err != nil {
		t.Fatal(err)
	}
	return &back
}

func code(err error) apierror.Code {
	var ae *apierror.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	return ""
}

func TestParseQueryRefusesLongSearches(t *testing.T) {
	cases := []struct {
		name string
		q    string
		ok   bool
	}{
		{"empty", "", true},
		{"200 characters", strings.Repeat("a", 200), true},
		{"200 characters in spaces", "   " + strings.Repeat("a", 200) + "\t\n ", true},
		{"201 characters", strings.Repeat("a", 201), false},
		{"a long phone number", strings.Repeat("1", 201), false},
	}
	for _, c := range cases {
		_, err := contacts.ParseQuery(c.q, "AU")
		switch {
		case c.ok && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case !c.ok && code(err) != apierror.BadUserInput:
			t.Errorf("%s: %v, want BAD_USER_INPUT", c.name, err)
		}
	}
}

func TestSearch(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newFixture(t, b)
		directory(t, f)
		orgA := []string{"Alex Jorgensen", "Pat Lee", "Bjorn Major"}
		cases := []struct {
			name, who string
			ctx       context.Context
			q, region string
			want      []string
		}{
			// Prefix matches (of a name word or an address) first, each
			// phase by name: Bjorn Major matches "jor" inside a word only.
			{"prefix first", "alex", f.alexCtx, "jor", "AU", []string{"Alex Jorgensen", "Jordan Customer", "Pat Lee", "Bjorn Major"}},
			{"whatever the case and spaces", "alex", f.alexCtx, "  JOR ", "AU", []string{"Alex Jorgensen", "Jordan Customer", "Pat Lee", "Bjorn Major"}},
			{"another agent's personal contacts", "bea", f.beaCtx, "jor", "AU", []string{"Alex Jorgensen", "Jordan Secret", "Pat Lee", "Bjorn Major"}},
			{"a supervisor sees no agent's personal contacts", "sam", f.samCtx, "jor", "AU", orgA},
			{"an admin without an agent record", "admin A", f.adminA, "jor", "AU", orgA},
			{"tenant B's agent", "cy", f.cyCtx, "jor", "GB", []string{"Jordan Bolt", "Jory Cy"}},
			{"tenant B's admin", "admin B", f.adminB, "jor", "GB", []string{"Jordan Bolt"}},
			{"everything", "alex", f.alexCtx, "", "AU", []string{"Alex Jorgensen", "Bjorn Major", "IT Service Desk", "Jordan Customer", "Pat Lee"}},
			{"everything, tenant B", "cy", f.cyCtx, "", "GB", []string{"Jordan Bolt", "Jory Cy"}},
			{"inactive contacts never", "alex", f.alexCtx, "gone", "AU", nil},
			{"an email address", "alex", f.alexCtx, "desk@acme", "AU", []string{"IT Service Desk"}},
			{"inside email addresses", "alex", f.alexCtx, "acme.example", "AU", []string{"Alex Jorgensen", "IT Service Desk", "Pat Lee"}},
			{"a domain of another tenant", "alex", f.alexCtx, "bolt.example", "AU", nil},
			// Phone numbers: by their digits, and as the tenant's region reads them.
			{"a national number in the region", "alex", f.alexCtx, "0412 345 678", "AU", []string{"Jordan Customer"}},
			{"the same number, lower-case region", "alex", f.alexCtx, "0412 345 678", "au", []string{"Jordan Customer"}},
			{"the same number read in another region", "alex", f.alexCtx, "0412 345 678", "GB", nil},
			{"an unknown region reads digits only", "alex", f.alexCtx, "0412 345 678", "ZZ", nil},
			{"an international number", "alex", f.alexCtx, "+61 412 345 678", "GB", []string{"Jordan Customer"}},
			{"the start of an international number", "alex", f.alexCtx, "+61 41", "AU", []string{"Jordan Customer"}},
			{"digits inside a number", "alex", f.alexCtx, "345-678", "AU", []string{"Jordan Customer"}},
			{"digits of an organisation's number", "alex", f.alexCtx, "7946", "AU", []string{"IT Service Desk"}},
			{"too few digits search no numbers", "alex", f.alexCtx, "41", "AU", nil},
			{"digits both tenants hold, tenant A", "alex", f.alexCtx, "412 345 678", "AU", []string{"Jordan Customer"}},
			{"digits both tenants hold, tenant B", "cy", f.cyCtx, "412 345 678", "GB", []string{"Jory Cy"}},
			{"tenant B's agent searches A's number", "cy", f.cyCtx, "+61 412 345 678", "GB", nil},
			{"tenant B's agent searches A's national number", "cy", f.cyCtx, "0412 345 678", "AU", nil},
			{"tenant A's agent searches B's number", "alex", f.alexCtx, "+44 412 345 678", "AU", nil},
			{"tenant B's agent, an organisation number of A", "cy", f.cyCtx, "7946", "GB", nil},
			{"SQL wildcards are text", "alex", f.alexCtx, "%", "AU", nil},
			{"SQL wildcards are text, underscore", "alex", f.alexCtx, "_", "AU", nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				names, total, next, _ := search(t, f, c.ctx, c.q, c.region, nil, nil)
				if !slices.Equal(names, c.want) || total != len(c.want) || next {
					t.Fatalf("%s finds %v (total %d, next %v), want %v", c.who, names, total, next, c.want)
				}
			})
		}
	})
}

func TestSearchPages(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newFixture(t, b)
		directory(t, f)
		ptr := func(n int) *int { return &n }
		// pages reads every page of n and returns them.
		pages := func(t *testing.T, ctx context.Context, q string, n, wantTotal int) [][]string {
			t.Helper()
			var out [][]string
			var after *entgql.Cursor[gid.ID]
			for i := 0; i < 10; i++ {
				names, total, next, end := search(t, f, ctx, q, "AU", ptr(n), after)
				if total != wantTotal {
					t.Fatalf("page %d: total %d, want %d", i, total, wantTotal)
				}
				out = append(out, names)
				if !next {
					return out
				}
				if end == nil {
					t.Fatalf("page %d has a next page and no end cursor", i)
				}
				after = end
			}
			t.Fatal("more than 10 pages")
			return nil
		}
		cases := []struct {
			name  string
			ctx   context.Context
			q     string
			n     int
			total int
			want  [][]string
		}{
			{"by two", f.alexCtx, "", 2, 5, [][]string{{"Alex Jorgensen", "Bjorn Major"}, {"IT Service Desk", "Jordan Customer"}, {"Pat Lee"}}},
			{"one page exactly", f.alexCtx, "", 5, 5, [][]string{{"Alex Jorgensen", "Bjorn Major", "IT Service Desk", "Jordan Customer", "Pat Lee"}}},
			{"across the prefix phase", f.alexCtx, "jor", 2, 4, [][]string{{"Alex Jorgensen", "Jordan Customer"}, {"Pat Lee", "Bjorn Major"}}},
			{"ending with the prefix phase", f.alexCtx, "jor", 3, 4, [][]string{{"Alex Jorgensen", "Jordan Customer", "Pat Lee"}, {"Bjorn Major"}}},
			{"one at a time", f.alexCtx, "jor", 1, 4, [][]string{{"Alex Jorgensen"}, {"Jordan Customer"}, {"Pat Lee"}, {"Bjorn Major"}}},
			{"tenant B by one", f.cyCtx, "", 1, 2, [][]string{{"Jordan Bolt"}, {"Jory Cy"}}},
			{"another agent by two", f.beaCtx, "", 2, 5, [][]string{{"Alex Jorgensen", "Bjorn Major"}, {"IT Service Desk", "Jordan Secret"}, {"Pat Lee"}}},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if got := pages(t, c.ctx, c.q, c.n, c.total); !slices.EqualFunc(got, c.want, slices.Equal) {
					t.Fatalf("pages %v, want %v", got, c.want)
				}
			})
		}

		t.Run("first zero counts only", func(t *testing.T) {
			names, total, next, _ := search(t, f, f.alexCtx, "", "AU", ptr(0), nil)
			if len(names) != 0 || total != 5 || !next {
				t.Fatalf("first 0: %v, total %d, next %v", names, total, next)
			}
		})

		t.Run("a cursor of tenant A shows tenant B nothing of A", func(t *testing.T) {
			_, _, _, end := search(t, f, f.alexCtx, "", "AU", ptr(1), nil)
			names, total, _, _ := search(t, f, f.cyCtx, "", "GB", ptr(10), end)
			for _, n := range names {
				if n != "Jordan Bolt" && n != "Jory Cy" {
					t.Fatalf("tenant B pages into %v", names)
				}
			}
			if total != 2 {
				t.Fatalf("total %d", total)
			}
		})

		t.Run("bad input", func(t *testing.T) {
			q, _ := contacts.ParseQuery("", "AU")
			bad := []struct {
				name  string
				first *int
				after *entgql.Cursor[gid.ID]
			}{
				{"first below zero", ptr(-1), nil},
				{"first above the page size", ptr(contacts.MaxPage + 1), nil},
				{"a cursor without a value", nil, &entgql.Cursor[gid.ID]{ID: gid.New("CT")}},
				{"a cursor with a number", nil, &entgql.Cursor[gid.ID]{ID: gid.New("CT"), Value: 7}},
				{"a cursor without a phase", nil, &entgql.Cursor[gid.ID]{ID: gid.New("CT"), Value: "alex"}},
				{"a cursor of an unknown phase", nil, &entgql.Cursor[gid.ID]{ID: gid.New("CT"), Value: "2|alex"}},
				{"a cursor of a negative phase", nil, &entgql.Cursor[gid.ID]{ID: gid.New("CT"), Value: "-1|alex"}},
				{"a cursor of a word phase", nil, &entgql.Cursor[gid.ID]{ID: gid.New("CT"), Value: "one|alex"}},
			}
			for _, c := range bad {
				for _, ctx := range []context.Context{f.alexCtx, f.cyCtx} {
					if _, err := contacts.Search(ctx, f.c, q, c.first, c.after); code(err) != apierror.BadUserInput {
						t.Errorf("%s: %v, want BAD_USER_INPUT", c.name, err)
					}
				}
			}
			if _, err := contacts.Search(f.alexCtx, f.c, q, ptr(contacts.MaxPage), nil); err != nil {
				t.Errorf("first = MaxPage: %v", err)
			}
		})

		t.Run("no viewer sees nothing", func(t *testing.T) {
			q, _ := contacts.ParseQuery("", "AU")
			conn, err := contacts.Search(context.Background(), f.c, q, nil, nil)
			if err == nil && (conn.TotalCount != 0 || len(conn.Edges) != 0) {
				t.Fatalf("without a viewer: %d contacts", conn.TotalCount)
			}
		})
		// Last: it adds contacts.
		t.Run("same names page by ID", func(t *testing.T) {
			var ids []gid.ID
			for i := 0; i < 3; i++ {
				ids = append(ids, f.organisation(t, f.adminA, "Twin", "", "", true).ID)
			}
			slices.Sort(ids)
			var after *entgql.Cursor[gid.ID]
			for i, want := range ids {
				q, _ := contacts.ParseQuery("twin", "AU")
				conn, err := contacts.Search(f.alexCtx, f.c, q, ptr(1), after)
				if err != nil {
					t.Fatal(err)
				}
				if len(conn.Edges) != 1 || conn.Edges[0].Node.ID != want || conn.PageInfo.HasNextPage != (i < len(ids)-1) {
					t.Fatalf("page %d: %+v, want %s", i, conn.Edges, want)
				}
				after = wire(t, *conn.PageInfo.EndCursor)
			}
		})

	})
}
