// Package querylimit refuses GraphQL operations too large to answer cheaply:
// too deep, too many aliases or directives, or costing more than a bound,
// where the cost multiplies by the page a connection asks for.
//
// The walk is linear in the document: a fragment is measured once and its
// figures reused at every spread, so that fragments which double at each
// level cost their size to measure, not two to the power of their depth.
// Introspection is measured like any other field.
package querylimit

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"switchboard/apierror"
)

// Limits bound an operation. A zero field is no bound.
type Limits struct {
	Depth      int // fields nested in fields
	Aliases    int // aliased fields, counted at every use of a fragment
	Directives int // directives in the operation, likewise
	Cost       int // objects an answer may hold; see Measure
	// Page is the page a connection field is counted at when it names
	// neither first nor last: the resolvers' default page, which the
	// server sets.
	Page int
	// MaxPage, when set, is what a larger page (or list argument) is
	// counted at: the resolvers refuse it with a clearer error than the
	// cost's.
	MaxPage int
	// List is the size assumed of a list that is not a connection and
	// names no list argument (an agent's statuses, a contact's emails).
	List int
}

// Defaults are GraphQL Armor's defaults but for depth, which Relay needs
// deeper than Armor's 6: each connection adds edges and node, and the
// introspection GraphiQL sends is 13 deep (its type references nest seven
// ofType). The cost multiplies by pages, so depth is not what bounds work.
var Defaults = Limits{Depth: 15, Aliases: 15, Directives: 50, Cost: 5000, List: 10}

// SchemaCost is what each __schema adds to an operation's cost: the answer
// describes the whole schema, whatever the selection under it, so a list of
// an introspection type counts as one item and __schema itself as this.
// GraphiQL's introspection then costs about 1,100; four fit an operation.
const SchemaCost = 1000

// Tokens bounds the lexical tokens of a document, as GraphQL Armor's
// default does: the parser stops at the first token over it.
const Tokens = 1000

// Figures are what Measure found.
type Figures struct {
	Depth, Aliases, Directives, Cost int
}

// Measure returns the figures of op. Its cost is the number of objects
// its answer may hold, each counted once: a composite field returns as many
// as its page (first or last; l.Page when neither is given) for a
// connection, the length of its list argument (nodes(ids:)), l.List for
// another list, and one otherwise; the edges of a connection are its page,
// not counted again; scalars are free, since aliases and tokens bound them;
// introspection is counted as SchemaCost says.
func (l Limits) Measure(doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) Figures {
	m := measurer{limits: l, doc: doc, vars: vars, fragments: map[string]*Figures{}}
	f := m.selectionSet(op.SelectionSet)
	f.Directives = add(f.Directives, len(op.Directives))
	return f
}

// Check returns the error op is refused with, or nil.
func (l Limits) Check(doc *ast.QueryDocument, op *ast.OperationDefinition, vars map[string]any) *gqlerror.Error {
	f := l.Measure(doc, op, vars)
	for _, c := range []struct {
		name        string
		got, bound  int
		description string
	}{
		{"depth", f.Depth, l.Depth, "is nested %d deep, more than %d"},
		{"aliases", f.Aliases, l.Aliases, "has %d aliases, more than %d"},
		{"directives", f.Directives, l.Directives, "has %d directives, more than %d"},
		{"cost", f.Cost, l.Cost, "costs %d, more than %d"},
	} {
		if c.bound > 0 && c.got > c.bound {
			return &gqlerror.Error{
				Message:    fmt.Sprintf("operation "+c.description, c.got, c.bound),
				Extensions: map[string]any{"code": string(apierror.ComplexityLimitExceeded), "limit": c.name, "max": c.bound, "actual": c.got},
			}
		}
	}
	return nil
}

// Extension applies the limits to every operation a handler runs.
type Extension struct{ Limits Limits }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = Extension{}

// ExtensionName implements graphql.HandlerExtension.
func (Extension) ExtensionName() string { return "QueryLimit" }

// Validate implements graphql.HandlerExtension.
func (Extension) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator: it runs
// after validation and before any resolver.
func (e Extension) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	return e.Limits.Check(oc.Doc, oc.Operation, oc.Variables)
}

type measurer struct {
	limits    Limits
	doc       *ast.QueryDocument
	vars      map[string]any
	fragments map[string]*Figures // measured; nil while being measured
}

func (m *measurer) selectionSet(set ast.SelectionSet) Figures {
	var sum Figures
	for _, sel := range set {
		var f Figures
		switch s := sel.(type) {
		case *ast.Field:
			f = m.field(s)
		case *ast.InlineFragment:
			f = m.selectionSet(s.SelectionSet)
			f.Directives = add(f.Directives, len(s.Directives))
		case *ast.FragmentSpread:
			f = m.fragment(s.Name)
			f.Directives = add(f.Directives, len(s.Directives))
		}
		sum.Depth = max(sum.Depth, f.Depth)
		sum.Aliases = add(sum.Aliases, f.Aliases)
		sum.Directives = add(sum.Directives, f.Directives)
		sum.Cost = add(sum.Cost, f.Cost)
	}
	return sum
}

// fragment measures a named fragment once. Validation has refused cycles;
// one met anyway counts as nothing rather than recursing.
func (m *measurer) fragment(name string) Figures {
	if f, seen := m.fragments[name]; seen {
		if f == nil {
			return Figures{}
		}
		return *f
	}
	def := m.doc.Fragments.ForName(name)
	if def == nil {
		return Figures{}
	}
	m.fragments[name] = nil
	f := m.selectionSet(def.SelectionSet)
	f.Directives = add(f.Directives, len(def.Directives))
	m.fragments[name] = &f
	return f
}

func (m *measurer) field(s *ast.Field) Figures {
	children := m.selectionSet(s.SelectionSet)
	f := Figures{
		Depth:      children.Depth + 1,
		Aliases:    children.Aliases,
		Directives: add(children.Directives, len(s.Directives)),
	}
	if s.Alias != "" && s.Alias != s.Name {
		f.Aliases = add(f.Aliases, 1)
	}
	if len(s.SelectionSet) > 0 {
		f.Cost = mul(add(1, children.Cost), m.items(s))
	}
	if s.Name == "__schema" {
		f.Cost = add(f.Cost, SchemaCost)
	}
	return f
}

// items is the number of values a composite field returns.
func (m *measurer) items(s *ast.Field) int {
	def := s.Definition
	if def == nil {
		return 1
	}
	if def.Arguments.ForName("first") != nil || def.Arguments.ForName("last") != nil {
		args := s.ArgumentMap(m.vars)
		n, given := 0, false
		for _, name := range []string{"first", "last"} {
			if v, ok := intArg(args[name]); ok {
				n, given = max(n, v), true
			}
		}
		if !given {
			return m.limits.Page
		}
		if m.limits.MaxPage > 0 {
			n = min(n, m.limits.MaxPage)
		}
		return n
	}
	if def.Type.Elem == nil {
		return 1
	}
	if parent := s.ObjectDefinition; parent != nil {
		if strings.HasSuffix(parent.Name, "Connection") {
			return 1 // a connection's edges: its page is counted at the connection
		}
		if strings.HasPrefix(parent.Name, "__") {
			return 1 // introspection: counted at __schema
		}
	}
	for _, a := range s.ArgumentMap(m.vars) {
		if list, ok := a.([]any); ok {
			if m.limits.MaxPage > 0 {
				return min(len(list), m.limits.MaxPage)
			}
			return len(list)
		}
	}
	return m.limits.List
}

func intArg(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return max(n, 0), true
	case int64:
		return int(min(max(n, 0), math.MaxInt32)), true
	case float64:
		return int(min(max(n, 0), math.MaxInt32)), true
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return intArg(i)
		}
	}
	return 0, false
}

// add and mul saturate, so that no document can wrap a figure around to
// something small.
func add(a, b int) int {
	if a > math.MaxInt-b {
		return math.MaxInt
	}
	return a + b
}

func mul(a, b int) int {
	if a == 0 || b == 0 {
		return 0
	}
	if a > math.MaxInt/b {
		return math.MaxInt
	}
	return a * b
}
