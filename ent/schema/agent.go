package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"switchboard/gid"
	"switchboard/viewer"
)

// Agent is a person who works in the desktop: their SSO email, name,
// Amazon Connect username and role.
type Agent struct {
	ent.Schema
}

// Mixin of Agent.
func (Agent) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("AG"), TenantMixin{}}
}

// Fields of Agent.
func (Agent) Fields() []ent.Field {
	return []ent.Field{
		field.String("email").NotEmpty().MaxLen(320).
			Annotations(entgql.OrderField("EMAIL")),
		field.String("name").NotEmpty().MaxLen(200).
			Annotations(entgql.OrderField("NAME")),
		field.String("connect_username").Optional().MaxLen(100),
		field.String("connect_user_id").Optional().MaxLen(100).
			Comment("the Amazon Connect user ID, for PutUserStatus"),
		field.String("connect_routing_profile").Optional().MaxLen(200).
			Comment("the name of the agent's routing profile in Amazon Connect, as importConnectUsers last read it").
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Enum("role").GoType(viewer.Role("")).Default(string(viewer.RoleAgent)).
			Annotations(entgql.Type("Role")),
		field.String("current_status_id").GoType(gid.ID("")).Optional().Nillable().
			Annotations(entgql.Skip()),
		field.Time("status_since").Optional().Nillable().
			Annotations(entgql.Skip()),
	}
}

// Edges of Agent.
func (Agent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("current_status", AgentStatus.Type).
			Field("current_status_id").
			Unique().
			Annotations(entgql.Skip()),
		edge.To("status_changes", AgentStatusChange.Type).
			Annotations(entgql.Skip()),
		edge.To("interactions", Interaction.Type).
			Annotations(entgql.RelayConnection(), entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		edge.To("contacts", Contact.Type).
			Annotations(entgql.Skip()),
		edge.To("conversations", Conversation.Type).
			Annotations(entgql.Skip()),
		edge.To("activity", AgentActivity.Type).Unique().
			Annotations(entgql.Skip(), entsql.OnDelete(entsql.Cascade)),
	}
}

// Indexes of Agent.
func (Agent) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "email").Unique(),
		index.Fields("tenant_id", "name"),
		index.Fields("tenant_id", "connect_user_id"),
	}
}

// Annotations of Agent.
func (Agent) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.QueryField(),
		entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate()),
	}
}
