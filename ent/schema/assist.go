package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// AssistUsageDay counts one tenant's calls of the assistant (Bedrock) in
// one UTC day, and the tokens they took: what the admin sees of assist.
// Neither the prompts nor the answers are stored, here or anywhere.
type AssistUsageDay struct {
	ent.Schema
}

// Mixin of AssistUsageDay.
func (AssistUsageDay) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("AX"), TenantMixin{}}
}

// Fields of AssistUsageDay.
func (AssistUsageDay) Fields() []ent.Field {
	return []ent.Field{
		field.Time("day").Immutable().Comment("the day's start, UTC"),
		field.Int("calls").Default(0).NonNegative(),
		field.Int("failed_calls").Default(0).NonNegative(),
		field.Int("input_tokens").Default(0).NonNegative(),
		field.Int("output_tokens").Default(0).NonNegative(),
	}
}

// Indexes of AssistUsageDay.
func (AssistUsageDay) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "day").Unique()}
}

// Annotations of AssistUsageDay.
func (AssistUsageDay) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
