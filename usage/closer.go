package usage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"switchboard/ent"
	"switchboard/ent/schema"
	"switchboard/ent/tenant"
	"switchboard/ent/usagehour"
	"switchboard/gid"
	"switchboard/viewer"
)

// Defaults of a Closer.
const (
	DefaultGrace      = 15 * time.Minute
	DefaultLateWindow = 3 * time.Hour
	DefaultBackfill   = 31 * 24 * time.Hour
	DefaultInterval   = time.Minute
)

// CloserLockKey is the PostgreSQL advisory lock the replicas' closers share.
const CloserLockKey int64 = 0x5377_7573_6167_6501

// Closer closes each tenant's hours: once an hour has been over for Grace,
// it counts it and writes its UsageHour, whose active agent minutes are then
// fixed (they are what is billed). It counts the hours closed within
// LateWindow again, and minutes that reached the log since go to the row's
// late minutes. An hour that was never closed (a new tenant's first hours,
// a replica down for a while) is closed when found, back to Backfill.
//
// Several replicas may each run one; with Lock, one at a time closes.
// Closing is idempotent, so a second closer would only repeat the work.
type Closer struct {
	Client *ent.Client
	// Lock, when set, is tried first; ok false: another replica is closing.
	Lock                                  func(ctx context.Context) (release func(), ok bool, err error)
	Grace, LateWindow, Backfill, Interval time.Duration
	Logger                                *slog.Logger
	Now                                   func() time.Time
}

func (c *Closer) defaults() (grace, late, backfill time.Duration, now time.Time) {
	grace, late, backfill = c.Grace, c.LateWindow, c.Backfill
	if grace <= 0 {
		grace = DefaultGrace
	}
	if late <= 0 {
		late = DefaultLateWindow
	}
	if backfill <= 0 {
		backfill = DefaultBackfill
	}
	if c.Now != nil {
		return grace, late, backfill, c.Now()
	}
	return grace, late, backfill, time.Now()
}

// Due returns the hour after the last one closed at now: hours before it
// are over by grace.
func Due(now time.Time, grace time.Duration) time.Time { return HourOf(now.Add(-grace)) }

// Step closes what is due for every tenant and returns the hours written
// (new and late).
func (c *Closer) Step(ctx context.Context) (int, error) {
	if c.Lock != nil {
		release, ok, err := c.Lock(ctx)
		if err != nil {
			return 0, fmt.Errorf("usage: taking the closer's lock: %w", err)
		}
		if !ok {
			return 0, nil
		}
		defer release()
	}
	op := viewer.NewContext(ctx, viewer.SystemOperator(schema.UsageService))
	tenants, err := c.Client.Tenant.Query().Order(tenant.ByID()).Select(tenant.FieldID, tenant.FieldCreatedAt).All(op)
	if err != nil {
		return 0, fmt.Errorf("usage: tenants: %w", err)
	}
	written := 0
	var errs []error
	for _, t := range tenants {
		if err := ctx.Err(); err != nil {
			return written, err
		}
		n, err := c.CloseTenant(ctx, t.ID, t.CreatedAt)
		written += n
		if err != nil {
			errs = append(errs, fmt.Errorf("tenant %s: %w", t.ID, err))
		}
	}
	return written, errors.Join(errs...)
}

// CloseTenant closes the tenant's due hours (none before the hour it was
// created in) and counts late minutes of those closed within LateWindow.
func (c *Closer) CloseTenant(ctx context.Context, tenantID gid.ID, created time.Time) (int, error) {
	grace, late, backfill, now := c.defaults()
	due := Due(now, grace)
	ctx = viewer.NewContext(ctx, viewer.System(tenantID, schema.UsageService))
	start := later(HourOf(created), due.Add(-backfill))
	from := later(start, due.Add(-late))
	rows, err := c.Client.UsageHour.Query().
		Where(usagehour.HourGTE(start), usagehour.HourLT(due)).
		All(ctx)
	if err != nil {
		return 0, fmt.Errorf("usage: closed hours: %w", err)
	}
	closed := make(map[time.Time]*ent.UsageHour, len(rows))
	for _, r := range rows {
		closed[r.Hour.UTC()] = r
	}
	// The earliest hour not closed, if before the late window.
	for h := start; h.Before(from); h = h.Add(time.Hour) {
		if closed[h] == nil {
			from = h
			break
		}
	}
	if !from.Before(due) {
		return 0, nil
	}
	hours, err := Count(ctx, c.Client, tenantID, from, due)
	if err != nil {
		return 0, err
	}
	var creates []*ent.UsageHourCreate
	written := 0
	for _, h := range hours {
		row := closed[h.Hour]
		switch {
		case row == nil:
			creates = append(creates, c.Client.UsageHour.Create().
				SetHour(h.Hour).
				SetActiveAgentMinutes(h.ActiveAgentMinutes).
				SetActiveAgents(h.ActiveAgents))
		case h.ActiveAgentMinutes > row.ActiveAgentMinutes+row.LateMinutes:
			err := row.Update().
				SetLateMinutes(h.ActiveAgentMinutes - row.ActiveAgentMinutes).
				SetActiveAgents(max(row.ActiveAgents, h.ActiveAgents)).
				Exec(ctx)
			if err != nil {
				return written, fmt.Errorf("usage: late minutes of %s: %w", h.Hour.Format(time.RFC3339), err)
			}
			written++
		}
	}
	for len(creates) > 0 {
		batch := creates[:min(500, len(creates))]
		creates = creates[len(batch):]
		// Another closer may have closed an hour meanwhile: its count
		// stands (the first count of an hour is the one billed).
		err := c.Client.UsageHour.CreateBulk(batch...).
			OnConflictColumns(usagehour.FieldTenantID, usagehour.FieldHour).
			DoNothing().
			Exec(ctx)
		if err != nil {
			return written, fmt.Errorf("usage: closing hours: %w", err)
		}
		written += len(batch)
	}
	return written, nil
}

// Run closes what is due now and then every Interval, until ctx ends.
func (c *Closer) Run(ctx context.Context) {
	interval, log := c.Interval, c.Logger
	if interval <= 0 {
		interval = DefaultInterval
	}
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		switch n, err := c.Step(ctx); {
		case err != nil && ctx.Err() == nil:
			log.Error("usage: closing hours", "err", err)
		case n > 0:
			log.Info("usage: hours closed", "rows", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
