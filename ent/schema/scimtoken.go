package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ScimToken is a bearer token with which a tenant's identity provider
// (Microsoft Entra ID, Okta) provisions organisation contacts over SCIM.
// Only its SHA-256 is kept; the token is shown once, when created.
type ScimToken struct {
	ent.Schema
}

// Mixin of ScimToken.
func (ScimToken) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("SK"), TenantMixin{}}
}

// Fields of ScimToken.
func (ScimToken) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(100),
		field.Bytes("token_hash").Sensitive().Immutable().Annotations(entgql.Skip()),
		field.String("created_by").Optional().MaxLen(320).Immutable(),
		field.Time("last_used_at").Optional().Nillable(),
		field.Time("revoked_at").Optional().Nillable(),
	}
}

// Indexes of ScimToken.
func (ScimToken) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("token_hash").Unique(),
		index.Fields("tenant_id", "name"),
	}
}

// Annotations of ScimToken.
func (ScimToken) Annotations() []schema.Annotation {
	return []schema.Annotation{}
}
