// Package tenants keeps the tenant lifecycle: ACTIVE → UNSUBSCRIBED →
// ACTIVE again, or → decommissioned (every row of the tenant deleted). The
// operator's mutations and AWS Marketplace's notifications move it; the
// Gate refuses every credential of a tenant that is not active; the
// Retention job decommissions tenants unsubscribed for too long.
//
// Who may move a lifecycle is the Tenant policy's to say (ent/schema): only
// operators, or switchboard acting as one.
package tenants

import (
	"context"
	"time"

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/ent/tenant"
	"switchboard/gid"
)

// Service moves tenants through their lifecycle and tells the replica's
// Gate once each change has committed.
type Service struct {
	gate    *Gate
	dialect string
	now     func() time.Time
}

// NewService returns a Service over a store of the dialect (ent's name:
// sqlite3, postgres) whose changes gate learns of at once.
func NewService(gate *Gate, dialect string) *Service {
	return &Service{gate: gate, dialect: dialect, now: time.Now}
}

// Gate returns the service's gate.
func (s *Service) Gate() *Gate { return s.gate }

// Unsubscribe ends the tenant's subscription: every credential of it is
// refused from now on, and every record kept. Unsubscribing an
// unsubscribed tenant changes nothing (Marketplace may say it twice).
// client may be a transaction's; the gate learns of the change when it
// commits.
func (s *Service) Unsubscribe(ctx context.Context, client *ent.Client, id gid.ID) (*ent.Tenant, error) {
	t, err := get(ctx, client, id)
	if err != nil || t.Lifecycle == tenant.LifecycleUNSUBSCRIBED {
		return t, err
	}
	t, err = client.Tenant.UpdateOne(t).
		SetLifecycle(tenant.LifecycleUNSUBSCRIBED).
		SetUnsubscribedAt(s.now()).
		Save(ctx)
	if err != nil {
		return nil, err
	}
	s.afterCommit(ctx, client, func() { s.gate.changed(id, tenant.LifecycleUNSUBSCRIBED, true) })
	return t, nil
}

// Resubscribe makes an unsubscribed tenant active again, with everything
// it had; an active tenant is returned unchanged.
func (s *Service) Resubscribe(ctx context.Context, client *ent.Client, id gid.ID) (*ent.Tenant, error) {
	t, err := get(ctx, client, id)
	if err != nil || t.Lifecycle == tenant.LifecycleACTIVE {
		return t, err
	}
	t, err = client.Tenant.UpdateOne(t).
		SetLifecycle(tenant.LifecycleACTIVE).
		ClearUnsubscribedAt().
		Save(ctx)
	if err != nil {
		return nil, err
	}
	s.afterCommit(ctx, client, func() { s.gate.changed(id, tenant.LifecycleACTIVE, true) })
	return t, nil
}

func get(ctx context.Context, client *ent.Client, id gid.ID) (*ent.Tenant, error) {
	t, err := client.Tenant.Get(ctx, id)
	if ent.IsNotFound(err) {
		return nil, apierror.New(apierror.NotFound, "no such tenant")
	}
	return t, err
}

// afterCommit runs f once the transaction that client belongs to commits,
// or now when there is none.
func (s *Service) afterCommit(ctx context.Context, client *ent.Client, f func()) {
	if tx := ent.TxFromContext(ctx); tx != nil && tx.Client() == client {
		tx.OnCommit(func(next ent.Committer) ent.Committer {
			return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
				err := next.Commit(ctx, tx)
				if err == nil {
					f()
				}
				return err
			})
		})
		return
	}
	f()
}
