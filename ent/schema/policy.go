package schema

import (
	"context"
	"fmt"
	"slices"

	"entgo.io/ent"
	"entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/sqljson"
	"entgo.io/ent/entql"

	"switchboard/apierror"
	gen "switchboard/ent"
	"switchboard/ent/agent"
	"switchboard/ent/agentactivity"
	"switchboard/ent/contact"
	"switchboard/ent/conversation"
	"switchboard/ent/hook"
	"switchboard/ent/interaction"
	"switchboard/ent/module"
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
// to the viewer's tenant. An operator belongs to no tenant and sees nothing
// of it but what the platform bills: its usage and billing log.
func (TenantMixin) Policy() ent.Policy {
	return privacy.Policy{
		Query:    privacy.QueryPolicy{operatorReadsBilling(), filterToViewerTenant()},
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

// operatorReadsBilling lets operators read every tenant's usage and
// billing log, which the platform bills from.
func operatorReadsBilling() privacy.QueryRule {
	return privacy.QueryRuleFunc(func(ctx context.Context, q ent.Query) error {
		switch q.(type) {
		case *gen.UsageHourQuery, *gen.BillingLogEntryQuery:
			if viewer.FromContext(ctx).Operator() {
				return privacy.Allow
			}
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

// refuse returns a denial meant for the client: it is a privacy.Deny (so
// node(id:) still answers null), and an *apierror.Error with code FORBIDDEN
// whose message the error presenter shows, since classify.Of prefers it.
// Denials that are no business of a client's (no viewer, an unexpected
// type) stay privacy.Denyf, which clients see as "not allowed".
func refuse(format string, args ...any) error {
	return &apierror.Error{Code: apierror.Forbidden, Message: fmt.Sprintf(format, args...), Err: privacy.Deny}
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

// isAdmin reports whether the viewer is one of its tenant's admins: a
// person, not a service acting with an admin's rights (the SCIM client).
func isAdmin(v *viewer.Viewer) bool {
	return v.InTenant(viewer.RoleAdmin) && v.Service == ""
}

// readByTenant allows reads by every viewer of the tenant: the tenant
// mixin has already confined them to it, so an operator reads none.
func readByTenant() privacy.QueryPolicy {
	return privacy.QueryPolicy{privacy.AlwaysAllowRule()}
}

// readByAdmins allows reads by the tenant's admins, and by code that reads
// with grant on another viewer's behalf (nil: none); it refuses the rest
// with message.
func readByAdmins(grant func(context.Context) bool, message string) privacy.QueryPolicy {
	return privacy.QueryPolicy{
		privacy.ContextQueryMutationRule(func(ctx context.Context) error {
			if isAdmin(viewer.FromContext(ctx)) || (grant != nil && grant(ctx)) {
				return privacy.Allow
			}
			return refuse("%s", message)
		}),
	}
}

// writesBy allows writes by the given role and above of the tenant (the
// mixins have already confined them to it) and refuses the rest with message.
func writesBy(min viewer.Role, message string) privacy.MutationPolicy {
	return privacy.MutationPolicy{
		allowIfRole(min),
		privacy.MutationRuleFunc(func(context.Context, ent.Mutation) error { return refuse("%s", message) }),
	}
}

// Policy of Tenant. Reads: operators read every tenant; a tenant's people
// read their own. Writes: operators create, update and delete tenants, and
// alone change a subscription (lifecycle, product, seats, the Marketplace
// buyer); a tenant's admins update the rest of their own.
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
					for _, f := range append(m.Fields(), m.ClearedFields()...) {
						if !adminSetsTenant[f] {
							return refuse("only the platform's operators change a tenant's subscription (%s)", f)
						}
					}
					m.Where(tenant.ID(v.TenantID))
					return privacy.Allow
				}),
				ent.OpUpdateOne,
			),
			privacy.MutationRuleFunc(func(context.Context, ent.Mutation) error {
				return refuse("operators create tenants; a tenant's admins update their own")
			}),
		},
	}
}

// adminSetsTenant are the fields of its tenant that an admin may change.
var adminSetsTenant = map[string]bool{
	tenant.FieldName: true, tenant.FieldContactName: true, tenant.FieldContactEmail: true,
	tenant.FieldContactPhone: true, tenant.FieldDefaultRegion: true, tenant.FieldUpdatedAt: true,
}

// Services that write the platform's billing records, each as the System
// viewer of the tenant it works for.
const (
	UsageService    = "usage"
	MeteringService = "metering"
	AssistService   = "assist"
	// ConnectEventsService applies the agent event stream of a tenant's
	// Amazon Connect instance.
	ConnectEventsService = "amazon-connect"
)

// writtenBy allows writes only by the named services, each acting for
// the tenant.
func writtenBy(message string, services ...string) privacy.MutationPolicy {
	return privacy.MutationPolicy{
		privacy.MutationRuleFunc(func(ctx context.Context, _ ent.Mutation) error {
			v := viewer.FromContext(ctx)
			if v != nil && v.TenantID != "" && slices.Contains(services, v.Service) {
				return privacy.Allow
			}
			return refuse("%s", message)
		}),
	}
}

// Policy of UsageHour. Reads: the tenant's admins, the usage and metering
// services (and operators, through the tenant mixin). Writes: the usage
// service, which closes each hour, and the metering service, which marks
// it metered;
// decommissioning deletes them with the tenant.
func (UsageHour) Policy() ent.Policy {
	return privacy.Policy{
		Query: readByAdmins(func(ctx context.Context) bool {
			s := viewer.FromContext(ctx).Service
			return s == UsageService || s == MeteringService
		}, "only the tenant's admins read its usage"),
		Mutation: writtenBy("usage is counted by switchboard, never written by hand", UsageService, MeteringService),
	}
}

// Policy of AssistUsageDay. Reads: the tenant's admins and the assist
// service. Writes: the assist service, which counts each call.
func (AssistUsageDay) Policy() ent.Policy {
	return privacy.Policy{
		Query: readByAdmins(func(ctx context.Context) bool {
			return viewer.FromContext(ctx).Service == AssistService
		}, "only the tenant's admins read its use of assist"),
		Mutation: writtenBy("assist's use is counted by switchboard, never written by hand", AssistService),
	}
}

// Policy of BillingLogEntry. Reads: operators (through the tenant mixin)
// and the metering service; the tenant's people are refused. Writes: the metering service.
func (BillingLogEntry) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			privacy.ContextQueryMutationRule(func(ctx context.Context) error {
				if viewer.FromContext(ctx).Service == MeteringService {
					return privacy.Allow // it numbers each record's attempts
				}
				return refuse("the billing log is the platform operators'")
			}),
		},
		Mutation: writtenBy("the billing log is written by the metering service only", MeteringService),
	}
}

// Policy of PendingSubscription. Operators only: it belongs to no tenant.
func (PendingSubscription) Policy() ent.Policy {
	const operators = "pending Marketplace subscriptions are the platform operators'"
	return privacy.Policy{
		Query: privacy.QueryPolicy{allowIfOperator(), privacy.ContextQueryMutationRule(func(context.Context) error {
			return refuse("%s", operators)
		})},
		Mutation: privacy.MutationPolicy{allowIfOperator(), privacy.MutationRuleFunc(func(context.Context, ent.Mutation) error {
			return refuse("%s", operators)
		})},
	}
}

// Policy of Agent. Reads: every person of the tenant (the directory, the
// wallboard, the live status service). Writes: admins manage agents; anyone
// of the tenant may move an agent's current status (an agent only its
// own), which the live status service does.
func (Agent) Policy() ent.Policy {
	return privacy.Policy{
		Query: readByTenant(),
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
			privacy.MutationRuleFunc(func(context.Context, ent.Mutation) error {
				return refuse("only the tenant's admins manage agents")
			}),
		},
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

// Policy of AgentStatusDay. Reads: every viewer of the tenant (the minute
// record behind reports). Writes: the recorder, which acts as a supervisor
// of the tenant.
func (AgentStatusDay) Policy() ent.Policy {
	return privacy.Policy{
		Query:    readByTenant(),
		Mutation: writesBy(viewer.RoleSupervisor, "the minute record is written by its recorder, as a supervisor"),
	}
}

// Policy of Instance. Reads: the tenant's admins, who configure it; domain
// code that uses it on a non-admin's behalf (email, chats, telling Connect
// of a status) reads it under ReadInstance, and the lookups that find a
// tenant by its instance (agent event delivery, inbound mail) run before
// there is a viewer, under privacy.DecisionContext allow. An agent's or a
// supervisor's read, node(id:) included, is refused. Writes: admins.
func (Instance) Policy() ent.Policy {
	const admins = "only the tenant's admins manage its Amazon Connect instance"
	return privacy.Policy{
		Query:    readByAdmins(readsInstance, admins),
		Mutation: writesBy(viewer.RoleAdmin, admins),
	}
}

// Policy of AgentStatus. Reads: every viewer of the tenant (agents choose
// their status from them). Writes: admins.
func (AgentStatus) Policy() ent.Policy {
	return privacy.Policy{
		Query:    readByTenant(),
		Mutation: writesBy(viewer.RoleAdmin, "only the tenant's admins manage agent statuses"),
	}
}

// Policy of EmailAddress. Reads: every viewer of the tenant (agents send
// from them; inbound mail is routed by them). Writes: admins.
func (EmailAddress) Policy() ent.Policy {
	return privacy.Policy{
		Query:    readByTenant(),
		Mutation: writesBy(viewer.RoleAdmin, "only the tenant's admins manage its email addresses"),
	}
}

// Policy of Module. Reads: every viewer of the tenant (the desktop shows
// them). Writes: admins.
func (Module) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			privacy.ModuleQueryRuleFunc(func(ctx context.Context, q *gen.ModuleQuery) error {
				if v := viewer.FromContext(ctx); !v.InTenant(viewer.RoleAdmin) {
					q.Where(shownTo(v.Role))
				}
				return privacy.Allow
			}),
		},
		Mutation: writesBy(viewer.RoleAdmin, "only the tenant's admins manage modules"),
	}
}

// shownTo is the modules a role sees: those for everyone (no roles) and
// those that list it.
func shownTo(role viewer.Role) predicate.Module {
	return func(s *sql.Selector) {
		c := s.C(module.FieldRoles)
		s.Where(sql.Or(sql.IsNull(c), sqljson.LenEQ(c, 0), sqljson.ValueContains(c, role)))
	}
}

// Policy of OperationalParameter and of Schedule. Reads: supervisors and
// admins. Writes: admins. (/flows reads them by the flows key alone, as the
// agent-event endpoint reads instances by theirs: flows.keyOwns confines
// those reads to the key's tenant.)
func (OperationalParameter) Policy() ent.Policy {
	return privacy.Policy{
		Query:    readBySupervisors("only supervisors and admins read operational parameters"),
		Mutation: writesBy(viewer.RoleAdmin, "only the tenant's admins set operational parameters"),
	}
}

// Policy of Schedule: as OperationalParameter's.
func (Schedule) Policy() ent.Policy {
	return privacy.Policy{
		Query:    readBySupervisors("only supervisors and admins read schedules"),
		Mutation: writesBy(viewer.RoleAdmin, "only the tenant's admins manage schedules"),
	}
}

// Policy of BrandingImage. Reads: every viewer of the tenant (the desktop
// shows them; GET /branding finds one by its tenant, kind and hash).
// Writes: admins.
func (BrandingImage) Policy() ent.Policy {
	return privacy.Policy{
		Query:    readByTenant(),
		Mutation: writesBy(viewer.RoleAdmin, "only the tenant's admins set its branding"),
	}
}

// Policy of AdminUser. Reads and writes: admins; and switchboard recording
// a console person's sign-in (SignInService).
func (AdminUser) Policy() ent.Policy {
	signIn := func(ctx context.Context) bool { return viewer.FromContext(ctx).Service == SignInService }
	return privacy.Policy{
		Query: readByAdmins(signIn, "only the tenant's admins list the console's people"),
		Mutation: privacy.MutationPolicy{
			allowIfRole(viewer.RoleAdmin),
			privacy.MutationRuleFunc(func(ctx context.Context, _ ent.Mutation) error {
				if signIn(ctx) {
					return privacy.Allow
				}
				return refuse("only the tenant's admins manage the console's people")
			}),
		},
	}
}

// Policy of MicrosoftIntegration: admins alone read and write it.
func (MicrosoftIntegration) Policy() ent.Policy {
	return privacy.Policy{
		Query:    readByAdmins(nil, "only the tenant's admins keep the Microsoft integration"),
		Mutation: writesBy(viewer.RoleAdmin, "only the tenant's admins set the Microsoft integration"),
	}
}

// Policy of FlowsKey. Reads and writes: admins (the /flows endpoint finds
// a key by its hash, as the only credential its caller has).
func (FlowsKey) Policy() ent.Policy {
	return privacy.Policy{
		Query:    readByAdmins(nil, "only the tenant's admins keep the flows key"),
		Mutation: writesBy(viewer.RoleAdmin, "only the tenant's admins rotate the flows key"),
	}
}

// readBySupervisors allows reads by the tenant's supervisors and admins
// (and the systems that act as supervisors), and refuses the rest.
func readBySupervisors(message string) privacy.QueryPolicy {
	return privacy.QueryPolicy{
		privacy.ContextQueryMutationRule(func(ctx context.Context) error {
			if viewer.FromContext(ctx).InTenant(viewer.RoleSupervisor) {
				return privacy.Allow
			}
			return refuse("%s", message)
		}),
	}
}

// Policy of Template. Reads: every viewer of the tenant (agents answer
// with them). Writes: admins.
func (Template) Policy() ent.Policy {
	return privacy.Policy{
		Query:    readByTenant(),
		Mutation: writesBy(viewer.RoleAdmin, "only the tenant's admins manage templates"),
	}
}

// Policy of AgentStatusChange. Reads: every viewer of the tenant (the live
// status service decides whose history a request may see). Writes:
// appended by supervisors and admins for any agent of the tenant and by an
// agent for itself, never changed.
func (AgentStatusChange) Policy() ent.Policy {
	return privacy.Policy{
		Query: readByTenant(),
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
			privacy.MutationRuleFunc(func(context.Context, ent.Mutation) error {
				return refuse("an agent records only its own status changes, and none is ever changed")
			}),
		},
	}
}

// Policy of AgentActivity. Reads: every viewer of the tenant, as statuses
// (the wallboard); an agent finding whose a contact is (OwnContacts) reads
// only its own. Writes: the agent event stream only; decommissioning
// deletes them with the tenant.
func (AgentActivity) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			privacy.AgentActivityQueryRuleFunc(func(ctx context.Context, q *gen.AgentActivityQuery) error {
				if v := viewer.FromContext(ctx); readsOwnContacts(ctx) && !v.InTenant(viewer.RoleSupervisor) {
					q.Where(agentactivity.AgentID(v.AgentID)) // "" matches nothing
				}
				return privacy.Allow
			}),
		},
		Mutation: writtenBy("an agent's activity comes from Amazon Connect's agent event stream", ConnectEventsService),
	}
}

// Policy of Interaction. Reads: an agent reads its own interactions;
// supervisors and admins the tenant's. A read of the whole tenant's
// (WholeTenant, such as the lookup by phone number) is refused to an agent
// rather than narrowed. Writes: an agent records its own; supervisors and
// admins any of the tenant's.
func (Interaction) Policy() ent.Policy {
	return privacy.Policy{
		Query: privacy.QueryPolicy{
			privacy.InteractionQueryRuleFunc(func(ctx context.Context, q *gen.InteractionQuery) error {
				v := viewer.FromContext(ctx)
				switch {
				case v.InTenant(viewer.RoleSupervisor):
				case readsWholeTenant(ctx):
					return refuse("only supervisors and admins look up the tenant's interactions; an agent sees its own")
				default:
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
					return refuse("only agents record interactions")
				}
				if id, ok := m.AgentID(); ok && id != v.AgentID {
					return refuse("an agent records only its own interactions")
				}
				m.Where(interaction.AgentID(v.AgentID))
				return privacy.Allow
			}),
		},
	}
}

// Policy of ScimToken. Reads: the tenant's admins, who create and revoke
// the tokens; the SCIM endpoint finds a presented token by its hash before
// there is a viewer, under privacy.DecisionContext allow. An agent's or a
// supervisor's read, node(id:) included, is refused. Writes: admins (the
// SCIM client, acting as one, records when its token was last used).
func (ScimToken) Policy() ent.Policy {
	const admins = "only the tenant's admins manage SCIM tokens"
	return privacy.Policy{
		Query:    readByAdmins(nil, admins),
		Mutation: writesBy(viewer.RoleAdmin, admins),
	}
}

// Policy of Contact. Reads: a personal contact is its owner's alone;
// organisation contacts are read by the whole tenant, and the SCIM client
// reads only the ones it synchronised. Writes: a personal contact belongs
// to the agent who makes it (made its owner here); organisation contacts
// are written by admins (hand-made ones) or the SCIM client (synchronised
// ones), never both.
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
					return refuse("only a tenant's people keep contacts")
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
					return mayCreateContact(v, m)
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

// mayCreateContact decides a person's new contact: hand-made, an
// organisation one by an admin, a personal one owned by the viewer's agent
// record (its owner when none is named).
func mayCreateContact(v *viewer.Viewer, m *gen.ContactMutation) error {
	if src, _ := m.Source(); src == contact.SourceSCIM {
		return refuse("SCIM contacts come from SCIM")
	}
	if sc, _ := m.Scope(); sc == contact.ScopeORGANISATION {
		if !v.InTenant(viewer.RoleAdmin) {
			return refuse("only admins create organisation contacts")
		}
		return privacy.Allow
	}
	owner, named := m.OwnerID()
	switch {
	case !named && v.AgentID == "":
		return apierror.New(apierror.BadUserInput, "personal contacts belong to agents, and you have no agent record")
	case !named:
		m.SetOwnerID(v.AgentID)
	case owner != v.AgentID:
		return refuse("a personal contact belongs to the agent who makes it")
	}
	return privacy.Allow
}

// ownedBy matches the viewer's personal contacts (none without an agent record).
func ownedBy(v *viewer.Viewer) predicate.Contact {
	if v == nil || v.AgentID == "" {
		return contact.And(contact.OwnerIDIsNil(), contact.OwnerIDNotNil()) // nothing
	}
	return contact.And(contact.ScopeEQ(contact.ScopePERSONAL), contact.OwnerID(v.AgentID))
}

// Policy of Conversation. Reads: an agent reads its own conversations;
// supervisors and admins the tenant's. Writes: an agent holds and ends its
// own; supervisors and admins any of the tenant's.
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
					return refuse("only agents hold conversations")
				}
				if id, ok := m.AgentID(); ok && id != v.AgentID {
					return refuse("an agent holds only its own conversations")
				}
				m.Where(conversation.AgentID(v.AgentID))
				return privacy.Allow
			}),
		},
	}
}

// Policy of Email. Reads: every viewer of the tenant (its mailbox is the
// tenant's). Writes: its people, agents and up, send and receive email.
func (Email) Policy() ent.Policy {
	return privacy.Policy{
		Query:    readByTenant(),
		Mutation: writesBy(viewer.RoleAgent, "only a tenant's people send email"),
	}
}
