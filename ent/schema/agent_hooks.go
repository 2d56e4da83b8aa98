package schema

import (
	"context"
	"net/mail"
	"strings"

	"entgo.io/ent"

	gen "switchboard/ent"
	"switchboard/ent/hook"
	"switchboard/apierror"
	"switchboard/viewer"
)

// Hooks of Agent: emails are kept as lower-case bare addresses, since an
// agent is found by the email its token carries; operators are no agents.
func (Agent) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(func(next ent.Mutator) ent.Mutator {
			return hook.AgentFunc(func(ctx context.Context, m *gen.AgentMutation) (ent.Value, error) {
				if email, ok := m.Email(); ok {
					norm, err := NormaliseEmail(email)
					if err != nil {
						return nil, err
					}
					m.SetEmail(norm)
				}
				if role, ok := m.Role(); ok && role == viewer.RoleOperator {
					return nil, apierror.New(apierror.BadUserInput, "an agent's role is AGENT, SUPERVISOR or ADMIN")
				}
				return next.Mutate(ctx, m)
			})
		}, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne),
	}
}

// NormaliseEmail returns the bare, lower-case form of an email address.
func NormaliseEmail(s string) (string, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil || addr.Name != "" {
		return "", apierror.New(apierror.BadUserInput, "%q is not an email address", s)
	}
	return strings.ToLower(addr.Address), nil
}
