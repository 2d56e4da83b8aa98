// Package connectusers is what the admin console takes from the tenant's
// Amazon Connect instance's own setup: its users, brought in as agents,
// and its contact flows, offered wherever the console asks for one.
package connectusers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"switchboard/apierror"
	"switchboard/connectaws"
	"switchboard/contactpoint"
	"switchboard/ent"
	"switchboard/ent/agent"
	"switchboard/instances"
)

// Service imports users and lists flows through the tenants' roles. It
// keeps nothing between calls and is safe for concurrent use; a nil
// Service is a server that does not reach AWS.
type Service struct {
	aws *connectaws.Clients
}

// New returns a Service that reaches Amazon Connect through aws.
func New(aws *connectaws.Clients) *Service {
	return &Service{aws: aws}
}

// MaxAfter bounds the after token an import is given back: Connect's
// tokens are far shorter.
const MaxAfter = 8 << 10

// Import is what one call of ImportUsers did with a batch of the
// instance's users.
type Import struct {
	// Created are the agents made for users that had none.
	Created []*ent.Agent
	// Updated are agents linked to their user whose username, name or
	// routing profile Connect has changed.
	Updated []*ent.Agent
	// Linked are agents that had the user's email and no Connect user, now
	// linked to it.
	Linked []*ent.Agent
	// Unchanged counts the users whose agents were already as Connect has
	// them.
	Unchanged int
	// Skipped are the users that did not become agents, and why.
	Skipped []Skipped
	// Next is where the next batch starts (ImportUsers' after); "" when
	// this batch ended with the instance's last user.
	Next string
}

// Skipped is a Connect user that an import left alone.
type Skipped struct {
	ConnectUserID, Username, Reason string
}

// ImportUsers brings a batch of the instance's users in as agents, from
// after (the last batch's Next; "" for the first): as many as Connect's
// DescribeUser quota (2 a second for the account) lets it describe in half
// the time ctx has left, at most connectaws.MaxUserBatch, so that an
// instance of n users takes about n/2 seconds in all, in calls that each
// fit in a request. Connect is asked first and the batch is written after,
// in one transaction of its own: all of it or none.
//
// A user is matched to an agent by its Connect user ID, which the import
// keeps in the agent's connectUserID: such an agent takes the user's
// username, routing profile and name ("First Last"; kept when Connect has
// neither). Failing that, an agent with the user's email and no Connect
// user (made by hand or by SCIM) is linked to it, and takes the same.
// Failing that, a new agent is made with the user's email (lower-cased),
// name (the username when Connect has none), username and routing
// profile, and the role AGENT. An agent's email, its sign-in identity, and
// its role are never changed; nothing is unlinked or deleted. A user with
// no email (agents sign in by email), one whose email belongs to an agent
// linked to another user, and one whose ID more than one agent has are
// skipped, with the reason.
//
// The tenant's admins only: reading the instance is theirs, so that anyone
// else is refused before Connect is asked; writing agents is theirs too.
func (s *Service) ImportUsers(ctx context.Context, c *ent.Client, after string) (*Import, error) {
	if ent.TxFromContext(ctx) != nil {
		return nil, errors.New("connectusers: an import waits for Amazon Connect, which it must not do inside a transaction")
	}
	if len(after) > MaxAfter {
		return nil, apierror.New(apierror.BadUserInput, "after is at most %d characters: pass back the next of the last import", MaxAfter)
	}
	inst, err := instances.Get(ctx, c)
	if err != nil {
		return nil, err
	}
	if s == nil || s.aws == nil {
		return nil, instances.NoAWS()
	}
	batch, err := s.aws.UserBatchFrom(ctx, connectaws.InstanceOf(inst), after)
	if err != nil {
		if ue, ok := errors.AsType[*connectaws.UpstreamError](err); ok && after != "" && ue.Operation == "ListUsers" &&
			(ue.Code == "InvalidParameterException" || ue.Code == "InvalidRequestException") {
			return nil, apierror.Wrap(apierror.BadUserInput, err, "Amazon Connect does not know where after points (it may have expired): import again without it")
		}
		return nil, apierror.Wrap(apierror.Upstream, err, "Amazon Connect did not list its users")
	}
	out := &Import{Created: []*ent.Agent{}, Updated: []*ent.Agent{}, Linked: []*ent.Agent{}, Skipped: []Skipped{}, Next: batch.Next}
	tx, err := c.Tx(ctx)
	if err != nil {
		return nil, err
	}
	if err := apply(ent.NewTxContext(ent.NewContext(ctx, tx.Client()), tx), tx.Client(), batch.Users, out); err != nil {
		err = errors.Join(err, tx.Rollback())
		if ent.IsConstraintError(err) {
			return nil, apierror.Wrap(apierror.Conflict, err, "the tenant's agents changed while Connect's users were imported: import again")
		}
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("connectusers: commit: %w", err)
	}
	for _, list := range [][]*ent.Agent{out.Created, out.Updated, out.Linked} {
		for i, a := range list {
			list[i] = a.Unwrap() // read on through c, not the finished transaction
		}
	}
	return out, nil
}

// apply writes users as agents through c, a transaction's client, and
// tells out what it did.
func apply(ctx context.Context, c *ent.Client, users []connectaws.User, out *Import) error {
	if len(users) == 0 {
		return nil
	}
	ids, emails := make([]string, 0, len(users)), make([]string, 0, len(users))
	for _, u := range users {
		ids = append(ids, u.ID)
		if e, err := contactpoint.NormaliseEmail(u.Email); err == nil {
			emails = append(emails, e)
		}
	}
	known, err := c.Agent.Query().Where(agent.Or(agent.ConnectUserIDIn(ids...), agent.EmailIn(emails...))).
		Order(agent.ByID()).All(ctx)
	if err != nil {
		return err
	}
	byID, byEmail := map[string][]*ent.Agent{}, map[string]*ent.Agent{}
	for _, a := range known {
		if a.ConnectUserID != "" {
			byID[a.ConnectUserID] = append(byID[a.ConnectUserID], a)
		}
		byEmail[a.Email] = a
	}
	for _, u := range users {
		skip := func(format string, args ...any) {
			out.Skipped = append(out.Skipped, Skipped{ConnectUserID: u.ID, Username: u.Username, Reason: fmt.Sprintf(format, args...)})
		}
		name, named := fullName(u)
		if matched := byID[u.ID]; len(matched) > 1 {
			skip("%d agents have this Connect user ID: keep it on one of them", len(matched))
			continue
		} else if len(matched) == 1 {
			a, changed, err := refresh(ctx, matched[0], u, name, named, false)
			switch {
			case ent.IsValidationError(err):
				skip("%v", err)
			case err != nil:
				return err
			case changed:
				byID[u.ID] = []*ent.Agent{a}
				out.Updated = append(out.Updated, a)
			default:
				out.Unchanged++
			}
			continue
		}
		if strings.TrimSpace(u.Email) == "" {
			skip("no email in Amazon Connect: agents sign in by email")
			continue
		}
		email, err := contactpoint.NormaliseEmail(u.Email)
		if err != nil {
			skip("Amazon Connect's email %q is not an address", u.Email)
			continue
		}
		if a := byEmail[email]; a != nil {
			if a.ConnectUserID != "" {
				skip("the agent with the email %s is linked to another Connect user (%s)", email, a.ConnectUserID)
				continue
			}
			a, _, err := refresh(ctx, a, u, name, named, true)
			switch {
			case ent.IsValidationError(err):
				skip("%v", err)
			case err != nil:
				return err
			default:
				byID[u.ID], byEmail[email] = []*ent.Agent{a}, a
				out.Linked = append(out.Linked, a)
			}
			continue
		}
		create := c.Agent.Create().SetEmail(email).SetName(name).SetConnectUserID(u.ID).SetConnectUsername(u.Username)
		if u.RoutingProfileName != "" {
			create.SetConnectRoutingProfile(u.RoutingProfileName)
		}
		a, err := create.Save(ctx)
		switch {
		case ent.IsValidationError(err):
			skip("%v", err)
		case err != nil:
			return err
		default:
			byID[u.ID], byEmail[email] = []*ent.Agent{a}, a
			out.Created = append(out.Created, a)
		}
	}
	return nil
}

// refresh brings agent a to what Connect says of u: its username, routing
// profile, and name when Connect has one (named); link also sets its
// Connect user ID. It saves only a change, and reports whether there was
// one.
func refresh(ctx context.Context, a *ent.Agent, u connectaws.User, name string, named, link bool) (*ent.Agent, bool, error) {
	upd := a.Update()
	changed := link
	if link {
		upd.SetConnectUserID(u.ID)
	}
	if a.ConnectUsername != u.Username {
		upd.SetConnectUsername(u.Username)
		changed = true
	}
	if named && a.Name != name {
		upd.SetName(name)
		changed = true
	}
	if a.ConnectRoutingProfile != u.RoutingProfileName {
		if u.RoutingProfileName == "" {
			upd.ClearConnectRoutingProfile()
		} else {
			upd.SetConnectRoutingProfile(u.RoutingProfileName)
		}
		changed = true
	}
	if !changed {
		return a, false, nil
	}
	a, err := upd.Save(ctx)
	return a, err == nil, err
}

// maxName is the longest agent name, in bytes (the Agent schema's).
const maxName = 200

// fullName is u's "First Last", and whether Connect has either; the
// username when it has neither.
func fullName(u connectaws.User) (string, bool) {
	name := strings.Join(strings.Fields(u.FirstName+" "+u.LastName), " ")
	if name == "" {
		return u.Username, false
	}
	for len(name) > maxName {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name, true
}

// ContactFlows lists the instance's contact flows of the types given
// (Connect's ContactFlowType names; every type when none), sorted by name,
// read afresh from Connect each time: the console asks for them when an
// admin chooses one, who expects a flow just published to be there, and
// that is seldom enough to need no cache. The tenant's admins only, who
// configure the instance: anyone else is refused before Connect is asked.
func (s *Service) ContactFlows(ctx context.Context, c *ent.Client, types []string) ([]*connectaws.ContactFlow, error) {
	inst, err := instances.Get(ctx, c)
	if err != nil {
		return nil, err
	}
	known := connectaws.ContactFlowTypes()
	var want []string
	for _, t := range types {
		if !slices.Contains(known, t) {
			return nil, apierror.New(apierror.BadUserInput, "%q is no contact flow type: one of %s", t, strings.Join(known, ", "))
		}
		if !slices.Contains(want, t) {
			want = append(want, t)
		}
	}
	if s == nil || s.aws == nil {
		return nil, instances.NoAWS()
	}
	flows, err := s.aws.ContactFlows(ctx, connectaws.InstanceOf(inst), want...)
	if err != nil {
		return nil, apierror.Wrap(apierror.Upstream, err, "Amazon Connect did not list the contact flows")
	}
	slices.SortFunc(flows, func(a, b connectaws.ContactFlow) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.ID, b.ID))
	})
	out := make([]*connectaws.ContactFlow, len(flows))
	for i := range flows {
		out[i] = &flows[i]
	}
	return out, nil
}
