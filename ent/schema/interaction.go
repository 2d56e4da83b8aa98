package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"switchboard/gid"
)

// Interaction is one contact an agent handled: the Amazon Connect contact
// ID, channel, phone number, connection type, start and end.
type Interaction struct {
	ent.Schema
}

// Mixin of Interaction.
func (Interaction) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("IN"), TenantMixin{}}
}

// Fields of Interaction.
func (Interaction) Fields() []ent.Field {
	return []ent.Field{
		field.String("agent_id").GoType(gid.ID("")).Annotations(entgql.Skip()),
		field.String("contact_id").NotEmpty().MaxLen(128).
			Annotations(entgql.MapsTo("contactId")).
			Comment("the Amazon Connect contact ID"),
		field.Enum("channel").Values("VOICE", "CHAT", "TASK", "EMAIL").
			Annotations(entgql.Type("InteractionChannel")),
		field.String("phone_number").Optional().MaxLen(32),
		field.Enum("connection_type").
			Values("INBOUND", "OUTBOUND", "TRANSFER", "CALLBACK", "QUEUE_TRANSFER", "API", "MONITOR").
			Annotations(entgql.Type("ConnectionType")),
		field.Time("started_at").Annotations(entgql.OrderField("STARTED_AT")),
		field.Time("ended_at").Optional().Nillable(),
	}
}

// Edges of Interaction.
func (Interaction) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("agent", Agent.Type).Ref("interactions").Field("agent_id").
			Unique().Required(),
	}
}

// Indexes of Interaction.
func (Interaction) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "contact_id").Unique(),
		index.Fields("tenant_id", "agent_id", "started_at"),
		index.Fields("tenant_id", "phone_number"),
	}
}

// Annotations of Interaction.
func (Interaction) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
