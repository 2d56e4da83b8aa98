package resolvers_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	_ "github.com/vektah/gqlparser/v2/validator/rules"

	"switchboard/internal/testenv"
	"switchboard/resolvers"
)

// notYetImplemented lists the contract's operations that the schema does
// not serve yet. Each issue that implements one removes it from here.
var notYetImplemented = map[string]bool{
	// The live contact centre on the desktop (queues, activity, transfers,
	// recording, attributes).

	// The admin console (console.graphql).
}

// The contract's operations, the desktop's and the console's, validate
// against the schema, but for those not yet implemented, which do not.
func TestContractOperationsValidate(t *testing.T) {
	schema := resolvers.NewSchema(nil, resolvers.Services{}).Schema()
	var ops ast.OperationList
	for _, file := range contractFiles {
		doc := testenv.ContractFile(t, file)
		if len(doc.Operations) < 20 {
			t.Fatalf("%s has only %d operations", file, len(doc.Operations))
		}
		ops = append(ops, doc.Operations...)
	}
	seen := map[string]bool{}
	for _, op := range ops {
		seen[op.Name] = true
		t.Run(op.Name, func(t *testing.T) {
			src := testenv.ContractOperation(t, op.Name)
			q, err := parser.ParseQuery(&ast.Source{Name: op.Name, Input: src})
			if err != nil {
				t.Fatal(err)
			}
			errs := validator.Validate(schema, q)
			switch {
			case notYetImplemented[op.Name] && len(errs) == 0:
				t.Fatalf("%s now validates: remove it from notYetImplemented", op.Name)
			case !notYetImplemented[op.Name] && len(errs) > 0:
				t.Fatalf("%s does not validate: %v", op.Name, errs)
			}
		})
	}
	var stale []string
	for name := range notYetImplemented {
		if !seen[name] {
			stale = append(stale, name)
		}
	}
	sort.Strings(stale)
	if len(stale) > 0 {
		t.Fatalf("notYetImplemented names operations the contract does not have: %v", stale)
	}
}

// contractFiles are the front ends' operations, in server/trusted/contract.
var contractFiles = []string{"desktop.graphql", "console.graphql"}

// TestContractCopyIsCurrent compares the repository's copies of the
// contract with the shared originals beside the repository, when there are
// any.
func TestContractCopyIsCurrent(t *testing.T) {
	root := testenv.RepoRoot(t)
	for _, file := range contractFiles {
		t.Run(file, func(t *testing.T) {
			shared := filepath.Join(root, "..", "shared", "contract", file)
			orig, err := os.ReadFile(shared)
			if os.IsNotExist(err) {
				t.Skipf("no shared contract at %s to compare with; the copy in server/trusted/contract/ stands", shared)
			}
			if err != nil {
				t.Fatal(err)
			}
			copied, err := os.ReadFile(filepath.Join(root, "server", "trusted", "contract", file))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(orig, copied) {
				t.Fatalf("server/trusted/contract/%s differs from %s: copy the shared contract in", file, shared)
			}
		})
	}
}
