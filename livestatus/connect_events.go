package livestatus

import (
	"context"
	"errors"
	"time"

	"entgo.io/ent/dialect/sql/sqlgraph"

	"switchboard/ent"
	"switchboard/ent/agent"
	"switchboard/ent/agentstatus"
	"switchboard/ent/agentstatuschange"
	"switchboard/ent/schema"
	"switchboard/viewer"
)

// ConnectEvent is a status an agent took in Amazon Connect, from the
// instance's agent event stream.
type ConnectEvent struct {
	EventID string
	// UserID is the Connect user, from the event's AgentARN.
	UserID string
	// StatusARN and StatusName name the agent status of the event's
	// current snapshot; StatusStart is when the agent took it.
	StatusARN, StatusName string
	StatusStart           time.Time
	// Activity is what the snapshot says the agent is doing; nil when the
	// event has no snapshot. An event may carry activity and no status.
	Activity *ConnectActivity
}

// ConnectResult says what became of each event of a batch.
type ConnectResult struct {
	Applied   int // moved an agent's current status
	Recorded  int // recorded as history only (older than the current status)
	Duplicate int // seen before (same event ID)
	Unchanged int // the agent already held that status
	Unknown   int // no agent or status maps to it
	Future    int // dated after now, beyond MaxClockSkew: refused
	// Activity counts the events that changed an agent's activity.
	Activity int
}

// MaxClockSkew is how far in the future an agent event may be dated and
// still be applied: Connect's clock and this server's disagree a little.
// Beyond it an event is refused, since applying it would date every later
// change of the agent after it.
const MaxClockSkew = 5 * time.Minute

// connectActor names the event stream's system viewer (viewer.System), and
// so the changes it records.
const connectActor = schema.ConnectEventsService

// ApplyConnectEvents applies a batch of the instance's agent events,
// idempotently (by event ID) and safely out of order (by the time the agent
// took the status): an event older than the agent's current status goes to
// history without changing the current status.
func (s *Service) ApplyConnectEvents(ctx context.Context, inst *ent.Instance, events []ConnectEvent) (ConnectResult, error) {
	ctx = viewer.NewContext(ctx, viewer.System(inst.TenantID, connectActor))
	var res ConnectResult
	for _, e := range events {
		if e.Activity != nil && e.EventID != "" && e.UserID != "" && !e.Activity.At.IsZero() &&
			!e.Activity.At.After(s.now().Add(MaxClockSkew)) {
			ev, err := s.applyActivity(ctx, e)
			if err != nil {
				return res, err
			}
			if ev != nil {
				res.Activity++
			}
		}
		if e.StatusStart.IsZero() && e.Activity != nil {
			continue // activity only
		}
		if e.EventID == "" || e.UserID == "" || e.StatusStart.IsZero() || (e.StatusARN == "" && e.StatusName == "") {
			res.Unknown++
			continue
		}
		if e.StatusStart.After(s.now().Add(MaxClockSkew)) {
			res.Future++
			continue
		}
		outcome, err := s.applyConnectEvent(ctx, e)
		if err != nil {
			return res, err
		}
		switch outcome {
		case outcomeApplied:
			res.Applied++
		case outcomeRecorded:
			res.Recorded++
		case outcomeDuplicate:
			res.Duplicate++
		case outcomeUnchanged:
			res.Unchanged++
		default:
			res.Unknown++
		}
	}
	return res, nil
}

type outcome int

const (
	outcomeUnknown outcome = iota
	outcomeApplied
	outcomeRecorded
	outcomeDuplicate
	outcomeUnchanged
)

func (s *Service) applyConnectEvent(ctx context.Context, e ConnectEvent) (outcome, error) {
	var out outcome
	err := s.inTx(ctx, func(ctx context.Context, c *ent.Client, tx *ent.Tx) error {
		seen, err := c.AgentStatusChange.Query().Where(agentstatuschange.ConnectEventID(e.EventID)).Exist(ctx)
		if err != nil {
			return err
		}
		if seen {
			out = outcomeDuplicate
			return nil
		}
		status, err := s.connectStatus(ctx, c, e)
		if ent.IsNotFound(err) {
			out = outcomeUnknown
			return nil
		}
		if err != nil {
			return err
		}
		at := e.StatusStart.UTC().Truncate(time.Microsecond)
		eventID := e.EventID
		for lock := false; ; lock = true { // as SetStatus does
			a, current, locked, err := s.w.readAgent(ctx, c, agent.ConnectUserID(e.UserID), lock)
			if ent.IsNotFound(err) {
				out = outcomeUnknown
				return nil
			}
			if err != nil {
				return err
			}
			if !begunBefore(a.StatusSince, at) {
				// Older than what the agent holds now: history only, unless
				// the change after it is to the same status. That is the
				// echo of a change made here and told to Connect: Connect
				// dates it a little before this server recorded it.
				next, err := c.AgentStatusChange.Query().
					Where(agentstatuschange.AgentID(a.ID), agentstatuschange.ChangedAtGT(at)).
					Order(agentstatuschange.ByChangedAt(), agentstatuschange.ByID()).
					First(ctx)
				if err != nil && !ent.IsNotFound(err) {
					return err
				}
				if next != nil && next.StatusID == status.ID {
					out = outcomeUnchanged
					return nil
				}
				err = c.AgentStatusChange.Create().
					SetAgentID(a.ID).SetStatusID(status.ID).SetChangedAt(at).
					SetChangedBy(connectActor).SetSource(agentstatuschange.SourceCONNECT).
					SetConnectEventID(eventID).
					Exec(ctx)
				out = outcomeRecorded
				return err
			}
			if holds(a, status.ID) {
				out = outcomeUnchanged // e.g. the echo of a change made here
				return nil
			}
			ev, err := s.record(ctx, c, a, pick(current, a.CurrentStatusID), status, at, connectActor, agentstatuschange.SourceCONNECT, &eventID)
			if errors.Is(err, errChanged) {
				if !locked {
					continue
				}
				out = outcomeUnknown // the agent went
				return nil
			}
			if err != nil {
				return err
			}
			s.afterCommit(tx, ev)
			out = outcomeApplied
			return nil
		}
	})
	if ent.IsConstraintError(err) || sqlgraph.IsUniqueConstraintError(err) {
		return outcomeDuplicate, nil // the same event, delivered twice at once
	}
	return out, err
}

// connectStatus maps an event's status to one of the tenant's, by ARN and
// then by name.
func (s *Service) connectStatus(ctx context.Context, c *ent.Client, e ConnectEvent) (*ent.AgentStatus, error) {
	if e.StatusARN != "" {
		st, err := c.AgentStatus.Query().Where(agentstatus.ConnectStatusArn(e.StatusARN)).First(ctx)
		if err == nil || !ent.IsNotFound(err) {
			return st, err
		}
	}
	return c.AgentStatus.Query().Where(agentstatus.Name(e.StatusName)).First(ctx)
}
