package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"

	"switchboard/gid"
)

// IDAnnotation records the global ID prefix of an entity type; the node
// resolver maps an ID back to its table with it.
type IDAnnotation struct {
	Prefix string
}

// Name implements schema.Annotation.
func (IDAnnotation) Name() string { return "GID" }

// BaseMixin gives an entity its global ID and timestamps, and refuses every
// query and mutation made without a viewer.
type BaseMixin struct {
	mixin.Schema
	prefix string
}

// Base returns the base mixin for an entity whose IDs start with prefix.
func Base(prefix string) BaseMixin { return BaseMixin{prefix: prefix} }

// Fields of the base mixin.
func (m BaseMixin) Fields() []ent.Field {
	return []ent.Field{
		field.String("id").
			GoType(gid.ID("")).
			DefaultFunc(func() gid.ID { return gid.New(m.prefix) }).
			Immutable().
			SchemaType(map[string]string{"postgres": "varchar(28)", "sqlite3": "varchar(28)"}),
		field.Time("created_at").Default(time.Now).Immutable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Time("updated_at").Default(time.Now).UpdateDefault(time.Now).
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Annotations of the base mixin.
func (m BaseMixin) Annotations() []schema.Annotation {
	return []schema.Annotation{IDAnnotation{Prefix: m.prefix}}
}

// TenantMixin makes an entity tenant-owned: an immutable tenant edge that
// the data layer fills from the viewer, and a filter that confines every
// query and mutation to the viewer's tenant.
type TenantMixin struct {
	mixin.Schema
}

// Fields of the tenant mixin.
func (TenantMixin) Fields() []ent.Field {
	return []ent.Field{
		field.String("tenant_id").
			GoType(gid.ID("")).
			Immutable().
			SchemaType(map[string]string{"postgres": "varchar(28)", "sqlite3": "varchar(28)"}).
			Annotations(entgql.Skip()),
	}
}

// Edges of the tenant mixin.
func (TenantMixin) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("tenant", Tenant.Type).
			Field("tenant_id").
			Unique().
			Required().
			Immutable().
			Annotations(entgql.Skip(), entsql.OnDelete(entsql.Cascade)),
	}
}
