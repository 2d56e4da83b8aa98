package server

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"switchboard/apierror"
	"switchboard/auth"
	"switchboard/consoleusers"
	"switchboard/ent"
	"switchboard/ent/agent"
	"switchboard/gid"
	"switchboard/tenants"
	"switchboard/viewer"
)

// DefaultAgentTTL is how long a replica trusts what it read of the agent
// record behind a token's email: every request would otherwise read it
// again. An agent deleted, or a person given an agent record, is seen
// within it on every replica.
const DefaultAgentTTL = 2 * time.Second

// maxAgentsKept bounds the agent records kept; beyond it the expired ones
// are swept, and all of them if none has expired.
const maxAgentsKept = 100_000

// Identity turns bearer tokens into viewers.
type Identity struct {
	verifier *auth.Verifier
	client   *ent.Client
	gate     *tenants.Gate
	signIns  *consoleusers.SignIns // nil: sign-ins are not recorded
	agentTTL time.Duration         // 0: DefaultAgentTTL; negative: read every time

	mu     sync.Mutex
	agents map[agentKey]agentSeen
}

// agentKey names a person of a tenant by the email of its token.
type agentKey struct {
	tenant gid.ID
	email  string
}

// agentSeen is what was read of a person's agent record, and when: no ID
// when the person has none.
type agentSeen struct {
	id   gid.ID
	name string
	at   time.Time
}

// NewIdentity returns an Identity that verifies tokens with v, admits
// their tenants through gate, and finds agents through client.
func NewIdentity(v *auth.Verifier, client *ent.Client, gate *tenants.Gate) *Identity {
	return &Identity{verifier: v, client: client, gate: gate}
}

// Viewer verifies the token in an Authorization header value and returns
// its viewer, with the agent record of the token's email when there is one.
func (id *Identity) Viewer(ctx context.Context, authorization string) (*viewer.Viewer, auth.Claims, error) {
	raw, ok := auth.ParseBearer(authorization)
	if !ok {
		return nil, auth.Claims{}, apierror.New(apierror.Unauthenticated, "a bearer token is required")
	}
	claims, err := id.verifier.Verify(ctx, raw)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), auth.ErrUnauthenticated.Error()+": ")
		return nil, claims, apierror.Wrap(apierror.Unauthenticated, err, "%s", msg)
	}
	role, err := viewer.ParseRole(string(claims.Role))
	if err != nil {
		return nil, claims, apierror.New(apierror.Unauthenticated, "unknown role")
	}
	v := &viewer.Viewer{
		Subject:  claims.Subject,
		Email:    strings.ToLower(claims.Email),
		Name:     claims.Name,
		Role:     role,
		TenantID: gid.ID(claims.Tenant),
	}
	if v.TenantID != "" {
		// The tenant must exist and be active (tenants.Gate).
		if err := id.gate.Admit(ctx, v.TenantID); err != nil {
			if errors.Is(err, tenants.ErrNoTenant) {
				return nil, claims, apierror.New(apierror.Unauthenticated, "the token's tenant does not exist")
			}
			return nil, claims, err
		}
		a, err := id.agent(viewer.NewContext(ctx, v), v)
		if err != nil {
			return nil, claims, err
		}
		v.AgentID = a.id
		if v.Name == "" {
			v.Name = a.name
		}
	}
	if v.Name == "" {
		v.Name = v.Email
	}
	id.signIns.Record(ctx, v) // the console's admins and supervisors
	return v, claims, nil
}

// agent returns the agent record of v's email in v's tenant, as read
// within the agent TTL.
func (id *Identity) agent(ctx context.Context, v *viewer.Viewer) (agentSeen, error) {
	ttl := id.agentTTL
	if ttl == 0 {
		ttl = DefaultAgentTTL
	}
	key := agentKey{v.TenantID, v.Email}
	now := time.Now()
	if ttl > 0 {
		id.mu.Lock()
		seen, ok := id.agents[key]
		id.mu.Unlock()
		if ok && now.Sub(seen.at) < ttl {
			return seen, nil
		}
	}
	seen := agentSeen{at: now}
	a, err := id.client.Agent.Query().Where(agent.Email(v.Email)).Only(ctx)
	switch {
	case err == nil:
		seen.id, seen.name = a.ID, a.Name
	case !ent.IsNotFound(err):
		return agentSeen{}, err
	}
	if ttl > 0 {
		id.mu.Lock()
		if id.agents == nil || len(id.agents) >= maxAgentsKept {
			id.agents = sweep(id.agents, now, ttl)
		}
		id.agents[key] = seen
		id.mu.Unlock()
	}
	return seen, nil
}

// sweep returns the entries of m read within ttl of now, or a new map
// when they are all that fresh (m is full of them).
func sweep(m map[agentKey]agentSeen, now time.Time, ttl time.Duration) map[agentKey]agentSeen {
	for k, s := range m {
		if now.Sub(s.at) >= ttl {
			delete(m, k)
		}
	}
	if m == nil || len(m) >= maxAgentsKept {
		return map[agentKey]agentSeen{}
	}
	return m
}

type authErrKey struct{}

// authenticate puts the request's viewer in its context, or the reason
// there is none; GraphQL answers UNAUTHENTICATED for it field by field, so
// that the explorer can still read the schema.
func (id *Identity) authenticate(next http.Handler, rates *rateLimits) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := r.Header.Get("Authorization")
		if h == "" || r.Header.Get("Upgrade") != "" {
			// A WebSocket carries its token in connection_init instead.
			next.ServeHTTP(w, r)
			return
		}
		ctx := r.Context()
		v, claims, err := id.Viewer(ctx, h)
		if err != nil {
			ctx = context.WithValue(ctx, authErrKey{}, err)
		} else {
			if wait, ok := rates.allow(personKey(claims), string(v.TenantID), time.Now()); !ok {
				tooManyRequests(w, wait)
				return
			}
			ctx = viewer.NewContext(ctx, v)
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// unauthenticated returns why a request without a viewer has none.
func unauthenticated(ctx context.Context) error {
	if err, ok := ctx.Value(authErrKey{}).(error); ok {
		var fe *apierror.Error
		if errors.As(err, &fe) && (fe.Code == apierror.Unauthenticated || fe.Code == apierror.Forbidden) {
			return fe
		}
		return apierror.New(apierror.Unauthenticated, "the token could not be checked")
	}
	return apierror.New(apierror.Unauthenticated, "a bearer token is required")
}
