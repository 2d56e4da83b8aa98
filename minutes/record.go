package minutes

import (
	"context"
	"errors"
	"fmt"
	"time"

	"entgo.io/ent/dialect/sql"

	"switchboard/ent"
	"switchboard/ent/agent"
	"switchboard/ent/agentstatus"
	"switchboard/ent/agentstatuschange"
	"switchboard/ent/agentstatusday"
	"switchboard/gid"
	"switchboard/viewer"
)

// RecorderName names the recorder's system viewers (viewer.System, and
// viewer.SystemOperator to find the tenants).
const RecorderName = "recorder"

// pageSize is the number of agents Record reads at a time: the reads per
// page are a constant few, whatever the number of agents in it.
const pageSize = 1000

// upsertBatch is the number of rows per INSERT ... ON CONFLICT statement:
// 8 parameters a row keeps it well under both stores' limits.
const upsertBatch = 500

// DayStart returns 00:00 UTC of the UTC day that contains t.
func DayStart(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Record writes the minute record of the UTC day containing day for every
// agent of the tenant that held a status during it: it builds each agent's
// Day from the status held at 00:00 (the latest change before it) and the
// day's changes, and upserts its AgentStatusDay (unique per tenant, agent
// and day) with the active minutes, those in a status whose type is not
// OFFLINE. An agent with no status all day (none ever yet) gets no row.
// Recording a day again rewrites its rows with the same content, so Record
// is idempotent and may run again once late changes arrive.
//
// It takes a constant number of statements, never one per agent: one for
// the tenant's OFFLINE statuses, one for its agents, two per thousand
// agents for the change log (the status each held at 00:00, and the day's
// changes) and one upsert per 500 rows.
// Record acts as a supervisor of the tenant when ctx carries no viewer; a
// viewer in ctx must be a supervisor or admin of the tenant. Every read and
// write goes through ent's tenant privacy, so no other tenant's rows are
// read or written. It runs in a transaction of its own, or in the
// client's when the client is transactional.
func Record(ctx context.Context, client *ent.Client, tenantID gid.ID, day time.Time) (rows int, err error) {
	ctx, err = recorderContext(ctx, tenantID)
	if err != nil {
		return 0, err
	}
	dayStart := DayStart(day)
	tx, err := client.Tx(ctx)
	switch {
	case errors.Is(err, ent.ErrTxStarted):
		return record(ctx, client, tenantID, dayStart)
	case err != nil:
		return 0, fmt.Errorf("minutes: %w", err)
	}
	rows, err = record(ctx, tx.Client(), tenantID, dayStart)
	if err != nil {
		return 0, errors.Join(err, tx.Rollback())
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("minutes: commit: %w", err)
	}
	return rows, nil
}

// recorderContext returns ctx with the viewer Record acts as.
func recorderContext(ctx context.Context, tenantID gid.ID) (context.Context, error) {
	if tenantID == "" {
		return nil, errors.New("minutes: no tenant to record")
	}
	if v := viewer.FromContext(ctx); v != nil {
		if v.TenantID != tenantID || !v.InTenant(viewer.RoleSupervisor) {
			return nil, fmt.Errorf("minutes: the viewer may not record tenant %s: only its supervisors and admins may", tenantID)
		}
		return ctx, nil
	}
	return viewer.NewContext(ctx, viewer.System(tenantID, RecorderName)), nil
}

// heldRow and changeRow are the columns Record reads of a change.
type heldRow struct {
	AgentID  gid.ID  `sql:"agent_id"`
	StatusID *string `sql:"status_id"`
}

type changeRow struct {
	AgentID   gid.ID    `sql:"agent_id"`
	StatusID  gid.ID    `sql:"status_id"`
	ChangedAt time.Time `sql:"changed_at"`
}

func record(ctx context.Context, c *ent.Client, tenantID gid.ID, dayStart time.Time) (int, error) {
	dayEnd := dayStart.AddDate(0, 0, 1)
	active, err := ActiveStatuses(ctx, c)
	if err != nil {
		return 0, err
	}
	rows := 0
	err = EachAgentPage(ctx, c, tenantID, dayStart, dayEnd, func(page []gid.ID, atStart map[gid.ID]gid.ID, byAgent map[gid.ID][]Change) error {
		creates := make([]*ent.AgentStatusDayCreate, 0, len(page))
		for _, id := range page {
			start, changes := atStart[id], byAgent[id]
			if start == "" && len(changes) == 0 {
				continue // no status yet
			}
			d := Build(dayStart, start, changes)
			b, err := Encode(d)
			if err != nil {
				return fmt.Errorf("minutes: agent %s: %w", id, err)
			}
			creates = append(creates, c.AgentStatusDay.Create().
				SetAgentID(id).
				SetDay(dayStart).
				SetMinutes(b).
				SetActiveMinutes(d.CountMinutes(active)))
		}
		for len(creates) > 0 {
			batch := creates[:min(upsertBatch, len(creates))]
			creates = creates[len(batch):]
			err := c.AgentStatusDay.CreateBulk(batch...).
				OnConflictColumns(agentstatusday.FieldTenantID, agentstatusday.FieldAgentID, agentstatusday.FieldDay).
				Update(func(u *ent.AgentStatusDayUpsert) {
					u.UpdateMinutes()
					u.UpdateActiveMinutes()
					u.UpdateUpdatedAt()
				}).
				Exec(ctx)
			if err != nil {
				return fmt.Errorf("minutes: writing day rows: %w", err)
			}
			rows += len(batch)
		}
		return nil
	})
	return rows, err
}

// ActiveStatuses returns whether a status of the tenant in ctx counts as
// active: any status but none and the tenant's OFFLINE ones.
func ActiveStatuses(ctx context.Context, c *ent.Client) (func(gid.ID) bool, error) {
	statuses, err := c.AgentStatus.Query().
		Where(agentstatus.TypeEQ(agentstatus.TypeOFFLINE)).
		IDs(ctx)
	if err != nil {
		return nil, fmt.Errorf("minutes: statuses: %w", err)
	}
	offline := make(map[gid.ID]bool, len(statuses))
	for _, id := range statuses {
		offline[id] = true
	}
	return func(s gid.ID) bool { return s != "" && !offline[s] }, nil
}

// EachAgentPage reads the tenant's change log over [from, to) a page of
// agents at a time (pageSize, in ID order) and calls f with each page, the
// status each of its agents held at from (the latest change before it;
// absent: none yet) and each one's changes in the span, in order of time.
// Two statements per page, each an index scan bounded by the span (or, for
// the status held, one short backward scan per agent), so that the cost
// does not grow with the history before it.
func EachAgentPage(ctx context.Context, c *ent.Client, tenantID gid.ID, from, to time.Time,
	f func(page []gid.ID, atStart map[gid.ID]gid.ID, byAgent map[gid.ID][]Change) error) error {
	agents, err := c.Agent.Query().Order(agent.ByID()).IDs(ctx)
	if err != nil {
		return fmt.Errorf("minutes: agents: %w", err)
	}
	for len(agents) > 0 {
		page := agents[:min(pageSize, len(agents))]
		agents = agents[len(page):]

		held, err := heldAt(ctx, c, tenantID, from, page)
		if err != nil {
			return fmt.Errorf("minutes: statuses held at %s: %w", from.Format(time.RFC3339), err)
		}
		// The page's agents by name, not as a range of IDs: with an
		// equality on the agent, the index's changed_at bounds the scan to
		// the span, whatever the history before it.
		var changed []changeRow
		err = c.AgentStatusChange.Query().
			Where(
				agentstatuschange.AgentIDIn(page...),
				agentstatuschange.ChangedAtGTE(from), agentstatuschange.ChangedAtLT(to),
			).
			Order(agentstatuschange.ByAgentID(), agentstatuschange.ByChangedAt(), agentstatuschange.ByID()).
			Select(agentstatuschange.FieldAgentID, agentstatuschange.FieldStatusID, agentstatuschange.FieldChangedAt).
			Scan(ctx, &changed)
		if err != nil {
			return fmt.Errorf("minutes: changes: %w", err)
		}
		atStart := make(map[gid.ID]gid.ID, len(held))
		for _, h := range held {
			if h.StatusID != nil {
				atStart[h.AgentID] = gid.ID(*h.StatusID)
			}
		}
		byAgent := make(map[gid.ID][]Change)
		for _, ch := range changed { // ordered by agent, then time
			byAgent[ch.AgentID] = append(byAgent[ch.AgentID], Change{At: ch.ChangedAt, Status: ch.StatusID})
		}
		if err := f(page, atStart, byAgent); err != nil {
			return err
		}
	}
	return nil
}

// heldAt reads, for each agent of page, the status of its latest change
// before at: the status it held at that instant (nil: none yet). One
// statement: per agent a scalar subquery, a short backward scan of the
// (tenant_id, agent_id, changed_at) index.
func heldAt(ctx context.Context, c *ent.Client, tenantID gid.ID, at time.Time, page []gid.ID) ([]heldRow, error) {
	var held []heldRow
	err := c.Agent.Query().Where(agent.IDIn(page...)).Modify(func(s *sql.Selector) {
		d := sql.Dialect(s.Dialect())
		ch := d.Table(agentstatuschange.Table).As("held_change")
		latest := d.Select(ch.C(agentstatuschange.FieldStatusID)).
			From(ch).
			Where(sql.And(
				sql.EQ(ch.C(agentstatuschange.FieldTenantID), tenantID),
				sql.ColumnsEQ(ch.C(agentstatuschange.FieldAgentID), s.C(agent.FieldID)),
				sql.LT(ch.C(agentstatuschange.FieldChangedAt), at),
			)).
			OrderBy(sql.Desc(ch.C(agentstatuschange.FieldChangedAt)), sql.Desc(ch.C(agentstatuschange.FieldID))).
			Limit(1)
		s.Select(sql.As(s.C(agent.FieldID), "agent_id"))
		s.AppendSelectExprAs(sql.ExprFunc(func(b *sql.Builder) {
			b.Wrap(func(b *sql.Builder) { b.Join(latest) })
		}), "status_id")
	}).Scan(ctx, &held)
	return held, err
}
