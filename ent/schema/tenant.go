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
		field.Int("seats").Default(0).NonNegative().Max(1_000_000),
		// The lifecycle moves only through the operator's mutations and
		// Marketplace's notifications (package tenants), never an input.
		field.Enum("lifecycle").Values("ACTIVE", "UNSUBSCRIBED").Default("ACTIVE").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput | entgql.SkipMutationUpdateInput)),
		field.Time("unsubscribed_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput | entgql.SkipMutationUpdateInput)),
		// The AWS Marketplace buyer: products listed before 2026-06-01
		// meter by customer identifier, later ones by the buyer's AWS
		// account ID and licence ARN.
		field.String("marketplace_customer_identifier").Optional().MaxLen(64),
		field.String("marketplace_aws_account_id").Optional().MaxLen(12).Match(awsAccountID).
			Annotations(entgql.MapsTo("marketplaceAwsAccountId")),
		field.String("marketplace_product_code").Optional().MaxLen(64),
		field.String("marketplace_license_arn").Optional().MaxLen(2048),
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
