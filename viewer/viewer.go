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
	// Service names a system acting for the tenant rather than a person,
	// such as ServiceSCIM; empty for people.
	Service string
}

// ServiceSCIM is the tenant's SCIM client (its identity provider).
const ServiceSCIM = "scim"

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
