// Package onboarding holds what an admin's first day asks of switchboard
// about the tenant's own AWS account: today, the least-privilege policy for
// the tenant's role.
package onboarding

import (
	"context"
	"slices"

	"switchboard/apierror"
	"switchboard/connectaws"
	"switchboard/connectaws/arn"
	"switchboard/ent"
	"switchboard/instances"
	"switchboard/mail"
)

// Policy is the least-privilege IAM policy for the tenant's role and the
// modules it covers.
type Policy struct {
	Document string
	Modules  []string
}

// IAMPolicy generates the policy for the tenant's role from
// connectaws.Permissions, scoped to its instance's account, region and
// instance, its email buckets and SES identities, and its QuickSight
// dashboard, for the modules it has enabled. Admins only (reading the
// instance is theirs). m may be nil (no email on this server): the email
// module's buckets are then unknown and its statements left out.
func IAMPolicy(ctx context.Context, c *ent.Client, m *mail.Service) (Policy, error) {
	inst, err := instances.Get(ctx, c)
	if err != nil {
		return Policy{}, err
	}
	a, err := arn.Parse(inst.InstanceArn)
	if err != nil {
		return Policy{}, apierror.New(apierror.BadUserInput, "the instance's ARN does not parse: configure the instance again")
	}
	scope := connectaws.Scope{Partition: a.Partition, Account: a.Account, Region: inst.Region, InstanceARN: inst.InstanceArn, InstanceAlias: inst.Alias,
		QuickSightAccount: inst.ReportingAccountID, QuickSightDashboard: inst.ReportingDashboardID, QuickSightUser: inst.ReportingUserArn}
	modules := []string{}
	if mail.Enabled(inst) && m != nil {
		content, attachments := m.BucketNames(inst.TenantID, inst.Alias)
		scope.Buckets = []string{content, attachments}
		addrs, err := c.EmailAddress.Query().All(ctx)
		if err != nil {
			return Policy{}, err
		}
		for _, ad := range addrs {
			if ad.SesIdentityArn != "" && !slices.Contains(scope.SESIdentities, ad.SesIdentityArn) {
				scope.SESIdentities = append(scope.SESIdentities, ad.SesIdentityArn)
			}
		}
		modules = append(modules, connectaws.ModuleEmail)
	}
	for _, mod := range []string{connectaws.ModuleReporting, connectaws.ModuleProfiles, connectaws.ModuleAI} {
		if instances.HasModule(inst, mod) {
			modules = append(modules, mod)
		}
	}
	doc, err := connectaws.Policy(scope, modules)
	if err != nil {
		return Policy{}, err
	}
	return Policy{Document: doc.JSON(), Modules: modules}, nil
}
