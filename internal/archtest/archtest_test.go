package archtest

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

// graphQLLayer are the packages that turn the domain into GraphQL. A
// domain package knows nothing of them: they import it, never the reverse.
var graphQLLayer = []string{"switchboard/server", "switchboard/resolvers", "switchboard/graph"}

// graphQLLibraries are gqlgen and its parser.
var graphQLLibraries = []string{"github.com/99designs/gqlgen", "github.com/vektah/gqlparser"}

// mayImportGraphQL are the packages that may import the GraphQL layer and
// libraries; every other package of the module is a domain package, so a
// new package is one unless it is added here.
var mayImportGraphQL = []string{
	"switchboard/server",    // and below: serving GraphQL
	"switchboard/resolvers", // GraphQL onto the domain
	"switchboard/graph",     // and below: the generated executable schema and models
	"switchboard/cmd",       // and below: the wiring
	"switchboard/internal/testenv",
	"switchboard/bench",
	"switchboard/clienttest",
}

// mayImportGraphQLLibraries may also import gqlgen and gqlparser, but not
// the GraphQL layer: ent's code that entgql generates (pagination, field
// collection, enum marshalling) is GraphQL's by construction.
var mayImportGraphQLLibraries = []string{"switchboard/ent"}

// under reports whether pkg is one of roots or below one.
func under(pkg string, roots []string) bool {
	for _, r := range roots {
		if pkg == r || strings.HasPrefix(pkg, r+"/") {
			return true
		}
	}
	return false
}

// TestDomainPackagesDoNotImportGraphQL: no package of the module outside
// the GraphQL layer, the wiring and the test harness imports server,
// resolvers, graph, gqlgen or gqlparser from its own (non-test) files.
func TestDomainPackagesDoNotImportGraphQL(t *testing.T) {
	cmd := exec.Command("go", "list", "-json=ImportPath,Imports", "switchboard/...")
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	n := 0
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
		if under(p.ImportPath, mayImportGraphQL) {
			continue
		}
		for _, imp := range p.Imports {
			switch {
			case under(imp, graphQLLayer):
				t.Errorf("%s imports %s: a domain package knows nothing of GraphQL", p.ImportPath, imp)
			case under(imp, graphQLLibraries) && !under(p.ImportPath, mayImportGraphQLLibraries):
				t.Errorf("%s imports %s: a domain package knows nothing of GraphQL", p.ImportPath, imp)
			}
		}
	}
	if n < 20 {
		t.Fatalf("go list named %d packages; the module has more", n)
	}
}

// TestTheRuleBites: the check above sees a domain package that imports the
// GraphQL layer, and lets the layer import itself.
func TestTheRuleBites(t *testing.T) {
	for pkg, want := range map[string]bool{
		"switchboard/livestatus":         false,
		"switchboard/livestatus/pgrelay": false,
		"switchboard/newdomain":          false,
		"switchboard/server/wsgorilla":   true,
		"switchboard/cmd/switchboard":    true,
		"switchboard/serverless":         false,
	} {
		if got := under(pkg, mayImportGraphQL); got != want {
			t.Errorf("%s may import GraphQL: %v, want %v", pkg, got, want)
		}
	}
}
