package resolvers_test

import (
	"testing"

	"switchboard/resolvers"
)

// TestEveryMutationIsClassified: whether a mutation runs in the request's
// transaction is said for every field of Mutation, so a new mutation must
// say it, and for no field the schema does not have.
func TestEveryMutationIsClassified(t *testing.T) {
	schema := resolvers.NewSchema(nil, resolvers.Services{}).Schema()
	names := map[string]bool{}
	for _, f := range schema.Mutation.Fields {
		names[f.Name] = true
		switch mode, ok := resolvers.MutationTransaction(f.Name); {
		case !ok:
			t.Errorf("mutation %s: say whether it runs in the request's transaction (resolvers/transactions.go)", f.Name)
		case mode != resolvers.InRequestTransaction && mode != resolvers.CallsAWS && mode != resolvers.OwnTransaction:
			t.Errorf("mutation %s: unknown classification %v", f.Name, mode)
		}
	}
	for _, name := range []string{"configureInstance", "importAgentStatuses", "sendEmail", "startConversation", "endConversation"} {
		if mode, _ := resolvers.MutationTransaction(name); mode != resolvers.CallsAWS {
			t.Errorf("%s calls AWS; classified %v", name, mode)
		}
	}
	if _, ok := resolvers.MutationTransaction("noSuchMutation"); ok {
		t.Error("a name that is no mutation is classified")
	}
	for _, name := range resolvers.ClassifiedMutations() {
		if !names[name] {
			t.Errorf("%s is classified but is no mutation of the schema", name)
		}
	}
}

// TestViewerIndependentResolversExist: a resolver vouched for as reading
// nothing of the viewer is a field of the schema that takes no arguments.
func TestViewerIndependentResolversExist(t *testing.T) {
	schema := resolvers.NewSchema(nil, resolvers.Services{}).Schema()
	n := 0
	for name, def := range schema.Types {
		for _, f := range def.Fields {
			if resolvers.ViewerIndependent(name, f.Name) {
				n++
				if len(f.Arguments) > 0 {
					t.Errorf("%s.%s takes arguments", name, f.Name)
				}
			}
		}
	}
	if n != resolvers.ViewerIndependentCount() {
		t.Errorf("%d of %d vouched-for resolvers are fields of the schema", n, resolvers.ViewerIndependentCount())
	}
}
