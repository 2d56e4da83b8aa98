package testenv

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"switchboard/server/trusted"
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

// Contract parses the repository's copy of server/trusted/contract/desktop.graphql.
func Contract(t testing.TB) *ast.QueryDocument { return ContractFile(t, "desktop.graphql") }

// ContractFile parses the repository's copy of a file of the contract in
// server/trusted/contract (desktop.graphql, console.graphql).
func ContractFile(t testing.TB, file string) *ast.QueryDocument {
	t.Helper()
	path := filepath.Join(RepoRoot(t), "server", "trusted", "contract", file)
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
// fragments it uses, as a document of its own: the document the server
// trusts by hash.
func ContractOperation(t testing.TB, name string) string {
	t.Helper()
	for _, d := range trusted.Contract().Documents() {
		if d.Name == name {
			return d.Text
		}
	}
	t.Fatalf("the contract has no operation %q", name)
	return ""
}
