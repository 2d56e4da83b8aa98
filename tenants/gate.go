package tenants

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/ent/tenant"
	"switchboard/gid"
	"switchboard/viewer"
)

// ErrUnsubscribed is the answer to every credential of a tenant that is not
// active: FORBIDDEN, with the reason the contract names.
var ErrUnsubscribed = &apierror.Error{
	Code:    apierror.Forbidden,
	Reason:  apierror.ReasonTenantUnsubscribed,
	Message: "the tenant's subscription has ended",
}

// ErrNoTenant is Admit's answer for a tenant that does not exist (never
// did, or was decommissioned).
var ErrNoTenant = apierror.New(apierror.Unauthenticated, "the credential's tenant does not exist")

// DefaultRecheck is how long a Gate trusts what it read of a tenant.
const DefaultRecheck = time.Second

// Gate is where every credential of a tenant passes — people's tokens over
// HTTP and WebSocket, SCIM tokens, the agent event key, the flows key — and
// is refused unless the tenant is active. It is the one place of that rule.
//
// A Gate reads a tenant's lifecycle at most once per Recheck and trusts it
// in between, so that a request costs no query of its own; a change made
// through this replica's Service takes effect at once, one made through
// another replica within Recheck. It also watches the tenants of
// long-lived connections (WebSockets): Run re-reads them every Recheck and
// ends the connections of a tenant that is no longer active.
type Gate struct {
	client  *ent.Client
	recheck time.Duration
	log     *slog.Logger
	now     func() time.Time

	mu       sync.Mutex
	known    map[gid.ID]seen
	watchers map[gid.ID]map[*watcher]struct{}
}

type seen struct {
	active, exists bool
	at             time.Time
}

type watcher struct{ stop func() }

// NewGate returns a Gate over client that re-reads a tenant after recheck
// (DefaultRecheck when zero; negative: on every credential).
func NewGate(client *ent.Client, recheck time.Duration, log *slog.Logger) *Gate {
	if recheck == 0 {
		recheck = DefaultRecheck
	}
	if log == nil {
		log = slog.Default()
	}
	return &Gate{
		client: client, recheck: recheck, log: log, now: time.Now,
		known: map[gid.ID]seen{}, watchers: map[gid.ID]map[*watcher]struct{}{},
	}
}

// Admit answers nil for an active tenant, ErrUnsubscribed for one that is
// not, and ErrNoTenant for one that does not exist.
func (g *Gate) Admit(ctx context.Context, id gid.ID) error {
	g.mu.Lock()
	s, ok := g.known[id]
	g.mu.Unlock()
	if !ok || g.recheck < 0 || g.now().Sub(s.at) >= g.recheck {
		var err error
		if s, err = g.read(ctx, id); err != nil {
			return err
		}
	}
	switch {
	case !s.exists:
		return ErrNoTenant
	case !s.active:
		return ErrUnsubscribed
	}
	return nil
}

func (g *Gate) read(ctx context.Context, id gid.ID) (seen, error) {
	lcs, err := g.client.Tenant.Query().Where(tenant.ID(id)).
		Select(tenant.FieldLifecycle).Strings(operatorContext(ctx))
	if err != nil {
		return seen{}, err
	}
	s := seen{exists: len(lcs) == 1, at: g.now()}
	s.active = s.exists && lcs[0] == string(tenant.LifecycleACTIVE)
	g.set(id, s)
	return s, nil
}

// set records what was read of a tenant and stops its watchers when it is
// no longer active.
func (g *Gate) set(id gid.ID, s seen) {
	var stops []func()
	g.mu.Lock()
	g.known[id] = s
	if !s.active {
		for w := range g.watchers[id] {
			stops = append(stops, w.stop)
		}
		delete(g.watchers, id)
	}
	g.mu.Unlock()
	for _, stop := range stops {
		stop()
	}
}

// Watch calls stop once, as soon as the gate learns that the tenant is no
// longer active; forget ends the watch.
func (g *Gate) Watch(id gid.ID, stop func()) (forget func()) {
	w := &watcher{stop: sync.OnceFunc(stop)}
	g.mu.Lock()
	if g.watchers[id] == nil {
		g.watchers[id] = map[*watcher]struct{}{}
	}
	g.watchers[id][w] = struct{}{}
	g.mu.Unlock()
	return func() {
		g.mu.Lock()
		defer g.mu.Unlock()
		delete(g.watchers[id], w)
		if len(g.watchers[id]) == 0 {
			delete(g.watchers, id)
		}
	}
}

// changed records a lifecycle this replica has just committed.
func (g *Gate) changed(id gid.ID, lc tenant.Lifecycle, exists bool) {
	g.set(id, seen{exists: exists, active: exists && lc == tenant.LifecycleACTIVE, at: g.now()})
}

// Run re-reads the watched tenants every Recheck, in one query, until ctx
// ends.
func (g *Gate) Run(ctx context.Context) {
	every := g.recheck
	if every <= 0 {
		every = DefaultRecheck
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := g.recheckWatched(ctx); err != nil && ctx.Err() == nil {
			g.log.Warn("tenant gate: re-reading watched tenants", "err", err)
		}
	}
}

func (g *Gate) recheckWatched(ctx context.Context) error {
	g.mu.Lock()
	ids := make([]gid.ID, 0, len(g.watchers))
	for id := range g.watchers {
		ids = append(ids, id)
	}
	g.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	rows, err := g.client.Tenant.Query().Where(tenant.IDIn(ids...)).
		Select(tenant.FieldID, tenant.FieldLifecycle).All(operatorContext(ctx))
	if err != nil {
		return err
	}
	found := make(map[gid.ID]tenant.Lifecycle, len(rows))
	for _, t := range rows {
		found[t.ID] = t.Lifecycle
	}
	for _, id := range ids {
		lc, ok := found[id]
		g.changed(id, lc, ok)
	}
	return nil
}

// operatorContext reads tenants as the platform does: the gate runs before
// there is a viewer.
func operatorContext(ctx context.Context) context.Context {
	return viewer.NewContext(ctx, viewer.SystemOperator("tenant-gate"))
}

// IsUnsubscribed reports whether err is the gate's refusal of an inactive
// tenant.
func IsUnsubscribed(err error) bool { return errors.Is(err, ErrUnsubscribed) }
