package schema

import (
	"context"

	"switchboard/gid"
	"switchboard/viewer"
)

// vouched holds IDs that were just read under one viewer.
type vouched struct {
	viewer *viewer.Viewer
	ids    map[gid.ID]bool
}

type vouchedKey struct{}

// Vouch returns a context noting that ids were just read, through the
// privacy rules, under the context's viewer: the check that refuses edges to
// rows out of the viewer's reach need not read them again. It is for code
// that has those rows in hand, such as the live status service.
func Vouch(ctx context.Context, ids ...gid.ID) context.Context {
	v := viewer.FromContext(ctx)
	if v == nil {
		return ctx
	}
	set := map[gid.ID]bool{}
	if prev, ok := ctx.Value(vouchedKey{}).(*vouched); ok && prev.viewer == v {
		for id := range prev.ids {
			set[id] = true
		}
	}
	for _, id := range ids {
		set[id] = true
	}
	return context.WithValue(ctx, vouchedKey{}, &vouched{viewer: v, ids: set})
}

// isVouched reports whether id was vouched for under ctx's current viewer.
func isVouched(ctx context.Context, id gid.ID) bool {
	vs, ok := ctx.Value(vouchedKey{}).(*vouched)
	return ok && vs.viewer == viewer.FromContext(ctx) && vs.ids[id]
}
