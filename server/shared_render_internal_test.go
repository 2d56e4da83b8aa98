package server

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2"

	"switchboard/ent"
	"switchboard/ent/agentstatus"
	"switchboard/gid"
	"switchboard/livestatus"
	"switchboard/resolvers"
	"switchboard/viewer"
)

// TestViewerIndependent: only selections of stored event fields are shared
// between viewers; anything reached through a resolver that reads the
// store as the viewer is rendered per viewer.
func TestViewerIndependent(t *testing.T) {
	s := newSharedRenders(resolvers.NewSchema(nil, resolvers.Services{}), nil)
	schema := s.Schema()
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
		if got := s.fields.independent(opCtx, "AgentStatusEvent", fields[0].Selections); got != c.want {
			t.Errorf("%s: shared = %v, want %v", c.query, got, c.want)
		}
	}
}

// TestSharedRenderIgnoresTheRenderersEnd: the subscriber that happens to
// render an event for everyone who asked alike may be leaving (its context
// done); the rendering is still whole, or the others would lose the event.
func TestSharedRenderIgnoresTheRenderersEnd(t *testing.T) {
	s := newSharedRenders(resolvers.NewSchema(nil, resolvers.Services{}), nil)
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

// TestSharedFieldsFromSchema: which fields an event's rendering may share
// is read from the executable schema, with nothing listed by hand: every
// field of the types reachable from the event is classified, stored values
// share, a connection does not, and the one resolver that vouches for
// itself (currentStatus) does.
func TestSharedFieldsFromSchema(t *testing.T) {
	s := newSharedRenders(resolvers.NewSchema(nil, resolvers.Services{}), nil)
	schema := s.Schema()
	for _, typ := range []string{"AgentStatusEvent", "Agent", "AgentStatus", "AgentStatusSnapshot"} {
		for _, fd := range schema.Types[typ].Fields {
			if strings.HasPrefix(fd.Name, "__") {
				continue
			}
			shared, ok := s.fields.types[typ][fd.Name]
			if !ok {
				t.Errorf("%s.%s is not classified", typ, fd.Name)
			}
			if shared && len(fd.Arguments) > 0 {
				t.Errorf("%s.%s takes arguments but is shared", typ, fd.Name)
			}
		}
	}
	for field, want := range map[string]bool{
		"AgentStatusEvent.agent": true, "AgentStatusEvent.previousStatus": true, "AgentStatusEvent.changedAt": true,
		"Agent.id": true, "Agent.name": true, "Agent.role": true, "Agent.currentStatus": true, "Agent.interactions": false,
		"AgentStatus.name": true, "AgentStatus.type": true, "AgentStatusSnapshot.status": true, "AgentStatusSnapshot.since": true,
	} {
		typ, name, _ := strings.Cut(field, ".")
		if got := s.fields.types[typ][name]; got != want {
			t.Errorf("%s: shared = %v, want %v", field, got, want)
		}
	}
	if _, ok := s.fields.types["InteractionConnection"]; ok {
		t.Errorf("the types behind a field rendered per viewer are classified: %v", s.fields.types["InteractionConnection"])
	}
	for query, want := range map[string]bool{
		`subscription { agentStatusChanged { agent { name currentStatus { status { name } } } } }`:                          true,
		`subscription { agentStatusChanged { agent { interactions { totalCount } } } }`:                                     false,
		`subscription { agentStatusChanged { agent { name interactions { edges { node { id } } } } status { name } } }`:     false,
		`subscription { agentStatusChanged { a: agent { n: name } s: status { __typename id } p: previousStatus { id } } }`: true,
	} {
		doc, err := gqlparser.LoadQuery(schema, query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		opCtx := &graphql.OperationContext{Doc: doc, Operation: doc.Operations[0], Variables: map[string]any{}}
		fields := graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, []string{"Subscription"})
		if got := s.fields.independent(opCtx, s.fields.root, fields[0].Selections); got != want {
			t.Errorf("%s: shared = %v, want %v", query, got, want)
		}
	}
}

// TestRenderCacheShares: subscribers that ask for an event alike get one
// rendering, however many ask at once; another key or another event is
// rendered again.
func TestRenderCacheShares(t *testing.T) {
	c := &renderCache{}
	ev, other := &livestatus.Event{Agent: &ent.Agent{TenantID: "T1"}}, &livestatus.Event{Agent: &ent.Agent{TenantID: "T2"}}
	var renders atomic.Int64
	render := func() *rendering { renders.Add(1); return &rendering{payload: []byte("x")} }
	var wg sync.WaitGroup
	got := make([]*rendering, 64)
	for i := range got {
		wg.Go(func() { got[i] = c.rendered(ev, "k", render) })
	}
	wg.Wait()
	for _, r := range got {
		if r != got[0] {
			t.Fatal("subscribers that asked alike got different renderings")
		}
	}
	if n := renders.Load(); n != 1 {
		t.Fatalf("rendered %d times for one key", n)
	}
	c.rendered(ev, "other key", render)
	c.rendered(other, "k", render)
	if n := renders.Load(); n != 3 {
		t.Fatalf("rendered %d times for three (event, key) pairs", n)
	}
	runtime.KeepAlive(ev)
	runtime.KeepAlive(other)
}

// TestRenderCacheBounded: however many events are rendered, the cache
// keeps the renderings of at most keepPerTenant events of each tenant, the
// ones a subscription's queue may still hold keep sharing theirs, and once
// no one holds an event its renderings go.
func TestRenderCacheBounded(t *testing.T) {
	const events, held, tenants = 50_000, livestatus.DefaultBuffer, 10
	c := &renderCache{}
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	var window [tenants][held]*livestatus.Event // each tenant's subscribers' queue
	for i := range events {
		tn := i % tenants
		ev := &livestatus.Event{Agent: &ent.Agent{TenantID: gid.ID(fmt.Sprint("T", tn))}, At: time.Unix(int64(i), 0)}
		window[tn][(i/tenants)%held] = ev
		c.rendered(ev, "wallboard", func() *rendering { return &rendering{payload: make([]byte, 1024)} })
		if n := c.len(); n > tenants*keepPerTenant {
			t.Fatalf("after %d events the cache holds %d", i+1, n)
		}
	}
	grown := int64(heap()) - int64(before)
	t.Logf("%d events of 1 KiB rendered over %d tenants: %d in the cache, the heap grew by %d KiB", events, tenants, c.len(), grown/1024)
	if grown > 4<<20 {
		t.Errorf("the heap grew by %d KiB", grown/1024)
	}
	for tn := range window { // the held events still share their renderings
		for _, ev := range window[tn] {
			if r := c.rendered(ev, "wallboard", func() *rendering { t.Error("a held event rendered again"); return nil }); r == nil {
				t.Fatal("no rendering")
			}
		}
	}
	window = [tenants][held]*livestatus.Event{}
	deadline := time.Now().Add(5 * time.Second)
	for c.len() > 0 || c.tenantsHeld() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("none held: %d events and %d tenants kept", c.len(), c.tenantsHeld())
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// tenantsHeld returns how many tenants the cache keeps events of.
func (c *renderCache) tenantsHeld() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.recent)
}

// TestRenderKeyFor: two viewers asking alike for fields that are the same
// for everyone share a render key; asking for a field rendered per viewer
// they do not, and the variables always count.
func TestRenderKeyFor(t *testing.T) {
	s := newSharedRenders(resolvers.NewSchema(nil, resolvers.Services{}), nil)
	schema := s.Schema()
	sam := viewer.NewContext(context.Background(), &viewer.Viewer{TenantID: "T1", Role: viewer.RoleSupervisor, Email: "sam@acme.example", Subject: "sam"})
	kim := viewer.NewContext(context.Background(), &viewer.Viewer{TenantID: "T1", Role: viewer.RoleSupervisor, Email: "kim@acme.example", Subject: "kim"})
	key := func(ctx context.Context, query string, vars map[string]any) string {
		doc, err := gqlparser.LoadQuery(schema, query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		opCtx := &graphql.OperationContext{RawQuery: query, Doc: doc, Operation: doc.Operations[0], Variables: vars}
		fields := graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, []string{"Subscription"})
		return s.renderKeyFor(ctx, opCtx, fields[0])
	}
	const shared = `subscription($ids: [ID!]) { agentStatusChanged(agentIds: $ids) { agent { name currentStatus { since } } status { name } } }`
	const own = `subscription { agentStatusChanged { agent { interactions(first: 1) { totalCount } } } }`
	if key(sam, shared, nil) != key(kim, shared, nil) {
		t.Error("two viewers asking alike for shared fields render apart")
	}
	if key(sam, shared, nil) == key(sam, shared, map[string]any{"ids": []any{"AG1"}}) {
		t.Error("other variables share a rendering")
	}
	if key(sam, own, nil) == key(kim, own, nil) {
		t.Error("two viewers share a rendering of a field rendered per viewer")
	}
	if key(sam, own, nil) != key(sam, own, nil) {
		t.Error("one viewer asking alike twice renders apart")
	}
}
