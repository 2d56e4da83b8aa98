// Package server wires switchboard's HTTP surface: identity, GraphQL over
// HTTP and WebSocket, the query explorer, health and metrics.
package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"entgo.io/ent/dialect"

	"switchboard/auth"
	"switchboard/connectaws"
	"switchboard/conversations"
	"switchboard/livestatus"
	"switchboard/livestatus/pgrelay"
	"switchboard/mail"
	"switchboard/resolvers"
	"switchboard/scim"
	"switchboard/server/explorer"
	"switchboard/server/wsgorilla"
	"switchboard/store"
)

// Config is what the server needs besides its store and token verifier.
type Config struct {
	// AllowedOrigins are the browser origins, besides the server's own,
	// that may open a WebSocket. Empty: same origin only.
	AllowedOrigins []string
	// WSInitTimeout bounds the wait for connection_init (default 10s).
	WSInitTimeout time.Duration
	// WSPingInterval is the keep-alive ping interval (default 25s).
	WSPingInterval time.Duration
	Logger         *slog.Logger
	// Connect reaches tenants' Amazon Connect instances for agent status;
	// nil: none is reached.
	Connect livestatus.Connect
	// Chats starts and ends chat contacts in tenants' instances; nil: none.
	Chats conversations.Chats
	// Mail sends and receives email through tenants' SES and S3; nil: none.
	Mail *mail.Service
	// Relay carries status changes to the other replicas. Nil: on
	// PostgreSQL, LISTEN/NOTIFY on the store's database; on the embedded
	// store, none (one process).
	Relay livestatus.Relay
	// OnPublish, when set, sees each committed status change as it fans out.
	OnPublish func(*livestatus.Event)
}

// Server is switchboard's HTTP handler.
type Server struct {
	store    *store.Store
	identity *Identity
	log      *slog.Logger
	mux      *http.ServeMux
	registry *prometheus.Registry
	status   *livestatus.Service
	relay    *pgrelay.Relay // nil unless this server started one
}

// New returns the server over an open, migrated store. On PostgreSQL it
// listens for the status changes of the other replicas; Close stops that.
func New(ctx context.Context, st *store.Store, verifier *auth.Verifier, cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.WSInitTimeout == 0 {
		cfg.WSInitTimeout = 10 * time.Second
	}
	if cfg.WSPingInterval == 0 {
		cfg.WSPingInterval = 25 * time.Second
	}
	s := &Server{
		store:    st,
		identity: NewIdentity(verifier, st.Client),
		log:      cfg.Logger,
		mux:      http.NewServeMux(),
		registry: prometheus.NewRegistry(),
	}
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchboard_http_requests_total",
		Help: "HTTP requests by route and status code.",
	}, []string{"route", "code"})
	s.registry.MustRegister(requests)

	published := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "switchboard_status_changes_published_total",
		Help: "Committed agent status changes published by this replica.",
	})
	s.registry.MustRegister(published)
	broker := livestatus.NewBroker()
	relay := cfg.Relay
	if relay == nil && st.Dialect == dialect.Postgres {
		r, err := s.startRelay(ctx, st, broker)
		if err != nil {
			return nil, err
		}
		s.relay, relay = r, r
	}
	pub := &livestatus.Publisher{Broker: broker, Relay: relay, OnPublish: func(ev *livestatus.Event) {
		published.Inc()
		if cfg.OnPublish != nil {
			cfg.OnPublish(ev)
		}
	}}
	// The WebSocket transport; a status change is written to each wallboard directly.
	ws := wsgorilla.New(wsgorilla.Options{AllowedOrigins: cfg.AllowedOrigins, ReadBufferSize: 128})
	s.registry.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "switchboard_status_subscriptions",
			Help: "Live agent status subscriptions on this replica.",
		}, func() float64 { return float64(broker.Stats().Subscriptions) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "switchboard_status_events_dropped_total",
			Help: "Status events dropped for subscribers too slow to keep up.",
		}, func() float64 { return float64(broker.Stats().Dropped) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "switchboard_status_events_stale_total",
			Help: "Status events left out because a newer one of the same agent had been published (relayed late).",
		}, func() float64 { return float64(broker.Stats().Stale) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "switchboard_ws_direct_messages_total",
			Help: "Subscription results written straight to their WebSocket, rendered once for all alike.",
		}, func() float64 { return float64(ws.DirectMessages()) }),
	)
	s.status = livestatus.NewService(st.Client, pub,
		livestatus.Options{Connect: cfg.Connect, Postgres: st.Dialect == dialect.Postgres})
	gql := newGraphQL(st.Client, resolvers.Services{Status: s.status, Conversations: conversations.New(cfg.Chats), Mail: cfg.Mail}, s.identity, s.log, graphQLOptions{
		ws:           ws,
		initTimeout:  cfg.WSInitTimeout,
		pingInterval: cfg.WSPingInterval,
	})
	count := func(route string, h http.Handler) http.Handler {
		return promhttp.InstrumentHandlerCounter(requests.MustCurryWith(prometheus.Labels{"route": route}), h)
	}
	s.mux.Handle("/query", count("/query", limitBody(s.identity.authenticate(gql), 40<<20)))
	ex := explorer.Handler("/query")
	s.mux.Handle("GET /{$}", count("/", ex))
	s.mux.Handle("GET "+explorer.AssetPrefix, ex)
	s.mux.Handle("POST "+AgentEventsPath, count(AgentEventsPath, limitBody(http.HandlerFunc(s.agentEvents), connectaws.DefaultDeliveryLimit)))
	s.mux.Handle(scim.Prefix+"/", count(scim.Prefix, scim.Handler(st.Client, s.log, scim.WithRowLocks(st.Dialect == dialect.Postgres))))
	if cfg.Mail != nil {
		// SES receipt notifications, through SNS: signed by AWS, not by a tenant.
		s.mux.Handle("POST "+SNSEmailPath, count(SNSEmailPath, limitBody(cfg.Mail.SNSHandler(ctx), 1<<20)))
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.ready)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	return s, nil
}

// startRelay listens on the store's PostgreSQL for the other replicas'
// status changes and sends this replica's to them.
func (s *Server) startRelay(ctx context.Context, st *store.Store, broker *livestatus.Broker) (*pgrelay.Relay, error) {
	dsn, err := url.Parse(st.URL)
	if err != nil {
		return nil, fmt.Errorf("server: the store URL: %w", err)
	}
	q := dsn.Query()
	q.Set("application_name", "switchboard-listener")
	dsn.RawQuery = q.Encode()
	events := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchboard_status_relay_total",
		Help: "Status changes relayed between replicas through PostgreSQL LISTEN/NOTIFY, by counter.",
	}, []string{"counter"})
	s.registry.MustRegister(events)
	startCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return pgrelay.New(startCtx, pgrelay.Options{
		DSN:           dsn.String(),
		DB:            st.DB,
		Broker:        broker,
		Client:        st.Client,
		FlushInterval: 10 * time.Millisecond,
		Logger:        s.log,
		Metrics:       func(name string, delta int64) { events.WithLabelValues(name).Add(float64(delta)) },
	})
}

// Close stops listening to the other replicas.
func (s *Server) Close() {
	if s.relay != nil {
		s.relay.Close()
	}
}

// SNSEmailPath is where SES receipt notifications arrive through SNS.
const SNSEmailPath = "/aws/sns/email"

// Status returns the live status service.
func (s *Server) Status() *livestatus.Service { return s.status }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	s.mux.ServeHTTP(w, r)
}

func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ready(ctx); err != nil {
		s.log.WarnContext(ctx, "store not ready", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "store unreachable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// limitBody bounds request bodies (uploads included).
func limitBody(next http.Handler, n int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			r.Body = http.MaxBytesReader(w, r.Body, n)
		}
		next.ServeHTTP(w, r)
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
