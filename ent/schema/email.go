package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Email records one inbound or outbound email: metadata only. The body and
// attachments stay in the tenant's own S3 buckets.
type Email struct {
	ent.Schema
}

// Mixin of Email.
func (Email) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("EM"), TenantMixin{}}
}

// Fields of Email.
func (Email) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("direction").Values("INBOUND", "OUTBOUND").Annotations(entgql.Type("EmailDirection")),
		field.String("from").MaxLen(320),
		field.Strings("to"),
		field.Strings("cc").Optional().Annotations(entgql.Skip()),
		field.String("subject").MaxLen(998).Default(""),
		field.Time("date").Annotations(entgql.OrderField("DATE")),
		field.String("message_id").MaxLen(998).Annotations(entgql.Skip()),
		field.String("object_key").Optional().MaxLen(1024).Annotations(entgql.Skip()),
		field.Enum("state").Values("RECEIVED", "ROUTED", "SENT", "FAILED").Default("RECEIVED").
			Annotations(entgql.Type("EmailState")),
	}
}

// Indexes of Email.
func (Email) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "message_id").Unique(),
		index.Fields("tenant_id", "direction", "date"),
	}
}

// Annotations of Email.
func (Email) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
