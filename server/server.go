// Package server is switchboard's HTTP surface: identity, GraphQL over
// HTTP and WebSocket, the query explorer, health and metrics. It serves the
// services it is given and builds none of them (cmd/switchboard/wire does).
package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"os"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/rs/cors"

	"switchboard/apierror"
	"switchboard/auth"
	"switchboard/awssns"
	"switchboard/branding"
	"switchboard/connectaws"
	"switchboard/consoleusers"
	"switchboard/flows"
	"switchboard/livestatus"
	"switchboard/marketplace"
	"switchboard/resolvers"
	"switchboard/scim"
	"switchboard/server/explorer"
	"switchboard/server/wsgorilla"
	"switchboard/store"
	"switchboard/tenants"
)

// Config is what the server serves, and how.
type Config struct {
	// Store is the open, migrated store: GraphQL and the agent event stream
	// read it, /readyz asks it.
	Store *store.Store
	// Verifier checks bearer tokens.
	Verifier *auth.Verifier
	// Gate admits the credentials of active tenants only; every
	// credential the server takes passes it.
	Gate *tenants.Gate
	// Services are what the resolvers call; Status is required, and Mail,
	// when set, also receives SES notifications at SNSEmailPath.
	Services resolvers.Services
	// Marketplace serves AWS Marketplace's posts at marketplace.RegisterPath
	// and marketplace.SNSPath; nil: not served.
	Marketplace http.Handler
	// SCIM serves SCIM provisioning under scim.Prefix; nil: not served.
	SCIM http.Handler
	// Registry holds the metrics GET /metrics serves; the server adds its
	// own HTTP ones. Nil: a new registry, with the server's alone.
	Registry *prometheus.Registry
	// AllowedOrigins are the browser origins, besides the server's own,
	// that may use the API: CORS for HTTP, and WebSocket upgrades. Empty:
	// same origin only.
	AllowedOrigins []string
	// WSInitTimeout bounds the wait for connection_init (default 10s).
	WSInitTimeout time.Duration
	// WSPingInterval is the keep-alive ping interval (default 25s).
	WSPingInterval time.Duration
	// Logger logs what no caller sees; slog.Default when nil.
	Logger *slog.Logger
	// Extensions are added to the GraphQL handler (telemetry).
	Extensions []graphql.HandlerExtension
	// Limits bound each caller; zero fields take DefaultLimits.
	Limits Limits
	// TrustedDocuments, when set, runs for agents, supervisors and callers
	// without a token only the trusted documents (package trusted), and
	// shows the schema (introspection) to admins and operators only.
	TrustedDocuments bool
	// ExplorerHeaders, when set, is the JSON the explorer's Headers editor
	// starts with (the demo admin's token on the embedded store).
	ExplorerHeaders string
	// AgentTTL is how long the agent record behind a token's email is
	// trusted once read; DefaultAgentTTL when zero, none when negative.
	AgentTTL time.Duration
}

// Server is switchboard's HTTP handler.
type Server struct {
	store    *store.Store
	identity *Identity
	log      *slog.Logger
	mux      *http.ServeMux
	status   *livestatus.Service
	live     *liveConns // draining once Drain is called
}

// New returns the server of cfg's services. ctx bounds the work that
// outlives a request (inbound mail).
func New(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Verifier == nil || cfg.Services.Status == nil || cfg.Gate == nil {
		return nil, errors.New("server: Config.Store, Config.Verifier, Config.Gate and Config.Services.Status are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.WSInitTimeout == 0 {
		cfg.WSInitTimeout = 10 * time.Second
	}
	if cfg.WSPingInterval == 0 {
		cfg.WSPingInterval = 25 * time.Second
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	limits := cfg.Limits.withDefaults()
	st := cfg.Store
	s := &Server{
		store:    st,
		identity: &Identity{verifier: cfg.Verifier, client: st.Client, gate: cfg.Gate, signIns: consoleusers.NewSignIns(st.Client, cfg.Logger), agentTTL: cfg.AgentTTL},
		log:      cfg.Logger,
		mux:      http.NewServeMux(),
		status:   cfg.Services.Status,
		live:     newLiveConns(),
	}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchboard_http_requests_total",
		Help: "HTTP requests by route and status code.",
	}, []string{"route", "code"})
	// The WebSocket transport; a status change is written to each wallboard directly.
	ws := wsgorilla.New(wsgorilla.Options{AllowedOrigins: cfg.AllowedOrigins, ReadBufferSize: 128})
	if err := registerAll(cfg.Registry, requests, prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "switchboard_ws_direct_messages_total",
		Help: "Subscription results written straight to their WebSocket, rendered once for all alike.",
	}, func() float64 { return float64(ws.DirectMessages()) })); err != nil {
		return nil, err
	}
	rates := newRateLimits(limits)
	gql := newGraphQL(st.Client, cfg.Services, s.identity, s.log, graphQLOptions{
		ws:           ws,
		initTimeout:  cfg.WSInitTimeout,
		pingInterval: cfg.WSPingInterval,
		slots:        newConnSlots(limits.WSConnsPerPerson, limits.WSConnsPerTenant),
		rates:        rates,
		live:         s.live,
		trustedOnly:  cfg.TrustedDocuments,
		extensions:   cfg.Extensions,
	})
	count := func(route string, h http.Handler) http.Handler {
		return promhttp.InstrumentHandlerCounter(requests.MustCurryWith(prometheus.Labels{"route": route}), h)
	}
	query := limitGraphQLBody(withTimeout(s.identity.authenticate(graphQLOverHTTP(gql), rates), limits.RequestTimeout), MaxRequestBody, MaxUploadBody, limits)
	s.mux.Handle("/query", count("/query", withCORS(query, cfg.AllowedOrigins)))
	ex := explorer.Handler("/query", cfg.ExplorerHeaders)
	s.mux.Handle("GET /{$}", count("/", ex))
	s.mux.Handle("GET "+explorer.AssetPrefix, ex)
	s.mux.Handle("POST "+AgentEventsPath, count(AgentEventsPath, limitBody(http.HandlerFunc(s.agentEvents), connectaws.DefaultDeliveryLimit, limits.BodyTimeout)))
	// Contact flows, through the tenant's forwarding Lambda; the flows key
	// passes the gate as every credential does.
	s.mux.Handle("POST "+flows.Path, count(flows.Path, limitBody(flows.Handler(flows.HandlerOptions{
		Client: st.Client, Admit: cfg.Gate.Admit, Logger: cfg.Logger,
	}), flows.MaxEvent, limits.BodyTimeout)))
	// The tenants' logos and favicons, by URLs that name their hash.
	s.mux.Handle("GET "+branding.Prefix, count(branding.Prefix, branding.Handler(st.Client)))
	if cfg.SCIM != nil {
		s.mux.Handle(scim.Prefix+"/", count(scim.Prefix, bodyTimeout(cfg.SCIM, limits.BodyTimeout))) // scim bounds its bodies' size
	}
	if m := cfg.Services.Mail; m != nil {
		// SES receipt notifications, through SNS: signed by AWS, not by a tenant.
		s.mux.Handle("POST "+SNSEmailPath, count(SNSEmailPath, limitBody(m.SNSHandler(ctx), 1<<20, limits.BodyTimeout)))
	}
	if m := cfg.Marketplace; m != nil {
		// Posted by AWS Marketplace (a buyer's browser, SNS): no tenant's credential.
		s.mux.Handle("POST "+marketplace.RegisterPath, count(marketplace.RegisterPath, limitBody(m, 64<<10, limits.BodyTimeout)))
		s.mux.Handle("POST "+marketplace.SNSPath, count(marketplace.SNSPath, limitBody(m, awssns.MaxBody, limits.BodyTimeout)))
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.ready)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Registry, promhttp.HandlerOpts{}))
	return s, nil
}

// registerAll registers the collectors, or says which one could not be.
func registerAll(r *prometheus.Registry, cs ...prometheus.Collector) error {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			return fmt.Errorf("server: registering a metric: %w", err)
		}
	}
	return nil
}

// SNSEmailPath is where SES receipt notifications arrive through SNS.
const SNSEmailPath = "/aws/sns/email"

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

// Drain begins the server's shutdown: /readyz answers 503, so that load
// balancers send no more, and every WebSocket is closed with 1001 (going
// away), which tells clients to reconnect, to another replica. HTTP
// requests are still served: http.Server.Shutdown waits for those in
// flight.
func (s *Server) Drain() {
	s.live.closeAll(&wsgorilla.CloseError{Code: websocket.CloseGoingAway, Reason: "server shutting down"})
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	if s.live.drained() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "shutting down"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ready(ctx); err != nil {
		s.log.WarnContext(ctx, "store not ready", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "store unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// The bounds of a GraphQL request's body: a JSON request, and a multipart
// one carrying uploads (email attachments).
const (
	MaxRequestBody = 1 << 20
	MaxUploadBody  = 40 << 20
)

// limitGraphQLBody refuses a GraphQL request whose body exceeds its bound
// (MaxRequestBody, or MaxUploadBody for multipart uploads) with 413 and
// PAYLOAD_TOO_LARGE. A JSON body is read before the handler runs, so that
// a body too long is refused whether its length was announced or not.
func limitGraphQLBody(next http.Handler, jsonLimit, uploadLimit int64, l Limits) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		n := jsonLimit
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		multipart := mt == "multipart/form-data"
		if multipart {
			n = uploadLimit
		}
		if r.ContentLength > n {
			tooLarge(w, n)
			return
		}
		rc := http.NewResponseController(w)
		if multipart {
			_ = rc.SetReadDeadline(time.Now().Add(l.UploadTimeout))
			r.Body = http.MaxBytesReader(w, r.Body, n)
			next.ServeHTTP(w, r)
			return
		}
		_ = rc.SetReadDeadline(time.Now().Add(l.BodyTimeout))
		body, err := io.ReadAll(io.LimitReader(r.Body, n+1))
		if errors.Is(err, os.ErrDeadlineExceeded) {
			w.Header().Set("Connection", "close")
			writeGraphQLError(w, http.StatusRequestTimeout, apierror.BadUserInput,
				fmt.Sprintf("the request body did not arrive within %v", l.BodyTimeout))
			return
		}
		if err != nil {
			writeGraphQLError(w, http.StatusBadRequest, apierror.BadUserInput, "the request body could not be read")
			return
		}
		_ = rc.SetReadDeadline(time.Time{})
		if int64(len(body)) > n {
			tooLarge(w, n)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

func tooLarge(w http.ResponseWriter, n int64) {
	w.Header().Set("Connection", "close") // the rest of the body is not read
	writeGraphQLError(w, http.StatusRequestEntityTooLarge, apierror.PayloadTooLarge,
		fmt.Sprintf("the request body exceeds %d bytes", n))
}

// writeGraphQLError answers a request with a GraphQL error of the code.
func writeGraphQLError(w http.ResponseWriter, status int, code apierror.Code, msg string) {
	writeJSON(w, status, map[string]any{"errors": []map[string]any{{
		"message":    msg,
		"extensions": map[string]any{"code": string(code)},
	}}})
}

// limitBody bounds request bodies, and the wait for them.
func limitBody(next http.Handler, n int64, timeout time.Duration) http.Handler {
	return bodyTimeout(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, n)
		}
		next.ServeHTTP(w, r)
	}), timeout)
}

// bodyTimeout bounds the wait for a request's body: a read after it fails.
func bodyTimeout(next http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil && r.Body != http.NoBody {
			_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(d))
		}
		next.ServeHTTP(w, r)
	})
}

// withTimeout bounds the requests next answers, but for WebSocket
// upgrades, which last as long as their connection.
func withTimeout(next http.Handler, d time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// withCORS answers browsers of the allowed origins (preflight included);
// others get no CORS headers, so their pages cannot read the answers.
func withCORS(next http.Handler, origins []string) http.Handler {
	if len(origins) == 0 {
		return next
	}
	return cors.New(cors.Options{
		AllowedOrigins: origins,
		AllowedMethods: []string{http.MethodGet, http.MethodPost},
		AllowedHeaders: []string{"Authorization", "Content-Type", "Accept", "X-Request-ID"},
		ExposedHeaders: []string{"Retry-After", "X-Request-ID"},
		MaxAge:         600,
	}).Handler(next)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
