package livestatus

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/ent/agent"
	"switchboard/ent/agentstatus"
	"switchboard/ent/agentstatuschange"
	"switchboard/ent/predicate"
	"switchboard/ent/schema"
	"switchboard/gid"
	"switchboard/viewer"
)

// A status change is the hottest write switchboard makes. On PostgreSQL,
// where every statement is a round trip:
//
//   - SetStatus's common case (no Amazon Connect to tell) is one statement,
//     setAtOnceSQL, which reads the agent and the statuses, checks the change
//     and makes it, without a transaction of its own: one round trip, against
//     four for a bare INSERT and NOTIFY in a transaction
//     (bench.BenchmarkStatusWrites).
//   - Otherwise a change takes two statements in a transaction: readAgent
//     reads the agent together with the statuses, and move moves the agent
//     and appends the change.
//
// Both write optimistically: the agent moves only if it is still as read,
// and otherwise (errChanged, or setAtOnce not done) the caller reads again,
// locking the row. An agent's status rarely changes twice in the same
// milliseconds, and a lock taken on every change would cost a tenth of it.
// Amazon Connect is told only under the lock, so never twice.
//
// These statements name the tenant themselves: they are reached only
// through SetStatus and the Connect event stream, after viewer.ActingFor,
// and they select and write only rows of the viewer's tenant, which is what
// ent's privacy rules and edge checks would establish.
//
// SQLite runs in-process, where a statement costs no round trip, and
// serialises writers (transactions begin IMMEDIATE), so there ent's own
// statements do, and a change always finds the agent as read.

// statusesColumn is the extra column of readAgent's PostgreSQL query: the
// statuses it was asked for and the agent's current one, as a JSON array of
// rows, whose keys are the column names that ent's JSON tags also use.
const statusesColumn = "switchboard_statuses"

// errChanged says that the agent changed, or went, since it was read.
var errChanged = errors.New("livestatus: the agent changed since it was read")

// readAgent reads the agent that p selects within the viewer's tenant, and
// those of the tenant's statuses whose IDs are in want or that the agent
// holds now. With lock, on PostgreSQL, the agent's row stays locked until
// the transaction ends.
func (s *Service) readAgent(ctx context.Context, c *ent.Client, p predicate.Agent, lock bool, want ...gid.ID) (*ent.Agent, []*ent.AgentStatus, error) {
	q := c.Agent.Query().Where(p)
	if !s.postgres {
		a, err := q.First(ctx)
		if err != nil {
			return nil, nil, err
		}
		ids := want
		if a.CurrentStatusID != nil {
			ids = append(ids[:len(ids):len(ids)], *a.CurrentStatusID)
		}
		if len(ids) == 0 {
			return a, nil, nil
		}
		statuses, err := c.AgentStatus.Query().Where(agentstatus.IDIn(ids...)).All(ctx)
		return a, statuses, err
	}
	ids := make([]string, len(want))
	for i, id := range want {
		ids[i] = string(id)
	}
	if lock {
		q.ForUpdate(entsql.WithLockTables(agent.Table))
	}
	q.Modify(func(sel *entsql.Selector) {
		sel.AppendSelectExprAs(entsql.ExprFunc(func(b *entsql.Builder) {
			b.WriteString("(SELECT coalesce(json_agg(st), '[]') FROM ").Ident(agentstatus.Table).WriteString(" AS st WHERE st.").
				Ident(agentstatus.FieldTenantID).WriteString(" = ").WriteString(sel.C(agent.FieldTenantID)).
				WriteString(" AND (st.").Ident(agentstatus.FieldID).WriteString(" = ANY(").Arg(pq.StringArray(ids)).
				WriteString(") OR st.").Ident(agentstatus.FieldID).WriteString(" = ").WriteString(sel.C(agent.FieldCurrentStatusID)).
				WriteString("))")
		}), statusesColumn)
	})
	a, err := q.First(ctx)
	if err != nil {
		return nil, nil, err
	}
	raw, err := a.Value(statusesColumn)
	if err != nil {
		return nil, nil, err
	}
	var text []byte
	switch v := raw.(type) {
	case []byte:
		text = v
	case string:
		text = []byte(v)
	default:
		return nil, nil, fmt.Errorf("livestatus: statuses read as %T", raw)
	}
	var statuses []*ent.AgentStatus
	if err := json.Unmarshal(text, &statuses); err != nil {
		return nil, nil, fmt.Errorf("livestatus: reading statuses: %w", err)
	}
	attach(c, nil, statuses)
	return a, statuses, nil
}

// moveAndAppend is the PostgreSQL statement that moves an agent, if it is
// still as read, to a status and appends the change, in one round trip.
// $1 status, $2 time, $3 agent, $4 tenant, $5 change ID, $6 changed by,
// $7 source, $8 Connect event ID, $9 previous status (as read), $10 status
// since (as read).
var moveAndAppend = fmt.Sprintf(`WITH moved AS (UPDATE %[1]q SET %[2]q = $1, %[3]q = $2, %[4]q = $2
WHERE %[5]q = $3 AND %[6]q = $4 AND %[2]q IS NOT DISTINCT FROM $9 AND %[3]q IS NOT DISTINCT FROM $10 RETURNING %[5]q)
INSERT INTO %[7]q (%[8]q, %[9]q, %[10]q, %[11]q, %[12]q, %[13]q, %[14]q, %[15]q, %[16]q, %[17]q, %[18]q)
SELECT $5, $2, $2, $2, $6, $7, $8, moved.%[5]q, $4, $1, $9 FROM moved`,
	agent.Table, agent.FieldCurrentStatusID, agent.FieldStatusSince, agent.FieldUpdatedAt, agent.FieldID, agent.FieldTenantID,
	agentstatuschange.Table, agentstatuschange.FieldID, agentstatuschange.FieldCreatedAt, agentstatuschange.FieldUpdatedAt,
	agentstatuschange.FieldChangedAt, agentstatuschange.FieldChangedBy, agentstatuschange.FieldSource,
	agentstatuschange.FieldConnectEventID, agentstatuschange.FieldAgentID, agentstatuschange.FieldTenantID,
	agentstatuschange.FieldStatusID, agentstatuschange.FieldPreviousStatusID)

// move sets the agent a, as read, from previous to status, and appends the
// change to the record. It returns errChanged when the agent has changed or
// gone since it was read.
func (s *Service) move(ctx context.Context, c *ent.Client, a *ent.Agent, previous, status *ent.AgentStatus, at time.Time,
	by string, source agentstatuschange.Source, connectEventID *string) error {
	// The same checks as ent's builders make.
	if err := agentstatuschange.ChangedByValidator(by); err != nil {
		return fmt.Errorf("livestatus: changed by: %w", err)
	}
	if connectEventID != nil {
		if err := agentstatuschange.ConnectEventIDValidator(*connectEventID); err != nil {
			return fmt.Errorf("livestatus: Connect event ID: %w", err)
		}
	}
	if !s.postgres {
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
	// The agent and both statuses were read in this transaction within the
	// viewer's tenant (readAgent).
	var prev *string
	if previous != nil {
		prev = (*string)(&previous.ID)
	}
	res, err := c.ExecContext(ctx, moveAndAppend,
		string(status.ID), at, string(a.ID), string(a.TenantID), string(agentstatuschange.DefaultID()),
		by, string(source), connectEventID, prev, a.StatusSince)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n != 1 {
		return errChanged
	}
	return nil
}

// setAtOnceSQL moves an agent to a status and appends the change, in one
// statement, when the agent and the status are the tenant's, the status is
// enabled and not the agent's already, and Amazon Connect need not be told
// first. Whatever it does, it returns the agent as it read it (JSON, null
// when there is no such agent), the statuses involved (a JSON array), and
// when it moved the agent (null: it did not). Like changeTime, it moves
// the agent at $4 or, if that is not after the agent's current status began,
// a microsecond after that.
//
// $1 agent, $2 tenant, $3 status, $4 time, $5 change ID, $6 changed by,
// $7 whether Amazon Connect is told of changes it maps.
const setAtOnceSQL = `WITH a AS (
	SELECT * FROM agents WHERE id = $1 AND tenant_id = $2
), st AS (
	SELECT * FROM agent_status
	WHERE tenant_id = $2 AND (id = $3 OR id = (SELECT current_status_id FROM a))
), moved AS (
	UPDATE agents SET current_status_id = $3,
		status_since = greatest($4, a.status_since + interval '1 microsecond'),
		updated_at = greatest($4, a.status_since + interval '1 microsecond')
	FROM a
	WHERE agents.id = a.id
		AND agents.current_status_id IS NOT DISTINCT FROM a.current_status_id
		AND agents.status_since IS NOT DISTINCT FROM a.status_since
		AND a.current_status_id IS DISTINCT FROM $3
		AND EXISTS (SELECT FROM st WHERE st.id = $3 AND st.enabled
			AND NOT ($7 AND coalesce(a.connect_user_id, '') <> '' AND coalesce(st.connect_status_id, '') <> ''))
	RETURNING a.current_status_id AS previous_status_id, agents.status_since AS changed_at
), appended AS (
	INSERT INTO agent_status_changes
		(id, created_at, updated_at, changed_at, changed_by, source, agent_id, tenant_id, status_id, previous_status_id)
	SELECT $5, changed_at, changed_at, changed_at, $6, 'DESKTOP', $1, $2, $3, previous_status_id FROM moved
	RETURNING changed_at
)
SELECT (SELECT row_to_json(a) FROM a), (SELECT coalesce(json_agg(st), '[]') FROM st), (SELECT changed_at FROM appended)`

// statementTimeout bounds setAtOnce's statement, which outlives its caller.
const statementTimeout = 10 * time.Second

// setAtOnce is SetStatus's common case on PostgreSQL, in one statement
// (setAtOnceSQL), in the request's transaction if there is one. It is not
// done, and has changed nothing, when Amazon Connect must be told first or
// the agent changed while it ran; SetStatus's transaction then takes over.
func (s *Service) setAtOnce(ctx context.Context, v *viewer.Viewer, target, statusID gid.ID) (a *ent.Agent, done bool, err error) {
	if err := agentstatuschange.ChangedByValidator(v.Email); err != nil {
		return nil, true, fmt.Errorf("livestatus: changed by: %w", err)
	}
	c, tx := s.client, ent.TxFromContext(ctx)
	if tx != nil {
		c = tx.Client()
	}
	at := s.now().UTC().Truncate(time.Microsecond) // what PostgreSQL keeps
	// The statement commits by itself: once sent, it runs to the end and its
	// change is published even if the caller goes meanwhile.
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), statementTimeout)
	defer cancel()
	rows, err := c.QueryContext(qctx, setAtOnceSQL, string(target), string(v.TenantID), string(statusID), at,
		string(agentstatuschange.DefaultID()), v.Email, s.connect != nil)
	if err != nil {
		return nil, true, err
	}
	var agentJSON, statusesJSON []byte
	var changedAt sql.NullTime
	if rows.Next() {
		err = rows.Scan(&agentJSON, &statusesJSON, &changedAt)
	}
	if err = errors.Join(err, rows.Close(), rows.Err()); err != nil {
		return nil, true, err
	}
	if agentJSON == nil {
		return nil, true, apierror.New(apierror.NotFound, "no such agent")
	}
	a, statuses := new(ent.Agent), []*ent.AgentStatus(nil)
	if err := errors.Join(json.Unmarshal(agentJSON, a), json.Unmarshal(statusesJSON, &statuses)); err != nil {
		return nil, true, fmt.Errorf("livestatus: reading the agent: %w", err)
	}
	attach(c, a, statuses)
	status, previous, err := choose(statuses, statusID, a.CurrentStatusID)
	if err != nil {
		return nil, true, err
	}
	if previous == status {
		a.Edges.CurrentStatus = status
		return a, true, nil // already so: nothing to record
	}
	if !changedAt.Valid {
		return nil, false, nil
	}
	ev := moved(a, previous, status, changedAt.Time.UTC())
	if tx != nil {
		s.afterCommit(tx, ev)
	} else {
		s.publisher.Publish(ev)
	}
	return ev.Agent, true, nil
}

// attach readies entities decoded from PostgreSQL's JSON: bound to the
// client c, so that their edges can be queried (a mutation's answer or a
// subscriber may ask for them), and with their times, which PostgreSQL wrote
// in the session's time zone, in UTC.
func attach(c *ent.Client, a *ent.Agent, statuses []*ent.AgentStatus) {
	if a != nil {
		a.Attach(c)
		a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
		if a.StatusSince != nil {
			since := a.StatusSince.UTC()
			a.StatusSince = &since
		}
	}
	for _, st := range statuses {
		st.Attach(c)
		st.CreatedAt, st.UpdatedAt = st.CreatedAt.UTC(), st.UpdatedAt.UTC()
	}
}
