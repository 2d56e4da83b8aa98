// Package instances owns each tenant's Amazon Connect instance record:
// finding it, configuring it, and the key its agent event stream presents.
// The AWS clients that reach the instance are connectaws's, its ARN's
// grammar connectaws/arn's.
package instances

import (
	"context"
	"errors"
	"slices"
	"strings"

	"switchboard/apierror"
	"switchboard/connectaws/arn"
	"switchboard/credential"
	"switchboard/ent"
	"switchboard/ent/instance"
	"switchboard/ent/privacy"
	"switchboard/gid"
)

// NoAWS is the error of a request for AWS on a server that reaches none
// (no AWS configured, as in tests of the store alone).
func NoAWS() error {
	return apierror.New(apierror.BadUserInput, "this server does not reach AWS")
}

// HasModule reports whether inst (nil: no instance) has the module name
// enabled; module names are compared without regard to case.
func HasModule(inst *ent.Instance, name string) bool {
	return inst != nil && slices.ContainsFunc(inst.Modules, func(m string) bool { return strings.EqualFold(m, name) })
}

// Get returns the tenant's instance, as c reads it for the viewer of ctx;
// a BAD_USER_INPUT error "configure the Amazon Connect instance first" when
// the tenant has none. The Instance policy lets the tenant's admins read it,
// and any viewer of the tenant under schema.ReadInstance(ctx): code that
// uses the instance on a non-admin's behalf marks ctx so.
func Get(ctx context.Context, c *ent.Client) (*ent.Instance, error) {
	inst, err := Find(ctx, c)
	if err == nil && inst == nil {
		return nil, apierror.New(apierror.BadUserInput, "configure the Amazon Connect instance first")
	}
	return inst, err
}

// Find returns the tenant's instance, as c reads it for the viewer of ctx
// (see Get), or nil when the tenant has none: for callers to whom no
// instance is no error.
func Find(ctx context.Context, c *ent.Client) (*ent.Instance, error) {
	inst, err := c.Instance.Query().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, nil
	}
	return inst, err
}

// ForTenant returns tenant's instance whoever the viewer is: for callers
// that act for a tenant they learnt of from a source they trust (the name
// of the tenant's own bucket), not for a viewer.
func ForTenant(ctx context.Context, c *ent.Client, tenantID gid.ID) (*ent.Instance, error) {
	return c.Instance.Query().Where(instance.TenantID(tenantID)).Only(privacy.DecisionContext(ctx, privacy.Allow))
}

// InAccount returns the instances, of any tenant, that are in the AWS
// account: for callers that know only the account (of an SNS topic).
func InAccount(ctx context.Context, c *ent.Client, account string) ([]*ent.Instance, error) {
	if account == "" {
		return nil, nil
	}
	insts, err := c.Instance.Query().
		Where(instance.InstanceArnContains(":" + account + ":instance/")).
		All(privacy.DecisionContext(ctx, privacy.Allow))
	if err != nil {
		return nil, err
	}
	out := insts[:0]
	for _, inst := range insts {
		if a, err := arn.ParseInstance(inst.InstanceArn); err == nil && a.Account == account {
			out = append(out, inst)
		}
	}
	return out, nil
}

// Config is how a tenant reaches its Amazon Connect instance.
type Config struct {
	InstanceARN, Alias, Region, RoleARN, ExternalID, ChatContactFlowID string
	Modules                                                            []string
}

// Configure creates or replaces the tenant's instance settings.
func Configure(ctx context.Context, c *ent.Client, in Config) (*ent.Instance, error) {
	if a, err := arn.Parse(in.InstanceARN); err == nil && a.Region != in.Region {
		return nil, apierror.New(apierror.BadUserInput, "the instance ARN's region is %q, not %q", a.Region, in.Region)
	}
	existing, err := Find(ctx, c)
	if err != nil {
		return nil, err
	}
	if existing == nil {
		return c.Instance.Create().
			SetInstanceArn(in.InstanceARN).SetAlias(in.Alias).SetRegion(in.Region).
			SetRoleArn(in.RoleARN).SetExternalID(in.ExternalID).SetChatContactFlowID(in.ChatContactFlowID).
			SetModules(in.Modules).
			Save(ctx)
	}
	return existing.Update().
		SetInstanceArn(in.InstanceARN).SetAlias(in.Alias).SetRegion(in.Region).
		SetRoleArn(in.RoleARN).SetExternalID(in.ExternalID).SetChatContactFlowID(in.ChatContactFlowID).
		SetModules(in.Modules).
		Save(ctx)
}

// RotateAgentEventKey gives the tenant's instance a new key for the agent
// event stream's delivery and returns it; only its hash is kept, and the
// key it replaces no longer works.
func RotateAgentEventKey(ctx context.Context, c *ent.Client) (string, error) {
	inst, err := Get(ctx, c)
	if err != nil {
		return "", err
	}
	key, hash := credential.New("sbe_")
	if err := inst.Update().SetAgentEventKeyHash(hash).Exec(ctx); err != nil {
		return "", err
	}
	return key, nil
}

// ForAgentEventKey finds the instance whose agent event key is key, with
// its tenant, across tenants: the key is the caller's only credential. It
// is looked up by the key's SHA-256, so the comparison leaks nothing of the
// key. A key of no instance is ent's not-found error.
func ForAgentEventKey(ctx context.Context, c *ent.Client, key string) (*ent.Instance, error) {
	if key == "" {
		return nil, errors.New("instances: no key")
	}
	// Whether the tenant is active is the caller's tenants.Gate to say.
	return c.Instance.Query().Where(instance.AgentEventKeyHash(credential.Hash(key))).WithTenant().
		Only(privacy.DecisionContext(ctx, privacy.Allow))
}
