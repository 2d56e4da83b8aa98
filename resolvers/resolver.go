// Package resolvers maps GraphQL onto ent and the domain packages. Bodies
// stay short: tenancy and permissions live in the data layer.
package resolvers

import (
	"errors"
	"switchboard/assist"
	"switchboard/branding"
	"switchboard/connectusers"
	"switchboard/conversations"
	"switchboard/ent/schema/schematype"
	"switchboard/graph/model"
	"switchboard/mail"
	"switchboard/onboarding"
	"switchboard/oncontact"
	"switchboard/profiles"
	"switchboard/queues"
	"switchboard/reporting"
	"switchboard/tenants"
	"switchboard/transfers"
	"switchboard/viewer"

	"entgo.io/contrib/entgql"

	"context"
	"switchboard/ent/privacy"
	"switchboard/gid"

	"github.com/99designs/gqlgen/graphql"

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/graph"
	"switchboard/integrations"
	"switchboard/livestatus"
)

// Resolver is the root resolver.
type Resolver struct {
	client        *ent.Client
	status        *livestatus.Service
	conversations *conversations.Service
	mail          *mail.Service
	tenants       *tenants.Service
	reporting     *reporting.Service
	microsoft     *integrations.Microsoft
	verifier      *onboarding.Verifier
	assist        *assist.Service
	transfers     *transfers.Service
	profiles      *profiles.Service
	queues        *queues.Service
	oncontact     *oncontact.Service
	connectUsers  *connectusers.Service
}

// Services are the domain services behind the resolvers.
type Services struct {
	Status        *livestatus.Service
	Conversations *conversations.Service
	Mail          *mail.Service // nil: this server does not send or read email
	Tenants       *tenants.Service
	Reporting     *reporting.Service      // nil: this server does not reach AWS
	Microsoft     *integrations.Microsoft // nil: no credentials are kept
	Verifier      *onboarding.Verifier    // nil: this server does not reach AWS
	Assist        *assist.Service         // nil: this server does not reach AWS
	Transfers     *transfers.Service      // nil: this server does not reach AWS
	Profiles      *profiles.Service       // nil: this server does not reach AWS
	Queues        *queues.Service         // nil: this server does not reach AWS
	OnContact     *oncontact.Service      // nil: this server does not reach AWS
	ConnectUsers  *connectusers.Service   // nil: this server does not reach AWS
}

// NewSchema returns the executable schema over the client and the services.
func NewSchema(client *ent.Client, s Services) graphql.ExecutableSchema {
	if s.Conversations == nil {
		s.Conversations = conversations.New(nil)
	}
	return graph.NewExecutableSchema(graph.Config{Resolvers: &Resolver{client: client, status: s.Status, conversations: s.Conversations, mail: s.Mail, tenants: s.Tenants, reporting: s.Reporting, microsoft: s.Microsoft, verifier: s.Verifier, assist: s.Assist, transfers: s.Transfers, profiles: s.Profiles, queues: s.Queues, oncontact: s.OnContact, connectUsers: s.ConnectUsers}})
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// branding is the tenant's branding's URLs.
func (r *Resolver) branding(ctx context.Context, tenantID gid.ID) (*model.Branding, error) {
	logo, favicon, err := branding.URLs(ctx, r.ent(ctx), tenantID)
	if err != nil {
		return nil, err
	}
	return &model.Branding{LogoURL: logo, FaviconURL: favicon}, nil
}

// microsoftStatus is the integration's status as the schema has it.
func microsoftStatus(st integrations.Status) *model.MicrosoftIntegrationStatus {
	out := &model.MicrosoftIntegrationStatus{Configured: st.Configured}
	if st.Configured {
		out.DirectoryTenantID, out.ClientID, out.UpdatedAt = &st.DirectoryTenantID, &st.ClientID, &st.UpdatedAt
	}
	return out
}

// values returns the values of a list of pointers (gqlgen's shape of a
// list of input objects), leaving out nils.
func values[T any](ps []*T) []T {
	out := make([]T, 0, len(ps))
	for _, p := range ps {
		if p != nil {
			out = append(out, *p)
		}
	}
	return out
}

// nonEmpty is s, or nil when it is empty.
func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ent returns the request's client: the mutation's transaction when there is one.
func (r *Resolver) ent(ctx context.Context) *ent.Client {
	if c := ent.FromContext(ctx); c != nil {
		return c
	}
	return r.client
}

// MaxPage bounds a connection page.
const MaxPage = 500

// DefaultPage is the page of a connection asked for with neither first nor
// last.
const DefaultPage = 100

// pageSize checks first/last and defaults an unbounded request to one page.
func pageSize(first, last *int) (*int, *int, error) {
	for _, n := range []*int{first, last} {
		if n != nil && (*n < 0 || *n > MaxPage) {
			return nil, nil, apierror.New(apierror.BadUserInput, "first and last must be between 0 and %d", MaxPage)
		}
	}
	if first == nil && last == nil {
		n := DefaultPage
		first = &n
	}
	return first, last, nil
}

// node returns the node id names when the viewer may see it, and nil
// otherwise: another tenant's node is indistinguishable from none.
func (r *Resolver) node(ctx context.Context, id gid.ID) (ent.Noder, error) {
	n, err := r.ent(ctx).Noder(ctx, id, ent.WithNodeType(ent.IDToType))
	switch {
	case err == nil:
		return n, nil
	case ent.IsNotFound(err), errors.Is(err, privacy.Deny):
		return nil, nil
	}
	return nil, err
}

// newestFirst orders interactions by their start, newest first.
var newestFirst = &ent.InteractionOrder{Field: ent.InteractionOrderFieldStartedAt, Direction: entgql.OrderDirectionDesc}

// region returns the viewer's tenant's region for phone numbers.
func (r *Resolver) region(ctx context.Context) (string, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.TenantID == "" {
		return "", apierror.New(apierror.Forbidden, "only a tenant's people use the directory")
	}
	t, err := r.ent(ctx).Tenant.Get(ctx, v.TenantID)
	if err != nil {
		return "", err
	}
	return t.DefaultRegion, nil
}

// points copies contact points given as input.
func points(in []*schematype.ContactPoint) []schematype.ContactPoint {
	out := make([]schematype.ContactPoint, 0, len(in))
	for _, p := range in {
		if p != nil {
			out = append(out, *p)
		}
	}
	return out
}

// mailBody reads an email's body and attachments from the tenant's buckets.
func (r *Resolver) mailBody(ctx context.Context, e *ent.Email) (string, string, []mail.AttachmentInfo, error) {
	if r.mail == nil {
		return "", "", nil, apierror.New(apierror.BadUserInput, "this server does not read email")
	}
	return r.mail.Body(ctx, e)
}

// errNoAssist answers assist's operations on a server that does not reach
// AWS.
var errNoAssist = apierror.New(apierror.BadUserInput, "this server does not reach AWS: assist is unavailable")

// answer and settings adapt assist's results to gqlgen's pointers.
func answer(a assist.Answer, err error) (*assist.Answer, error) {
	if err != nil {
		return nil, err
	}
	return &a, nil
}

func settings(s assist.Settings, err error) (*assist.Settings, error) {
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// agentPageTypes are the types of a page of agents, for selects.
var agentPageTypes = []string{"AgentConnection", "AgentEdge", "Agent", "Node"}

// selects reports whether the field being resolved selects the path of
// fields below it (e.g. "edges", "node", "activity"), through fragments on
// any of the types named: so that an edge is loaded with the page only
// when the query asks for it.
func selects(ctx context.Context, types []string, path ...string) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil {
		return false
	}
	op := graphql.GetOperationContext(ctx)
	sel := fc.Field.Selections
	for _, name := range path {
		found := false
		for _, f := range graphql.CollectFields(op, sel, types) {
			if f.Name == name {
				sel, found = f.Selections, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
