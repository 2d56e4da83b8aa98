package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Module is an admin-added panel in the desktop, such as a custom iframe.
type Module struct {
	ent.Schema
}

// Mixin of Module.
func (Module) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("MD"), TenantMixin{}}
}

// Fields of Module.
func (Module) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(100),
		// Shown to agents as an iframe: https only, so that no
		// javascript:, data: or plain-http page runs in the desktop.
		field.String("url").NotEmpty().MaxLen(2048).Validate(httpsURL),
		field.Int("position").Default(0),
	}
}

// Indexes of Module.
func (Module) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "position")}
}

// Annotations of Module.
func (Module) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate())}
}
