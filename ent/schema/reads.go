package schema

import (
	"context"

	"switchboard/viewer"
)

// Some reads are allowed or refused for what they are for, which a query
// does not show: the context says it, for the viewer it carries. Like
// Vouch, each holds only for that viewer; a context given another viewer
// (a system viewer made from it, say) loses it.

type readInstanceKey struct{}

type wholeTenantKey struct{}

type ownContactsKey struct{}

// ReadInstance returns ctx allowing its viewer to read its own tenant's
// Instance, which the Instance policy otherwise keeps to the tenant's
// admins. It is for domain code that uses the instance on a non-admin's
// behalf (an agent sending or reading email, starting or ending a chat,
// moving its status, which Amazon Connect must hear of), never for showing
// the instance to the viewer. It allows Instance reads only, and only of
// the viewer's tenant: the tenant filter still applies.
func ReadInstance(ctx context.Context) context.Context {
	return withViewerMark(ctx, readInstanceKey{})
}

// WholeTenant returns ctx for a read that means the tenant's rows of every
// agent, such as interactions looked up by phone number: where a policy
// would narrow an agent's read to its own rows, it refuses the read
// instead, so that the answer is never silently partial.
func WholeTenant(ctx context.Context) context.Context {
	return withViewerMark(ctx, wholeTenantKey{})
}

// OwnContacts returns ctx for a read that finds whose a live contact is,
// before acting on it (pausing its recording, setting its attributes):
// an agent's reads of agent activity narrow to its own, as its reads of
// interactions always do, so that an agent finds only contacts of its own;
// supervisors and admins find any of the tenant's.
func OwnContacts(ctx context.Context) context.Context {
	return withViewerMark(ctx, ownContactsKey{})
}

func withViewerMark(ctx context.Context, key any) context.Context {
	v := viewer.FromContext(ctx)
	if v == nil {
		return ctx
	}
	return context.WithValue(ctx, key, v)
}

// marked reports whether ctx carries the mark key for its current viewer.
func marked(ctx context.Context, key any) bool {
	v, ok := ctx.Value(key).(*viewer.Viewer)
	return ok && v != nil && v == viewer.FromContext(ctx)
}

func readsInstance(ctx context.Context) bool { return marked(ctx, readInstanceKey{}) }

func readsWholeTenant(ctx context.Context) bool { return marked(ctx, wholeTenantKey{}) }

func readsOwnContacts(ctx context.Context) bool { return marked(ctx, ownContactsKey{}) }
