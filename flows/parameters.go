// Package flows is what Amazon Connect contact flows ask switchboard while
// a caller waits: whether a schedule is open, and the operational
// parameters admins set. The flows reach it at /flows through the tenant's
// forwarding Lambda (cmd/flows-lambda), with the tenant's flows key.
package flows

import (
	"context"
	"strings"

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/ent/operationalparameter"
	"switchboard/gid"
)

// Parameters returns the tenant's operational parameters, of group alone
// when it is not nil, by group and key.
func Parameters(ctx context.Context, c *ent.Client, group *string) ([]*ent.OperationalParameter, error) {
	q := c.OperationalParameter.Query()
	if group != nil {
		q.Where(operationalparameter.GroupName(*group))
	}
	return q.Order(operationalparameter.ByGroupName(), operationalparameter.ByKey()).All(ctx)
}

// SetParameter sets the value of key in group, creating the parameter if
// the tenant has none of that name. The Operational parameter schema
// checks the names, the value's length and the tenant's count.
func SetParameter(ctx context.Context, c *ent.Client, group, key, value string) (*ent.OperationalParameter, error) {
	group, key = strings.TrimSpace(group), strings.TrimSpace(key)
	p, err := c.OperationalParameter.Query().
		Where(operationalparameter.GroupName(group), operationalparameter.Key(key)).
		Only(ctx)
	switch {
	case err == nil:
		return p.Update().SetValue(value).Save(ctx)
	case !ent.IsNotFound(err):
		return nil, err
	}
	p, err = c.OperationalParameter.Create().SetGroupName(group).SetKey(key).SetValue(value).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, apierror.New(apierror.Conflict, "the parameter was created meanwhile; set it again")
	}
	return p, err
}

// DeleteParameter deletes the tenant's parameter id.
func DeleteParameter(ctx context.Context, c *ent.Client, id gid.ID) error {
	err := c.OperationalParameter.DeleteOneID(id).Exec(ctx)
	if ent.IsNotFound(err) {
		return apierror.New(apierror.NotFound, "no such operational parameter")
	}
	return err
}
