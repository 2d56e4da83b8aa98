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
	"switchboard/ent/schema"
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
	rules     rules
	// w writes to the store: pgWriter on PostgreSQL, entWriter on SQLite,
	// chosen once by NewService (writer.go).
	w writer
	// atOnce lists the facts under which the rules let a change be made in
	// one statement (rules.atOnce), for writers that can.
	atOnce []facts
	// batch makes changes at once in batches (batch_pg.go); nil but on
	// PostgreSQL.
	batch *batcher
	now   func() time.Time
}

// Options configure a Service.
type Options struct {
	Connect Connect
	// Postgres says the store is PostgreSQL: the agent's row is locked while
	// its status changes, and a change takes one statement or two
	// (writer_pg.go).
	Postgres bool
	Now      func() time.Time
}

// NewService returns the live status service.
func NewService(client *ent.Client, pub *Publisher, o Options) *Service {
	return newService(client, pub, o, writerFor(o.Postgres))
}

// newService returns the live status service writing with w.
func newService(client *ent.Client, pub *Publisher, o Options, w writer) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	r := rules{connect: o.Connect != nil}
	s := &Service{client: client, publisher: pub, connect: o.Connect, rules: r, w: w, atOnce: r.atOnce(), now: o.Now}
	if _, ok := w.(pgWriter); ok && client != nil {
		s.batch = newBatcher(client)
	}
	return s
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
	if a, done, err := s.setAtOnce(ctx, v, target, statusID); done {
		return a, err
	}
	var out *ent.Agent
	err = s.inTx(ctx, func(ctx context.Context, c *ent.Client, tx *ent.Tx) error {
		// Optimistic first: read without locking, and write only if the
		// agent is still as read. Lock the row when that failed, and before
		// telling Amazon Connect, which must not be told twice.
		for lock := false; ; lock = true {
			a, statuses, locked, err := s.w.readAgent(ctx, c, agent.ID(target), lock, statusID)
			if ent.IsNotFound(err) {
				return apierror.New(apierror.NotFound, "no such agent")
			}
			if err != nil {
				return err
			}
			ch, err := s.rules.judge(a, statuses, statusID, s.now())
			if err != nil {
				return err
			}
			switch ch.verdict {
			case unchanged:
				a.Edges.CurrentStatus = ch.status
				out = a
				return nil // already so: nothing to record
			case tellConnectFirst:
				if !locked {
					continue
				}
				if err := s.tellConnect(ctx, c, a, ch.status); err != nil {
					return err
				}
			}
			ev, err := s.record(ctx, c, a, ch.previous, ch.status, ch.at, v.Email, agentstatuschange.SourceDESKTOP, nil)
			if errors.Is(err, errChanged) {
				if !locked {
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

// The rules of a status change, each stated once, here, in Go. They look
// at facts: what one column of the agent or status as read says (writer.go
// reads each in Go and, for the statement that reads and moves at once, in
// SQL). Go alone combines them into a verdict; the one-statement path
// (setAtOnce) receives the verdicts as a parameter, the list of facts under
// which the change is made at once (rules.atOnce).

// rules are the rules of a status change, for a server that reaches
// Amazon Connect (connect) or not.
type rules struct {
	connect bool
}

// verdict is what the rules make of a change.
type verdict int

const (
	noSuchStatus     verdict = iota // refused: the status is not the tenant's
	disabledStatus                  // refused: the status is disabled
	unchanged                       // the agent holds the status already: nothing to record
	tellConnectFirst                // tell Amazon Connect, under the agent's lock, then change
	changeNow                       // change
)

// decide is the verdict on a change with the facts f: a status the tenant
// does not have or has disabled is refused; a status the agent holds
// already changes nothing; when the server reaches Amazon Connect and both
// the agent and the status map to it, Connect is told first (and a tenant
// without an instance is then told nothing: tellConnect).
func (r rules) decide(f facts) verdict {
	switch {
	case !f.has(statusFound):
		return noSuchStatus
	case !f.has(statusEnabled):
		return disabledStatus
	case f.has(statusHeld):
		return unchanged
	case r.connect && f.has(agentMapped) && f.has(statusMapped):
		return tellConnectFirst
	}
	return changeNow
}

// changeTime is when a change made now takes effect: now, to the
// microsecond that the stores keep, unless that is not after the agent's
// current status began (clocks of replicas differ), and then a microsecond
// after that, so that an agent's changes run in the order they were made
// and no interval of its history is negative.
func changeTime(now time.Time, since *time.Time) time.Time {
	at := now.UTC().Truncate(time.Microsecond)
	if !begunBefore(since, at) {
		at = since.UTC().Add(time.Microsecond)
	}
	return at
}

// begunBefore says whether a status held since `since` (nil: none held)
// began before at.
func begunBefore(since *time.Time, at time.Time) bool {
	return since == nil || at.After(*since)
}

// holds says whether the agent a, as read, holds the status statusID.
func holds(a *ent.Agent, statusID gid.ID) bool {
	return a.CurrentStatusID != nil && *a.CurrentStatusID == statusID
}

// atOnce lists the facts under which a change is made in one statement:
// the rules say change, and at the time asked, which is so when the agent's
// current status began before it (changeTime). Every other change is
// decided again by judge, on the agent read in a transaction.
func (r rules) atOnce() []facts {
	var out []facts
	for f := facts(0); f <= allFacts; f++ {
		if r.decide(f) == changeNow && f.has(statusBegunBefore) {
			out = append(out, f)
		}
	}
	return out
}

// change is the rules' judgement of a change of an agent to a status.
type change struct {
	status, previous *ent.AgentStatus // previous: nil when the agent holds none
	verdict          verdict          // unchanged, tellConnectFirst or changeNow
	at               time.Time        // when it takes effect (changeTime)
}

// judge applies the rules to a change made now of the agent a, as read, to
// statusID, among the statuses read with it; a refused change is an error.
func (r rules) judge(a *ent.Agent, statuses []*ent.AgentStatus, statusID gid.ID, now time.Time) (change, error) {
	ch := change{status: pick(statuses, &statusID), previous: pick(statuses, a.CurrentStatusID), at: changeTime(now, a.StatusSince)}
	ch.verdict = r.decide(factsOf(changeRead{agent: a, status: ch.status, statusID: statusID, at: now.UTC().Truncate(time.Microsecond)}))
	switch ch.verdict {
	case noSuchStatus:
		return ch, apierror.New(apierror.BadUserInput, "no such status")
	case disabledStatus:
		return ch, apierror.New(apierror.BadUserInput, "the status %q is disabled", ch.status.Name)
	}
	return ch, nil
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

// tellConnect pushes the status to the tenant's Connect instance, when the
// tenant has one.
func (s *Service) tellConnect(ctx context.Context, c *ent.Client, a *ent.Agent, status *ent.AgentStatus) error {
	// Issue 9 (perms): read on the viewer's behalf, which the Instance policy allows only under schema.ReadInstance.
	inst, err := instances.Find(schema.ReadInstance(ctx), c)
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
	if err := validateChange(by, connectEventID); err != nil {
		return nil, err
	}
	at = at.UTC().Truncate(time.Microsecond) // what both stores keep
	if err := s.w.move(ctx, c, a, previous, status, at, by, source, connectEventID); err != nil {
		return nil, err
	}
	return moved(a, previous, status, at), nil
}

// validateChange makes the checks that ent's builders make of a change's
// fields, for the writers' statements that are not ent's.
func validateChange(by string, connectEventID *string) error {
	if err := agentstatuschange.ChangedByValidator(by); err != nil {
		return fmt.Errorf("livestatus: changed by: %w", err)
	}
	if connectEventID != nil {
		if err := agentstatuschange.ConnectEventIDValidator(*connectEventID); err != nil {
			return fmt.Errorf("livestatus: Connect event ID: %w", err)
		}
	}
	return nil
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

// setAtOnce is SetStatus's common case in one statement, when the writer
// has one (setAtOnceSQL), in the request's transaction if there is one. It
// is not done, and has changed nothing, when the rules do not make the
// change at once (Amazon Connect must be told first, or the change time is
// not now) or the agent changed meanwhile; SetStatus's transaction then
// takes over.
func (s *Service) setAtOnce(ctx context.Context, v *viewer.Viewer, target, statusID gid.ID) (a *ent.Agent, done bool, err error) {
	c, tx := s.client, ent.TxFromContext(ctx)
	if tx != nil {
		c = tx.Client()
	}
	at := s.now().UTC().Truncate(time.Microsecond) // what the stores keep
	change := atOnceChange{agent: target, tenant: v.TenantID, status: statusID, at: at, by: v.Email, when: s.atOnce}
	var read atOnceRead
	var ok bool
	if tx == nil && s.batch != nil {
		read, err = s.batch.do(change)
		ok = true
	} else {
		read, ok, err = s.w.setAtOnce(ctx, c, change)
	}
	if !ok || err != nil {
		return nil, ok, err
	}
	if read.agent == nil {
		return nil, true, apierror.New(apierror.NotFound, "no such agent")
	}
	ch, err := s.rules.judge(read.agent, read.statuses, statusID, at)
	if err != nil {
		return nil, true, err
	}
	if ch.verdict == unchanged {
		read.agent.Edges.CurrentStatus = ch.status
		return read.agent, true, nil // already so: nothing to record
	}
	if read.changedAt == nil {
		return nil, false, nil
	}
	ev := moved(read.agent, ch.previous, ch.status, *read.changedAt)
	if tx != nil {
		s.afterCommit(tx, ev)
	} else {
		s.publisher.Publish(ev)
	}
	return ev.Agent, true, nil
}

// afterCommit publishes ev once tx commits.
func (s *Service) afterCommit(tx *ent.Tx, ev *Event) {
	onCommit(tx, func() { s.publisher.Publish(ev) })
}

// onCommit runs f once tx has committed, never when it fails.
func onCommit(tx *ent.Tx, f func()) {
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			if err := next.Commit(ctx, tx); err != nil {
				return err
			}
			f()
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
