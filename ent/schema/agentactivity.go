package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"switchboard/ent/schema/schematype"
	"switchboard/gid"
)

// AgentActivity is what Amazon Connect last said an agent is doing, beyond
// the status it chose: its contacts and the status Connect will apply when
// they end. One row per agent, replaced by each newer agent event.
type AgentActivity struct {
	ent.Schema
}

// Mixin of AgentActivity.
func (AgentActivity) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("AV"), TenantMixin{}}
}

// Fields of AgentActivity.
func (AgentActivity) Fields() []ent.Field {
	return []ent.Field{
		field.String("agent_id").GoType(gid.ID("")).Immutable(),
		field.String("event_id").NotEmpty().MaxLen(64).
			Comment("the agent event that last set the row"),
		field.Time("event_at").
			Comment("that event's timestamp: an older event changes nothing"),
		field.Bool("on_contact").Default(false),
		field.Bool("after_contact_work").Default(false),
		field.Time("since").
			Comment("when the agent began what it is doing now (on contact, in after-contact work, or neither)"),
		field.JSON("contacts", []schematype.ActivityContact{}).Optional(),
		field.String("next_status_id").GoType(gid.ID("")).Optional().Nillable(),
	}
}

// Edges of AgentActivity.
func (AgentActivity) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("agent", Agent.Type).Ref("activity").Field("agent_id").
			Unique().Required().Immutable(),
		edge.To("next_status", AgentStatus.Type).Field("next_status_id").Unique(),
	}
}

// Indexes of AgentActivity.
func (AgentActivity) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "agent_id"),
	}
}

// Annotations of AgentActivity.
func (AgentActivity) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
