// Package livestatus is the heartbeat of the desktop: agents' status
// changes, recorded, then fanned out to every subscriber of the same tenant,
// in this process and, through a Relay, on every other replica.
package livestatus

import (
	"sync"
	"sync/atomic"
	"time"

	"switchboard/ent"
	"switchboard/gid"
)

// Event is one committed change of an agent's status. Every subscription
// of this process receives the same *Event, so the pointer names the
// change here; its entities are shared by every subscriber and must not be
// modified.
type Event struct {
	// Agent is the agent after the change; Agent.Edges.CurrentStatus is Status.
	Agent    *ent.Agent       `json:"agent"`
	Status   *ent.AgentStatus `json:"status"`
	Previous *ent.AgentStatus `json:"previous,omitempty"`
	At       time.Time        `json:"at"`
}

// TenantID returns the tenant the event belongs to.
func (e *Event) TenantID() gid.ID { return e.Agent.TenantID }

// DefaultBuffer is a subscription's queue length before it coalesces.
const DefaultBuffer = 32

// Broker fans events out to the subscriptions of their tenant. Publishing
// never blocks: a subscription that falls behind loses its oldest queued
// events, each counted as dropped; a reader that reconnects reads current
// statuses by query.
//
// Events of one agent are delivered in the order of their times: an event
// older than one already published for the agent is left out and counted
// (Stale). A change made on another replica can arrive through the relay
// after a later one made here; without this a wallboard would end on the
// older status.
type Broker struct {
	mu      sync.RWMutex
	tenants map[gid.ID]map[*Subscription]struct{}

	latestMu sync.Mutex
	latest   map[gid.ID]time.Time // by agent: the time of the newest event published

	published atomic.Int64
	delivered atomic.Int64
	dropped   atomic.Int64
	stale     atomic.Int64
}

// NewBroker returns an empty broker.
func NewBroker() *Broker {
	return &Broker{tenants: map[gid.ID]map[*Subscription]struct{}{}, latest: map[gid.ID]time.Time{}}
}

// newest records ev as its agent's newest event, unless a newer one was
// published already.
func (b *Broker) newest(ev *Event) bool {
	b.latestMu.Lock()
	defer b.latestMu.Unlock()
	if last, ok := b.latest[ev.Agent.ID]; ok && ev.At.Before(last) {
		return false
	}
	b.latest[ev.Agent.ID] = ev.At
	return true
}

// Subscription receives the events of one tenant, optionally of some
// agents only.
type Subscription struct {
	broker *Broker
	tenant gid.ID
	agents map[gid.ID]bool // nil: every agent of the tenant
	ch     chan *Event
	once   sync.Once
}

// C is the subscription's event channel; it is closed by Close.
func (s *Subscription) C() <-chan *Event { return s.ch }

// Subscribe registers a subscription to the tenant's events; agentIDs, when
// not empty, narrows it to those agents. The caller must Close it.
func (b *Broker) Subscribe(tenant gid.ID, agentIDs []gid.ID, buffer int) *Subscription {
	if buffer <= 0 {
		buffer = DefaultBuffer
	}
	s := &Subscription{broker: b, tenant: tenant, ch: make(chan *Event, buffer)}
	if len(agentIDs) > 0 {
		s.agents = make(map[gid.ID]bool, len(agentIDs))
		for _, id := range agentIDs {
			s.agents[id] = true
		}
	}
	b.mu.Lock()
	subs := b.tenants[tenant]
	if subs == nil {
		subs = map[*Subscription]struct{}{}
		b.tenants[tenant] = subs
	}
	subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Close unregisters the subscription and closes its channel. It is safe to
// call more than once.
func (s *Subscription) Close() {
	s.once.Do(func() {
		b := s.broker
		b.mu.Lock()
		if subs := b.tenants[s.tenant]; subs != nil {
			delete(subs, s)
			if len(subs) == 0 {
				delete(b.tenants, s.tenant)
			}
		}
		close(s.ch)
		b.mu.Unlock()
	})
}

// Publish delivers ev to every matching subscription of its tenant without
// blocking.
func (b *Broker) Publish(ev *Event) {
	b.published.Add(1)
	if !b.newest(ev) {
		b.stale.Add(1)
		return
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	for s := range b.tenants[ev.TenantID()] {
		if s.agents != nil && !s.agents[ev.Agent.ID] {
			continue
		}
		b.offer(s, ev)
	}
}

// offer queues ev on s; when s is full it drops the oldest queued event.
// Close holds the write lock, so s.ch is open while the read lock is held.
func (b *Broker) offer(s *Subscription, ev *Event) {
	for {
		select {
		case s.ch <- ev:
			b.delivered.Add(1)
			return
		default:
		}
		select {
		case <-s.ch:
			b.dropped.Add(1)
		default:
		}
	}
}

// Stats are the broker's counters since it started.
type Stats struct {
	Published, Delivered, Dropped int64
	// Stale counts events left out because a newer one of the same agent
	// had been published.
	Stale         int64
	Subscriptions int
}

// Stats returns the broker's counters.
func (b *Broker) Stats() Stats {
	b.mu.RLock()
	n := 0
	for _, subs := range b.tenants {
		n += len(subs)
	}
	b.mu.RUnlock()
	return Stats{Published: b.published.Load(), Delivered: b.delivered.Load(), Dropped: b.dropped.Load(), Stale: b.stale.Load(), Subscriptions: n}
}

// Relay carries committed events to the other replicas of the service.
type Relay interface {
	// Send queues events for the other replicas; it must not block for long.
	Send(ev *Event)
}

// Publisher publishes a committed event locally and to the other replicas.
type Publisher struct {
	Broker *Broker
	Relay  Relay // nil for a single process (the embedded store)
	// OnPublish, when set, sees each committed event just before it fans
	// out (metrics, latency measurement).
	OnPublish func(*Event)
}

// Publish delivers ev here and sends it to the other replicas.
func (p *Publisher) Publish(ev *Event) {
	if p.OnPublish != nil {
		p.OnPublish(ev)
	}
	p.Broker.Publish(ev)
	if p.Relay != nil {
		p.Relay.Send(ev)
	}
}
