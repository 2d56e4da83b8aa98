package schema

import (
	"context"

	"entgo.io/ent"
	"entgo.io/ent/entql"

	gen "switchboard/ent"
	"switchboard/ent/agent"
	"switchboard/ent/contact"
	"switchboard/ent/conversation"
	"switchboard/ent/hook"
	"switchboard/ent/interaction"
	"switchboard/ent/predicate"
	"switchboard/ent/privacy"
	"switchboard/ent/tenant"
	"switchboard/gid"
	"switchboard/viewer"
)

// Policy of the base mixin: nothing is read or written without a viewer.
func (BaseMixin) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{denyIfNoViewer()},
		Mutation: privacy.MutationPolicy{denyIfNoViewer()},
	}
}

// Policy of the tenant mixin: every query, update and delete is confined
// to the viewer's tenant. An operator belongs to no tenant and sees nothing.
func (TenantMixin) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{filterToViewerTenant()},
		Mutation: privacy.MutationPolicy{filterToViewerTenant()},
	}
}

// Hooks of the tenant mixin: a new row takes the viewer's tenant, and no
// edge may point at a row the viewer cannot see (another tenant's).
func (TenantMixin) Hooks() []ent.Hook {
	return []ent.Hook{
		hook.On(setViewerTenant, ent.OpCreate),
		hook.On(denyEdgesOutOfReach, ent.OpCreate|ent.OpUpdate|ent.OpUpdateOne),
	}
}

func denyIfNoViewer() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if viewer.FromContext(ctx) == nil {
			return privacy.Denyf("no viewer in context")
		}
		return privacy.Skip
	})
}

func filterToViewerTenant() privacy.QueryMutationRule {
	type tenantFilter interface {
		WhereTenantID(entql.StringP)
	}
	return privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
		v := viewer.FromContext(ctx)
		if v == nil {
			return privacy.Denyf("no viewer in context")
		}
		tf, ok := f.(tenantFilter)
		if !ok {
			return privacy.Denyf("%T is not tenant-owned", f)
		}
		tf.WhereTenantID(entql.StringEQ(string(v.TenantID)))
		return privacy.Skip
	})
}

func setViewerTenant(next ent.Mutator) ent.Mutator {
	type tenantMutation interface {
		TenantID() (gid.ID, bool)
		SetTenantID(gid.ID)
	}
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		v := viewer.FromContext(ctx)
		if v == nil || v.TenantID == "" {
			return nil, privacy.Denyf("%s rows belong to a tenant, and the viewer has none", m.Type())
		}
		tm, ok := m.(tenantMutation)
		if !ok {
			return nil, privacy.Denyf("%s is not tenant-owned", m.Type())
		}
		if id, set := tm.TenantID(); set && id != v.TenantID {
			return nil, privacy.Denyf("%s of another tenant", m.Type())
		}
		tm.SetTenantID(v.TenantID)
		return next.Mutate(ctx, m)
	})
}

// denyEdgesOutOfReach refuses a mutation that links to a node the viewer
// cannot read: since every read is confined to the viewer's tenant, this
// refuses every edge across tenants.
func denyEdgesOutOfReach(next ent.Mutator) ent.Mutator {
	type clientMutation interface {
		Client() *gen.Client
	}
	return ent.MutateFunc(func(ctx context.Context, m ent.Mutation) (ent.Value, error) {
		cm, ok := m.(clientMutation)
		if !ok {
			return nil, privacy.Denyf("%s: unexpected mutation type", m.Type())
		}
		for _, name := range m.AddedEdges() {
			if name == "tenant" {
				continue
			}
			for _, v := range m.AddedIDs(name) {
				id, ok := v.(gid.ID)
				if !ok {
					return nil, privacy.Denyf("%s.%s: unexpected ID type", m.Type(), name)
				}
				if isVouched(ctx, id) {
					continue
				}
				if _, err := cm.Client().Noder(ctx, id, gen.WithNodeType(gen.IDToType)); err != nil {
					return nil, privacy.Denyf("%s.%s: %s is out of reach: %v", m.Type(), name, id, err)
				}
			}
		}
		return next.Mutate(ctx, m)
	})
}

// allowIfRole allows a mutation when the viewer has at least the role in its tenant.
func allowIfRole(min viewer.Role) privacy.MutationRule {
	return privacy.MutationRuleFunc(func(ctx context.Context, _ ent.Mutation) error {
		if viewer.FromContext(ctx).InTenant(min) {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// allowIfOperator allows a query or mutation by a platform operator.
func allowIfOperator() privacy.QueryMutationRule {
	return privacy.ContextQueryMutationRule(func(ctx context.Context) error {
		if viewer.FromContext(ctx).Operator() {
			return privacy.Allow
		}
		return privacy.Skip
	})
}

// mutationsBy allows writes by the given role and above, and reads to every
// viewer of the tenant (the mixins have already confined them).
func mutationsBy(min viewer.Role) ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{allowIfRole(min), privacy.AlwaysDenyRule()},
		Query:    privacy.QueryPolicy{privacy.AlwaysAllowRule()},
	}
}

// Policy of Tenant: operators create and see every tenant; a tenant's people
// see their own, and its admins may update it.
func (Tenant) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			allowIfOperator(),
			privacy.FilterFunc(func(ctx context.Context, f privacy.Filter) error {
				tf, ok := f.(interface{ WhereID(entql.StringP) })
				if !ok {
					return privacy.Denyf("unexpected filter %T", f)
				}
				tf.WhereID(entql.StringEQ(string(viewer.FromContext(ctx).TenantID)))
				return privacy.Skip
			}),
		},
		Mutation: privacy.MutationPolicy{
			allowIfOperator(),
			privacy.OnMutationOperation(
				privacy.TenantMutationRuleFunc(func(ctx context.Context, m *gen.TenantMutation) error {
					v := viewer.FromContext(ctx)
					if !v.InTenant(viewer.RoleAdmin) {
						return privacy.Skip
					}
					m.Where(tenant.ID(v.TenantID))
					return privacy.Allow
				}),
				ent.OpUpdateOne,
			),
			privacy.AlwaysDenyRule(),
		},
	}
}

// Policy of Agent: admins manage agents; anyone of the tenant may move an
// agent's current status (an agent only its own), which the live status
// service does.
func (Agent) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			allowIfRole(viewer.RoleAdmin),
			privacy.OnMutationOperation(
				privacy.AgentMutationRuleFunc(func(ctx context.Context, m *gen.AgentMutation) error {
					v := viewer.FromContext(ctx)
					if !statusOnly(m) || !v.InTenant(viewer.RoleAgent) {
						return privacy.Skip
					}
					if v.Role == viewer.RoleAgent {
						m.Where(agent.ID(v.AgentID)) // an agent moves only its own status
					}
					return privacy.Allow
				}),
				ent.OpUpdate|ent.OpUpdateOne,
			),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{privacy.AlwaysAllowRule()},
	}
}

// statusOnly reports whether an agent mutation touches only its current status.
func statusOnly(m *gen.AgentMutation) bool {
	if len(m.ClearedFields()) > 0 || len(m.ClearedEdges()) > 0 {
		return false
	}
	for _, f := range m.Fields() {
		switch f {
		case agent.FieldCurrentStatusID, agent.FieldStatusSince, agent.FieldUpdatedAt:
		default:
			return false
		}
	}
	return true
}

// Policy of AgentStatusDay: the minute record is written by the recorder,
// which acts as a supervisor of the tenant.
func (AgentStatusDay) Policy() ent.Policy { return mutationsBy(viewer.RoleSupervisor) }

// Policy of Instance: admins configure the tenant's Connect instance.
func (Instance) Policy() ent.Policy { return mutationsBy(viewer.RoleAdmin) }

// Policy of AgentStatus: admins manage statuses.
func (AgentStatus) Policy() ent.Policy { return mutationsBy(viewer.RoleAdmin) }

// Policy of EmailAddress: admins manage the tenant's email addresses.
func (EmailAddress) Policy() ent.Policy { return mutationsBy(viewer.RoleAdmin) }

// Policy of Module: admins manage modules.
func (Module) Policy() ent.Policy { return mutationsBy(viewer.RoleAdmin) }

// Policy of Template: admins manage templates.
func (Template) Policy() ent.Policy { return mutationsBy(viewer.RoleAdmin) }

// Policy of AgentStatusChange: appended by supervisors and admins for any
// agent of the tenant and by an agent for itself, never changed.
func (AgentStatusChange) Policy() ent.Policy {
	return privacy.Policy{
		Mutation: privacy.MutationPolicy{
			privacy.OnMutationOperation(
				privacy.AgentStatusChangeMutationRuleFunc(func(ctx context.Context, m *gen.AgentStatusChangeMutation) error {
					v := viewer.FromContext(ctx)
					if v.InTenant(viewer.RoleSupervisor) {
						return privacy.Allow
					}
					if id, ok := m.AgentID(); ok && v.InTenant(viewer.RoleAgent) && id == v.AgentID {
						return privacy.Allow
					}
					return privacy.Skip
				}),
				ent.OpCreate,
			),
			privacy.AlwaysDenyRule(),
		},
		Query: privacy.QueryPolicy{privacy.AlwaysAllowRule()},
	}
}

// Policy of Interaction: an agent reads and writes its own interactions;
// supervisors and admins the tenant's.
func (Interaction) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			privacy.InteractionQueryRuleFunc(func(ctx context.Context, q *gen.InteractionQuery) error {
				v := viewer.FromContext(ctx)
				if !v.InTenant(viewer.RoleSupervisor) {
					q.Where(interaction.AgentID(v.AgentID)) // "" matches nothing
				}
				return privacy.Allow
			}),
		},
		Mutation: privacy.MutationPolicy{
			privacy.InteractionMutationRuleFunc(func(ctx context.Context, m *gen.InteractionMutation) error {
				v := viewer.FromContext(ctx)
				switch {
				case v.InTenant(viewer.RoleSupervisor):
					return privacy.Allow
				case !v.InTenant(viewer.RoleAgent) || v.AgentID == "":
					return privacy.Denyf("only agents record interactions")
				}
				if id, ok := m.AgentID(); ok && id != v.AgentID {
					return privacy.Denyf("an agent records only its own interactions")
				}
				m.Where(interaction.AgentID(v.AgentID))
				return privacy.Allow
			}),
		},
	}
}

// Policy of ScimToken: admins create and revoke SCIM tokens.
func (ScimToken) Policy() ent.Policy { return mutationsBy(viewer.RoleAdmin) }

// Policy of Contact: a personal contact is its owner's alone; organisation
// contacts are read by the whole tenant and written by its admins (hand-made
// ones) or its SCIM client (synchronised ones), never both.
func (Contact) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			privacy.ContactQueryRuleFunc(func(ctx context.Context, q *gen.ContactQuery) error {
				v := viewer.FromContext(ctx)
				if v.Service == viewer.ServiceSCIM {
					q.Where(contact.ScopeEQ(contact.ScopeORGANISATION), contact.SourceEQ(contact.SourceSCIM))
					return privacy.Allow
				}
				q.Where(contact.Or(contact.ScopeEQ(contact.ScopeORGANISATION), ownedBy(v)))
				return privacy.Allow
			}),
		},
		Mutation: privacy.MutationPolicy{
			privacy.ContactMutationRuleFunc(func(ctx context.Context, m *gen.ContactMutation) error {
				v := viewer.FromContext(ctx)
				if !v.InTenant(viewer.RoleAgent) {
					return privacy.Denyf("only a tenant's people keep contacts")
				}
				if v.Service == viewer.ServiceSCIM {
					m.Where(contact.ScopeEQ(contact.ScopeORGANISATION), contact.SourceEQ(contact.SourceSCIM))
					if m.Op().Is(ent.OpCreate) {
						if sc, _ := m.Scope(); sc != contact.ScopeORGANISATION {
							return privacy.Denyf("SCIM provisions organisation contacts")
						}
						if src, _ := m.Source(); src != contact.SourceSCIM {
							return privacy.Denyf("SCIM provisions SCIM contacts")
						}
					}
					return privacy.Allow
				}
				if m.Op().Is(ent.OpCreate) {
					if src, _ := m.Source(); src == contact.SourceSCIM {
						return privacy.Denyf("SCIM contacts come from SCIM")
					}
					if sc, _ := m.Scope(); sc == contact.ScopeORGANISATION && !v.InTenant(viewer.RoleAdmin) {
						return privacy.Denyf("only admins create organisation contacts")
					}
					if sc, _ := m.Scope(); sc != contact.ScopeORGANISATION {
						if owner, ok := m.OwnerID(); !ok || owner != v.AgentID {
							return privacy.Denyf("a personal contact belongs to the agent who makes it")
						}
					}
					return privacy.Allow
				}
				// Updates and deletes: hand-made contacts only; one's own
				// personal ones, and organisation ones for admins.
				if v.InTenant(viewer.RoleAdmin) {
					m.Where(contact.SourceEQ(contact.SourceMANUAL), contact.Or(contact.ScopeEQ(contact.ScopeORGANISATION), ownedBy(v)))
				} else {
					m.Where(contact.SourceEQ(contact.SourceMANUAL), ownedBy(v))
				}
				return privacy.Allow
			}),
		},
	}
}

// ownedBy matches the viewer's personal contacts (none without an agent record).
func ownedBy(v *viewer.Viewer) predicate.Contact {
	if v == nil || v.AgentID == "" {
		return contact.And(contact.OwnerIDIsNil(), contact.OwnerIDNotNil()) // nothing
	}
	return contact.And(contact.ScopeEQ(contact.ScopePERSONAL), contact.OwnerID(v.AgentID))
}

// Policy of Conversation: an agent reads and ends its own conversations;
// supervisors and admins the tenant's.
func (Conversation) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			privacy.ConversationQueryRuleFunc(func(ctx context.Context, q *gen.ConversationQuery) error {
				if v := viewer.FromContext(ctx); !v.InTenant(viewer.RoleSupervisor) {
					q.Where(conversation.AgentID(v.AgentID)) // "" matches nothing
				}
				return privacy.Allow
			}),
		},
		Mutation: privacy.MutationPolicy{
			privacy.ConversationMutationRuleFunc(func(ctx context.Context, m *gen.ConversationMutation) error {
				v := viewer.FromContext(ctx)
				switch {
				case v.InTenant(viewer.RoleSupervisor):
					return privacy.Allow
				case !v.InTenant(viewer.RoleAgent) || v.AgentID == "":
					return privacy.Denyf("only agents hold conversations")
				}
				if id, ok := m.AgentID(); ok && id != v.AgentID {
					return privacy.Denyf("an agent holds only its own conversations")
				}
				m.Where(conversation.AgentID(v.AgentID))
				return privacy.Allow
			}),
		},
	}
}

// Policy of Email: agents send email.
func (Email) Policy() ent.Policy { return mutationsBy(viewer.RoleAgent) }
