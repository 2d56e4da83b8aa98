package schema

import (
	"context"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"switchboard/contactpoint"
	gen "switchboard/ent"
	"switchboard/ent/hook"
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
		field.String("ses_identity_arn").NotEmpty().MaxLen(512).Validate(sesIdentityARN),
		field.String("contact_flow_id").Optional().MaxLen(256),
		field.String("queue_id").Optional().MaxLen(256),
		// What SES last said of the address's identity (verifyInstance
		// asks); null until then, and again when the identity changes.
		field.Enum("verification_status").
			Values("NOT_STARTED", "PENDING", "SUCCESS", "FAILED", "TEMPORARY_FAILURE").
			Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
		field.Time("verification_checked_at").Optional().Nillable().
			Annotations(entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)),
	}
}

// Indexes of EmailAddress.
func (EmailAddress) Indexes() []ent.Index {
	// An address belongs to one tenant only, platform-wide: inbound mail to it
	// is routed by it.
	return []ent.Index{index.Fields("address").Unique()}
}

// Annotations of EmailAddress.
func (EmailAddress) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Mutations(entgql.MutationCreate(), entgql.MutationUpdate())}
}

// Hooks of EmailAddress: addresses are kept as bare, lower-case addresses,
// since inbound mail is matched on them; a new SES identity has not been
// verified yet.
func (EmailAddress) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(func(next ent.Mutator) ent.Mutator {
			return hook.EmailAddressFunc(func(ctx context.Context, m *gen.EmailAddressMutation) (ent.Value, error) {
				if a, ok := m.Address(); ok {
					norm, err := contactpoint.NormaliseEmail(a)
					if err != nil {
						return nil, err
					}
					m.SetAddress(norm)
				}
				if _, ok := m.SesIdentityArn(); ok && !m.Op().Is(ent.OpCreate) {
					if _, setting := m.VerificationStatus(); !setting {
						m.ClearVerificationStatus()
						m.ClearVerificationCheckedAt()
					}
				}
				return next.Mutate(ctx, m)
			})
		}, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne),
	}
}
