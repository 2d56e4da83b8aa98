package server

import (
	"context"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2"

	"switchboard/ent"
	"switchboard/ent/agentstatus"
	"switchboard/livestatus"
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

// TestSharedRenderIgnoresTheRenderersEnd: the subscriber that happens to
// render an event for everyone who asked alike may be leaving (its context
// done); the rendering is still whole, or the others would lose the event.
func TestSharedRenderIgnoresTheRenderersEnd(t *testing.T) {
	s := sharedRenders{ExecutableSchema: resolvers.NewSchema(nil, resolvers.Services{})}
	exec := executor.New(s)
	ctx := graphql.StartOperationTrace(context.Background())
	rc, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{
		Query: `subscription { agentStatusChanged { agent { id name } status { name } changedAt } }`,
	})
	if errs != nil {
		t.Fatal(errs)
	}
	ctx = graphql.WithOperationContext(ctx, rc)
	ctx = graphql.WithResponseContext(ctx, graphql.DefaultErrorPresenter, graphql.DefaultRecover)
	leaving, cancel := context.WithCancel(ctx)
	cancel()
	st := &ent.AgentStatus{ID: "AS1", Name: "Lunch", Type: agentstatus.TypeCUSTOM}
	ev := &livestatus.Event{Agent: &ent.Agent{ID: "AG1", Name: "Alex", Edges: ent.AgentEdges{CurrentStatus: st}}, Status: st, At: time.Unix(1700000000, 0).UTC()}
	want := `{"data":{"agentStatusChanged":{"agent":{"id":"AG1","name":"Alex"},"status":{"name":"Lunch"},"changedAt":"2023-11-14T22:13:20Z"}}}`
	for i := 0; i < 64; i++ { // gqlgen picks between the event and the end at random
		r := s.renderOnce(leaving, ev)
		if r == nil || string(r.payload) != want {
			t.Fatalf("render %d: %+v", i, r)
		}
	}
}
