package tenants

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"entgo.io/ent/dialect"

	"switchboard/ent"
	"switchboard/ent/tenant"
	"switchboard/gid"
	"switchboard/viewer"
)

// RetentionLockKey is the PostgreSQL advisory lock the replicas' retention
// jobs share.
const RetentionLockKey int64 = 0x5377_7265_7461_696e

// RetentionService is what the retention job acts as
// (viewer.SystemOperator).
const RetentionService = "retention"

// DefaultRetentionInterval is how often the retention job looks.
const DefaultRetentionInterval = time.Hour

// Retention decommissions each tenant that has been unsubscribed for
// longer than After, as an operator's decommissionTenant would: every row
// of it, in one transaction per tenant. Several replicas may each run one;
// with Lock, one at a time works. After zero is off: nothing is ever
// decommissioned unasked.
type Retention struct {
	Client  *ent.Client
	Service *Service
	After   time.Duration
	// Lock, when set, is tried first; ok false: another replica is at it.
	Lock     func(ctx context.Context) (release func(), ok bool, err error)
	Interval time.Duration
	Logger   *slog.Logger
	Now      func() time.Time
}

// Decommissioned is a tenant the retention job removed.
type Decommissioned struct {
	ID      gid.ID
	Name    string
	Deleted []Deleted
}

// Step decommissions every tenant unsubscribed before now less After and
// returns them.
func (r *Retention) Step(ctx context.Context) ([]Decommissioned, error) {
	if r.After <= 0 {
		return nil, nil
	}
	if r.Lock != nil {
		release, ok, err := r.Lock(ctx)
		if err != nil {
			return nil, fmt.Errorf("tenants: taking the retention lock: %w", err)
		}
		if !ok {
			return nil, nil
		}
		defer release()
	}
	now := time.Now()
	if r.Now != nil {
		now = r.Now()
	}
	cutoff := now.Add(-r.After)
	ctx = viewer.NewContext(ctx, viewer.SystemOperator(RetentionService))
	due, err := r.Client.Tenant.Query().
		Where(tenant.LifecycleEQ(tenant.LifecycleUNSUBSCRIBED), tenant.UnsubscribedAtLT(cutoff)).
		IDs(ctx)
	if err != nil {
		return nil, fmt.Errorf("tenants: tenants past retention: %w", err)
	}
	var out []Decommissioned
	var errs []error
	for _, id := range due {
		d, err := r.decommission(ctx, id, cutoff)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("tenant %s: %w", id, err))
		case d != nil:
			out = append(out, *d)
		}
	}
	return out, errors.Join(errs...)
}

// decommission removes the tenant if, read again under a row lock in the
// transaction, it is still unsubscribed since before cutoff: a tenant
// resubscribed meanwhile stays.
func (r *Retention) decommission(ctx context.Context, id gid.ID, cutoff time.Time) (*Decommissioned, error) {
	tx, err := r.Client.Tx(ctx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback() }()
	ctx = ent.NewTxContext(ctx, tx)
	q := tx.Tenant.Query().Where(tenant.ID(id))
	if r.Service.dialect == dialect.Postgres {
		q.ForUpdate()
	}
	t, err := q.Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil // decommissioned meanwhile
	}
	if err != nil {
		return nil, err
	}
	if t.Lifecycle != tenant.LifecycleUNSUBSCRIBED || t.UnsubscribedAt == nil || !t.UnsubscribedAt.Before(cutoff) {
		return nil, nil
	}
	deleted, err := r.Service.Decommission(ctx, tx.Client(), id, t.Name)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return &Decommissioned{ID: id, Name: t.Name, Deleted: deleted}, nil
}

// Run decommissions what is due now and then every Interval, until ctx
// ends. With After zero it returns at once.
func (r *Retention) Run(ctx context.Context) {
	if r.After <= 0 {
		return
	}
	interval, log := r.Interval, r.Logger
	if interval <= 0 {
		interval = DefaultRetentionInterval
	}
	if log == nil {
		log = slog.Default()
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		done, err := r.Step(ctx)
		if err != nil && ctx.Err() == nil {
			log.Error("tenants: decommissioning past retention", "err", err)
		}
		for _, d := range done {
			rows := 0
			for _, n := range d.Deleted {
				rows += n.Count
			}
			log.Info("tenants: decommissioned after its retention", "tenant", d.ID, "name", d.Name, "rows", rows, "after", r.After)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
