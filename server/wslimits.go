package server

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"switchboard/apierror"
)

// WebSocket bounds that are not settings: a desktop's or a wallboard's
// subscriptions are a handful, and their messages small.
const (
	MaxWSMessage            = 256 << 10 // bytes of one client message
	MaxSubscriptionsPerConn = 50
)

// CloseTooManyConnections closes a connection over a person's or a tenant's
// bound (graphql-ws's code for too many initialisation requests).
const CloseTooManyConnections = 4429

// connSlots counts the open WebSocket connections of each person and
// tenant.
type connSlots struct {
	perPerson, perTenant int
	mu                   sync.Mutex
	people, tenants      map[string]int
}

func newConnSlots(perPerson, perTenant int) *connSlots {
	return &connSlots{perPerson: perPerson, perTenant: perTenant, people: map[string]int{}, tenants: map[string]int{}}
}

// take returns a slot for a connection of person in tenant ("" for an
// operator), and the function that gives it back, or false when either is
// at its bound.
func (s *connSlots) take(person, tenant string) (release func(), ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if over(s.people[person], s.perPerson) || tenant != "" && over(s.tenants[tenant], s.perTenant) {
		return nil, false
	}
	s.people[person]++
	if tenant != "" {
		s.tenants[tenant]++
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.people[person]--; s.people[person] == 0 {
				delete(s.people, person)
			}
			if tenant != "" {
				if s.tenants[tenant]--; s.tenants[tenant] == 0 {
					delete(s.tenants, tenant)
				}
			}
		})
	}, true
}

// liveConns holds the cancel function of each initialised WebSocket
// connection, so that a server going away can close them all with 1001.
type liveConns struct {
	mu       sync.Mutex
	cancels  map[*context.CancelCauseFunc]struct{}
	draining bool
}

func newLiveConns() *liveConns {
	return &liveConns{cancels: map[*context.CancelCauseFunc]struct{}{}}
}

// add notes cancel until forget is called; false once the server drains.
func (l *liveConns) add(cancel context.CancelCauseFunc) (forget func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.draining {
		return nil, false
	}
	key := &cancel
	l.cancels[key] = struct{}{}
	return func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.cancels, key)
	}, true
}

// drained reports whether closeAll has been called.
func (l *liveConns) drained() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.draining
}

// closeAll ends every connection with cause, and refuses new ones.
func (l *liveConns) closeAll(cause error) {
	l.mu.Lock()
	l.draining = true
	cancels := make([]context.CancelCauseFunc, 0, len(l.cancels))
	for c := range l.cancels {
		cancels = append(cancels, *c)
	}
	l.mu.Unlock()
	for _, c := range cancels {
		c(cause)
	}
}

// over reports whether n is at bound; a negative bound is none.
func over(n, bound int) bool { return bound >= 0 && n >= bound }

// wsCaller is a WebSocket connection's caller, whose rate its operations
// are counted against, and its active subscriptions; kept in the
// connection's context.
type wsCaller struct {
	person, tenant string
	subscriptions  atomic.Int32
}

type wsCallerKey struct{}

// wsBounds counts each operation on a WebSocket against its caller's rate
// and refuses a subscription beyond the connection's bound, each with
// RATE_LIMITED; the connection and its other subscriptions go on.
type wsBounds struct {
	rates         *rateLimits
	subscriptions int32
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = wsBounds{}

func (wsBounds) ExtensionName() string                   { return "WebSocketBounds" }
func (wsBounds) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation counts a subscription while its context lives: the
// transport cancels it when the subscription completes or the connection
// closes.
func (b wsBounds) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	c, ok := ctx.Value(wsCallerKey{}).(*wsCaller)
	if !ok {
		return next(ctx)
	}
	if wait, ok := b.rates.allow(c.person, c.tenant, time.Now()); !ok {
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{rateLimited(wait)}})
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return next(ctx)
	}
	if c.subscriptions.Add(1) > b.subscriptions {
		c.subscriptions.Add(-1)
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
			Message:    "too many subscriptions on this connection",
			Extensions: map[string]any{"code": string(apierror.RateLimited), "max": b.subscriptions},
		}}})
	}
	context.AfterFunc(ctx, func() { c.subscriptions.Add(-1) })
	return next(ctx)
}
