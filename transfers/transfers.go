// Package transfers is the desktop's transfer directory: the instance's
// quick connects, read from Amazon Connect and kept briefly, so that every
// agent opening the transfer panel does not cost a ListQuickConnects call
// of the tenant's account.
package transfers

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"switchboard/apierror"
	"switchboard/connectaws"
	"switchboard/ent"
	"switchboard/ent/schema"
	"switchboard/gid"
	"switchboard/instances"
)

// DefaultTTL is how long a tenant's quick connects are kept: an admin's
// change in Connect shows within it.
const DefaultTTL = time.Minute

// Service lists quick connects. It is safe for concurrent use.
type Service struct {
	aws *connectaws.Clients
	ttl time.Duration
	now func() time.Time

	mu    sync.Mutex
	cache map[gid.ID]entry
}

type entry struct {
	instance string    // the instance and the time it was configured
	at       time.Time // when read
	list     []connectaws.QuickConnect
}

// New returns a Service that keeps each tenant's list for ttl
// (DefaultTTL when zero); now tells the time (time.Now when nil).
func New(aws *connectaws.Clients, ttl time.Duration, now func() time.Time) *Service {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	if now == nil {
		now = time.Now
	}
	return &Service{aws: aws, ttl: ttl, now: now, cache: map[gid.ID]entry{}}
}

// QuickConnects returns the quick connects of the viewer's tenant's
// instance, sorted by name: from the cache when read within the TTL for
// the instance as configured now, else from Connect.
func (s *Service) QuickConnects(ctx context.Context, c *ent.Client) ([]*connectaws.QuickConnect, error) {
	inst, err := instances.Get(schema.ReadInstance(ctx), c)
	if err != nil {
		return nil, err
	}
	if s == nil || s.aws == nil {
		return nil, instances.NoAWS()
	}
	key := inst.InstanceArn + "@" + inst.UpdatedAt.UTC().Format(time.RFC3339Nano)
	now := s.now()
	s.mu.Lock()
	e, ok := s.cache[inst.TenantID]
	s.mu.Unlock()
	if ok && e.instance == key && now.Sub(e.at) < s.ttl {
		return copies(e.list), nil
	}
	list, err := s.aws.QuickConnects(ctx, connectaws.InstanceOf(inst))
	if err != nil {
		return nil, apierror.Wrap(apierror.Upstream, err, "Amazon Connect did not list the quick connects")
	}
	slices.SortFunc(list, func(a, b connectaws.QuickConnect) int { return cmp.Compare(a.Name, b.Name) })
	s.mu.Lock()
	s.cache[inst.TenantID] = entry{instance: key, at: now, list: list}
	s.mu.Unlock()
	return copies(list), nil
}

// copies returns a copy of each quick connect, for the caller to keep.
func copies(list []connectaws.QuickConnect) []*connectaws.QuickConnect {
	out := make([]*connectaws.QuickConnect, len(list))
	for i := range list {
		q := list[i]
		out[i] = &q
	}
	return out
}
