// Package usage counts what switchboard bills: active agent minutes, per
// tenant per UTC hour.
//
// An active agent minute is a UTC minute in which the agent held, for any
// part of it, a status that is not OFFLINE (the contract's definition). So
// an agent who comes online at 09:00:30 is active in the minute 09:00, and
// one who goes offline at 09:05:00 exactly is not active in the minute
// 09:05; a status held for no time at all (two changes at one instant)
// counts for nothing. The minutes are counted from the change log, which
// is exact at any instant; the minute record of package minutes samples
// each minute's start and would miss a short excursion.
//
// A Closer writes one UsageHour per tenant and hour once the hour has been
// over for a grace period, and counts minutes that reach the log later as
// late. A Meter sends each closed hour to AWS Marketplace once.
package usage

import (
	"context"
	"fmt"
	"time"

	"switchboard/ent"
	"switchboard/gid"
	"switchboard/minutes"
)

// Hour is a tenant's usage in one UTC hour.
type Hour struct {
	Hour time.Time
	// ActiveAgentMinutes are all the hour's active agent minutes known now;
	// for a closed hour, those counted at closing plus LateMinutes.
	ActiveAgentMinutes int
	// ActiveAgents are the distinct agents with an active minute.
	ActiveAgents int
	// LateMinutes reached the log after the hour closed: counted, not billed.
	LateMinutes int
	// Closed: the hour has its UsageHour row; Metered: AWS Marketplace has
	// answered for it.
	Closed, Metered bool
}

// Billed returns the minutes billed for the hour: those counted when it
// closed.
func (h Hour) Billed() int { return h.ActiveAgentMinutes - h.LateMinutes }

// Count returns the tenant's hours from the hour of from to the hour
// before to, counted from the change log: one Hour per UTC hour, zeros
// included. ctx's viewer must read the tenant's change log (a System
// viewer of the tenant, or one of its supervisors). It takes a constant
// number of statements per thousand agents, whatever the span.
func Count(ctx context.Context, c *ent.Client, tenantID gid.ID, from, to time.Time) ([]Hour, error) {
	from, to = HourOf(from), HourOf(to.Add(time.Hour-time.Nanosecond))
	n := int(to.Sub(from) / time.Hour)
	if n <= 0 {
		return nil, nil
	}
	hours := make([]Hour, n)
	for i := range hours {
		hours[i].Hour = from.Add(time.Duration(i) * time.Hour)
	}
	active, err := minutes.ActiveStatuses(ctx, c)
	if err != nil {
		return nil, err
	}
	err = minutes.EachAgentPage(ctx, c, tenantID, from, to, func(page []gid.ID, atStart map[gid.ID]gid.ID, byAgent map[gid.ID][]minutes.Change) error {
		for _, id := range page {
			if start, changes := atStart[id], byAgent[id]; start != "" || len(changes) > 0 {
				AddAgent(hours, from, start, changes, active)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("usage: %w", err)
	}
	return hours, nil
}

// AddAgent adds one agent's active minutes to hours, the consecutive UTC
// hours from from: the agent held atStart at from ("" for no status) and
// then changed as changes say, sorted by time, all within the hours.
// active says which statuses count.
func AddAgent(hours []Hour, from time.Time, atStart gid.ID, changes []minutes.Change, active func(gid.ID) bool) {
	end := from.Add(time.Duration(len(hours)) * time.Hour)
	counted := -1                   // the last minute (from from) counted
	lastHour := -1                  // the last hour this agent was counted active in
	mark := func(first, last int) { // minutes first..last, inclusive
		first = max(first, counted+1)
		for first <= last {
			h := first / 60
			upto := min(last, h*60+59)
			hours[h].ActiveAgentMinutes += upto - first + 1
			if h != lastHour {
				hours[h].ActiveAgents++
				lastHour = h
			}
			first = upto + 1
		}
		counted = max(counted, last)
	}
	cur, since := atStart, from
	segment := func(until time.Time) {
		if until.After(since) && active(cur) {
			first := int(since.Sub(from) / time.Minute)
			last := int((until.Sub(from)+time.Minute-1)/time.Minute) - 1
			mark(first, last)
		}
	}
	for _, c := range changes {
		if c.At.Before(since) || !c.At.Before(end) {
			continue
		}
		segment(c.At)
		cur, since = c.Status, c.At
	}
	segment(end)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// HourOf returns the start of the UTC hour that contains t.
func HourOf(t time.Time) time.Time { return t.UTC().Truncate(time.Hour) }
