package livestatus

import (
	"context"
	"fmt"
	"slices"
	"time"

	"entgo.io/ent/dialect/sql"

	"switchboard/ent"
	"switchboard/ent/agentstatuschange"
	"switchboard/ent/predicate"
	"switchboard/ent/tenant"
	"switchboard/gid"
	"switchboard/viewer"
)

// MaxChangesSince bounds what ChangesSince reads of one tenant.
const MaxChangesSince = 50_000

// RefillName is the system viewer ChangesSince reads as.
const RefillName = "live status refill"

// ChangesSince returns, for every agent of every tenant whose status
// changed at or after since, the event of its latest change, oldest first:
// what a replica that missed the other replicas' events for a while
// publishes to catch its subscribers up (pgrelay's Refill). Only the
// latest counts, as a wallboard shows where each agent is now. Each
// tenant's changes are read as that tenant's system viewer, so that the
// data layer's tenancy holds here too.
func ChangesSince(ctx context.Context, client *ent.Client, since time.Time) ([]*Event, error) {
	tenants, err := client.Tenant.Query().
		Where(changedSince(since)).
		IDs(viewer.NewContext(ctx, viewer.SystemOperator(RefillName)))
	if err != nil {
		return nil, fmt.Errorf("livestatus: the tenants changed since %v: %w", since, err)
	}
	var events []*Event
	for _, id := range tenants {
		changes, err := client.AgentStatusChange.Query().
			Where(agentstatuschange.ChangedAtGTE(since)).
			Order(ent.Desc(agentstatuschange.FieldChangedAt), ent.Desc(agentstatuschange.FieldID)).
			Limit(MaxChangesSince).
			WithAgent().WithStatus().WithPreviousStatus().
			All(viewer.NewContext(ctx, viewer.System(id, RefillName)))
		if err != nil {
			return nil, fmt.Errorf("livestatus: tenant %s's changes since %v: %w", id, since, err)
		}
		seen := map[gid.ID]bool{}
		for _, c := range changes {
			if seen[c.AgentID] || c.Edges.Agent == nil || c.Edges.Status == nil {
				continue
			}
			seen[c.AgentID] = true
			events = append(events, moved(c.Edges.Agent, c.Edges.PreviousStatus, c.Edges.Status, c.ChangedAt))
		}
	}
	slices.SortStableFunc(events, func(a, b *Event) int { return a.At.Compare(b.At) })
	return events, nil
}

// changedSince holds for the tenants with a status change at or after t.
func changedSince(t time.Time) predicate.Tenant {
	return func(s *sql.Selector) {
		c := sql.Table(agentstatuschange.Table)
		s.Where(sql.Exists(sql.Select(c.C(agentstatuschange.FieldID)).From(c).Where(sql.And(
			sql.ColumnsEQ(c.C(agentstatuschange.FieldTenantID), s.C(tenant.FieldID)),
			sql.GTE(c.C(agentstatuschange.FieldChangedAt), t),
		))))
	}
}
