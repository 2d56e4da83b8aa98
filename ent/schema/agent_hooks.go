package schema

import (
	"context"

	"entgo.io/ent"

	"switchboard/apierror"
	"switchboard/contactpoint"
	gen "switchboard/ent"
	"switchboard/ent/hook"
	"switchboard/viewer"
)

// Hooks of Agent: emails are kept as lower-case bare addresses, since an
// agent is found by the email its token carries; operators are no agents.
func (Agent) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(func(next ent.Mutator) ent.Mutator {
			return hook.AgentFunc(func(ctx context.Context, m *gen.AgentMutation) (ent.Value, error) {
				if email, ok := m.Email(); ok {
					norm, err := contactpoint.NormaliseEmail(email)
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
