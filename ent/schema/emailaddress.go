package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// EmailAddress is one of a tenant's email addresses: the SES identity it
// sends through, and where mail to it is routed (an Amazon Connect contact
// flow, or a queue).
type EmailAddress struct {
	ent.Schema
}

// Mixin of EmailAddress.
func (EmailAddress) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("EA"), TenantMixin{}}
}

// Fields of EmailAddress.
func (EmailAddress) Fields() []ent.Field {
	return []ent.Field{
		field.String("address").NotEmpty().MaxLen(320),
		field.String("display_name").Optional().MaxLen(200),
		field.String("ses_identity_arn").NotEmpty().MaxLen(512).
			Annotations(entgql.MapsTo("sesIdentityArn")),
		field.String("contact_flow_id").Optional().MaxLen(256).
			Annotations(entgql.MapsTo("contactFlowId")),
		field.String("queue_id").Optional().MaxLen(256).
			Annotations(entgql.MapsTo("queueId")),
	}
}

// Indexes of EmailAddress.
func (EmailAddress) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "address").Unique()}
}

// Annotations of EmailAddress.
func (EmailAddress) Annotations() []schema.Annotation {
	return []schema.Annotation{}
}
