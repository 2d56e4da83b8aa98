package auth

import (
	"fmt"
	"time"
)

// Role is the caller's role within Switchboard.
type Role string

// The roles defined by the API contract. Agents, supervisors and admins belong
// to one tenant; operators are platform staff and belong to none.
const (
	RoleAgent      Role = "agent"
	RoleSupervisor Role = "supervisor"
	RoleAdmin      Role = "admin"
	RoleOperator   Role = "operator"
)

// ParseRole converts s to a Role. It accepts exactly the lowercase names of the
// four roles and returns an error for anything else.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", fmt.Errorf("auth: unknown role %q (want agent, supervisor, admin or operator)", s)
	}
	return r, nil
}

// Valid reports whether r is one of the four defined roles.
func (r Role) Valid() bool {
	switch r {
	case RoleAgent, RoleSupervisor, RoleAdmin, RoleOperator:
		return true
	}
	return false
}

// TenantScoped reports whether r belongs to a single tenant, i.e. whether a
// token with this role must carry a tenant claim.
func (r Role) TenantScoped() bool {
	return r == RoleAgent || r == RoleSupervisor || r == RoleAdmin
}

// String returns the role name.
func (r Role) String() string { return string(r) }

// Claims is the authenticated identity extracted from a verified token.
type Claims struct {
	// Subject is the token's sub claim: a stable identifier of the caller.
	Subject string
	// Email is the caller's email address; always present.
	Email string
	// Name is the caller's display name; may be empty.
	Name string
	// Tenant is the tenant ID; set for tenant-scoped roles, empty for operators.
	Tenant string
	// Role is the caller's role; always one of the defined roles.
	Role Role
	// ExpiresAt is when the token expires.
	ExpiresAt time.Time
}

// IsOperator reports whether the caller is platform staff.
func (c Claims) IsOperator() bool { return c.Role == RoleOperator }

// check applies the contract's rules for the application claims and returns a
// short, client-safe reason when they are violated, or "" when they hold.
func (c Claims) check() string {
	switch {
	case c.Email == "":
		return "missing email"
	case !c.Role.Valid():
		return "invalid role"
	case c.Role.TenantScoped() && c.Tenant == "":
		return "tenant required for role " + string(c.Role)
	case c.Role == RoleOperator && c.Tenant != "":
		return "operator tokens must not carry a tenant"
	}
	return ""
}
