package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"switchboard/ent/schema/schematype"
	"switchboard/gid"
)

// Contact is a person in the agent's directory: personal (one agent's) or
// the organisation's, hand-made or synchronised over SCIM.
type Contact struct {
	ent.Schema
}

// Mixin of Contact.
func (Contact) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("CT"), TenantMixin{}}
}

// Fields of Contact.
func (Contact) Fields() []ent.Field {
	return []ent.Field{
		field.String("owner_id").GoType(gid.ID("")).Optional().Nillable().
			Annotations(entgql.Skip()),
		field.Enum("scope").Values("PERSONAL", "ORGANISATION").Default("PERSONAL").
			Annotations(entgql.Type("ContactScope")),
		field.Enum("source").Values("MANUAL", "SCIM").Default("MANUAL").
			Annotations(entgql.Type("ContactSource")),
		field.String("name").NotEmpty().MaxLen(200).Annotations(entgql.OrderField("NAME")),
		field.String("given_name").Optional().MaxLen(100),
		field.String("family_name").Optional().MaxLen(100),
		field.String("email").Optional().MaxLen(320),
		field.String("phone_number").Optional().MaxLen(32),
		field.JSON("emails", []schematype.ContactPoint{}).Optional().Annotations(entgql.Skip()),
		field.JSON("phone_numbers", []schematype.ContactPoint{}).Optional().Annotations(entgql.Skip()),
		field.String("job_title").Optional().MaxLen(200),
		field.String("scim_user_name").Optional().Nillable().MaxLen(320).Annotations(entgql.Skip()),
		field.String("scim_external_id").Optional().Nillable().MaxLen(320).Annotations(entgql.Skip()),
		field.Bool("active").Default(true),
		field.String("search_name").Default("").Annotations(entgql.Skip()).
			Comment("lower-case name, given and family names, for search"),
		field.String("search_emails").Default("").Annotations(entgql.Skip()).
			Comment("lower-case email addresses, space-separated, for search"),
		field.String("search_phones").Default("").Annotations(entgql.Skip()).
			Comment("the digits of every phone number, space-separated, for search"),
	}
}

// Edges of Contact.
func (Contact) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("owner", Agent.Type).Ref("contacts").Field("owner_id").Unique().
			Annotations(entgql.Skip()),
	}
}

// Indexes of Contact.
func (Contact) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "scope", "name"),
		index.Fields("tenant_id", "owner_id"),
		index.Fields("tenant_id", "scim_user_name").Unique(),
		index.Fields("tenant_id", "search_name"),
		// Substring search on PostgreSQL: trigram indexes (pg_trgm).
		index.Fields("search_name").StorageKey("contact_search_name_trgm").
			Annotations(entsql.IndexTypes(map[string]string{dialect.Postgres: "GIN"}), entsql.OpClass("gin_trgm_ops")),
		index.Fields("search_emails").StorageKey("contact_search_emails_trgm").
			Annotations(entsql.IndexTypes(map[string]string{dialect.Postgres: "GIN"}), entsql.OpClass("gin_trgm_ops")),
		index.Fields("search_phones").StorageKey("contact_search_phones_trgm").
			Annotations(entsql.IndexTypes(map[string]string{dialect.Postgres: "GIN"}), entsql.OpClass("gin_trgm_ops")),
		// SCIM finds users by userName whatever its case (ILIKE on PostgreSQL).
		index.Fields("scim_user_name").StorageKey("contact_scim_user_name_trgm").
			Annotations(entsql.IndexTypes(map[string]string{dialect.Postgres: "GIN"}), entsql.OpClass("gin_trgm_ops")),
	}
}

// Annotations of Contact.
func (Contact) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
