package minutes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"switchboard/ent"
	"switchboard/ent/tenant"
	"switchboard/gid"
	"switchboard/viewer"
)

// RecordAll records the day (see Record) for every tenant, an
// unsubscribed one included (its record is kept), each as its own recorder. A tenant that fails does not
// stop the others; the errors are joined.
func RecordAll(ctx context.Context, client *ent.Client, day time.Time) (rows int, err error) {
	op := viewer.NewContext(ctx, viewer.SystemOperator(RecorderName))
	tenants, err := client.Tenant.Query().
		Order(tenant.ByID()).
		IDs(op)
	if err != nil {
		return 0, fmt.Errorf("minutes: tenants: %w", err)
	}
	var errs []error
	for _, id := range tenants {
		if err := ctx.Err(); err != nil {
			return rows, err
		}
		n, err := Record(recorderOf(ctx, id), client, id, day)
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", id, err))
		}
		rows += n
	}
	return rows, errors.Join(errs...)
}

// LockKey is the PostgreSQL advisory lock the replicas' recorders share.
const LockKey int64 = 0x5377_4d69_6e73 // "SwMins"

// recorderOf returns ctx acting as the recorder of the tenant, whatever
// viewer ctx carried.
func recorderOf(ctx context.Context, tenantID gid.ID) context.Context {
	return viewer.NewContext(ctx, viewer.System(tenantID, RecorderName))
}

// Recorder keeps every tenant's minute record up to date: once a UTC day
// has been over for Grace, it records that day and, again, the day before
// it (for changes that reached the log late). Several replicas may each run
// one: with Lock, the replica that takes the lock records the day and the
// others leave it to that one; without, each records it (recording is
// idempotent, so the only cost is the repeated work).
type Recorder struct {
	Client *ent.Client
	// Lock, when set, is tried before recording a day: ok false means another
	// replica holds it and is recording, and the day is left to it (should
	// that replica fail, the next day's recording covers it again).
	Lock func(ctx context.Context) (release func(), ok bool, err error)
	// Interval is how often Run looks for a day to record (default 5 minutes).
	Interval time.Duration
	// Grace is how long after 00:00 UTC the past day is recorded (default
	// 15 minutes), for the changes still on their way.
	Grace time.Duration
	// Logger reports each recording (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time

	done time.Time // the latest day recorded
}

// Step records what is due: nothing, or the latest day over for Grace and
// the day before it. It returns the rows written.
func (r *Recorder) Step(ctx context.Context) (int, error) {
	now, grace := time.Now, r.Grace
	if r.Now != nil {
		now = r.Now
	}
	if grace <= 0 {
		grace = 15 * time.Minute
	}
	due := DayStart(now().Add(-grace)).AddDate(0, 0, -1)
	if !due.After(r.done) {
		return 0, nil
	}
	if r.Lock != nil {
		release, ok, err := r.Lock(ctx)
		if err != nil {
			return 0, fmt.Errorf("taking the recorder's lock: %w", err)
		}
		if !ok {
			r.done = due // another replica is recording it
			return 0, nil
		}
		defer release()
	}
	rows := 0
	for _, day := range []time.Time{due.AddDate(0, 0, -1), due} {
		n, err := RecordAll(ctx, r.Client, day)
		rows += n
		if err != nil {
			return rows, fmt.Errorf("recording %s: %w", day.Format(time.DateOnly), err)
		}
	}
	r.done = due
	return rows, nil
}

// Run records what is due now and then every Interval, until ctx ends. A
// failed step is logged and tried again at the next interval.
func (r *Recorder) Run(ctx context.Context) {
	interval, log := r.Interval, r.Logger
	if interval <= 0 {
		interval = 5 * time.Minute
	}
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		start := time.Now()
		switch rows, err := r.Step(ctx); {
		case err != nil && ctx.Err() == nil:
			log.Error("minute record", "err", err)
		case rows > 0:
			log.Info("minute record", "day", r.done.Format(time.DateOnly), "rows", rows, "took", time.Since(start).Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
