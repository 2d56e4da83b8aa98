// Package viewer says who is asking: the tenant, role and agent of the
// person behind a request, carried in its context.
package viewer

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"switchboard/apierror"
	"switchboard/gid"
)

// Role is what a person may do. Agent < Supervisor < Admin within a tenant;
// Operator runs the platform and belongs to no tenant.
type Role string

// The roles, as GraphQL spells them.
const (
	RoleAgent      Role = "AGENT"
	RoleSupervisor Role = "SUPERVISOR"
	RoleAdmin      Role = "ADMIN"
	RoleOperator   Role = "OPERATOR"
)

// Values lists the roles (ent uses it for the enum column).
func (Role) Values() []string {
	return []string{string(RoleAgent), string(RoleSupervisor), string(RoleAdmin), string(RoleOperator)}
}

// ParseRole reads a role in either case, as token claims write it.
func ParseRole(s string) (Role, error) {
	r := Role(strings.ToUpper(s))
	switch r {
	case RoleAgent, RoleSupervisor, RoleAdmin, RoleOperator:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q", s)
}

// rank orders the tenant roles; the operator is outside the order.
func (r Role) rank() int {
	switch r {
	case RoleAgent:
		return 1
	case RoleSupervisor:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// AtLeast reports whether r is a tenant role at or above min.
func (r Role) AtLeast(min Role) bool { return r.rank() > 0 && r.rank() >= min.rank() }

// MarshalGQL implements graphql.Marshaler.
func (r Role) MarshalGQL(w io.Writer) { _, _ = io.WriteString(w, strconv.Quote(string(r))) }

// UnmarshalGQL implements graphql.Unmarshaler.
func (r *Role) UnmarshalGQL(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("role must be a string")
	}
	parsed, err := ParseRole(s)
	if err != nil {
		return err
	}
	*r = parsed
	return nil
}

// Viewer is the person behind a request.
type Viewer struct {
	Subject  string
	Email    string
	Name     string
	Role     Role
	TenantID gid.ID // empty for an operator
	AgentID  gid.ID // empty when the person has no agent record
	// Service names a part of switchboard or a client system acting for
	// the tenant, or for the platform, rather than a person (System,
	// SystemOperator, SCIM); empty for people.
	Service string
}

// ServiceSCIM is the tenant's SCIM client (its identity provider).
const ServiceSCIM = "scim"

// System returns the viewer that a part of switchboard acts as when it
// works for a tenant on no person's behalf, such as the Amazon Connect
// event stream or inbound mail. name names that part (short, such as
// "amazon-connect" or "mail"); it is the viewer's Service, Email and Name,
// and so what records that note who made a change (a status change's
// changed by) say, and its Subject is "system:" and name, which no token's
// subject is taken for.
//
// A system viewer is a supervisor of the tenant: what a system does for a
// tenant is what its supervisors do (move any of its agents' statuses,
// record their minutes, take in mail for any of them), and none of what
// only its admins do (configure its instance and statuses, keep its SCIM
// tokens and modules). A system that needs more says so where it is made,
// as SCIM does. It has no agent: it acts for others only.
func System(tenant gid.ID, name string) *Viewer {
	return &Viewer{
		Subject: "system:" + name, Email: name, Name: name, Service: name,
		Role: RoleSupervisor, TenantID: tenant,
	}
}

// SystemOperator returns the viewer that a part of switchboard acts as when
// it works for the platform rather than a tenant (finding the tenants to
// record, loading the demo tenant): an operator, who belongs to no tenant,
// named as System names its viewers. Work within a tenant is then done as
// that tenant's System viewer.
func SystemOperator(name string) *Viewer {
	v := System("", name)
	v.Role = RoleOperator
	return v
}

// SCIM returns the viewer that the tenant's SCIM client (its identity
// provider) acts as: System's viewer named ServiceSCIM, but an admin,
// because it keeps the record of when each of the tenant's SCIM tokens was
// last used, and SCIM tokens are the admins'. Among contacts, the data
// layer confines it, by its Service, to the tenant's organisation contacts
// of source SCIM (ent/schema/policy.go).
func SCIM(tenant gid.ID) *Viewer {
	v := System(tenant, ServiceSCIM)
	v.Role = RoleAdmin
	return v
}

// Operator reports whether the viewer runs the platform.
func (v *Viewer) Operator() bool { return v != nil && v.Role == RoleOperator }

// InTenant reports whether the viewer belongs to a tenant with at least the given role.
func (v *Viewer) InTenant(min Role) bool {
	return v != nil && v.TenantID != "" && v.Role.AtLeast(min)
}

type ctxKey struct{}

// NewContext returns a context carrying v.
func NewContext(ctx context.Context, v *Viewer) context.Context {
	return context.WithValue(ctx, ctxKey{}, v)
}

// FromContext returns the viewer in ctx, or nil.
func FromContext(ctx context.Context) *Viewer {
	v, _ := ctx.Value(ctxKey{}).(*Viewer)
	return v
}

// ActingFor returns the agent a request acts for: the viewer's own when
// agentID is nil, or the named one, which only supervisors and admins may
// name. doing says what the request does, for the refusals ("set
// statuses", "record interactions").
func (v *Viewer) ActingFor(agentID *gid.ID, doing string) (gid.ID, error) {
	if !v.InTenant(RoleAgent) {
		return "", apierror.New(apierror.Forbidden, "only a tenant's people %s", doing)
	}
	target := v.AgentID
	if agentID != nil {
		target = *agentID
	}
	if target == "" {
		return "", apierror.New(apierror.BadUserInput, "you have no agent record: name the agent with agentId")
	}
	if target != v.AgentID && !v.InTenant(RoleSupervisor) {
		return "", apierror.New(apierror.Forbidden, "an agent may %s only for itself", doing)
	}
	return target, nil
}
