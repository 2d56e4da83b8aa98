package livestatus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/ent/agent"
	"switchboard/ent/agentstatuschange"
	"switchboard/gid"
	"switchboard/instances"
	"switchboard/viewer"
)

// Connect is what the service asks of a tenant's Amazon Connect instance.
type Connect interface {
	// PutUserStatus sets the Connect user's agent status in the tenant's instance.
	PutUserStatus(ctx context.Context, inst *ent.Instance, userID, agentStatusID string) error
	// ListAgentStatuses lists the instance's agent statuses.
	ListAgentStatuses(ctx context.Context, inst *ent.Instance) ([]ConnectStatus, error)
}

// Service records status changes and publishes them once committed.
type Service struct {
	client    *ent.Client
	publisher *Publisher
	connect   Connect // nil: no tenant reaches Amazon Connect
	postgres  bool    // see statements.go; SQLite serialises writers itself
	now       func() time.Time
}

// Options configure a Service.
type Options struct {
	Connect Connect
	// Postgres says the store is PostgreSQL: the agent's row is locked while
	// its status changes, and a change takes two statements (statements.go).
	Postgres bool
	Now      func() time.Time
}

// NewService returns the live status service.
func NewService(client *ent.Client, pub *Publisher, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{client: client, publisher: pub, connect: o.Connect, postgres: o.Postgres, now: o.Now}
}

// Broker returns the in-process broker that subscriptions read from.
func (s *Service) Broker() *Broker { return s.publisher.Broker }

// SetStatus changes an agent's status: the viewer's own agent when agentID
// is nil, or, for supervisors and admins, any agent of the tenant. When the
// tenant has an Amazon Connect instance and both the agent and the status
// are mapped to it, Connect is told first, and a refusal records nothing.
// The change is appended to the record and published after commit.
func (s *Service) SetStatus(ctx context.Context, agentID *gid.ID, statusID gid.ID) (*ent.Agent, error) {
	v := viewer.FromContext(ctx)
	target, err := v.ActingFor(agentID, "set statuses")
	if err != nil {
		return nil, err
	}
	if s.postgres {
		if a, done, err := s.setAtOnce(ctx, v, target, statusID); done {
			return a, err
		}
	}
	var out *ent.Agent
	err = s.inTx(ctx, func(ctx context.Context, c *ent.Client, tx *ent.Tx) error {
		// Optimistic first: read without locking, and write only if the
		// agent is still as read. Lock the row when that failed, and before
		// telling Amazon Connect, which must not be told twice.
		for lock := false; ; lock = true {
			a, statuses, err := s.readAgent(ctx, c, agent.ID(target), lock, statusID)
			if ent.IsNotFound(err) {
				return apierror.New(apierror.NotFound, "no such agent")
			}
			if err != nil {
				return err
			}
			status, previous, err := choose(statuses, statusID, a.CurrentStatusID)
			if err != nil {
				return err
			}
			if previous == status {
				a.Edges.CurrentStatus = status
				out = a
				return nil // already so: nothing to record
			}
			if s.tellsConnect(a, status) {
				if !lock && s.postgres {
					continue
				}
				if err := s.tellConnect(ctx, c, a, status); err != nil {
					return err
				}
			}
			ev, err := s.record(ctx, c, a, previous, status, changeTime(s.now(), a.StatusSince), v.Email, agentstatuschange.SourceDESKTOP, nil)
			if errors.Is(err, errChanged) {
				if !lock {
					continue
				}
				return apierror.New(apierror.NotFound, "no such agent")
			}
			if err != nil {
				return err
			}
			out = ev.Agent
			s.afterCommit(tx, ev)
			return nil
		}
	})
	return out, err
}

// changeTime is when a change made now takes effect: now, to the
// microsecond that the stores keep, unless that is not after the agent's
// current status began (clocks of replicas differ), and then a microsecond
// after that, so that an agent's changes run in the order they were made
// and no interval of its history is negative.
func changeTime(now time.Time, since *time.Time) time.Time {
	at := now.UTC().Truncate(time.Microsecond)
	if since != nil && !at.After(*since) {
		at = since.UTC().Add(time.Microsecond)
	}
	return at
}

// choose finds, among the statuses read, the one to set (statusID) and the
// agent's current one (nil: none), and refuses a status the tenant does not
// have or has disabled.
func choose(statuses []*ent.AgentStatus, statusID gid.ID, current *gid.ID) (status, previous *ent.AgentStatus, err error) {
	status, previous = pick(statuses, &statusID), pick(statuses, current)
	if status == nil {
		return nil, nil, apierror.New(apierror.BadUserInput, "no such status")
	}
	if !status.Enabled {
		return nil, nil, apierror.New(apierror.BadUserInput, "the status %q is disabled", status.Name)
	}
	return status, previous, nil
}

// pick returns the status whose ID is id, or nil.
func pick(statuses []*ent.AgentStatus, id *gid.ID) *ent.AgentStatus {
	for _, st := range statuses {
		if id != nil && st.ID == *id {
			return st
		}
	}
	return nil
}

// tellsConnect says whether a change of the agent to status goes to Amazon
// Connect first: when both map to it (and the tenant has an instance).
func (s *Service) tellsConnect(a *ent.Agent, status *ent.AgentStatus) bool {
	return s.connect != nil && a.ConnectUserID != "" && status.ConnectStatusID != ""
}

// tellConnect pushes the status to the tenant's Connect instance, when the
// tenant has one.
func (s *Service) tellConnect(ctx context.Context, c *ent.Client, a *ent.Agent, status *ent.AgentStatus) error {
	inst, err := instances.Find(ctx, c)
	if err != nil || inst == nil {
		return err
	}
	if err := s.connect.PutUserStatus(ctx, inst, a.ConnectUserID, status.ConnectStatusID); err != nil {
		return apierror.Wrap(apierror.Upstream, err, "Amazon Connect refused the status change")
	}
	return nil
}

// record moves the agent from previous (nil: none) to status at `at` and
// appends the change.
func (s *Service) record(ctx context.Context, c *ent.Client, a *ent.Agent, previous, status *ent.AgentStatus, at time.Time,
	by string, source agentstatuschange.Source, connectEventID *string) (*Event, error) {
	at = at.UTC().Truncate(time.Microsecond) // what both stores keep
	if err := s.move(ctx, c, a, previous, status, at, by, source, connectEventID); err != nil {
		return nil, err
	}
	return moved(a, previous, status, at), nil
}

// moved is the event of agent a, as read, moving from previous to status at `at`.
func moved(a *ent.Agent, previous, status *ent.AgentStatus, at time.Time) *Event {
	updated := *a
	updated.CurrentStatusID = &status.ID
	updated.StatusSince = &at
	updated.UpdatedAt = at
	updated.Edges.CurrentStatus = status
	return &Event{Agent: &updated, Status: status, Previous: previous, At: at}
}

// afterCommit publishes ev once tx commits.
func (s *Service) afterCommit(tx *ent.Tx, ev *Event) {
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			if err := next.Commit(ctx, tx); err != nil {
				return err
			}
			s.publisher.Publish(ev)
			return nil
		})
	})
}

// inTx runs f in the request's transaction, or in a new one.
func (s *Service) inTx(ctx context.Context, f func(context.Context, *ent.Client, *ent.Tx) error) error {
	if tx := ent.TxFromContext(ctx); tx != nil {
		return f(ctx, tx.Client(), tx)
	}
	tx, err := s.client.Tx(ctx)
	if err != nil {
		return err
	}
	ctx = ent.NewTxContext(ent.NewContext(ctx, tx.Client()), tx)
	if err := f(ctx, tx.Client(), tx); err != nil {
		if rerr := tx.Rollback(); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("livestatus: commit: %w", err)
	}
	return nil
}
