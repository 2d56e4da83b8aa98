package schema

import (
	"context"
	"slices"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"switchboard/apierror"
	"switchboard/viewer"
)

// Module is an admin-added panel in the desktop, such as a custom iframe.
type Module struct {
	ent.Schema
}

// Mixin of Module.
func (Module) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("MD"), TenantMixin{}}
}

// Fields of Module.
func (Module) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(100),
		// Shown to agents as an iframe: https only, so that no
		// javascript:, data: or plain-http page runs in the desktop.
		field.String("url").NotEmpty().MaxLen(2048).Validate(httpsURL),
		field.Int("position").Default(0),
		// The roles that see it in the desktop; none (null or empty):
		// everyone. Admins see and manage every module.
		field.JSON("roles", []viewer.Role{}).Optional().
			Annotations(entgql.Type("[Role!]")),
	}
}

// Indexes of Module.
func (Module) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "position")}
}

// Annotations of Module. UpdateModuleInput is the schema's own
// (graph/schema/tenancy.graphqls): entgql's would offer appendRoles, which
// its generated code drops.
func (Module) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Mutations(entgql.MutationCreate())}
}

// Hooks of Module: its roles are checked as a validator would (JSON fields
// take none).
func (Module) Hooks() []ent.Hook {
	type rolesMutation interface {
		Roles() ([]viewer.Role, bool)
		AppendedRoles() ([]viewer.Role, bool)
		OldRoles(context.Context) ([]viewer.Role, error)
	}
	return []ent.Hook{
		func(next ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
				rm, ok := m.(rolesMutation)
				if !ok {
					return next.Mutate(ctx, m)
				}
				roles, set := rm.Roles()
				if appended, ok := rm.AppendedRoles(); ok && len(appended) > 0 {
					if !set {
						if !m.Op().Is(ent.OpUpdateOne) {
							return nil, apierror.New(apierror.BadUserInput, "appendRoles: only for one module at a time")
						}
						old, err := rm.OldRoles(ctx)
						if err != nil {
							return nil, err
						}
						roles = old
					}
					roles = append(slices.Clone(roles), appended...)
				}
				if err := desktopRoles(roles); err != nil {
					return nil, apierror.New(apierror.BadUserInput, "roles: %s", err)
				}
				return next.Mutate(ctx, m)
			})
		},
	}
}
