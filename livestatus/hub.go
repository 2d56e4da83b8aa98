package livestatus

import (
	"sync"
	"sync/atomic"
	"time"

	"switchboard/gid"
)

// Hub fans values of one kind (an agent's activity, a tenant's queue
// figures) out to the subscriptions of their tenant, as Broker does status
// events: publishing never blocks, a subscription that falls behind loses
// its oldest queued values, and a value older than one already published
// under the same key is left out, so that a value relayed late from
// another replica never overwrites a newer one. It is safe for concurrent
// use.
type Hub[T any] struct {
	mu      sync.RWMutex
	tenants map[gid.ID]map[*HubSubscription[T]]struct{}

	latestMu sync.Mutex
	latest   map[string]time.Time // by key: the time of the newest value published

	published, delivered, dropped, stale atomic.Int64
}

// NewHub returns an empty hub.
func NewHub[T any]() *Hub[T] {
	return &Hub[T]{tenants: map[gid.ID]map[*HubSubscription[T]]struct{}{}, latest: map[string]time.Time{}}
}

// HubSubscription receives the values of one tenant that match its filter.
type HubSubscription[T any] struct {
	hub    *Hub[T]
	tenant gid.ID
	match  func(T) bool // nil: every value
	ch     chan T
	once   sync.Once
}

// C is the subscription's channel; it is closed by Close.
func (s *HubSubscription[T]) C() <-chan T { return s.ch }

// Subscribe registers a subscription to the tenant's values that match
// (every one when match is nil), queueing up to buffer of them
// (DefaultBuffer when not positive). The caller must Close it.
func (h *Hub[T]) Subscribe(tenant gid.ID, match func(T) bool, buffer int) *HubSubscription[T] {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	s := &HubSubscription[T]{hub: h, tenant: tenant, match: match, ch: make(chan T, buffer)}
	h.mu.Lock()
	subs := h.tenants[tenant]
	if subs == nil {
		subs = map[*HubSubscription[T]]struct{}{}
		h.tenants[tenant] = subs
	}
	subs[s] = struct{}{}
	h.mu.Unlock()
	return s
}

// Close unregisters the subscription and closes its channel. It is safe to
// call more than once.
func (s *HubSubscription[T]) Close() {
	s.once.Do(func() {
		h := s.hub
		h.mu.Lock()
		if subs := h.tenants[s.tenant]; subs != nil {
			delete(subs, s)
			if len(subs) == 0 {
				delete(h.tenants, s.tenant)
			}
		}
		close(s.ch)
		h.mu.Unlock()
	})
}

// WatchedTenants returns the tenants with a subscription here.
func (h *Hub[T]) WatchedTenants() []gid.ID {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]gid.ID, 0, len(h.tenants))
	for t := range h.tenants {
		out = append(out, t)
	}
	return out
}

// Publish delivers v, of tenant and dated at, to the tenant's matching
// subscriptions, unless a value published earlier under key is newer; it
// reports whether it delivered. An empty key is never stale.
func (h *Hub[T]) Publish(tenant gid.ID, key string, at time.Time, v T) bool {
	h.published.Add(1)
	if key != "" && !h.newest(key, at) {
		h.stale.Add(1)
		return false
	}
	h.mu.RLock()
	defer h.mu.RUnlock()
	for s := range h.tenants[tenant] {
		if s.match == nil || s.match(v) {
			h.offer(s, v)
		}
	}
	return true
}

func (h *Hub[T]) newest(key string, at time.Time) bool {
	h.latestMu.Lock()
	defer h.latestMu.Unlock()
	if last, ok := h.latest[key]; ok && at.Before(last) {
		return false
	}
	h.latest[key] = at
	return true
}

// offer queues v on s, dropping the oldest queued value when s is full.
// Close holds the write lock, so s.ch is open while the read lock is held.
func (h *Hub[T]) offer(s *HubSubscription[T], v T) {
	for {
		select {
		case s.ch <- v:
			h.delivered.Add(1)
			return
		default:
		}
		select {
		case <-s.ch:
			h.dropped.Add(1)
		default:
		}
	}
}

// Stats returns the hub's counters since it started.
func (h *Hub[T]) Stats() Stats {
	h.mu.RLock()
	n := 0
	for _, subs := range h.tenants {
		n += len(subs)
	}
	h.mu.RUnlock()
	return Stats{Published: h.published.Load(), Delivered: h.delivered.Load(), Dropped: h.dropped.Load(), Stale: h.stale.Load(), Subscriptions: n}
}
