package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Tenant is a subscribing business with its own Amazon Connect instance.
type Tenant struct {
	ent.Schema
}

// Mixin of Tenant.
func (Tenant) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("TN")}
}

// Fields of Tenant.
func (Tenant) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200).
			Annotations(entgql.OrderField("NAME")),
		field.String("contact_name").Optional().MaxLen(200),
		field.String("contact_email").Optional().MaxLen(320).Validate(emailAddress),
		field.String("contact_phone").Optional().MaxLen(32).Validate(internationalPhone),
		field.String("product").Default("standard").MaxLen(64),
		field.Int("seats").Default(0).NonNegative(),
		field.Enum("lifecycle").Values("ACTIVE", "UNSUBSCRIBED", "DECOMMISSIONED").Default("ACTIVE"),
		field.String("default_region").Default("US").MaxLen(2).Validate(phoneRegion).
			Comment("ISO 3166 region for phone numbers written without a country code"),
	}
}

// Edges of Tenant: its modules, the inverse of the tenant edge every
// tenant-owned entity has (TenantMixin), so that a tenant's modules are
// read through the edge rather than filtered by hand.
func (Tenant) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("modules", Module.Type).Ref("tenant").
			Annotations(entgql.Skip()),
	}
}

// Annotations of Tenant.
func (Tenant) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
