package server

import (
	"context"
	"sync"
	"sync/atomic"

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

// subscriptionCount is the number of a connection's active subscriptions,
// kept in its context.
type subscriptionCount struct{ n atomic.Int32 }

type subscriptionCountKey struct{}

// subscriptionCap refuses a subscription beyond max on one connection; the
// connection and its other subscriptions go on.
type subscriptionCap struct{ max int32 }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
} = subscriptionCap{}

func (subscriptionCap) ExtensionName() string                   { return "SubscriptionCap" }
func (subscriptionCap) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation counts a subscription while its context lives: the
// transport cancels it when the subscription completes or the connection
// closes.
func (c subscriptionCap) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	count, ok := ctx.Value(subscriptionCountKey{}).(*subscriptionCount)
	if !ok || oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return next(ctx)
	}
	if count.n.Add(1) > c.max {
		count.n.Add(-1)
		return graphql.OneShot(&graphql.Response{Errors: gqlerror.List{{
			Message:    "too many subscriptions on this connection",
			Extensions: map[string]any{"code": string(apierror.RateLimited), "max": c.max},
		}}})
	}
	context.AfterFunc(ctx, func() { count.n.Add(-1) })
	return next(ctx)
}
