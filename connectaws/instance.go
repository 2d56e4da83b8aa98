package connectaws

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

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

var (
	regionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	// roleARNRE matches arn:PARTITION:iam::ACCOUNT:role/PATH/NAME.
	roleARNRE = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$`)
	// idRE matches the identifiers Connect puts in ARNs (UUIDs and the like).
	idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,255}$`)
)

// connectARN splits an Amazon Connect ARN into its region, account and
// resource ("instance/ID/...").
func connectARN(arn string) (region, account, resource string, err error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || parts[2] != "connect" {
		return "", "", "", fmt.Errorf("%q is not an Amazon Connect ARN", arn)
	}
	if !regionRE.MatchString(parts[3]) {
		return "", "", "", fmt.Errorf("ARN %q has no valid region", arn)
	}
	return parts[3], parts[4], parts[5], nil
}

// InstanceID returns the instance ID in an instance ARN
// (arn:aws:connect:REGION:ACCOUNT:instance/INSTANCE_ID).
func InstanceID(arn string) (string, error) {
	_, _, resource, err := connectARN(arn)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidInstance, err)
	}
	id, ok := strings.CutPrefix(resource, "instance/")
	if !ok || !idRE.MatchString(id) {
		return "", fmt.Errorf("%w: %q is not an instance ARN", ErrInvalidInstance, arn)
	}
	return id, nil
}

// UserIDFromAgentARN returns the Connect user ID in an agent ARN, as the
// agent event stream sends it:
// arn:aws:connect:REGION:ACCOUNT:instance/INSTANCE_ID/agent/USER_ID.
// Any other string is ErrMalformed.
func UserIDFromAgentARN(arn string) (string, error) {
	_, _, resource, err := connectARN(arn)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	parts := strings.Split(resource, "/")
	if len(parts) != 4 || parts[0] != "instance" || parts[2] != "agent" || !idRE.MatchString(parts[1]) || !idRE.MatchString(parts[3]) {
		return "", fmt.Errorf("%w: %q is not an agent ARN", ErrMalformed, arn)
	}
	return parts[3], nil
}

// resolved is an Instance checked and completed.
type resolved struct {
	id, region, roleARN, externalID string
}

// resolve checks inst and derives its instance ID and region.
func (inst Instance) resolve() (resolved, error) {
	id, err := InstanceID(inst.InstanceARN)
	if err != nil {
		return resolved{}, err
	}
	arnRegion, _, _, _ := connectARN(inst.InstanceARN)
	region := inst.Region
	switch {
	case region == "":
		region = arnRegion
	case region != arnRegion:
		return resolved{}, fmt.Errorf("%w: region %q differs from the ARN's %q", ErrInvalidInstance, region, arnRegion)
	}
	if !roleARNRE.MatchString(inst.RoleARN) {
		return resolved{}, fmt.Errorf("%w: %q is not an IAM role ARN", ErrInvalidInstance, inst.RoleARN)
	}
	if inst.ExternalID == "" {
		// Without an external ID the tenant's role could be assumed on
		// behalf of anyone who learns its ARN (the confused deputy).
		return resolved{}, fmt.Errorf("%w: no external ID", ErrInvalidInstance)
	}
	return resolved{id: id, region: region, roleARN: inst.RoleARN, externalID: inst.ExternalID}, nil
}

// InstanceOf returns a tenant's stored instance as the clients reach it.
func InstanceOf(inst *ent.Instance) Instance {
	return Instance{InstanceARN: inst.InstanceArn, Region: inst.Region, RoleARN: inst.RoleArn, ExternalID: inst.ExternalID}
}
