package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"weak"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2/ast"

	"switchboard/gid"
	"switchboard/livestatus"
	"switchboard/resolvers"
	"switchboard/server/wsgorilla"
	"switchboard/viewer"
)

// sharedRenders renders each status change once for all the subscribers
// that asked for it the same way, instead of once per subscriber: a
// wallboard of a thousand supervisors costs one rendering and a thousand
// writes. Every subscription still subscribes through the live status
// service (the same checks as the resolver); only the rendering is shared,
// and only between subscriptions whose selections read nothing that depends
// on who is asking.
type sharedRenders struct {
	graphql.ExecutableSchema
	status *livestatus.Service
	fields sharedFields // which fields of the event read the same for every viewer
	cache  *renderCache
}

// sharedField is the one subscription field whose renderings are shared.
const sharedField = "agentStatusChanged"

// newSharedRenders wraps es. It reads from es which fields are the same for
// every viewer, and panics when es has no agentStatusChanged subscription
// to read them from: a schema that does not build.
func newSharedRenders(es graphql.ExecutableSchema, status *livestatus.Service) sharedRenders {
	fields, err := deriveSharedFields(es, sharedField)
	if err != nil {
		panic(err)
	}
	return sharedRenders{ExecutableSchema: es, status: status, fields: fields, cache: &renderCache{}}
}

// Exec implements graphql.ExecutableSchema.
func (s sharedRenders) Exec(ctx context.Context) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	if opCtx == nil || opCtx.Operation == nil || opCtx.Operation.Operation != ast.Subscription {
		return s.ExecutableSchema.Exec(ctx)
	}
	fields := graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, []string{"Subscription"})
	if len(fields) != 1 || fields[0].Name != sharedField {
		return s.ExecutableSchema.Exec(ctx)
	}
	ids, ok := agentIDsArg(fields[0].ArgumentMap(opCtx.Variables))
	if !ok {
		return s.ExecutableSchema.Exec(ctx)
	}
	events, err := s.status.Subscribe(ctx, ids)
	if err != nil {
		return s.ExecutableSchema.Exec(ctx) // the resolver reports the same refusal
	}
	key := s.renderKeyFor(ctx, opCtx, fields[0])
	direct := wsgorilla.NewWriter(ctx) // nil: results go back through the executor
	return func(ctx context.Context) *graphql.Response {
		for {
			var ev *livestatus.Event
			select {
			case e, ok := <-events:
				if !ok {
					return nil
				}
				ev = e
			case <-ctx.Done():
				return nil
			}
			r := s.cache.rendered(ev, key, func() *rendering { return s.renderOnce(ctx, ev) })
			if r == nil {
				continue // nothing to send of this event
			}
			if direct != nil && r.payload != nil {
				if err := direct.Next(r.payload); err != nil {
					return nil // the connection is closed
				}
				continue
			}
			resp := *r.resp // the executor adds this subscriber's errors and extensions
			return &resp
		}
	}
}

// rendering is an event rendered for the subscriptions of one render key.
type rendering struct {
	resp *graphql.Response
	// payload is resp encoded as the transport encodes it, for direct
	// writes; nil when resp carries errors or extensions, which the executor
	// handles for each subscriber.
	payload []byte
}

// renderOnce renders ev for the subscription of ctx's operation, and for
// every other that asked alike: whether this subscriber goes meanwhile must
// not change what the others receive, so the rendering ignores the end of
// ctx.
func (s sharedRenders) renderOnce(ctx context.Context, ev *livestatus.Event) *rendering {
	ctx = context.WithoutCancel(ctx)
	next := s.ExecutableSchema.Exec(resolvers.WithEvent(ctx, ev))
	resp := next(ctx)
	if resp == nil {
		return nil
	}
	out := *resp
	out.Data = slices.Clone(resp.Data) // the generated code reuses its buffer
	r := &rendering{resp: &out}
	if len(out.Errors) == 0 && len(out.Extensions) == 0 && len(graphql.GetErrors(ctx)) == 0 {
		r.payload, _ = json.Marshal(&out)
	}
	return r
}

// renderCache holds the renderings of recent events, by event and render
// key. An event's renderings must last until every subscriber here that
// will render it alike has done so. A subscription of all the tenant's
// agents (a wallboard, where sharing matters) queues at most the newest
// livestatus.DefaultBuffer events of its tenant and drops older ones, so
// the cache keeps the renderings of the newest keepPerTenant events of each
// tenant, and of none that no subscriber holds any longer: once an event
// is collected its renderings go. A subscriber that reaches an event
// dropped from the cache (one that watches a few agents of a busy tenant)
// renders it again; nothing else changes. So the cache holds at most
// keepPerTenant events of each tenant that has subscribers, however many
// events are published, and nothing in it keeps an event alive.
type renderCache struct {
	events sync.Map // weak.Pointer[livestatus.Event] → *eventRenders

	mu     sync.Mutex
	recent map[gid.ID][]weak.Pointer[livestatus.Event] // by tenant, oldest first
}

// keepPerTenant is how many of a tenant's events the cache keeps: twice a
// subscription's queue, for the event each subscriber is writing and for
// events delivered to subscriptions in slightly different orders.
const keepPerTenant = 2 * livestatus.DefaultBuffer

// eventRenders are one event's renderings, by render key.
type eventRenders struct {
	keys sync.Map // string → *renderSlot
}

// renderSlot is one rendering, made by whichever subscriber comes first.
type renderSlot struct {
	once sync.Once
	r    *rendering
}

// rendered returns ev rendered for key, rendering it with render the first
// time a subscriber asks: subscribers that asked alike share one rendering,
// which they must treat as read-only.
func (c *renderCache) rendered(ev *livestatus.Event, key string, render func() *rendering) *rendering {
	wp := weak.Make(ev)
	er, ok := c.events.Load(wp)
	if !ok {
		var loaded bool
		if er, loaded = c.events.LoadOrStore(wp, &eventRenders{}); !loaded {
			c.admit(ev.TenantID(), wp)
			runtime.AddCleanup(ev, c.forget, cached{ev.TenantID(), wp})
		}
	}
	keys := &er.(*eventRenders).keys
	slot, ok := keys.Load(key)
	if !ok {
		slot, _ = keys.LoadOrStore(key, &renderSlot{})
	}
	rs := slot.(*renderSlot)
	rs.once.Do(func() { rs.r = render() })
	return rs.r
}

// cached names an event in the cache.
type cached struct {
	tenant gid.ID
	event  weak.Pointer[livestatus.Event]
}

// admit records wp as its tenant's newest event and drops the renderings
// of the tenant's oldest beyond keepPerTenant.
func (c *renderCache) admit(tenant gid.ID, wp weak.Pointer[livestatus.Event]) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.recent == nil {
		c.recent = map[gid.ID][]weak.Pointer[livestatus.Event]{}
	}
	recent := append(c.recent[tenant], wp)
	if n := len(recent) - keepPerTenant; n > 0 {
		for _, old := range recent[:n] {
			c.events.Delete(old)
		}
		recent = append(recent[:0], recent[n:]...)
	}
	c.recent[tenant] = recent
}

// forget drops the renderings of an event nothing holds any longer.
func (c *renderCache) forget(e cached) {
	c.events.Delete(e.event)
	c.mu.Lock()
	defer c.mu.Unlock()
	recent := slices.DeleteFunc(c.recent[e.tenant], func(wp weak.Pointer[livestatus.Event]) bool { return wp == e.event })
	if len(recent) == 0 {
		delete(c.recent, e.tenant)
	} else {
		c.recent[e.tenant] = recent
	}
}

// len returns how many events have renderings.
func (c *renderCache) len() int {
	n := 0
	c.events.Range(func(any, any) bool { n++; return true })
	return n
}

// agentIDsArg reads the agentIds argument (absent or null: all).
func agentIDsArg(args map[string]any) ([]gid.ID, bool) {
	raw, present := args["agentIds"]
	if !present || raw == nil {
		return nil, true
	}
	var ids []gid.ID
	switch v := raw.(type) {
	case []any:
		for _, x := range v {
			id, ok := x.(string)
			if !ok {
				return nil, false
			}
			ids = append(ids, gid.ID(id))
		}
	case []string:
		for _, id := range v {
			ids = append(ids, gid.ID(id))
		}
	case []gid.ID:
		ids = v
	default:
		return nil, false
	}
	return ids, true
}

// renderKeyFor is what makes two subscriptions render alike: the same
// document, operation and variables, and, unless the selection reads only
// fields that are the same for everyone who may see the event, the same
// viewer.
func (s sharedRenders) renderKeyFor(ctx context.Context, opCtx *graphql.OperationContext, field graphql.CollectedField) string {
	var b bytes.Buffer
	b.WriteString(opCtx.RawQuery)
	b.WriteByte(0)
	b.WriteString(opCtx.OperationName)
	b.WriteByte(0)
	vars, _ := json.Marshal(opCtx.Variables)
	b.Write(vars)
	if !s.fields.independent(opCtx, s.fields.root, field.Selections) {
		b.WriteByte(0)
		v := viewer.FromContext(ctx)
		b.WriteString(string(v.TenantID) + "/" + string(v.Role) + "/" + string(v.AgentID) + "/" + v.Subject + "/" + v.Service)
	}
	return b.String()
}

// sharedFields classifies the fields of every object type reachable from
// the shared subscription's event through fields that read the same for
// every viewer: by type, by field, whether it does.
//
// The classification is read from the executable schema, not kept by hand.
// A field is the same for every viewer when it takes no arguments (no page,
// filter or order of the viewer's choosing), returns a scalar, an enum or
// such an object, and gqlgen reads it straight from the entity (neither a
// method, such as an ent edge that queries the store as the viewer, nor a
// resolver of ours), or its resolver is one that resolvers.ViewerIndependent
// vouches for. Anything else (a connection such as Agent.interactions,
// filtered per viewer by the policies; an interface; a field added with a
// resolver) is rendered for each viewer.
type sharedFields struct {
	root  string                     // the event's type
	types map[string]map[string]bool // type → field → the same for every viewer
}

// errProbe stops the probe's subscription before its resolver runs.
var errProbe = errors.New("probing the schema")

// deriveSharedFields classifies the fields reachable from the subscription
// field of es. gqlgen tells a field's kind of resolution only through a
// field context, so this starts the subscription with a middleware that
// takes the root field's context and stops there, before any resolver of
// ours runs, then asks that context for its children's.
func deriveSharedFields(es graphql.ExecutableSchema, field string) (sharedFields, error) {
	schema := es.Schema()
	if schema.Subscription == nil || schema.Subscription.Fields.ForName(field) == nil {
		return sharedFields{}, fmt.Errorf("server: the schema has no subscription %s", field)
	}
	def := schema.Subscription.Fields.ForName(field)
	exec := executor.New(es)
	var (
		root    *graphql.FieldContext
		rootCtx context.Context
	)
	exec.AroundFields(func(ctx context.Context, _ graphql.Resolver) (any, error) {
		if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Object == "Subscription" && fc.Field.Name == field {
			root, rootCtx = fc, ctx
		}
		return nil, errProbe
	})
	ctx := graphql.StartOperationTrace(context.Background())
	opCtx, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: "subscription { " + field + " { __typename } }"})
	if errs != nil {
		return sharedFields{}, fmt.Errorf("server: probing %s: %v", field, errs)
	}
	handle, ctx := exec.DispatchOperation(ctx, opCtx)
	handle(ctx)
	if root == nil {
		return sharedFields{}, fmt.Errorf("server: probing %s: no field context", field)
	}
	f := sharedFields{root: def.Type.Name(), types: map[string]map[string]bool{}}
	if err := f.classify(rootCtx, schema, root, f.root); err != nil {
		return sharedFields{}, err
	}
	return f, nil
}

// classify classifies the fields of typ, whose field contexts parent's
// Child returns, and then those of the object types they return.
func (f sharedFields) classify(ctx context.Context, schema *ast.Schema, parent *graphql.FieldContext, typ string) error {
	if _, done := f.types[typ]; done {
		return nil
	}
	def := schema.Types[typ]
	fields := make(map[string]bool, len(def.Fields))
	f.types[typ] = fields
	for _, fd := range def.Fields {
		if strings.HasPrefix(fd.Name, "__") {
			continue
		}
		fc, err := parent.Child(ctx, graphql.CollectedField{Field: &ast.Field{Alias: fd.Name, Name: fd.Name, Definition: fd, ObjectDefinition: def}})
		if err != nil {
			return fmt.Errorf("server: classifying %s.%s: %w", typ, fd.Name, err)
		}
		shared := len(fd.Arguments) == 0 &&
			(!fc.IsMethod && !fc.IsResolver || fc.IsResolver && resolvers.ViewerIndependent(typ, fd.Name))
		switch t := schema.Types[fd.Type.Name()]; {
		case t == nil:
			shared = false
		case t.Kind == ast.Scalar, t.Kind == ast.Enum:
		case t.Kind == ast.Object:
			if shared {
				if err := f.classify(ctx, schema, fc, t.Name); err != nil {
					return err
				}
			}
		default:
			shared = false // an interface or union: its members are not walked
		}
		fields[fd.Name] = shared
	}
	return nil
}

// independent reports whether a selection on typ reads only fields that
// are the same for every viewer.
func (f sharedFields) independent(opCtx *graphql.OperationContext, typ string, set ast.SelectionSet) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__typename" {
				continue
			}
			if !f.types[typ][s.Name] || s.Definition == nil {
				return false
			}
			if len(s.SelectionSet) > 0 && !f.independent(opCtx, s.Definition.Type.Name(), s.SelectionSet) {
				return false
			}
		case *ast.InlineFragment:
			if s.TypeCondition != "" && s.TypeCondition != typ {
				return false
			}
			if !f.independent(opCtx, typ, s.SelectionSet) {
				return false
			}
		case *ast.FragmentSpread:
			def := opCtx.Doc.Fragments.ForName(s.Name)
			if def == nil || def.TypeCondition != typ || !f.independent(opCtx, typ, def.SelectionSet) {
				return false
			}
		default:
			return false
		}
	}
	return true
}
