package querylimit_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"

	"switchboard/apierror"
	"switchboard/graph"
	"switchboard/internal/testenv"
	"switchboard/resolvers"
	"switchboard/server/querylimit"
)

var schema = graph.NewExecutableSchema(graph.Config{}).Schema()

// limits are the server's.
var limits = func() querylimit.Limits {
	l := querylimit.Defaults
	l.Page, l.MaxPage = resolvers.DefaultPage, resolvers.MaxPage
	return l
}()

// load parses and validates src as the server does before measuring it.
func load(t testing.TB, src string) *ast.QueryDocument {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: src})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if errs := validator.Validate(schema, doc); len(errs) > 0 {
		t.Fatalf("validate: %v", errs)
	}
	return doc
}

// introspection is the shape of the query GraphiQL sends to draw its
// documentation: types, their fields and arguments, type references seven
// deep.
const introspection = `query IntrospectionQuery {
  __schema {
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description isRepeatable locations args { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL
  fields(includeDeprecated: true) { name description args { ...InputValue } type { ...TypeRef } isDeprecated deprecationReason }
  inputFields { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue { name description type { ...TypeRef } defaultValue }
fragment TypeRef on __Type {
  kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name
    ofType { kind name ofType { kind name ofType { kind name } } } } } } }
}`

// TestFrontEndsFitTheLimits holds the limits against what the front ends
// send: every operation of the desktop's contract that the schema serves,
// and GraphiQL's introspection.
func TestFrontEndsFitTheLimits(t *testing.T) {
	contract := testenv.Contract(t)
	served := 0
	for _, op := range contract.Operations {
		src := testenv.ContractOperation(t, op.Name)
		doc, err := parser.ParseQuery(&ast.Source{Input: src})
		if err != nil {
			t.Fatal(err)
		}
		if errs := validator.Validate(schema, doc); len(errs) > 0 {
			t.Logf("%s: not served yet (%v)", op.Name, errs[0].Message)
			continue
		}
		served++
		f := limits.Measure(doc, doc.Operations[0], nil)
		if err := limits.Check(doc, doc.Operations[0], nil); err != nil {
			t.Errorf("%s is refused: %v (%+v)", op.Name, err, f)
		}
		if n := tokens(t, src); n > querylimit.Tokens {
			t.Errorf("%s has %d tokens, more than %d", op.Name, n, querylimit.Tokens)
		}
	}
	if served < 20 {
		t.Fatalf("only %d contract operations validate; the schema lost some", served)
	}
	doc := load(t, introspection)
	f := limits.Measure(doc, doc.Operations[0], nil)
	t.Logf("introspection: %+v, %d tokens", f, tokens(t, introspection))
	if err := limits.Check(doc, doc.Operations[0], nil); err != nil {
		t.Errorf("introspection is refused: %v", err)
	}
	if n := tokens(t, introspection); n > querylimit.Tokens {
		t.Errorf("introspection has %d tokens", n)
	}
}

// tokens counts src's tokens as the parser's limit does: the parse fails
// below the count and succeeds at it.
func tokens(t testing.TB, src string) int {
	lo, hi := 1, 1<<16
	for lo < hi {
		mid := (lo + hi) / 2
		if _, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: src}, mid); err != nil {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}

func TestRefused(t *testing.T) {
	aliases := func(n int, field string) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, " a%d: %s", i, field)
		}
		b.WriteString(" }")
		return b.String()
	}
	// nested reaches depth through an agent's interactions and back.
	nested := func(depth int) string {
		return "nodes(ids: []) { ... on Agent { " + strings.Repeat("interactions(first: 1) { edges { node { agent { ", depth/4) +
			"id" + strings.Repeat(" } } } }", depth/4) + " } }"
	}
	for _, c := range []struct {
		name, query string
		vars        map[string]any
		limit       string // "" when allowed
	}{
		{"one page", `{ agents(first: 500) { edges { node { id name email } } } }`, nil, ""},
		// Left to the resolver, which says what a page may be.
		{"a page too large", `{ agents(first: 100000) { edges { node { id currentStatus { since } } } } }`, nil, ""},
		{"pages too large nested", `{ agents(first: 100000) { edges { node { interactions(first: 100000) { edges { node { id } } } } } } }`, nil, "cost"},
		{"nested pages", `{ agents(first: 500) { edges { node { interactions(first: 500) { edges { node { id } } } } } } }`, nil, "cost"},
		{"nested pages by variables", `query($n: Int) { agents(first: $n) { edges { node { interactions(last: $n) { edges { node { id } } } } } } }`,
			map[string]any{"n": 500}, "cost"},
		{"small nested pages", `query($n: Int) { agents(first: $n) { edges { node { interactions(last: $n) { edges { node { id } } } } } } }`,
			map[string]any{"n": 10}, ""},
		{"default pages nested", `{ agents { edges { node { interactions { totalCount edges { node { id contactId } } } } } } }`, nil, "cost"},
		{"nodes by many ids", `query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Agent { interactions { edges { node { id } } } } } }`,
			map[string]any{"ids": make([]any, 100)}, "cost"},
		{"fifteen aliases", aliases(15, "__typename"), nil, ""},
		{"2,000 aliases", aliases(2000, "__typename"), nil, "aliases"},
		{"aliases of __schema", aliases(5, "__schema { types { name fields { name args { name type { name } } } } }"), nil, "cost"},
		{"a few __schema", aliases(4, "__schema { types { name fields { name args { name type { name } } } } }"), nil, ""},
		{"deep", "{ " + nested(16) + " }", nil, "depth"},
		{"deep enough", "{ " + nested(12) + " }", nil, ""},
		{"many directives", "{" + strings.Repeat(" __typename @skip(if: false)", 51) + " }", nil, "directives"},
		{"directives in a fragment used twice", `query { ...F ... { ...F } } fragment F on Query {` + strings.Repeat(" __typename @include(if: true)", 30) + " }", nil, "directives"},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc := load(t, c.query)
			err := limits.Check(doc, doc.Operations[0], c.vars)
			f := limits.Measure(doc, doc.Operations[0], c.vars)
			switch {
			case c.limit == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case c.limit == "":
				return
			case err == nil:
				t.Fatalf("allowed, figures %+v", f)
			case err.Extensions["code"] != string(apierror.ComplexityLimitExceeded) || err.Extensions["limit"] != c.limit:
				t.Fatalf("refused as %v (%v), want limit %q", err.Extensions, err.Message, c.limit)
			}
		})
	}
}

// doubling is a document of n fragments, each spreading the one before
// twice: its operation expands to 2^n objects.
func doubling(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "query { ...F%d }\nfragment F0 on Query { viewer { role } }\n", n)
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "fragment F%d on Query { ...F%d ...F%d }\n", i, i-1, i-1)
	}
	return b.String()
}

func TestDoublingFragmentsAreRefused(t *testing.T) {
	doc := load(t, doubling(60))
	err := limits.Check(doc, doc.Operations[0], nil)
	if err == nil || err.Extensions["limit"] != "cost" {
		t.Fatalf("2^60 objects: %v", err)
	}
}

// BenchmarkMeasureDoubling shows the walk linear in the document: the time
// per fragment stays flat as the expansion grows from 2^10 to 2^40.
func BenchmarkMeasureDoubling(b *testing.B) {
	for _, n := range []int{10, 20, 40} {
		doc := load(b, doubling(n))
		b.Run(fmt.Sprintf("fragments=%d", n), func(b *testing.B) {
			for b.Loop() {
				limits.Measure(doc, doc.Operations[0], nil)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/fragment")
		})
	}
}
