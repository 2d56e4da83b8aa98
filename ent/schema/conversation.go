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

// Conversation ties an external conversation (SMS, WhatsApp, web chat, ...)
// to the Amazon Connect contact that carries it. It never holds message text.
type Conversation struct {
	ent.Schema
}

// Mixin of Conversation.
func (Conversation) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("CV"), TenantMixin{}}
}

// Fields of Conversation.
func (Conversation) Fields() []ent.Field {
	return []ent.Field{
		field.String("agent_id").GoType(gid.ID("")).Optional().Nillable().Annotations(entgql.Skip()),
		field.Enum("channel").Values("SMS", "WHATSAPP", "WEBCHAT", "FACEBOOK", "TEAMS", "INSTAGRAM", "APPLE_MESSAGES").
			Annotations(entgql.Type("ConversationChannel")),
		field.String("external_id").NotEmpty().MaxLen(256).Annotations(entgql.MapsTo("externalId")),
		field.String("active_external_id").Optional().Nillable().MaxLen(256).Annotations(entgql.Skip()).
			Comment("external_id while the conversation is active, NULL once it ended"),
		field.String("participant").Optional().MaxLen(256),
		field.String("connect_contact_id").Optional().MaxLen(128).Annotations(entgql.MapsTo("connectContactId")),
		field.Enum("status").Values("ACTIVE", "ENDED").Default("ACTIVE").
			Annotations(entgql.Type("ConversationStatus")),
		field.Time("started_at").Default(time.Now).Annotations(entgql.OrderField("STARTED_AT")),
		field.Time("ended_at").Optional().Nillable(),
	}
}

// Edges of Conversation.
func (Conversation) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("agent", Agent.Type).Ref("conversations").Field("agent_id").Unique(),
	}
}

// Indexes of Conversation.
func (Conversation) Indexes() []ent.Index {
	return []ent.Index{
		// One active conversation per external party and channel: ended
		// ones hold no active_external_id, and NULLs never collide.
		index.Fields("tenant_id", "channel", "active_external_id").Unique(),
		index.Fields("tenant_id", "agent_id", "started_at"),
	}
}

// Annotations of Conversation.
func (Conversation) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}
