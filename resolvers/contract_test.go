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
	// recording, attributes, customer profiles).
	"QueueMetrics":            true,
	"QueueMetricsChanged":     true,
	"WallboardActivity":       true,
	"AgentActivityChanged":    true,
	"QuickConnects":           true,
	"SetContactRecording":     true,
	"UpdateContactAttributes": true,
	"CustomerProfiles":        true,
	"CreateCustomerProfile":   true,
	"UpdateCustomerProfile":   true,
	// Assist, through the tenant's Amazon Bedrock.
	"SummariseEmail": true,
	"SuggestReply":   true,
}

func TestContractOperationsValidate(t *testing.T) {
	schema := resolvers.NewSchema(nil, resolvers.Services{}).Schema()
	doc := testenv.Contract(t)
	if len(doc.Operations) < 20 {
		t.Fatalf("the contract has only %d operations", len(doc.Operations))
	}
	seen := map[string]bool{}
	for _, op := range doc.Operations {
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

// TestContractCopyIsCurrent compares the repository's copy of the contract
// with the shared original beside the repository, when there is one.
func TestContractCopyIsCurrent(t *testing.T) {
	root := testenv.RepoRoot(t)
	shared := filepath.Join(root, "..", "shared", "contract", "desktop.graphql")
	orig, err := os.ReadFile(shared)
	if os.IsNotExist(err) {
		t.Skipf("no shared contract at %s to compare with; the copy in server/trusted/contract/ stands", shared)
	}
	if err != nil {
		t.Fatal(err)
	}
	copied, err := os.ReadFile(filepath.Join(root, "server", "trusted", "contract", "desktop.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(orig, copied) {
		t.Fatalf("server/trusted/contract/desktop.graphql differs from %s: copy the shared contract in", shared)
	}
}
