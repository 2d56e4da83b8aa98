package livestatus

import (
	"context"
	"time"

	entsql "entgo.io/ent/dialect/sql"

	"switchboard/ent"
	"switchboard/ent/agent"
	"switchboard/ent/agentstatus"
	"switchboard/ent/agentstatuschange"
	"switchboard/ent/predicate"
	"switchboard/ent/schema"
	"switchboard/gid"
)

// entWriter writes with ent's own statements. It is SQLite's writer:
// SQLite runs in-process, where a statement costs no round trip, and
// serialises writers (its transactions begin IMMEDIATE, holding the write
// lock from their start), so what a transaction reads stays as read and a
// change always finds the agent as read. On PostgreSQL (tests run it there
// beside pgWriter) it locks with forUpdate.
type entWriter struct {
	// forUpdate locks the agent's row when asked to (SELECT ... FOR
	// UPDATE), on a store that does not serialise its writers.
	forUpdate bool
}

// readAgent implements writer.
func (w entWriter) readAgent(ctx context.Context, c *ent.Client, p predicate.Agent, lock bool, want ...gid.ID) (*ent.Agent, []*ent.AgentStatus, bool, error) {
	q := c.Agent.Query().Where(p)
	if lock && w.forUpdate {
		q.ForUpdate(entsql.WithLockTables(agent.Table))
	}
	a, err := q.First(ctx)
	if err != nil {
		return nil, nil, false, err
	}
	locked := lock || !w.forUpdate
	ids := want
	if a.CurrentStatusID != nil {
		ids = append(ids[:len(ids):len(ids)], *a.CurrentStatusID)
	}
	if len(ids) == 0 {
		return a, nil, locked, nil
	}
	statuses, err := c.AgentStatus.Query().Where(agentstatus.IDIn(ids...)).All(ctx)
	return a, statuses, locked, err
}

// move implements writer.
func (w entWriter) move(ctx context.Context, c *ent.Client, a *ent.Agent, previous, status *ent.AgentStatus, at time.Time,
	by string, source agentstatuschange.Source, connectEventID *string) error {
	// All three rows were just read under this viewer.
	ids := []gid.ID{a.ID, status.ID}
	if previous != nil {
		ids = append(ids, previous.ID)
	}
	ctx = schema.Vouch(ctx, ids...)
	u := c.Agent.Update().Where(agent.ID(a.ID))
	if w.forUpdate {
		// Not serialised: only if the agent is still as read.
		u.Where(asRead(a))
	}
	n, err := u.
		SetCurrentStatusID(status.ID).
		SetStatusSince(at).
		SetUpdatedAt(at).
		Save(ctx)
	if err != nil {
		return err
	}
	if n != 1 {
		return errChanged
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
	return change.Exec(ctx)
}

// asRead selects the agent a if it still holds what it held when read.
func asRead(a *ent.Agent) predicate.Agent {
	p := []predicate.Agent{agent.CurrentStatusIDIsNil(), agent.StatusSinceIsNil()}
	if a.CurrentStatusID != nil {
		p[0] = agent.CurrentStatusID(*a.CurrentStatusID)
	}
	if a.StatusSince != nil {
		p[1] = agent.StatusSince(*a.StatusSince)
	}
	return agent.And(p...)
}

// setAtOnce implements writer: ent has no one statement for a change.
func (entWriter) setAtOnce(context.Context, *ent.Client, atOnceChange) (atOnceRead, bool, error) {
	return atOnceRead{}, false, nil
}
