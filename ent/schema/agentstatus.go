package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AgentStatus is a status agents choose from, in Amazon Connect's model.
type AgentStatus struct {
	ent.Schema
}

// Mixin of AgentStatus.
func (AgentStatus) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("AS"), TenantMixin{}}
}

// Fields of AgentStatus.
func (AgentStatus) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(127).Validate(notBlank),
		field.Enum("type").Values("ROUTABLE", "OFFLINE", "CUSTOM").
			Annotations(entgql.Type("AgentStatusType")),
		field.Int("display_order").Default(1).Range(1, 50),
		field.Bool("enabled").Default(true),
		field.String("connect_status_id").Optional().MaxLen(100).
			Comment("the Amazon Connect agent status ID this status maps to"),
		field.String("connect_status_arn").Optional().MaxLen(256),
	}
}

// Indexes of AgentStatus.
func (AgentStatus) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "name").Unique()}
}

// Annotations of AgentStatus.
func (AgentStatus) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
