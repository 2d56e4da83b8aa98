package resolvers

import (
	"context"

	"switchboard/livestatus"
)

// eventKey holds the event a context asks the agentStatusChanged resolver
// to yield.
type eventKey struct{}

// WithEvent returns a context in which the agentStatusChanged resolver
// yields just ev instead of subscribing: how one event is rendered once for
// many subscribers (server's shared renders).
func WithEvent(ctx context.Context, ev *livestatus.Event) context.Context {
	return context.WithValue(ctx, eventKey{}, ev)
}

// eventFrom returns the event WithEvent put in ctx, or nil.
func eventFrom(ctx context.Context) *livestatus.Event {
	ev, _ := ctx.Value(eventKey{}).(*livestatus.Event)
	return ev
}

// ViewerIndependent reports whether the resolver of our own for the field
// of object reads nothing that depends on who is asking when it resolves a
// status event's entities, which arrive with their edges loaded. Fields
// that gqlgen reads straight from the entity need no entry; a resolver not
// listed here is rendered for each viewer.
func ViewerIndependent(object, field string) bool {
	return viewerIndependentResolvers[object+"."+field]
}

var viewerIndependentResolvers = map[string]bool{
	// From obj.Edges.CurrentStatus and obj.StatusSince; an event's agent has
	// the edge loaded (livestatus.Event), so nothing is read as the viewer.
	"Agent.currentStatus": true,
}
