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

	"switchboard/ent"
	"switchboard/ent/agent"
	"switchboard/ent/agentstatus"
	"switchboard/ent/agentstatuschange"
	"switchboard/ent/predicate"
	"switchboard/gid"
)

// pgWriter is PostgreSQL's writer. A status change is the hottest write
// switchboard makes, and on PostgreSQL every statement is a round trip:
//
//   - SetStatus's common case (no Amazon Connect to tell) is one statement,
//     setAtOnceSQL, which reads the agent and the statuses, and makes the
//     change if the rules allow it, without a transaction of its own: one
//     round trip, against four for a bare INSERT and NOTIFY in a
//     transaction (bench.BenchmarkStatusWrites).
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
type pgWriter struct{}

// statusesColumn is the extra column of readAgent's PostgreSQL query: the
// statuses it was asked for and the agent's current one, as a JSON array of
// rows, whose keys are the column names that ent's JSON tags also use.
const statusesColumn = "switchboard_statuses"

// readAgent implements writer. With lock, the agent's row stays locked
// until the transaction ends.
func (pgWriter) readAgent(ctx context.Context, c *ent.Client, p predicate.Agent, lock bool, want ...gid.ID) (*ent.Agent, []*ent.AgentStatus, bool, error) {
	q := c.Agent.Query().Where(p)
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
		return nil, nil, false, err
	}
	raw, err := a.Value(statusesColumn)
	if err != nil {
		return nil, nil, false, err
	}
	var text []byte
	switch v := raw.(type) {
	case []byte:
		text = v
	case string:
		text = []byte(v)
	default:
		return nil, nil, false, fmt.Errorf("livestatus: statuses read as %T", raw)
	}
	var statuses []*ent.AgentStatus
	if err := json.Unmarshal(text, &statuses); err != nil {
		return nil, nil, false, fmt.Errorf("livestatus: reading statuses: %w", err)
	}
	attach(c, nil, statuses)
	return a, statuses, lock, nil
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

// move implements writer. Its caller (Service.record) has made the
// checks that ent's builders make (validateChange).
func (pgWriter) move(ctx context.Context, c *ent.Client, a *ent.Agent, previous, status *ent.AgentStatus, at time.Time,
	by string, source agentstatuschange.Source, connectEventID *string) error {
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

// setAtOnceSQL reads an agent and the statuses involved and, if the facts
// of the change are among those the rules make at once ($7) and the agent
// is still as read, moves it to the status at $4 and appends the change, in
// one statement. The facts are read as factsSQL writes them; the rules are
// not in it. Whatever it does, it returns the agent as it read it (JSON,
// null when there is no such agent), the statuses involved (a JSON array),
// and when it moved the agent (null: it did not).
//
// $1 agent, $2 tenant, $3 status, $4 time, $5 change ID, $6 changed by,
// $7 the facts under which to make the change (rules.atOnce).
var setAtOnceSQL = `WITH a AS (
	SELECT * FROM agents WHERE id = $1 AND tenant_id = $2
), st AS (
	SELECT * FROM agent_status
	WHERE tenant_id = $2 AND (id = $3 OR id = (SELECT current_status_id FROM a))
), f AS (
	SELECT ` + factsSQL() + ` AS facts
	FROM a LEFT JOIN st ON st.id = $3
), moved AS (
	UPDATE agents SET current_status_id = $3, status_since = $4, updated_at = $4
	FROM a, f
	WHERE agents.id = a.id
		AND agents.current_status_id IS NOT DISTINCT FROM a.current_status_id
		AND agents.status_since IS NOT DISTINCT FROM a.status_since
		AND f.facts = ANY($7::int[])
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

// setAtOnce implements writer, with setAtOnceSQL.
func (pgWriter) setAtOnce(ctx context.Context, c *ent.Client, ch atOnceChange) (atOnceRead, bool, error) {
	if err := validateChange(ch.by, nil); err != nil {
		return atOnceRead{}, true, err
	}
	// The statement commits by itself: once sent, it runs to the end and its
	// change is published even if the caller goes meanwhile.
	qctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), statementTimeout)
	defer cancel()
	rows, err := c.QueryContext(qctx, setAtOnceSQL, string(ch.agent), string(ch.tenant), string(ch.status), ch.at,
		string(agentstatuschange.DefaultID()), ch.by, factsArray(ch.when))
	if err != nil {
		return atOnceRead{}, true, err
	}
	var agentJSON, statusesJSON []byte
	var changedAt sql.NullTime
	if rows.Next() {
		err = rows.Scan(&agentJSON, &statusesJSON, &changedAt)
	}
	if err = errors.Join(err, rows.Close(), rows.Err()); err != nil {
		return atOnceRead{}, true, err
	}
	read, err := readAtOnce(c, agentJSON, statusesJSON, changedAt)
	return read, true, err
}

// readAtOnce reads what setAtOnceSQL (or setManySQL) answered for a
// change: the agent and the statuses as JSON (no agent: the tenant has
// none such), and when the agent moved (null: it did not).
func readAtOnce(c *ent.Client, agentJSON, statusesJSON []byte, changedAt sql.NullTime) (atOnceRead, error) {
	var read atOnceRead
	if agentJSON == nil {
		return read, nil
	}
	read.agent = new(ent.Agent)
	if err := errors.Join(json.Unmarshal(agentJSON, read.agent), json.Unmarshal(statusesJSON, &read.statuses)); err != nil {
		return atOnceRead{}, fmt.Errorf("livestatus: reading the agent: %w", err)
	}
	attach(c, read.agent, read.statuses)
	if changedAt.Valid {
		at := changedAt.Time.UTC()
		read.changedAt = &at
	}
	return read, nil
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
