package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// UsageHour is one tenant's usage in one closed UTC hour: its active agent
// minutes as counted when the hour closed (what is billed), and those that
// reached the change log later (counted, never billed). Package usage
// writes it; see there for what an active agent minute is.
type UsageHour struct {
	ent.Schema
}

// Mixin of UsageHour.
func (UsageHour) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("UH"), TenantMixin{}}
}

// Fields of UsageHour.
func (UsageHour) Fields() []ent.Field {
	return []ent.Field{
		field.Time("hour").Immutable().Comment("the hour's start, UTC"),
		field.Int("active_agent_minutes").NonNegative().Immutable().
			Comment("counted when the hour closed: the quantity metered"),
		field.Int("active_agents").NonNegative(),
		field.Int("late_minutes").Default(0).NonNegative().
			Comment("active agent minutes that reached the log after the hour closed"),
		field.Time("metered_at").Optional().Nillable().
			Comment("when AWS Marketplace gave its final answer for the hour"),
	}
}

// Indexes of UsageHour.
func (UsageHour) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id", "hour").Unique(),
		index.Fields("hour", "metered_at"),
	}
}

// Annotations of UsageHour.
func (UsageHour) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}

// BillingLogEntry is one usage record of one AWS Marketplace metering
// request sent for a tenant, and what AWS answered for it.
type BillingLogEntry struct {
	ent.Schema
}

// Mixin of BillingLogEntry.
func (BillingLogEntry) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("BL"), TenantMixin{}}
}

// Fields of BillingLogEntry.
func (BillingLogEntry) Fields() []ent.Field {
	return []ent.Field{
		field.Time("sent_at").Immutable().Annotations(entgql.OrderField("SENT_AT")),
		field.Time("hour").Immutable(),
		field.String("dimension").MaxLen(64).Immutable(),
		field.Int("quantity").NonNegative().Immutable(),
		field.Enum("status").Values("SUCCESS", "CUSTOMER_NOT_SUBSCRIBED", "DUPLICATE_RECORD", "UNPROCESSED", "FAILED").Immutable(),
		field.String("metering_record_id").Optional().MaxLen(128).Immutable().Annotations(entgql.MapsTo("meteringRecordId")),
		field.String("request_id").Optional().MaxLen(128).Immutable().Annotations(entgql.MapsTo("requestId")),
		field.String("error").Optional().MaxLen(1000).Immutable(),
		field.Int("attempt").Positive().Immutable(),
	}
}

// Indexes of BillingLogEntry.
func (BillingLogEntry) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "sent_at")}
}

// Annotations of BillingLogEntry.
func (BillingLogEntry) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput),
	}
}

// PendingSubscription is an AWS Marketplace buyer who registered through
// /marketplace/register and waits for an operator to link it to a tenant.
// It belongs to no tenant until then, and goes when linked.
type PendingSubscription struct {
	ent.Schema
}

// Mixin of PendingSubscription.
func (PendingSubscription) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("PS")}
}

// Fields of PendingSubscription.
func (PendingSubscription) Fields() []ent.Field {
	return []ent.Field{
		field.String("customer_identifier").Optional().MaxLen(64),
		field.String("customer_aws_account_id").Optional().MaxLen(12).Annotations(entgql.MapsTo("customerAwsAccountId")),
		field.String("product_code").MaxLen(64),
		field.String("license_arn").Optional().MaxLen(2048),
		field.Time("registered_at"),
	}
}

// Indexes of PendingSubscription: a buyer registers once per product.
func (PendingSubscription) Indexes() []ent.Index {
	return []ent.Index{index.Fields("product_code", "customer_identifier", "customer_aws_account_id").Unique()}
}

// Annotations of PendingSubscription.
func (PendingSubscription) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput, entgql.SkipOrderField)}
}
