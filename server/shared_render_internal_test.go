package server

import (
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2"

	"switchboard/resolvers"
)

// TestViewerIndependent: only selections of stored event fields are shared
// between viewers; anything reached through a resolver that reads the
// store as the viewer is rendered per viewer.
func TestViewerIndependent(t *testing.T) {
	schema := resolvers.NewSchema(nil, resolvers.Services{}).Schema()
	cases := []struct {
		query string
		want  bool
	}{
		{`subscription { agentStatusChanged { agent { id name } status { id name type } previousStatus { id name type } changedAt } }`, true},
		{`subscription { agentStatusChanged { __typename agent { currentStatus { status { name } since } } } }`, true},
		{`subscription { agentStatusChanged { ...E } } fragment E on AgentStatusEvent { agent { id } changedAt }`, true},
		{`subscription { agentStatusChanged { ... on AgentStatusEvent { status { name } } } }`, true},
		{`subscription { agentStatusChanged { agent { interactions(first: 5) { totalCount } } } }`, false},
		{`subscription { agentStatusChanged { ...E } } fragment E on AgentStatusEvent { agent { interactions { totalCount } } }`, false},
	}
	for _, c := range cases {
		doc, err := gqlparser.LoadQuery(schema, c.query)
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		opCtx := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0], Variables: map[string]any{}}
		fields := graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, []string{"Subscription"})
		if got := viewerIndependent(opCtx, "AgentStatusEvent", fields[0].Selections); got != c.want {
			t.Errorf("%s: shared = %v, want %v", c.query, got, c.want)
		}
	}
}
