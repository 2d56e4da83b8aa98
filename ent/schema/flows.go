package schema

import (
	"context"
	"regexp"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"switchboard/apierror"
	gen "switchboard/ent"
	"switchboard/ent/hook"
)

// Limits of operational parameters.
const (
	MaxParameterName  = 64
	MaxParameterValue = 1024
	// MaxParameters is how many parameters a tenant keeps, in all groups.
	MaxParameters = 1000
)

// parameterName is a group's or a key's form: what a contact flow names
// without quoting (letters, digits, _ . -), starting with a letter or digit.
var parameterName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.\-]*$`)

// OperationalParameter is a key and its value in a group, which admins
// change and contact flows read through /flows (a message, a flag, a
// number to dial) without anyone editing the flow.
type OperationalParameter struct {
	ent.Schema
}

// Mixin of OperationalParameter.
func (OperationalParameter) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("OP"), TenantMixin{}}
}

// Fields of OperationalParameter.
func (OperationalParameter) Fields() []ent.Field {
	return []ent.Field{
		field.String("group_name").MaxLen(MaxParameterName).Match(parameterName).Immutable().
			Annotations(entgql.MapsTo("group"), entgql.OrderField("GROUP")),
		field.String("key").MaxLen(MaxParameterName).Match(parameterName).Immutable(),
		field.String("value").MaxLen(MaxParameterValue),
	}
}

// Hooks of OperationalParameter: a tenant keeps at most MaxParameters.
func (OperationalParameter) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(func(next ent.Mutator) ent.Mutator {
			return hook.OperationalParameterFunc(func(ctx context.Context, m *gen.OperationalParameterMutation) (ent.Value, error) {
				n, err := m.Client().OperationalParameter.Query().Count(ctx)
				if err != nil {
					return nil, err
				}
				if n >= MaxParameters {
					return nil, apierror.New(apierror.BadUserInput, "a tenant keeps at most %d operational parameters; delete some first", MaxParameters)
				}
				return next.Mutate(ctx, m)
			})
		}, ent.OpCreate),
	}
}

// Indexes of OperationalParameter: a key once in its group.
func (OperationalParameter) Indexes() []ent.Index {
	return []ent.Index{index.Fields("tenant_id", "group_name", "key").Unique()}
}

// Annotations of OperationalParameter.
func (OperationalParameter) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput, entgql.SkipWhereInput, entgql.SkipOrderField)}
}

// FlowsKey is the key a tenant's contact flows present at /flows, through
// the tenant's forwarding Lambda. Only its SHA-256 is kept; a tenant has
// one at a time, and rotating it ends the old one.
type FlowsKey struct {
	ent.Schema
}

// Mixin of FlowsKey.
func (FlowsKey) Mixin() []ent.Mixin {
	return []ent.Mixin{Base("FK"), TenantMixin{}}
}

// Fields of FlowsKey.
func (FlowsKey) Fields() []ent.Field {
	return []ent.Field{
		field.Bytes("key_hash").Sensitive().Annotations(entgql.Skip()),
		field.String("created_by").Optional().MaxLen(320),
	}
}

// Indexes of FlowsKey: one a tenant, found by its hash.
func (FlowsKey) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("tenant_id").Unique(),
		index.Fields("key_hash").Unique(),
	}
}

// Annotations of FlowsKey: not a GraphQL type (rotateFlowsKey answers with
// the key once).
func (FlowsKey) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipAll)}
}
