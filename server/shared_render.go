package server

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"switchboard/gid"
	"switchboard/livestatus"
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
}

// Exec implements graphql.ExecutableSchema.
func (s sharedRenders) Exec(ctx context.Context) graphql.ResponseHandler {
	opCtx := graphql.GetOperationContext(ctx)
	if opCtx == nil || opCtx.Operation == nil || opCtx.Operation.Operation != ast.Subscription {
		return s.ExecutableSchema.Exec(ctx)
	}
	fields := graphql.CollectFields(opCtx, opCtx.Operation.SelectionSet, []string{"Subscription"})
	if len(fields) != 1 || fields[0].Name != "agentStatusChanged" {
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
	key := renderKeyFor(ctx, opCtx, fields[0])
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
			r, _ := ev.Rendered(key, func() any { return s.renderOnce(ctx, ev) }).(*rendering)
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
	next := s.ExecutableSchema.Exec(livestatus.RenderContext(ctx, ev))
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
func renderKeyFor(ctx context.Context, opCtx *graphql.OperationContext, field graphql.CollectedField) string {
	var b bytes.Buffer
	b.WriteString(opCtx.RawQuery)
	b.WriteByte(0)
	b.WriteString(opCtx.OperationName)
	b.WriteByte(0)
	vars, _ := json.Marshal(opCtx.Variables)
	b.Write(vars)
	if !viewerIndependent(opCtx, "AgentStatusEvent", field.Selections) {
		b.WriteByte(0)
		v := viewer.FromContext(ctx)
		b.WriteString(string(v.TenantID) + "/" + string(v.Role) + "/" + string(v.AgentID) + "/" + v.Subject + "/" + v.Service)
	}
	return b.String()
}

// plainFields lists, per type, the fields an event's rendering may share:
// stored values of the event's own entities, the same for every viewer.
var plainFields = map[string]map[string]bool{
	"AgentStatusEvent":    {"agent": true, "status": true, "previousStatus": true, "changedAt": true},
	"Agent":               {"id": true, "name": true, "email": true, "connectUsername": true, "connectUserID": true, "role": true, "createdAt": true, "updatedAt": true, "currentStatus": true},
	"AgentStatus":         {"id": true, "name": true, "type": true, "displayOrder": true, "enabled": true, "connectStatusID": true, "connectStatusArn": true, "createdAt": true, "updatedAt": true},
	"AgentStatusSnapshot": {"status": true, "since": true},
}

// fieldType is the type each plain field returns, to walk into.
var fieldType = map[string]string{
	"agent": "Agent", "status": "AgentStatus", "previousStatus": "AgentStatus", "currentStatus": "AgentStatusSnapshot",
}

// viewerIndependent reports whether a selection on typ reads only plain fields.
func viewerIndependent(opCtx *graphql.OperationContext, typ string, set ast.SelectionSet) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__typename" {
				continue
			}
			if !plainFields[typ][s.Name] {
				return false
			}
			if len(s.SelectionSet) > 0 && !viewerIndependent(opCtx, fieldType[s.Name], s.SelectionSet) {
				return false
			}
		case *ast.InlineFragment:
			if s.TypeCondition != "" && s.TypeCondition != typ {
				return false
			}
			if !viewerIndependent(opCtx, typ, s.SelectionSet) {
				return false
			}
		case *ast.FragmentSpread:
			def := opCtx.Doc.Fragments.ForName(s.Name)
			if def == nil || def.TypeCondition != typ || !viewerIndependent(opCtx, typ, def.SelectionSet) {
				return false
			}
		default:
			return false
		}
	}
	return true
}
