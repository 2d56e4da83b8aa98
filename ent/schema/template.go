package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Template is a rich-text (chat) or plain-text (SMS) reply with placeholders.
type Template struct {
	ent.Schema
}

// Mixin of Template.
func (Template) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("TP"), TenantMixin{}}
}

// Fields of Template.
func (Template) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(200),
		field.Enum("channel").Values("CHAT", "SMS").Annotations(entgql.Type("TemplateChannel")),
		field.Text("body").MaxLen(64 * 1024),
	}
}

// Indexes of Template.
func (Template) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "channel", "name")}
}

// Annotations of Template.
func (Template) Annotations() []schema.Annotation {
	return []schema.Annotation{}
}
