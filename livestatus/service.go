package livestatus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"switchboard/ent"
	"switchboard/ent/agent"
	"switchboard/ent/agentstatus"
	"switchboard/ent/agentstatuschange"
	"switchboard/ent/predicate"
	"switchboard/ent/schema"
	"switchboard/failure"
	"switchboard/gid"
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
	lockRows  bool    // SELECT ... FOR UPDATE (PostgreSQL); SQLite serialises writers itself
	now       func() time.Time
}

// Options configure a Service.
type Options struct {
	Connect Connect
	// LockRows locks the agent's row while its status changes (PostgreSQL).
	LockRows bool
	Now      func() time.Time
}

// NewService returns the live status service.
func NewService(client *ent.Client, pub *Publisher, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Service{client: client, publisher: pub, connect: o.Connect, lockRows: o.LockRows, now: o.Now}
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
	var out *ent.Agent
	err = s.inTx(ctx, func(ctx context.Context, c *ent.Client, tx *ent.Tx) error {
		a, err := s.lockAgent(ctx, c, agent.ID(target))
		if ent.IsNotFound(err) {
			return failure.New(failure.NotFound, "no such agent")
		}
		if err != nil {
			return err
		}
		status, previous, err := s.statuses(ctx, c, statusID, a.CurrentStatusID)
		if err != nil {
			return err
		}
		if status == nil {
			return failure.New(failure.BadUserInput, "no such status")
		}
		if !status.Enabled {
			return failure.New(failure.BadUserInput, "the status %q is disabled", status.Name)
		}
		if previous != nil && previous.ID == status.ID {
			a.Edges.CurrentStatus = status
			out = a
			return nil // already so: nothing to record
		}
		if err := s.tellConnect(ctx, c, a, status); err != nil {
			return err
		}
		ev, err := s.record(ctx, c, a, previous, status, s.now(), v.Email, agentstatuschange.SourceDESKTOP, nil)
		if err != nil {
			return err
		}
		out = ev.Agent
		s.afterCommit(tx, ev)
		return nil
	})
	return out, err
}

// lockAgent reads the agent that p selects, locking its row on PostgreSQL
// until the transaction ends.
func (s *Service) lockAgent(ctx context.Context, c *ent.Client, p predicate.Agent) (*ent.Agent, error) {
	q := c.Agent.Query().Where(p)
	if s.lockRows {
		q = q.ForUpdate()
	}
	return q.First(ctx)
}

// statuses reads the status to set and the agent's current one (when it has
// one) in one query; status is nil when the tenant has no such status.
func (s *Service) statuses(ctx context.Context, c *ent.Client, statusID gid.ID, current *gid.ID) (status, previous *ent.AgentStatus, err error) {
	ids := []gid.ID{statusID}
	if current != nil {
		ids = append(ids, *current)
	}
	found, err := c.AgentStatus.Query().Where(agentstatus.IDIn(ids...)).All(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, st := range found {
		if st.ID == statusID {
			status = st
		}
		if current != nil && st.ID == *current {
			previous = st
		}
	}
	return status, previous, nil
}

// tellConnect pushes the status to the tenant's Connect instance, when the
// tenant has one and the agent and status map to it.
func (s *Service) tellConnect(ctx context.Context, c *ent.Client, a *ent.Agent, status *ent.AgentStatus) error {
	if s.connect == nil || a.ConnectUserID == "" || status.ConnectStatusID == "" {
		return nil
	}
	inst, err := c.Instance.Query().Only(ctx)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := s.connect.PutUserStatus(ctx, inst, a.ConnectUserID, status.ConnectStatusID); err != nil {
		return failure.Wrap(failure.Upstream, err, "Amazon Connect refused the status change")
	}
	return nil
}

// record moves the agent from previous (nil: none) to status at `at` and
// appends the change.
func (s *Service) record(ctx context.Context, c *ent.Client, a *ent.Agent, previous, status *ent.AgentStatus, at time.Time,
	by string, source agentstatuschange.Source, connectEventID *string) (*Event, error) {
	at = at.UTC().Truncate(time.Microsecond) // what both stores keep
	// All three rows were just read under this viewer.
	ids := []gid.ID{a.ID, status.ID}
	if previous != nil {
		ids = append(ids, previous.ID)
	}
	ctx = schema.Vouch(ctx, ids...)
	n, err := c.Agent.Update().
		Where(agent.ID(a.ID)).
		SetCurrentStatusID(status.ID).
		SetStatusSince(at).
		SetUpdatedAt(at).
		Save(ctx)
	if err != nil {
		return nil, err
	}
	if n != 1 {
		return nil, failure.New(failure.NotFound, "no such agent")
	}
	change := c.AgentStatusChange.Create().
		SetAgentID(a.ID).
		SetStatusID(status.ID).
		SetChangedAt(at).
		SetChangedBy(by).
		SetSource(source).
		SetNillableConnectEventID(connectEventID)
	if previous != nil {
		change.SetPreviousStatusID(previous.ID)
	}
	if err := change.Exec(ctx); err != nil {
		return nil, err
	}
	updated := *a
	updated.CurrentStatusID = &status.ID
	updated.StatusSince = &at
	updated.UpdatedAt = at
	updated.Edges.CurrentStatus = status
	return &Event{Agent: &updated, Status: status, Previous: previous, At: at}, nil
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
