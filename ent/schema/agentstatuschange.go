package schema

import (
	"time"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"switchboard/gid"
)

// AgentStatusChange is one change of an agent's status, append-only.
type AgentStatusChange struct {
	ent.Schema
}

// Mixin of AgentStatusChange.
func (AgentStatusChange) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("SC"), TenantMixin{}}
}

// Fields of AgentStatusChange.
func (AgentStatusChange) Fields() []ent.Field {
	return []ent.Field{
		field.String("agent_id").GoType(gid.ID("")).Immutable(),
		field.String("status_id").GoType(gid.ID("")).Immutable(),
		field.String("previous_status_id").GoType(gid.ID("")).Optional().Nillable().Immutable(),
		field.Time("changed_at").Default(time.Now).Immutable(),
		field.String("changed_by").Optional().MaxLen(320).Immutable().
			Comment("the email of whoever made the change, or the source system"),
		field.Enum("source").Values("DESKTOP", "CONNECT", "SYSTEM").Default("DESKTOP").Immutable(),
		field.String("connect_event_id").Optional().Nillable().MaxLen(64).Immutable().
			Comment("the Amazon Connect agent event this change came from, for idempotence"),
	}
}

// Edges of AgentStatusChange.
func (AgentStatusChange) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("agent", Agent.Type).Ref("status_changes").Field("agent_id").
			Unique().Required().Immutable(),
		edge.To("status", AgentStatus.Type).Field("status_id").
			Unique().Required().Immutable(),
		edge.To("previous_status", AgentStatus.Type).Field("previous_status_id").
			Unique().Immutable(),
	}
}

// Indexes of AgentStatusChange.
func (AgentStatusChange) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "agent_id", "changed_at"),
		index.Fields("tenant_id", "connect_event_id").Unique(),
	}
}

// Annotations of AgentStatusChange.
func (AgentStatusChange) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
