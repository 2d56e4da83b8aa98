package trusted_test

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"switchboard/server/trusted"
)

func TestContractDocuments(t *testing.T) {
	s := trusted.Contract()
	docs := s.Documents()
	if len(docs) < 30 {
		t.Fatalf("%d documents in the contract", len(docs))
	}
	for _, d := range docs {
		if got, ok := s.ByHash(d.Hash); !ok || got != d || trusted.Hash(d.Text) != d.Hash {
			t.Errorf("%s is not found by its hash", d.Name)
		}
	}
	bootstrap := find(t, s, "DesktopBootstrap")
	if !strings.Contains(bootstrap.Text, "query DesktopBootstrap") {
		t.Fatalf("DesktopBootstrap's text: %s", bootstrap.Text)
	}
	wallboard := find(t, s, "Wallboard")
	if !strings.Contains(wallboard.Text, "fragment StatusFields") {
		t.Fatalf("Wallboard's document lacks the fragment it spreads: %s", wallboard.Text)
	}
}

// TestTrusts: a trusted operation is recognised however it is laid out,
// and nothing else is: not one field more, not another name, not a
// changed fragment.
func TestTrusts(t *testing.T) {
	s := trusted.Contract()
	wallboard := find(t, s, "Wallboard").Text
	for _, c := range []struct {
		name, src string
		want      bool
	}{
		{"as printed", wallboard, true},
		{"laid out otherwise, with comments", "# the wallboard\n" + strings.Join(strings.Fields(wallboard), "  "), true},
		{"with another operation beside it", wallboard + "\nquery Other { viewer { id } }", true},
		{"a field more", strings.Replace(wallboard, "totalCount", "totalCount __typename", 1), false},
		{"renamed", strings.Replace(wallboard, "query Wallboard", "query Wallboard2", 1), false},
		{"a fragment changed", strings.Replace(wallboard, "since", "since __typename", 1), false},
		{"someone's own", "query Mine { viewer { id email } }", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: c.src})
			if err != nil {
				t.Fatal(err)
			}
			op := doc.Operations.ForName("Wallboard")
			if op == nil {
				op = doc.Operations[0]
			}
			if got := s.Trusts(doc, op); got != c.want {
				t.Fatalf("Trusts = %v, want %v", got, c.want)
			}
		})
	}
}

func TestFromSourcesRefusesAmbiguity(t *testing.T) {
	for _, src := range []string{
		"query { viewer { id } }",
		"query A { viewer { id } } query A { viewer { email } }",
		"query A {",
	} {
		if _, err := trusted.FromSources(&ast.Source{Name: "x.graphql", Input: src}); err == nil {
			t.Errorf("%q was taken", src)
		}
	}
}

func find(t *testing.T, s *trusted.Set, name string) *trusted.Document {
	t.Helper()
	for _, d := range s.Documents() {
		if d.Name == name {
			return d
		}
	}
	t.Fatalf("no document %s", name)
	return nil
}
