package livestatus

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"entgo.io/ent/dialect/sql/sqlgraph"

	"switchboard/ent"
	"switchboard/ent/agent"
	"switchboard/ent/agentactivity"
	"switchboard/ent/schema/schematype"
	"switchboard/gid"
	"switchboard/viewer"
)

// ActivityTopic is the Message topic of activity events between replicas.
const ActivityTopic = "activity"

// maxActivityContacts bounds the contacts kept of one agent: Connect's
// concurrency allows ten chats and ten tasks at most, and a relayed event
// must fit in a notification.
const maxActivityContacts = 20

// ConnectActivity is what an agent event's current snapshot says the agent
// is doing: its contacts and the status Connect will apply next.
type ConnectActivity struct {
	// At is the event's timestamp: activity from an older event than the
	// one applied changes nothing.
	At       time.Time
	Contacts []schematype.ActivityContact
	// NextStatusARN and NextStatusName name the status the agent chose
	// while on a contact; empty when none.
	NextStatusARN, NextStatusName string
}

// ActivityEvent is one committed change of an agent's activity. Every
// subscriber receives the same *ActivityEvent: its entities must not be
// modified.
type ActivityEvent struct {
	// Agent is the agent; Activity.Edges.NextStatus is loaded.
	Agent    *ent.Agent         `json:"agent"`
	Activity *ent.AgentActivity `json:"activity"`
}

// activeStates are the contact states in which an agent is on the contact.
var activeStates = map[string]bool{
	"INCOMING": true, "PENDING": true, "CONNECTING": true, "CONNECTED": true,
	"CONNECTED_ONHOLD": true, "PAUSED": true,
}

// afterContactWork is the state of a contact that has ended while its
// agent finishes the work after it.
const afterContactWork = "ENDED"

// doing is what a set of contacts says an agent is doing.
type doing struct {
	onContact, afterWork bool
	start                time.Time // the earliest start of the contacts that make it so
}

func doingOf(contacts []schematype.ActivityContact) doing {
	var d doing
	for _, c := range contacts {
		counts := false
		switch {
		case activeStates[c.State]:
			d.onContact, counts = true, true
		case c.State == afterContactWork:
			d.afterWork, counts = true, true
		}
		if counts && !c.Since.IsZero() && (d.start.IsZero() || c.Since.Before(d.start)) {
			d.start = c.Since
		}
	}
	return d
}

// applyActivity records the activity of e, unless an activity of a newer
// event (or of the same one) is recorded; it returns the committed change
// to publish, or nil when nothing visible changed.
func (s *Service) applyActivity(ctx context.Context, e ConnectEvent) (*ActivityEvent, error) {
	act := e.Activity
	at := act.At.UTC().Truncate(time.Microsecond)
	contacts := act.Contacts
	if len(contacts) > maxActivityContacts {
		contacts = contacts[:maxActivityContacts]
	}
	for i := range contacts {
		contacts[i].Since = contacts[i].Since.UTC().Truncate(time.Microsecond)
	}
	for attempt := 0; ; attempt++ {
		var out *ActivityEvent
		err := s.inTx(ctx, func(ctx context.Context, c *ent.Client, tx *ent.Tx) error {
			a, err := c.Agent.Query().Where(agent.ConnectUserID(e.UserID)).First(ctx)
			if ent.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
			cur, err := c.AgentActivity.Query().Where(agentactivity.AgentID(a.ID)).Only(ctx)
			if err != nil && !ent.IsNotFound(err) {
				return err
			}
			if cur != nil && (cur.EventID == e.EventID || cur.EventAt.After(at)) {
				return nil // seen, or older than what is recorded
			}
			next, err := s.nextStatus(ctx, c, act)
			if err != nil {
				return err
			}
			d := doingOf(contacts)
			since := d.start
			switch {
			case cur != nil && cur.OnContact == d.onContact && cur.AfterContactWork == d.afterWork:
				since = cur.Since // still doing the same
			case since.IsZero():
				since = at
			}
			if cur != nil && cur.Since.Equal(since) && slices.Equal(cur.Contacts, contacts) && sameStatus(cur.NextStatusID, next) {
				return nil // a heartbeat: nothing to show
			}
			var saved *ent.AgentActivity
			if cur == nil {
				saved, err = c.AgentActivity.Create().
					SetAgentID(a.ID).SetEventID(e.EventID).SetEventAt(at).
					SetOnContact(d.onContact).SetAfterContactWork(d.afterWork).SetSince(since).
					SetContacts(contacts).SetNillableNextStatusID(idOf(next)).
					Save(ctx)
			} else {
				u := c.AgentActivity.UpdateOne(cur).
					Where(agentactivity.EventAtLTE(at)). // none newer recorded meanwhile
					SetEventID(e.EventID).SetEventAt(at).
					SetOnContact(d.onContact).SetAfterContactWork(d.afterWork).SetSince(since).
					SetContacts(contacts)
				if next == nil {
					u.ClearNextStatusID()
				} else {
					u.SetNextStatusID(next.ID)
				}
				saved, err = u.Save(ctx)
			}
			if ent.IsNotFound(err) {
				return nil // a newer event was recorded meanwhile
			}
			if err != nil {
				return err
			}
			saved.Edges.NextStatus = next
			out = &ActivityEvent{Agent: a, Activity: saved}
			onCommit(tx, func() { s.publisher.PublishActivity(out) })
			return nil
		})
		if (ent.IsConstraintError(err) || sqlgraph.IsUniqueConstraintError(err)) && attempt == 0 {
			continue // the agent's first activity, recorded at once by another delivery: read it
		}
		return out, err
	}
}

// nextStatus maps the status Connect will apply next to one of the
// tenant's, by ARN and then by name; nil when none is named or none maps.
func (s *Service) nextStatus(ctx context.Context, c *ent.Client, act *ConnectActivity) (*ent.AgentStatus, error) {
	if act.NextStatusARN == "" && act.NextStatusName == "" {
		return nil, nil
	}
	st, err := s.connectStatus(ctx, c, ConnectEvent{StatusARN: act.NextStatusARN, StatusName: act.NextStatusName})
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return st, err
}

func sameStatus(id *gid.ID, st *ent.AgentStatus) bool {
	if id == nil || st == nil {
		return id == nil && st == nil
	}
	return *id == st.ID
}

func idOf(st *ent.AgentStatus) *gid.ID {
	if st == nil {
		return nil
	}
	return &st.ID
}

// SubscribeActivity returns the viewer's tenant's activity changes, of the
// listed agents only when agentIDs is not empty, until ctx ends; who may
// watch whom is as for statuses (Subscribe).
func (s *Service) SubscribeActivity(ctx context.Context, agentIDs []gid.ID) (<-chan *ActivityEvent, error) {
	tenant, agentIDs, err := watching(viewer.FromContext(ctx), agentIDs)
	if err != nil {
		return nil, err
	}
	sub := s.publisher.activity().Subscribe(tenant, ofAgents(agentIDs, func(ev *ActivityEvent) gid.ID { return ev.Agent.ID }), DefaultBuffer)
	context.AfterFunc(ctx, sub.Close)
	return sub.C(), nil
}

// wireActivity is an activity event between replicas: the agent's and the
// activity's entities, without their edges but the next status.
type wireActivity struct {
	Agent      *ent.Agent         `json:"agent"`
	Activity   *ent.AgentActivity `json:"activity"`
	NextStatus *ent.AgentStatus   `json:"nextStatus,omitempty"`
}

func encodeActivity(ev *ActivityEvent) ([]byte, error) {
	a, act := *ev.Agent, *ev.Activity
	a.Edges, act.Edges = ent.AgentEdges{}, ent.AgentActivityEdges{}
	w := wireActivity{Agent: &a, Activity: &act}
	if st := ev.Activity.Edges.NextStatus; st != nil {
		copied := *st
		copied.Edges = ent.AgentStatusEdges{}
		w.NextStatus = &copied
	}
	return json.Marshal(w)
}

// ReceiveActivity publishes here an activity event that another replica
// committed (a Message of ActivityTopic); c, when not nil, is what its
// entities are bound to.
func (p *Publisher) ReceiveActivity(m Message, c *ent.Client) error {
	var w wireActivity
	if err := json.Unmarshal(m.Body, &w); err != nil {
		return fmt.Errorf("livestatus: an activity message: %w", err)
	}
	if w.Agent == nil || w.Activity == nil || w.Agent.TenantID != m.Tenant || w.Activity.TenantID != m.Tenant ||
		w.Activity.AgentID != w.Agent.ID || (w.NextStatus != nil && w.NextStatus.TenantID != m.Tenant) {
		return fmt.Errorf("livestatus: an activity message that is not of one agent of tenant %s", m.Tenant)
	}
	if c != nil {
		w.Agent.Attach(c)
		w.Activity.Attach(c)
		if w.NextStatus != nil {
			w.NextStatus.Attach(c)
		}
	}
	w.Activity.Edges.NextStatus = w.NextStatus
	p.activity().Publish(m.Tenant, string(w.Agent.ID), w.Activity.EventAt, &ActivityEvent{Agent: w.Agent, Activity: w.Activity})
	return nil
}

// ActivityStats returns the counters of the activity subscriptions here.
func (s *Service) ActivityStats() Stats { return s.publisher.activity().Stats() }
