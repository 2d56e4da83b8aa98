package connectaws

import (
	"errors"
	"fmt"

	"switchboard/connectaws/arn"
	"switchboard/ent"
)

// ErrInvalidInstance reports an Instance whose ARN, region, role or
// external ID cannot be used. It is never an upstream error: the request
// did not leave switchboard.
var ErrInvalidInstance = errors.New("connectaws: invalid instance")

// Instance is a tenant's Amazon Connect instance and the IAM role in the
// tenant's account that switchboard assumes to reach it.
type Instance struct {
	// InstanceARN is arn:aws:connect:REGION:ACCOUNT:instance/INSTANCE_ID.
	InstanceARN string
	// Region is the instance's AWS Region; when empty, the ARN's region.
	Region string
	// RoleARN is the role switchboard assumes in the tenant's account.
	RoleARN string
	// ExternalID is the secret the tenant's role trust policy requires.
	ExternalID string
}

// InstanceID returns the instance ID in an instance ARN
// (arn:aws:connect:REGION:ACCOUNT:instance/INSTANCE_ID).
func InstanceID(s string) (string, error) {
	a, err := arn.ParseInstance(s)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidInstance, err)
	}
	return a.ID, nil
}

// UserIDFromAgentARN returns the Connect user ID in an agent ARN, as the
// agent event stream sends it:
// arn:aws:connect:REGION:ACCOUNT:instance/INSTANCE_ID/agent/USER_ID.
// Any other string is ErrMalformed.
func UserIDFromAgentARN(s string) (string, error) {
	a, err := arn.ParseAgent(s)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return a.UserID, nil
}

// resolved is an Instance checked and completed.
type resolved struct {
	id, region, roleARN, externalID string
}

// resolve checks inst and derives its instance ID and region.
func (inst Instance) resolve() (resolved, error) {
	a, err := arn.ParseInstance(inst.InstanceARN)
	if err != nil {
		return resolved{}, fmt.Errorf("%w: %v", ErrInvalidInstance, err)
	}
	arnRegion := a.Region
	region := inst.Region
	switch {
	case region == "":
		region = arnRegion
	case region != arnRegion:
		return resolved{}, fmt.Errorf("%w: region %q differs from the ARN's %q", ErrInvalidInstance, region, arnRegion)
	}
	if _, err := arn.ParseRole(inst.RoleARN); err != nil {
		return resolved{}, fmt.Errorf("%w: %q is not an IAM role ARN", ErrInvalidInstance, inst.RoleARN)
	}
	if inst.ExternalID == "" {
		// Without an external ID the tenant's role could be assumed on
		// behalf of anyone who learns its ARN (the confused deputy).
		return resolved{}, fmt.Errorf("%w: no external ID", ErrInvalidInstance)
	}
	return resolved{id: a.ID, region: region, roleARN: inst.RoleARN, externalID: inst.ExternalID}, nil
}

// InstanceOf returns a tenant's stored instance as the clients reach it.
func InstanceOf(inst *ent.Instance) Instance {
	return Instance{InstanceARN: inst.InstanceArn, Region: inst.Region, RoleARN: inst.RoleArn, ExternalID: inst.ExternalID}
}
