package server

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"switchboard/apierror"
	"switchboard/apierror/classify"
	"switchboard/ent"
	"switchboard/mail"
	"switchboard/resolvers"
	"switchboard/server/errorpresenter"
	"switchboard/server/querylimit"
	"switchboard/server/trusted"
	"switchboard/server/wsgorilla"
	"switchboard/viewer"
)

// graphQLOptions tune the GraphQL handler.
type graphQLOptions struct {
	ws           *wsgorilla.Implementation // accepts the WebSocket connections
	initTimeout  time.Duration
	pingInterval time.Duration
	slots        *connSlots                 // WebSocket connections per person and tenant
	rates        *rateLimits                // requests per person and tenant
	live         *liveConns                 // initialised WebSocket connections
	trustedOnly  bool                       // only trusted documents but for admins and operators
	extensions   []graphql.HandlerExtension // added first (telemetry)
}

// newGraphQL returns the GraphQL handler: HTTP and WebSocket transports,
// one transaction per mutation, contract error codes, and a viewer required
// for everything but introspection.
func newGraphQL(client *ent.Client, services resolvers.Services, id *Identity, log *slog.Logger, o graphQLOptions) *handler.Server {
	srv := handler.New(newSharedRenders(resolvers.NewSchema(client, services), services.Status))
	ws := o.ws
	srv.AddTransport(transport.Websocket{
		Implementation: ws,
		// A status change is written to each wallboard directly (sharedRenders).
		InitFunc: ws.InitFunc(func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			v, claims, err := id.Viewer(ctx, p.Authorization())
			if err != nil {
				_, msg := classify.Of(err)
				return refuseWS(ctx, 4403, msg)
			}
			person := personKey(claims)
			release, ok := o.slots.take(person, string(v.TenantID))
			if !ok {
				return refuseWS(ctx, CloseTooManyConnections, "too many connections")
			}
			ctx = viewer.NewContext(ctx, v)
			ctx = context.WithValue(ctx, wsCallerKey{}, &wsCaller{person: person, tenant: string(v.TenantID)})
			ctx, cancel := context.WithCancelCause(ctx)
			forget, ok := o.live.add(cancel)
			if !ok {
				cancel(nil)
				release()
				return refuseWS(ctx, websocket.CloseGoingAway, "server shutting down")
			}
			stop := context.CancelFunc(func() {})
			if !claims.ExpiresAt.IsZero() {
				// Subscriptions end when the token does, and the client
				// is told why.
				ctx, stop = context.WithDeadlineCause(ctx, claims.ExpiresAt, &wsgorilla.CloseError{Code: 4403, Reason: "token expired"})
			}
			// The connection's context ends with the connection, however
			// it ends (the transport calls CloseFunc only when it closes
			// it itself).
			// An unsubscribed tenant's connections end (tenants.Gate).
			unwatch := id.gate.Watch(v.TenantID, func() {
				cancel(&wsgorilla.CloseError{Code: 4403, Reason: "the tenant's subscription has ended"})
			})
			context.AfterFunc(ctx, func() { stop(); release(); forget(); unwatch() })
			return context.WithValue(ctx, cancelKey{}, cancel), nil, nil
		}),
		CloseFunc: func(ctx context.Context, _ int) {
			if cancel, ok := ctx.Value(cancelKey{}).(context.CancelCauseFunc); ok {
				cancel(nil)
			}
		},
		PayloadReadLimit:      ptr(int64(MaxWSMessage)),
		InitTimeout:           o.initTimeout,
		PingPongInterval:      o.pingInterval,
		KeepAlivePingInterval: o.pingInterval,
	})
	for _, e := range o.extensions {
		srv.Use(e)
	}
	srv.Use(wsgorilla.OperationIDs{})
	srv.Use(wsBounds{rates: o.rates, subscriptions: MaxSubscriptionsPerConn})
	srv.AddTransport(transport.Options{})
	srv.AddTransport(transport.GET{})
	srv.AddTransport(postTransport{})
	srv.AddTransport(transport.MultipartForm{MaxUploadSize: MaxUploadBody, MaxMemory: 4 << 20})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(ent.NewContext(ctx, client))
	})
	srv.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv.Use(extension.Introspection{})
	documents := trusted.Contract()
	srv.Use(extension.AutomaticPersistedQuery{Cache: persistedQueries{set: documents, recent: lru.New[string](100)}})
	// Limits run after validation and before any resolver; the token limit
	// bounds the parse itself.
	srv.SetParserTokenLimit(querylimit.Tokens)
	limits := querylimit.Defaults
	limits.Page, limits.MaxPage = resolvers.DefaultPage, resolvers.MaxPage
	srv.Use(querylimit.Extension{Limits: limits})
	if o.trustedOnly {
		srv.Use(trustedOnly{set: documents, checked: lru.New[bool](1000)})
	}
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return next(mail.WithBodyCache(ctx)) // an email's body is read once per request
	})
	// Each mutation field says whether it runs in the request's
	// transaction (resolvers.MutationTransaction): those that call AWS do
	// not, so that no transaction is held open while AWS answers.
	srv.Use(requestTx{entgql.Transactioner{TxOpener: client, SkipTxFunc: withoutRequestTx}})
	srv.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		// An operation cut short by the request's deadline has no response
		// (gqlgen ends the stream); its client is told why, not sent null.
		h := next(ctx)
		if graphql.GetOperationContext(ctx).Operation.Operation == ast.Subscription {
			return h
		}
		return func(ctx context.Context) *graphql.Response {
			resp := h(ctx)
			if resp == nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return &graphql.Response{Errors: gqlerror.List{{
					Message:    "the request took longer than the server allows",
					Extensions: map[string]any{"code": string(apierror.Timeout)},
				}}}
			}
			return resp
		}
	})
	srv.SetErrorPresenter(errorpresenter.Presenter(log))
	srv.SetRecoverFunc(func(ctx context.Context, p any) error {
		log.ErrorContext(ctx, "panic in resolver", "panic", p)
		return apierror.New(apierror.Internal, "internal error")
	})
	srv.AroundRootFields(func(ctx context.Context, next graphql.RootResolver) graphql.Marshaler {
		fc := graphql.GetRootFieldContext(ctx)
		if viewer.FromContext(ctx) == nil && !introspection(fc.Field.Name) {
			graphql.AddError(ctx, unauthenticated(ctx))
			return graphql.Null
		}
		return next(ctx)
	})
	return srv
}

// requestTx is entgql.Transactioner for requests that may have no
// operation: a body that is not a GraphQL request is answered without one,
// and entgql's middleware would panic looking for it.
type requestTx struct{ entgql.Transactioner }

// InterceptResponse runs a mutation in the request's transaction, and
// passes on a response that has no operation.
func (t requestTx) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		return next(ctx)
	}
	return t.Transactioner.InterceptResponse(ctx, next)
}

// withoutRequestTx reports whether a mutation operation runs without the
// request's transaction: when any of its fields does.
func withoutRequestTx(op *ast.OperationDefinition) bool {
	return anyRootField(op.SelectionSet, func(name string) bool {
		t, ok := resolvers.MutationTransaction(name)
		return ok && t != resolvers.InRequestTransaction
	})
}

// anyRootField reports whether f holds for a field of set, looking into
// fragments.
func anyRootField(set ast.SelectionSet, f func(name string) bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if f(s.Name) {
				return true
			}
		case *ast.InlineFragment:
			if anyRootField(s.SelectionSet, f) {
				return true
			}
		case *ast.FragmentSpread:
			if s.Definition != nil && anyRootField(s.Definition.SelectionSet, f) {
				return true
			}
		}
	}
	return false
}

func introspection(field string) bool {
	return field == "__schema" || field == "__type" || field == "__typename"
}

// cancelKey holds the function that ends a WebSocket connection's context.
type cancelKey struct{}

// refuseWS refuses a connection_init: the client gets the reason in a
// connection error and in the close frame.
func refuseWS(ctx context.Context, code int, reason string) (context.Context, *transport.InitPayload, error) {
	ctx = transport.AppendCloseReason(transport.WithWebsocketCloseCode(ctx, code), reason)
	return ctx, nil, errors.New(reason)
}

func ptr[T any](v T) *T { return &v }
