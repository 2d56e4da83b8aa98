package seed

import (
	"context"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"time"

	"switchboard/ent"
	"switchboard/ent/agent"
	"switchboard/ent/agentstatuschange"
	"switchboard/ent/schema"
	"switchboard/gid"
	"switchboard/minutes"
	"switchboard/viewer"
)

// The status names a generated working day uses. Available and Offline are
// required of a tenant; a day skips an activity whose status it lacks.
const (
	StatusAvailable = "Available"
	StatusOffline   = "Offline"
	StatusBreak     = "Break"
	StatusLunch     = "Lunch"
	StatusMeeting   = "Meeting"
	StatusTraining  = "Training"
)

// HistoryActor is the changed_by of every change History writes.
const HistoryActor = "seed history"

// DemoHistoryDays is the past written for the demo tenant: four weeks.
const DemoHistoryDays = 28

// historyBatch is the number of changes per bulk INSERT: ten parameters a
// row keeps a statement well under both stores' limits.
const historyBatch = 500

// Activity is one status change of a generated working day: from At on, the
// agent holds the status named Status.
type Activity struct {
	At     time.Time
	Status string
}

// AgentSeed returns the seed of an agent's generated days, from a key that
// stays the same from one store to the next, such as the agent's email.
func AgentSeed(key string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(key))
	return h.Sum64()
}

// WorkDay returns the status changes of one agent's working day on the UTC
// day containing day, a function of the agent's seed and the date alone.
// Saturdays and Sundays (UTC) have none. Other days: a login (Available)
// between 08:00 and 09:30 UTC; a break of 10 to 15 minutes mid-morning; a
// meeting one day in four; lunch of 30 to 45 minutes around four hours in;
// training one afternoon in seven, or else a short break one in five; a
// break mid-afternoon; Available in between; and Offline when the shift of
// 8 to 9 hours is over. Times carry seconds and microseconds, as real ones do.
func WorkDay(agentSeed uint64, day time.Time) []Activity {
	start := minutes.DayStart(day)
	if wd := start.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return nil
	}
	r := rand.New(rand.NewPCG(agentSeed, uint64(start.Unix()/86400)))
	between := func(lo, hi time.Duration) time.Duration { // uniform in [lo, hi], to the microsecond
		return lo + time.Duration(r.Int64N(int64((hi-lo)/time.Microsecond)+1))*time.Microsecond
	}
	login := start.Add(8*time.Hour + between(0, 90*time.Minute))
	shiftEnd := login.Add(between(8*time.Hour, 9*time.Hour))
	out := []Activity{{At: login, Status: StatusAvailable}}
	cursor := login // the end of the latest activity
	// away puts the agent in status for dur, no earlier than at and at
	// least 10 minutes after the last activity, then back to Available.
	away := func(at time.Time, dur time.Duration, status string) {
		if earliest := cursor.Add(10 * time.Minute); at.Before(earliest) {
			at = earliest.Add(between(0, 5*time.Minute))
		}
		cursor = at.Add(dur)
		out = append(out, Activity{At: at, Status: status}, Activity{At: cursor, Status: StatusAvailable})
	}
	away(login.Add(between(105*time.Minute, 150*time.Minute)), between(10*time.Minute, 15*time.Minute), StatusBreak)
	if r.Float64() < 0.25 {
		away(cursor.Add(between(20*time.Minute, 50*time.Minute)), []time.Duration{30 * time.Minute, 45 * time.Minute}[r.IntN(2)], StatusMeeting)
	}
	away(login.Add(between(225*time.Minute, 270*time.Minute)), between(30*time.Minute, 45*time.Minute), StatusLunch)
	switch p := r.Float64(); {
	case p < 1.0/7:
		away(cursor.Add(between(15*time.Minute, 45*time.Minute)), between(60*time.Minute, 90*time.Minute), StatusTraining)
	case p < 1.0/7+0.2:
		away(cursor.Add(between(40*time.Minute, 80*time.Minute)), between(5*time.Minute, 8*time.Minute), StatusBreak)
	}
	away(login.Add(between(360*time.Minute, 400*time.Minute)), between(10*time.Minute, 15*time.Minute), StatusBreak)
	if earliest := cursor.Add(20 * time.Minute); shiftEnd.Before(earliest) {
		shiftEnd = earliest
	}
	return append(out, Activity{At: shiftEnd, Status: StatusOffline})
}

// History writes a realistic past for the tenant's agents (all but its
// admins): the changes of WorkDay for each of the `days` UTC days before
// the one containing now, appended to the change log with source SYSTEM,
// and then the minute record of each of those days (minutes.Record). It
// acts as a supervisor of the tenant, in one transaction, and is
// idempotent: it does nothing when the tenant's change log already holds a
// change older than 24 hours before now, or one History wrote.
func History(ctx context.Context, client *ent.Client, tenantID gid.ID, days int, now time.Time) error {
	if days <= 0 {
		return nil
	}
	ctx = viewer.NewContext(ctx, viewer.System(tenantID, "seed"))
	done, err := client.AgentStatusChange.Query().
		Where(agentstatuschange.Or(
			agentstatuschange.ChangedAtLT(now.Add(-24*time.Hour)),
			agentstatuschange.ChangedBy(HistoryActor),
		)).
		Exist(ctx)
	if err != nil {
		return fmt.Errorf("seed: history: %w", err)
	}
	if done {
		return nil
	}
	statuses, err := client.AgentStatus.Query().All(ctx)
	if err != nil {
		return fmt.Errorf("seed: history: statuses: %w", err)
	}
	byName := make(map[string]gid.ID, len(statuses))
	for _, s := range statuses {
		byName[s.Name] = s.ID
	}
	for _, name := range []string{StatusAvailable, StatusOffline} {
		if byName[name] == "" {
			return fmt.Errorf("seed: history: the tenant has no status %q", name)
		}
	}
	agents, err := client.Agent.Query().
		Where(agent.RoleNEQ(viewer.RoleAdmin)).
		Order(agent.ByEmail()).
		All(ctx)
	if err != nil {
		return fmt.Errorf("seed: history: agents: %w", err)
	}
	first := minutes.DayStart(now).AddDate(0, 0, -days)
	// The agents and statuses were just read under this viewer.
	read := make([]gid.ID, 0, len(agents)+len(statuses))
	for _, a := range agents {
		read = append(read, a.ID)
	}
	for _, s := range statuses {
		read = append(read, s.ID)
	}
	ctx = schema.Vouch(ctx, read...)

	tx, err := client.Tx(ctx)
	if err != nil {
		return fmt.Errorf("seed: history: %w", err)
	}
	if err := writeHistory(ctx, tx.Client(), tenantID, agents, byName, first, days); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("seed: history: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("seed: history: commit: %w", err)
	}
	return nil
}

func writeHistory(ctx context.Context, c *ent.Client, tenantID gid.ID, agents []*ent.Agent,
	byName map[string]gid.ID, first time.Time, days int) error {
	batch := make([]*ent.AgentStatusChangeCreate, 0, historyBatch)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := c.AgentStatusChange.CreateBulk(batch...).Exec(ctx)
		batch = batch[:0]
		return err
	}
	for _, a := range agents {
		seed := AgentSeed(a.Email)
		var prev *gid.ID
		for d := range days {
			for _, act := range WorkDay(seed, first.AddDate(0, 0, d)) {
				id, ok := byName[act.Status]
				if !ok || (prev != nil && *prev == id) {
					continue // a status the tenant lacks: the agent stays as it was
				}
				batch = append(batch, c.AgentStatusChange.Create().
					SetAgentID(a.ID).
					SetStatusID(id).
					SetNillablePreviousStatusID(prev).
					SetChangedAt(act.At).
					SetChangedBy(HistoryActor).
					SetSource(agentstatuschange.SourceSYSTEM))
				prev = &id
				if len(batch) == historyBatch {
					if err := flush(); err != nil {
						return fmt.Errorf("agent %s: %w", a.Email, err)
					}
				}
			}
		}
	}
	if err := flush(); err != nil {
		return err
	}
	for d := range days {
		if _, err := minutes.Record(ctx, c, tenantID, first.AddDate(0, 0, d)); err != nil {
			return err
		}
	}
	return nil
}
