// Package livestatus is the heartbeat of the desktop: agents' status
// changes, recorded, then fanned out to every subscriber of the same tenant,
// in this process and, through a Relay, on every other replica.
package livestatus

import (
	"fmt"
	"sync"
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

// Broker fans events out to the subscriptions of their tenant: a Hub of
// status events keyed by agent. Publishing never blocks: a subscription
// that falls behind loses its oldest queued events, each counted as
// dropped; a reader that reconnects reads current statuses by query.
//
// Events of one agent are delivered in the order of their times: an event
// older than one already published for the agent is left out and counted
// (Stale). A change made on another replica can arrive through the relay
// after a later one made here; without this a wallboard would end on the
// older status.
type Broker struct {
	hub *Hub[*Event]
}

// NewBroker returns an empty broker.
func NewBroker() *Broker {
	return &Broker{hub: NewHub[*Event]()}
}

// Subscription receives the events of one tenant, optionally of some
// agents only. C is its channel; Close ends it.
type Subscription = HubSubscription[*Event]

// Subscribe registers a subscription to the tenant's events; agentIDs, when
// not empty, narrows it to those agents. The caller must Close it.
func (b *Broker) Subscribe(tenant gid.ID, agentIDs []gid.ID, buffer int) *Subscription {
	return b.hub.Subscribe(tenant, ofAgents(agentIDs, func(ev *Event) gid.ID { return ev.Agent.ID }), buffer)
}

// ofAgents returns a Hub filter that passes the values of the listed
// agents, or nil (every value) when there are none.
func ofAgents[T any](agentIDs []gid.ID, agent func(T) gid.ID) func(T) bool {
	if len(agentIDs) == 0 {
		return nil
	}
	set := make(map[gid.ID]bool, len(agentIDs))
	for _, id := range agentIDs {
		set[id] = true
	}
	return func(v T) bool { return set[agent(v)] }
}

// Publish delivers ev to every matching subscription of its tenant without
// blocking.
func (b *Broker) Publish(ev *Event) {
	b.hub.Publish(ev.TenantID(), string(ev.Agent.ID), ev.At, ev)
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
func (b *Broker) Stats() Stats { return b.hub.Stats() }

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
	// Messenger carries activity events to the other replicas; nil for a
	// single process.
	Messenger Messenger

	once        sync.Once
	activityHub *Hub[*ActivityEvent]
}

// activity returns the hub of activity events.
func (p *Publisher) activity() *Hub[*ActivityEvent] {
	p.once.Do(func() { p.activityHub = NewHub[*ActivityEvent]() })
	return p.activityHub
}

// PublishActivity delivers a committed activity event here and sends it to
// the other replicas.
func (p *Publisher) PublishActivity(ev *ActivityEvent) {
	p.activity().Publish(ev.Agent.TenantID, string(ev.Agent.ID), ev.Activity.EventAt, ev)
	if p.Messenger == nil {
		return
	}
	body, err := encodeActivity(ev)
	if err != nil {
		return // entities always encode
	}
	p.Messenger.SendMessage(Message{Topic: ActivityTopic, Tenant: ev.Agent.TenantID, Body: body})
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

// Message is a value other than a status event that the replicas share
// (an agent's activity, a tenant's queue figures): its topic names the
// kind and who decodes it; its body is the topic's own JSON.
type Message struct {
	Topic  string
	Tenant gid.ID
	Body   []byte
}

// Messenger carries messages to the other replicas, as Relay does events.
type Messenger interface {
	// SendMessage queues m for the other replicas; it must not block for
	// long. Delivery is best effort.
	SendMessage(m Message)
}

// Topics routes the messages of other replicas to the part of this one
// that reads each topic. It is safe for concurrent use; a topic is handled
// once registered, and messages of a topic nobody handles are refused.
type Topics struct {
	mu       sync.RWMutex
	handlers map[string]func(Message) error
}

// Handle registers f as the reader of topic's messages.
func (t *Topics) Handle(topic string, f func(Message) error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.handlers == nil {
		t.handlers = map[string]func(Message) error{}
	}
	t.handlers[topic] = f
}

// Receive hands m to its topic's reader.
func (t *Topics) Receive(m Message) error {
	t.mu.RLock()
	f := t.handlers[m.Topic]
	t.mu.RUnlock()
	if f == nil {
		return fmt.Errorf("livestatus: no reader of %q messages", m.Topic)
	}
	return f(m)
}
