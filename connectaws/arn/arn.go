// Package arn reads Amazon Resource Names. It is the one parser of the ARNs
// switchboard stores or receives: Amazon Connect instances and agents, IAM
// roles, SES identities, SNS topics. It imports nothing of switchboard, so
// that the data model's validators (ent/schema) can use it too.
package arn

import (
	"fmt"
	"regexp"
	"strings"
)

// ARN is an Amazon Resource Name,
// arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE.
type ARN struct {
	// Partition is aws, aws-cn, aws-us-gov, ...
	Partition string
	// Service is the AWS service's namespace: connect, iam, ses, sns, ...
	Service string
	// Region is empty for a global service's resources (IAM).
	Region string
	// Account is the 12-digit AWS account ID; empty for resources that
	// name none (S3 buckets).
	Account string
	// Resource is what follows the account: "instance/ID", "role/NAME", ...
	Resource string
}

var (
	partitionRE = regexp.MustCompile(`^aws[a-z-]*$`)
	serviceRE   = regexp.MustCompile(`^[a-z0-9-]+$`)
	regionRE    = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)
	accountRE   = regexp.MustCompile(`^[0-9]{12}$`)
	// instanceIDRE matches an Amazon Connect instance ID (a UUID).
	instanceIDRE = regexp.MustCompile(`^[0-9a-f-]{36}$`)
	// idRE matches the other identifiers Connect puts in ARNs (users'
	// UUIDs and the like).
	idRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,255}$`)
	// roleRE matches an IAM role's resource, role/PATH/NAME.
	roleRE = regexp.MustCompile(`^role/[\w+=,.@/-]{1,512}$`)
)

// Parse reads s as an ARN and checks the form of each of its parts: a
// partition of AWS's, a service namespace, a region (or none), a 12-digit
// account (or none) and a resource.
func Parse(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ARN{}, fmt.Errorf("%q is not an ARN", s)
	}
	a := ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}
	switch {
	case !partitionRE.MatchString(a.Partition):
		return ARN{}, fmt.Errorf("ARN %q has no AWS partition", s)
	case !serviceRE.MatchString(a.Service):
		return ARN{}, fmt.Errorf("ARN %q has no service", s)
	case a.Region != "" && !regionRE.MatchString(a.Region):
		return ARN{}, fmt.Errorf("ARN %q has no valid region", s)
	case a.Account != "" && !accountRE.MatchString(a.Account):
		return ARN{}, fmt.Errorf("ARN %q has no valid account", s)
	case a.Resource == "":
		return ARN{}, fmt.Errorf("ARN %q names no resource", s)
	}
	return a, nil
}

// String returns the ARN as AWS writes it.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// Instance is the ARN of an Amazon Connect instance,
// arn:PARTITION:connect:REGION:ACCOUNT:instance/INSTANCE_ID.
type Instance struct {
	ARN
	// ID is the instance ID.
	ID string
}

// ParseInstance reads s as an Amazon Connect instance's ARN: with a region,
// an account and a UUID for instance ID.
func ParseInstance(s string) (Instance, error) {
	a, err := parseConnect(s)
	if err != nil {
		return Instance{}, err
	}
	id, ok := strings.CutPrefix(a.Resource, "instance/")
	if !ok || !instanceIDRE.MatchString(id) {
		return Instance{}, fmt.Errorf("%q is not an Amazon Connect instance ARN", s)
	}
	return Instance{ARN: a, ID: id}, nil
}

// Agent is the ARN of an agent (a Connect user) of an instance, as the agent
// event stream sends it:
// arn:PARTITION:connect:REGION:ACCOUNT:instance/INSTANCE_ID/agent/USER_ID.
type Agent struct {
	ARN
	// InstanceID is the instance's ID, UserID the Connect user's.
	InstanceID, UserID string
}

// ParseAgent reads s as the ARN of an agent of an Amazon Connect instance.
func ParseAgent(s string) (Agent, error) {
	a, err := parseConnect(s)
	if err != nil {
		return Agent{}, err
	}
	parts := strings.Split(a.Resource, "/")
	if len(parts) != 4 || parts[0] != "instance" || parts[2] != "agent" ||
		!instanceIDRE.MatchString(parts[1]) || !idRE.MatchString(parts[3]) {
		return Agent{}, fmt.Errorf("%q is not an Amazon Connect agent ARN", s)
	}
	return Agent{ARN: a, InstanceID: parts[1], UserID: parts[3]}, nil
}

// parseConnect reads s as the ARN of a resource of an Amazon Connect
// instance: service connect, with a region and an account.
func parseConnect(s string) (ARN, error) {
	a, err := Parse(s)
	if err != nil {
		return ARN{}, err
	}
	switch {
	case a.Service != "connect":
		return ARN{}, fmt.Errorf("%q is not an Amazon Connect ARN", s)
	case a.Region == "":
		return ARN{}, fmt.Errorf("ARN %q has no valid region", s)
	case a.Account == "":
		return ARN{}, fmt.Errorf("ARN %q has no valid account", s)
	}
	return a, nil
}

// ParseRole reads s as an IAM role's ARN,
// arn:PARTITION:iam::ACCOUNT:role/PATH/NAME.
func ParseRole(s string) (ARN, error) {
	a, err := Parse(s)
	if err != nil {
		return ARN{}, err
	}
	if a.Service != "iam" || a.Region != "" || a.Account == "" || !roleRE.MatchString(a.Resource) {
		return ARN{}, fmt.Errorf("%q is not an IAM role ARN", s)
	}
	return a, nil
}

// sesIdentityRE matches an SES identity's resource: identity/ then a
// domain of two labels or more, or an email address at one.
var sesIdentityRE = regexp.MustCompile(`^identity/([^\s/@:]+@)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$`)

// ParseSESIdentity reads s as an SES identity's ARN,
// arn:PARTITION:ses:REGION:ACCOUNT:identity/DOMAIN-OR-ADDRESS.
func ParseSESIdentity(s string) (ARN, error) {
	a, err := Parse(s)
	if err != nil {
		return ARN{}, err
	}
	if a.Service != "ses" || a.Region == "" || a.Account == "" || !sesIdentityRE.MatchString(a.Resource) {
		return ARN{}, fmt.Errorf("%q is not an SES identity ARN", s)
	}
	return a, nil
}
