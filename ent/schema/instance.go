package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Instance is a tenant's Amazon Connect instance and the cross-account
// role that reaches it.
type Instance struct {
	ent.Schema
}

// Mixin of Instance.
func (Instance) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("CI"), TenantMixin{}}
}

// Fields of Instance.
func (Instance) Fields() []ent.Field {
	return []ent.Field{
		field.String("instance_arn").NotEmpty().MaxLen(256).
			Validate(instanceARN).
			Annotations(entgql.MapsTo("instanceArn")),
		field.String("alias").Optional().MaxLen(62),
		field.String("region").NotEmpty().MaxLen(32),
		field.String("role_arn").NotEmpty().MaxLen(256).
			Validate(roleARN).
			Annotations(entgql.MapsTo("roleArn")),
		field.String("external_id").NotEmpty().MaxLen(1224).Sensitive().
			Annotations(entgql.Skip()),
		field.String("chat_contact_flow_id").Optional().MaxLen(256).
			Annotations(entgql.MapsTo("chatContactFlowId")),
		field.Strings("modules").Optional(),
		field.Bytes("agent_event_key_hash").Optional().Nillable().Sensitive().
			Annotations(entgql.Skip()).
			Comment("SHA-256 of the key the agent event stream delivery presents"),
		// The email buckets' backups (configureEmailBackups): non-current
		// versions are kept this many days.
		field.Int("email_backup_days").Optional().Nillable().Range(1, 3650).
			Annotations(entgql.Skip()),
		// Reporting (configureReporting): the QuickSight dashboard and the
		// user the console's people view it as.
		field.String("reporting_account_id").Optional().MaxLen(12).Match(awsAccountID).
			Annotations(entgql.Skip()),
		field.String("reporting_dashboard_id").Optional().MaxLen(512).
			Annotations(entgql.Skip()),
		field.String("reporting_user_arn").Optional().MaxLen(2048).
			Annotations(entgql.Skip()),
		// Assist (configureAssist): the Bedrock model or inference profile
		// and its region; unset, assist's defaults.
		field.String("assist_model_id").Optional().MaxLen(2048).Match(bedrockModelID).
			Annotations(entgql.Skip()),
		field.String("assist_region").Optional().MaxLen(32).Match(awsRegion).
			Annotations(entgql.Skip()),
	}
}

// Indexes of Instance: one instance per tenant.
func (Instance) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id").Unique(),
		index.Fields("agent_event_key_hash").Unique(),
	}
}

// Annotations of Instance.
func (Instance) Annotations() []schema.Annotation {
	return []schema.Annotation{}
}
