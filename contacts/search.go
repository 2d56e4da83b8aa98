// Package contacts is the agent's directory: searching personal and
// organisation contacts, and recording the interactions agents handle.
package contacts

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"entgo.io/contrib/entgql"
	"github.com/nyaruka/phonenumbers"

	"switchboard/apierror"
	"switchboard/contactpoint"
	"switchboard/ent"
	"switchboard/ent/contact"
	"switchboard/ent/predicate"
	"switchboard/gid"
	"switchboard/store"
)

// MaxPage bounds a page of search results.
const MaxPage = 100

// minDigits is the fewest digits that search phone numbers.
const minDigits = 3

// Query is a parsed search.
type Query struct {
	text   string   // lower-case
	digits []string // digit strings to find in phone numbers
}

// ParseQuery reads what a person typed into the search box; region reads
// a phone number written without a country code.
func ParseQuery(q, region string) (Query, error) {
	q = strings.TrimSpace(q)
	if len(q) > 200 {
		return Query{}, apierror.New(apierror.BadUserInput, "the search is too long")
	}
	out := Query{text: strings.ToLower(q)}
	if d := contactpoint.Digits(q); len(d) >= minDigits {
		out.digits = append(out.digits, d)
		if num, err := phonenumbers.Parse(q, strings.ToUpper(region)); err == nil && phonenumbers.IsPossibleNumber(num) {
			if e := contactpoint.Digits(phonenumbers.Format(num, phonenumbers.E164)); e != d {
				out.digits = append(out.digits, e)
			}
		}
	}
	return out, nil
}

// match selects contacts the query finds anywhere.
func (q Query) match() predicate.Contact {
	if q.text == "" {
		return contact.Active(true)
	}
	any := []predicate.Contact{contact.SearchNameContains(q.text), contact.SearchEmailsContains(q.text)}
	for _, d := range q.digits {
		any = append(any, contact.SearchPhonesContains(d))
	}
	return contact.And(contact.Active(true), contact.Or(any...))
}

// prefix selects contacts where the query starts a name word, an address
// or a number.
func (q Query) prefix() predicate.Contact {
	if q.text == "" {
		return contact.Active(true)
	}
	any := []predicate.Contact{
		contact.SearchNameHasPrefix(q.text), contact.SearchNameContains(" " + q.text),
		contact.SearchEmailsHasPrefix(q.text), contact.SearchEmailsContains(" " + q.text),
	}
	for _, d := range q.digits {
		any = append(any, contact.SearchPhonesHasPrefix(d), contact.SearchPhonesContains(" "+d))
	}
	return contact.Or(any...)
}

// Search returns a page of the contacts the viewer may see that the query
// finds: prefix matches first, then the others, each by name. The privacy
// rules already confine it to the viewer's tenant and personal contacts.
func Search(ctx context.Context, c *ent.Client, q Query, first *int, after *entgql.Cursor[gid.ID]) (*ent.ContactConnection, error) {
	n := 20
	if first != nil {
		n = *first
	}
	if n < 0 || n > MaxPage {
		return nil, apierror.New(apierror.BadUserInput, "first must be between 0 and %d", MaxPage)
	}
	// A pattern's best plan depends on the pattern (a trigram index for
	// most, the name index for prefixes): never a generic plan.
	ctx = store.PlanEachTime(ctx)
	phase, name, id := 0, "", gid.ID("")
	if after != nil {
		var err error
		if phase, name, err = decodeCursor(after); err != nil {
			return nil, err
		}
		id = after.ID
	}
	total, err := c.Contact.Query().Where(q.match()).Count(ctx)
	if err != nil {
		return nil, err
	}
	conn := &ent.ContactConnection{TotalCount: total}
	phases := []predicate.Contact{
		// What starts a word also matches; without the redundant match,
		// PostgreSQL walks the name index and stops at the page's end.
		contact.And(contact.Active(true), q.prefix()),
		contact.And(q.match(), contact.Not(q.prefix())),
	}
	var rows []*ent.Contact
	var rowPhase []int
	for p := phase; p < len(phases) && len(rows) <= n; p++ {
		query := c.Contact.Query().Where(phases[p])
		if p == phase && after != nil {
			query = query.Where(contact.Or(
				contact.SearchNameGT(name),
				contact.And(contact.SearchName(name), contact.IDGT(id)),
			))
		}
		found, err := query.
			Order(contact.BySearchName(), contact.ByID()).
			Limit(n + 1 - len(rows)).
			All(ctx)
		if err != nil {
			return nil, err
		}
		for _, f := range found {
			rows = append(rows, f)
			rowPhase = append(rowPhase, p)
		}
	}
	if len(rows) > n {
		rows, rowPhase = rows[:n], rowPhase[:n]
		conn.PageInfo.HasNextPage = true
	}
	for i, r := range rows {
		cur := entgql.Cursor[gid.ID]{ID: r.ID, Value: fmt.Sprintf("%d|%s", rowPhase[i], r.SearchName)}
		conn.Edges = append(conn.Edges, &ent.ContactEdge{Node: r, Cursor: cur})
	}
	if len(conn.Edges) > 0 {
		conn.PageInfo.StartCursor = &conn.Edges[0].Cursor
		conn.PageInfo.EndCursor = &conn.Edges[len(conn.Edges)-1].Cursor
	}
	conn.PageInfo.HasPreviousPage = after != nil
	return conn, nil
}

func decodeCursor(c *entgql.Cursor[gid.ID]) (phase int, name string, err error) {
	s, ok := c.Value.(string)
	p, rest, found := strings.Cut(s, "|")
	if !ok || !found {
		return 0, "", apierror.New(apierror.BadUserInput, "not a cursor of this search")
	}
	phase, err = strconv.Atoi(p)
	if err != nil || phase < 0 || phase > 1 {
		return 0, "", apierror.New(apierror.BadUserInput, "not a cursor of this search")
	}
	return phase, rest, nil
}
