package testenv

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"
)

// RepoRoot returns the module's root folder.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Contract parses the repository's copy of testdata/contract/desktop.graphql.
func Contract(t testing.TB) *ast.QueryDocument {
	t.Helper()
	path := filepath.Join(RepoRoot(t), "testdata", "contract", "desktop.graphql")
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, gerr := parser.ParseQuery(&ast.Source{Name: path, Input: string(src)})
	if gerr != nil {
		t.Fatalf("parsing the contract: %v", gerr)
	}
	return doc
}

// ContractOperation returns one operation of the contract, with the
// fragments it uses, as a document of its own.
func ContractOperation(t testing.TB, name string) string {
	t.Helper()
	full := Contract(t)
	op := full.Operations.ForName(name)
	if op == nil {
		t.Fatalf("the contract has no operation %q", name)
	}
	doc := &ast.QueryDocument{Operations: ast.OperationList{op}}
	used := map[string]bool{}
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if f := full.Fragments.ForName(s.Name); f != nil && !used[s.Name] {
					used[s.Name] = true
					doc.Fragments = append(doc.Fragments, f)
					walk(f.SelectionSet)
				}
			}
		}
	}
	walk(op.SelectionSet)
	var buf bytes.Buffer
	formatter.NewFormatter(&buf).FormatQueryDocument(doc)
	return buf.String()
}
