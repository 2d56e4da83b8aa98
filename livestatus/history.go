package livestatus

import (
	"context"
	"time"

	"entgo.io/ent/dialect/sql"

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/ent/agentstatuschange"
	"switchboard/gid"
	"switchboard/viewer"
)

// MaxHistoryRange bounds one history query.
const MaxHistoryRange = 93 * 24 * time.Hour

// maxIntervals bounds the intervals one history query returns.
const maxIntervals = 20000

// Interval is a span during which an agent held one status.
type Interval struct {
	Status    *ent.AgentStatus
	StartedAt time.Time
	EndedAt   time.Time
}

// History returns the agent's statuses over [from, to) as intervals clipped
// to it; an interval still going on ends now. An agent reads only its own.
func (s *Service) History(ctx context.Context, agentID gid.ID, from, to time.Time) ([]Interval, error) {
	v := viewer.FromContext(ctx)
	if !v.InTenant(viewer.RoleAgent) {
		return nil, apierror.New(apierror.Forbidden, "only a tenant's people read status history")
	}
	if agentID != v.AgentID && !v.InTenant(viewer.RoleSupervisor) {
		return nil, apierror.New(apierror.Forbidden, "an agent reads only its own history")
	}
	if !from.Before(to) {
		return nil, apierror.New(apierror.BadUserInput, "from must be before to")
	}
	if to.Sub(from) > MaxHistoryRange {
		return nil, apierror.New(apierror.BadUserInput, "at most %d days at a time", int(MaxHistoryRange/(24*time.Hour)))
	}
	c := s.client
	if tc := ent.FromContext(ctx); tc != nil {
		c = tc
	}
	if _, err := c.Agent.Get(ctx, agentID); err != nil {
		if ent.IsNotFound(err) {
			return nil, apierror.New(apierror.NotFound, "no such agent")
		}
		return nil, err
	}
	// In UTC, as the change log keeps them: SQLite compares times as text.
	from, to = from.UTC(), to.UTC()
	now := s.now().UTC()
	if to.After(now) {
		to = now
	}
	if !from.Before(to) {
		return []Interval{}, nil
	}
	first, err := c.AgentStatusChange.Query().
		Where(agentstatuschange.AgentID(agentID), agentstatuschange.ChangedAtLTE(from)).
		Order(agentstatuschange.ByChangedAt(sqlDesc()), agentstatuschange.ByID(sqlDesc())).
		WithStatus().
		First(ctx)
	if err != nil && !ent.IsNotFound(err) {
		return nil, err
	}
	changes, err := c.AgentStatusChange.Query().
		Where(agentstatuschange.AgentID(agentID), agentstatuschange.ChangedAtGT(from), agentstatuschange.ChangedAtLT(to)).
		Order(agentstatuschange.ByChangedAt(), agentstatuschange.ByID()).
		WithStatus().
		Limit(maxIntervals + 1).
		All(ctx)
	if err != nil {
		return nil, err
	}
	if len(changes) > maxIntervals {
		// Cut short, the last status would seem to last to the end.
		return nil, apierror.New(apierror.BadUserInput, "more than %d status changes in that range: ask for a shorter one", maxIntervals)
	}
	if first != nil {
		changes = append([]*ent.AgentStatusChange{first}, changes...)
	}
	out := make([]Interval, 0, len(changes))
	for i, ch := range changes {
		start := ch.ChangedAt
		if start.Before(from) {
			start = from
		}
		end := to
		if i+1 < len(changes) {
			end = changes[i+1].ChangedAt
		}
		if !start.Before(end) {
			continue
		}
		out = append(out, Interval{Status: ch.Edges.Status, StartedAt: start, EndedAt: end})
	}
	return out, nil
}

func sqlDesc() sql.OrderTermOption { return sql.OrderDesc() }
