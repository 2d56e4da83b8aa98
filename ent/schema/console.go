package schema

import (
	"context"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"switchboard/apierror"
	"switchboard/viewer"
)

// SignInService is what switchboard acts as when it records a console
// user's sign-in (viewer.System).
const SignInService = "sign-in"

// AdminUser is a person of the admin console: an admin or a supervisor of
// the tenant, added by an admin or on first sign-in.
type AdminUser struct {
	ent.Schema
}

// Mixin of AdminUser.
func (AdminUser) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("AU"), TenantMixin{}}
}

// Fields of AdminUser.
func (AdminUser) Fields() []ent.Field {
	return []ent.Field{
		field.String("email").NotEmpty().MaxLen(320).Validate(emailAddress),
		field.String("name").NotEmpty().MaxLen(200),
		field.String("organisation").Optional().MaxLen(200),
		field.Enum("role").GoType(viewer.Role("")),
		field.Time("last_sign_in_at").Optional().Nillable(),
	}
}

// Hooks of AdminUser: the console's people are admins and supervisors.
func (AdminUser) Hooks() []ent.Hook {
	type roleMutation interface {
		Role() (viewer.Role, bool)
	}
	return []ent.Hook{
		func(next ent.Mutator) ent.Mutator {
			return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
				if rm, ok := m.(roleMutation); ok {
					if r, set := rm.Role(); set && r != viewer.RoleAdmin && r != viewer.RoleSupervisor {
						return nil, apierror.New(apierror.BadUserInput, "role: the console's people are ADMIN or SUPERVISOR, not %s", r)
					}
				}
				return next.Mutate(ctx, m)
			})
		},
	}
}

// Indexes of AdminUser: a person once in a tenant.
func (AdminUser) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "email").Unique()}
}

// Annotations of AdminUser: its input is the schema's own.
func (AdminUser) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput, entgql.SkipOrderField)}
}

// MicrosoftIntegration is the tenant's Microsoft Entra ID application,
// whose secret is kept sealed (package sealed) and never read back out.
type MicrosoftIntegration struct {
	ent.Schema
}

// Mixin of MicrosoftIntegration.
func (MicrosoftIntegration) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("MI"), TenantMixin{}}
}

// Fields of MicrosoftIntegration.
func (MicrosoftIntegration) Fields() []ent.Field {
	return []ent.Field{
		field.String("directory_tenant_id").NotEmpty().MaxLen(256),
		field.String("client_id").NotEmpty().MaxLen(64),
		field.String("client_secret_sealed").NotEmpty().MaxLen(4096).Sensitive(),
	}
}

// Indexes of MicrosoftIntegration: one a tenant.
func (MicrosoftIntegration) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id").Unique()}
}

// Annotations of MicrosoftIntegration: not a GraphQL type.
func (MicrosoftIntegration) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
