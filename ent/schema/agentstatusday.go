package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"switchboard/gid"
)

// AgentStatusDay is one agent's minute-by-minute status record for one UTC
// day, kept compactly: a dictionary of the statuses held that day and the
// runs of minutes in each (see package minutes).
type AgentStatusDay struct {
	ent.Schema
}

// Mixin of AgentStatusDay.
func (AgentStatusDay) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("SD"), TenantMixin{}}
}

// Fields of AgentStatusDay.
func (AgentStatusDay) Fields() []ent.Field {
	return []ent.Field{
		field.String("agent_id").GoType(gid.ID("")).Immutable().
			SchemaType(map[string]string{"postgres": "varchar(28)", "sqlite3": "varchar(28)"}),
		field.Time("day").Immutable().Comment("00:00 UTC of the day"),
		field.Bytes("minutes").Comment("the encoded runs of the day's 1,440 minutes"),
		field.Int("active_minutes").Default(0).NonNegative().
			Comment("minutes in a status other than OFFLINE, for usage"),
	}
}

// Indexes of AgentStatusDay.
func (AgentStatusDay) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "agent_id", "day").Unique()}
}

// Annotations of AgentStatusDay.
func (AgentStatusDay) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
