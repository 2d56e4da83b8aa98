// Package wire builds switchboard: from its settings, the token verifier,
// the AWS clients, the domain services, the live-status plumbing between
// replicas, the metrics, and the HTTP server that serves them. It is the
// one place where these are made; the switchboard command and the tests'
// servers (internal/testenv) both build through New.
package wire

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"switchboard/assist"
	"time"

	"entgo.io/ent/dialect"
	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"switchboard/auth"
	"switchboard/awssns"
	"switchboard/connectaws"
	"switchboard/connectusers"
	"switchboard/conversations"
	"switchboard/integrations"
	"switchboard/livestatus"
	"switchboard/livestatus/pgrelay"
	"switchboard/mail"
	"switchboard/marketplace"
	"switchboard/minutes"
	"switchboard/onboarding"
	"switchboard/oncontact"
	"switchboard/profiles"
	"switchboard/queues"
	"switchboard/reporting"
	"switchboard/resolvers"
	"switchboard/scim"
	"switchboard/sealed"
	"switchboard/server"
	"switchboard/server/telemetry"
	"switchboard/store"
	"switchboard/tenants"
	"switchboard/transfers"
	"switchboard/usage"
)

// Config is what switchboard is built from.
type Config struct {
	// Store is the open, migrated store; the caller closes it after Close.
	Store *store.Store
	// Auth is how bearer tokens are verified: the local secret, an OIDC
	// issuer and its audience.
	Auth auth.Options
	// Logger logs what no caller sees; slog.Default when nil.
	Logger *slog.Logger
	// AllowedOrigins are the browser origins, besides the server's own,
	// that may open a WebSocket. Empty: same origin only.
	AllowedOrigins []string
	// PublicURL is where AWS reaches this server (https://host), for the
	// SNS subscription of inbound mail's notifications; empty: not set up.
	PublicURL string
	// EmailSNS: see mail.Options.SNS; the zero value is production's.
	EmailSNS awssns.Options
	// Assist bounds assist's calls (assist.Options: input, output, timeout,
	// rate); its AWS, Mail and Logger are wire's.
	Assist assist.Options
	// QueueMetricsInterval is how often a watched tenant's queue figures
	// are taken; queues.DefaultInterval when zero.
	QueueMetricsInterval time.Duration
	// WSInitTimeout and WSPingInterval tune the WebSocket transport; the
	// server's defaults when zero.
	WSInitTimeout, WSPingInterval time.Duration
	// Limits bound each caller on this replica; zero fields take
	// server.DefaultLimits.
	Limits server.Limits
	// TrustedDocuments: see server.Config.TrustedDocuments.
	TrustedDocuments bool
	// ExplorerHeaders: see server.Config.ExplorerHeaders.
	ExplorerHeaders string
	// AWS is how the tenants' AWS accounts are reached. Nil: none is
	// (tests that need no AWS); the command always sets it.
	AWS *AWS
	// Tracing, when set, sends OpenTelemetry spans of HTTP requests and
	// GraphQL operations over OTLP/HTTP. Nil: no tracing.
	Tracing *Tracing
	// MeteringDimension is the AWS Marketplace dimension usage is metered
	// as; usage.DefaultDimension when empty.
	MeteringDimension string
	// Marketplace configures the AWS Marketplace endpoints, served when
	// AWS is set.
	Marketplace Marketplace
	// DecommissionAfter, when positive, has tenants unsubscribed for
	// longer decommissioned (tenants.Retention); zero: never unasked.
	DecommissionAfter time.Duration
	// EncryptionKeys seal the tenants' integration credentials: the current
	// key seals, the previous ones still open (sealed). Empty Current: no
	// credentials are kept.
	EncryptionKeys EncryptionKeys
	// MicrosoftAuthority is Entra ID's token authority; microsoft's default
	// when empty (tests point it at a local one).
	MicrosoftAuthority string
	// HTTPClient, when set, makes the requests to Entra ID (tests trust a
	// local TLS authority with it).
	HTTPClient *http.Client
	// AgentTTL is how long a replica trusts what it read of the agent
	// behind a token's email (server.Config.AgentTTL).
	AgentTTL time.Duration
	// TenantRecheck is how long a replica trusts what it read of a
	// tenant's lifecycle (tenants.Gate); tenants.DefaultRecheck when zero.
	TenantRecheck time.Duration
	// OnPublish, when set, sees each committed status change as it fans
	// out (tests and benchmarks measure with it).
	OnPublish func(*livestatus.Event)
}

// AWS configures the platform's AWS clients.
type AWS struct {
	// Options configure every AWS client (connectaws.New): STS, Connect,
	// and mail's S3 and SES, with their endpoints.
	connectaws.Options
}

// Marketplace configures the AWS Marketplace endpoints
// (marketplace.Options); empty fields take the package's defaults.
type Marketplace struct {
	SignupURL    string
	TopicAccount string
	// SNS: see marketplace.Options.SNS; the zero value is production's.
	SNS awssns.Options
}

// EncryptionKeys are the keys of sealed credentials.
type EncryptionKeys struct {
	Current  string
	Previous []string
}

// Keyring returns the keyring of k; nil when k has no current key.
func (k EncryptionKeys) Keyring() (*sealed.Keyring, error) {
	if k.Current == "" {
		return nil, nil
	}
	return sealed.NewKeyring(k.Current, k.Previous...)
}

// Tracing configures OpenTelemetry tracing.
type Tracing struct {
	// Endpoint is the collector's OTLP/HTTP traces URL
	// (http://host:4318/v1/traces); empty: the standard
	// OTEL_EXPORTER_OTLP_* variables say.
	Endpoint string
}

// App is switchboard built: the HTTP server and what runs beside it.
type App struct {
	server   *server.Server
	handler  http.Handler // the server behind request IDs and the access log
	status   *livestatus.Service
	mail     *mail.Service
	recorder *minutes.Recorder
	usage    *usage.Closer
	meter    *usage.Meter // nil without AWS
	retain   *tenants.Retention
	gate     *tenants.Gate
	stopGate context.CancelFunc
	relay    *pgrelay.Relay // nil on the embedded store
	// locks are the queue poller's per-tenant locks; stopPolling ends it.
	locks       *store.Locks
	stopPolling context.CancelFunc
	tracer      *sdktrace.TracerProvider // nil without tracing
}

// relayFlushInterval is how long a replica gathers status changes before
// sending them to the others in one notification.
const relayFlushInterval = 10 * time.Millisecond

// relayStartTimeout bounds the wait for the relay's listening connection.
const relayStartTimeout = 30 * time.Second

// New builds switchboard over cfg.Store. On PostgreSQL it listens for the
// status changes of the other replicas; Close stops that.
func New(ctx context.Context, cfg Config) (_ *App, err error) {
	st := cfg.Store
	if st == nil {
		return nil, errors.New("wire: Config.Store is required")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	if _, ok := log.Handler().(*telemetry.Handler); !ok {
		log = slog.New(telemetry.NewHandler(log.Handler())) // request IDs on every line
	}
	postgres := st.Dialect == dialect.Postgres
	verifier, err := auth.NewVerifier(ctx, cfg.Auth)
	if err != nil {
		return nil, err
	}
	// Request IDs, the access log and the request, operation, error,
	// WebSocket, AWS and database pool metrics.
	registry := prometheus.NewRegistry()
	app := &App{}
	var tp trace.TracerProvider
	if cfg.Tracing != nil {
		if app.tracer, err = telemetry.NewTracerProvider(ctx, cfg.Tracing.Endpoint); err != nil {
			return nil, err
		}
		tp = app.tracer
		defer func() {
			if err != nil {
				_ = app.tracer.Shutdown(context.Background())
			}
		}()
	}
	tel, err := telemetry.New(log, registry, tp)
	if err != nil {
		return nil, err
	}
	registry.MustRegister(collectors.NewDBStatsCollector(st.DB, "switchboard"))
	var (
		connect  livestatus.Connect
		chats    conversations.Chats
		mailer   *mail.Service
		metering *connectaws.Metering
		reports  *reporting.Service
		checks   *onboarding.Verifier
		helper   *assist.Service
		quick    *transfers.Service
		screen   *profiles.Service
		figures  *queues.Service
		contacts *oncontact.Service
		roster   *connectusers.Service
	)
	if cfg.AWS != nil {
		awsOpts := cfg.AWS.Options
		if awsOpts.OnCall == nil {
			awsOpts.OnCall = tel.AWSCall
		}
		clients, err := connectaws.New(ctx, awsOpts)
		if err != nil {
			return nil, err
		}
		connect, chats = livestatus.ConnectAWS{Clients: clients}, conversations.ConnectAWS{Clients: clients}
		app.meter = newMeter(cfg, clients, log, 0)
		metering = clients.Metering()
		reports = reporting.New(clients, cfg.AllowedOrigins)
		mailer, err = mail.New(mail.Options{Client: st.Client, AWS: clients, Logger: log, SNS: cfg.EmailSNS})
		if err != nil {
			return nil, err
		}
		checks = &onboarding.Verifier{AWS: clients, Origins: cfg.AllowedOrigins, Mail: mailer}
		a := cfg.Assist
		a.AWS, a.Mail, a.Logger = clients, mailer, log
		if helper, err = assist.New(a); err != nil {
			return nil, err
		}
		quick = transfers.New(clients, 0, nil)
		screen = profiles.New(clients)
		contacts = oncontact.New(clients)
		figures = queues.New(clients, st.Client, queues.Options{Interval: cfg.QueueMetricsInterval, Logger: log})
		roster = connectusers.New(clients)
		if cfg.PublicURL != "" {
			checks.Endpoint = strings.TrimSuffix(cfg.PublicURL, "/") + server.SNSEmailPath
		}
	}

	registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	published := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "switchboard_status_changes_published_total",
		Help: "Committed agent status changes published by this replica.",
	})
	registry.MustRegister(published)

	broker := livestatus.NewBroker()
	topics := &livestatus.Topics{} // the other replicas' messages, by topic
	var relay livestatus.Relay     // none for one process
	var messenger livestatus.Messenger
	if postgres {
		if app.relay, err = startRelay(ctx, st, broker, topics, registry, log); err != nil {
			return nil, err
		}
		relay, messenger = app.relay, app.relay
		defer func() {
			if err != nil {
				app.Close()
			}
		}()
	}
	registry.MustRegister(
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
	)
	pub := &livestatus.Publisher{Broker: broker, Relay: relay, Messenger: messenger, OnPublish: func(ev *livestatus.Event) {
		published.Inc()
		if cfg.OnPublish != nil {
			cfg.OnPublish(ev)
		}
	}}
	topics.Handle(livestatus.ActivityTopic, func(m livestatus.Message) error { return pub.ReceiveActivity(m, st.Client) })
	if figures != nil {
		// One replica polls each watched tenant: the one holding its lock.
		app.locks = st.NewLocks()
		figures.Share(app.locks, messenger)
		topics.Handle(queues.Topic, figures.Receive)
		pollCtx, stopPolling := context.WithCancel(context.Background())
		app.stopPolling = stopPolling
		go figures.Run(pollCtx)
	}
	app.status = livestatus.NewService(st.Client, pub, livestatus.Options{Connect: connect, Postgres: postgres})
	if checks != nil {
		checks.Status = app.status
	}
	app.mail = mailer
	app.recorder = &minutes.Recorder{Client: st.Client, Logger: log, Lock: func(ctx context.Context) (func(), bool, error) {
		return st.TryLock(ctx, minutes.LockKey)
	}}
	app.usage = newCloser(st, log, 0)
	app.gate = tenants.NewGate(st.Client, cfg.TenantRecheck, log)
	gateCtx, stopGate := context.WithCancel(context.Background())
	app.stopGate = stopGate
	go app.gate.Run(gateCtx)
	lifecycle := tenants.NewService(app.gate, st.Dialect)
	keyring, err := cfg.EncryptionKeys.Keyring()
	if err != nil {
		return nil, err
	}
	app.retain = &tenants.Retention{Client: st.Client, Service: lifecycle, After: cfg.DecommissionAfter, Logger: log,
		Lock: func(ctx context.Context) (func(), bool, error) { return st.TryLock(ctx, tenants.RetentionLockKey) }}
	var market http.Handler
	if metering != nil {
		market = marketplace.Handler(marketplace.Options{
			Client: st.Client, Metering: metering, Tenants: lifecycle,
			SignupURL: cfg.Marketplace.SignupURL, TopicAccount: cfg.Marketplace.TopicAccount, SNS: cfg.Marketplace.SNS,
			Logger: log,
		})
	}
	app.server, err = server.New(ctx, server.Config{
		Store:    st,
		Verifier: verifier,
		Gate:     app.gate,
		Services: resolvers.Services{
			Status:        app.status,
			Conversations: conversations.New(chats),
			Mail:          mailer,
			Tenants:       lifecycle,
			Reporting:     reports,
			Verifier:      checks,
			Assist:        helper,
			Transfers:     quick,
			Profiles:      screen,
			Queues:        figures,
			OnContact:     contacts,
			ConnectUsers:  roster,
			Microsoft:     &integrations.Microsoft{Keyring: keyring, Authority: cfg.MicrosoftAuthority, HTTPClient: cfg.HTTPClient},
		},
		Marketplace:      market,
		SCIM:             scim.Handler(st.Client, log, scim.WithRowLocks(postgres), scim.WithAdmit(app.gate.Admit)),
		Registry:         registry,
		AllowedOrigins:   cfg.AllowedOrigins,
		WSInitTimeout:    cfg.WSInitTimeout,
		WSPingInterval:   cfg.WSPingInterval,
		Limits:           cfg.Limits,
		TrustedDocuments: cfg.TrustedDocuments,
		ExplorerHeaders:  cfg.ExplorerHeaders,
		AgentTTL:         cfg.AgentTTL,
		Logger:           log,
		Extensions:       []graphql.HandlerExtension{tel.GraphQL()},
	})
	if err != nil {
		return nil, err
	}
	app.handler = tel.Middleware(app.server)
	return app, nil
}

// newCloser is the closer of usage hours, whose lock waits up to wait for
// another replica's closer.
func newCloser(st *store.Store, log *slog.Logger, wait time.Duration) *usage.Closer {
	return &usage.Closer{Client: st.Client, Logger: log, Lock: func(ctx context.Context) (func(), bool, error) {
		return st.WaitLock(ctx, usage.CloserLockKey, wait)
	}}
}

// newMeter is the meter of closed hours to AWS Marketplace, whose lock
// waits up to wait for another replica's meter.
func newMeter(cfg Config, clients *connectaws.Clients, log *slog.Logger, wait time.Duration) *usage.Meter {
	st := cfg.Store
	return &usage.Meter{Client: st.Client, AWS: clients.Metering(), Dimension: cfg.MeteringDimension, Logger: log,
		Lock: func(ctx context.Context) (func(), bool, error) { return st.WaitLock(ctx, usage.MeterLockKey, wait) }}
}

// Metering builds, without a server, what `switchboard meter` runs beside
// the replicas: the closer of usage hours and the meter, each of whose
// locks waits up to wait for a replica's job to finish.
func Metering(ctx context.Context, cfg Config, wait time.Duration) (*usage.Closer, *usage.Meter, error) {
	if cfg.Store == nil || cfg.AWS == nil {
		return nil, nil, errors.New("wire: metering needs Config.Store and Config.AWS")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	clients, err := connectaws.New(ctx, cfg.AWS.Options)
	if err != nil {
		return nil, nil, err
	}
	return newCloser(cfg.Store, log, wait), newMeter(cfg, clients, log, wait), nil
}

// startRelay listens on the store's PostgreSQL for the other replicas'
// status changes and sends this replica's to them.
func startRelay(ctx context.Context, st *store.Store, broker *livestatus.Broker, topics *livestatus.Topics, registry *prometheus.Registry, log *slog.Logger) (*pgrelay.Relay, error) {
	dsn, err := url.Parse(st.URL)
	if err != nil {
		return nil, fmt.Errorf("wire: the store URL: %w", err)
	}
	q := dsn.Query()
	q.Set("application_name", "switchboard-listener")
	dsn.RawQuery = q.Encode()
	events := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchboard_status_relay_total",
		Help: "Status changes relayed between replicas through PostgreSQL LISTEN/NOTIFY, by counter.",
	}, []string{"counter"})
	lag := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "switchboard_status_relay_lag_seconds",
		Help:    "Time from another replica's publish of a status change to its receipt here (as far as the clocks agree).",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
	})
	registry.MustRegister(events, lag)
	startCtx, cancel := context.WithTimeout(ctx, relayStartTimeout)
	defer cancel()
	return pgrelay.New(startCtx, pgrelay.Options{
		DSN:           dsn.String(),
		DB:            st.DB,
		Broker:        broker,
		Client:        st.Client,
		FlushInterval: relayFlushInterval,
		Logger:        log,
		Metrics:       func(name string, delta int64) { events.WithLabelValues(name).Add(float64(delta)) },
		Lag:           func(d time.Duration) { lag.Observe(d.Seconds()) },
		Refill: func(ctx context.Context, since time.Time) ([]*livestatus.Event, error) {
			return livestatus.ChangesSince(ctx, st.Client, since)
		},
		OnMessage: func(m livestatus.Message) {
			if err := topics.Receive(m); err != nil {
				log.Warn("live relay: a message of another replica was not read", "topic", m.Topic, "tenant", m.Tenant, "err", err)
			}
		},
	})
}

// ServeHTTP serves switchboard's HTTP surface.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// Status returns the live status service.
func (a *App) Status() *livestatus.Service { return a.status }

// Relay returns the relay between replicas; nil on SQLite.
func (a *App) Relay() *pgrelay.Relay { return a.relay }

// Mail returns the email service; nil when Config.AWS was.
func (a *App) Mail() *mail.Service { return a.mail }

// Recorder returns the recorder of each day's minute record, for the
// command to run.
func (a *App) Recorder() *minutes.Recorder { return a.recorder }

// Usage returns the closer of each tenant's usage hours, for the command
// to run.
func (a *App) Usage() *usage.Closer { return a.usage }

// Meter returns the meter of closed hours to AWS Marketplace, for the
// command to run; nil when Config.AWS was.
func (a *App) Meter() *usage.Meter { return a.meter }

// Retention returns the job that decommissions tenants unsubscribed for
// longer than Config.DecommissionAfter (off when that is zero), for the
// command to run.
func (a *App) Retention() *tenants.Retention { return a.retain }

// Drain begins shutdown: /readyz turns false and every WebSocket is closed
// with 1001; HTTP requests are still answered (server.Server.Drain).
func (a *App) Drain() { a.server.Drain() }

// Close stops listening to the other replicas and sends the spans left.
func (a *App) Close() {
	if a.stopGate != nil {
		a.stopGate()
	}
	if a.stopPolling != nil {
		a.stopPolling()
	}
	if a.locks != nil {
		a.locks.Close()
	}
	if a.relay != nil {
		a.relay.Close()
	}
	if a.tracer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = a.tracer.Shutdown(ctx)
	}
}
