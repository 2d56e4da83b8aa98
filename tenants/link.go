package tenants

import (
	"context"

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/gid"
)

// Link attaches a pending AWS Marketplace subscription to a tenant: the
// buyer's identifiers move onto the tenant, which is metered from the next
// closed hour, and the pending subscription goes. Only operators may (the
// PendingSubscription and Tenant policies say so).
func Link(ctx context.Context, client *ent.Client, pendingID, tenantID gid.ID) (*ent.Tenant, error) {
	p, err := client.PendingSubscription.Get(ctx, pendingID)
	if ent.IsNotFound(err) {
		return nil, apierror.New(apierror.NotFound, "no such pending subscription")
	}
	if err != nil {
		return nil, err
	}
	t, err := get(ctx, client, tenantID)
	if err != nil {
		return nil, err
	}
	// A buyer has a customer identifier (older products) or an account
	// ID with a licence (newer ones); the other is cleared, not set empty.
	u := client.Tenant.UpdateOne(t).
		SetMarketplaceCustomerIdentifier(p.CustomerIdentifier).
		SetMarketplaceProductCode(p.ProductCode).
		SetMarketplaceLicenseArn(p.LicenseArn)
	if p.CustomerAWSAccountID != "" {
		u.SetMarketplaceAWSAccountID(p.CustomerAWSAccountID)
	} else {
		u.ClearMarketplaceAWSAccountID()
	}
	t, err = u.Save(ctx)
	if err != nil {
		return nil, err
	}
	if err := client.PendingSubscription.DeleteOne(p).Exec(ctx); err != nil {
		return nil, err
	}
	return t, nil
}
