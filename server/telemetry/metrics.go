package telemetry

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"switchboard/viewer"
)

// OtherOperation is the label of GraphQL operations the server does not
// know by name (KnownOperations), so that clients cannot choose labels.
const OtherOperation = "other"

// Telemetry is the request IDs, access log and metrics of one server.
type Telemetry struct {
	log           *slog.Logger
	tracer        trace.Tracer
	known         map[string]bool
	httpDuration  *prometheus.HistogramVec
	opDuration    *prometheus.HistogramVec
	errors        *prometheus.CounterVec
	wsConnections prometheus.Gauge
	awsDuration   *prometheus.HistogramVec
	awsErrors     *prometheus.CounterVec
}

// New returns the telemetry logging to log, its metrics registered in reg,
// its spans made by tp (nil: tracing off).
func New(log *slog.Logger, reg prometheus.Registerer, tp trace.TracerProvider) (*Telemetry, error) {
	t := &Telemetry{
		log:    log,
		tracer: tracerOf(tp),
		known:  map[string]bool{},
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_http_request_duration_seconds",
			Help:    "HTTP request duration by route (WebSocket connections excluded).",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		opDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_graphql_operation_duration_seconds",
			Help:    `GraphQL operation duration by operation name (names the server does not know: "other"); a subscription's is its setup.`,
			Buckets: prometheus.DefBuckets,
		}, []string{"operation"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_graphql_errors_total",
			Help: "GraphQL errors sent to clients, by extensions.code.",
		}, []string{"code"}),
		wsConnections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "switchboard_ws_connections",
			Help: "Open WebSocket connections on this replica.",
		}),
		awsDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "switchboard_aws_call_duration_seconds",
			Help:    "AWS API call duration, retries included, by service and operation.",
			Buckets: prometheus.DefBuckets,
		}, []string{"service", "operation"}),
		awsErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "switchboard_aws_call_errors_total",
			Help: "AWS API calls that failed, by service and operation.",
		}, []string{"service", "operation"}),
	}
	for _, n := range KnownOperations {
		t.known[n] = true
	}
	for _, c := range []prometheus.Collector{t.httpDuration, t.opDuration, t.errors, t.wsConnections, t.awsDuration, t.awsErrors} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// AWSCall observes one AWS call (connectaws.Options.OnCall).
func (t *Telemetry) AWSCall(service, operation string, d time.Duration, err error) {
	t.awsDuration.WithLabelValues(service, operation).Observe(d.Seconds())
	if err != nil && !errors.Is(err, context.Canceled) {
		t.awsErrors.WithLabelValues(service, operation).Inc()
	}
}

// operationLabel is the metric label of the operation name.
func (t *Telemetry) operationLabel(name string) string {
	if t.known[name] {
		return name
	}
	return OtherOperation
}

// GraphQL is the gqlgen extension that times operations by name, counts
// errors by code and notes the operation and tenant for the access log.
func (t *Telemetry) GraphQL() graphql.HandlerExtension { return gqlExtension{t} }

type gqlExtension struct{ t *Telemetry }

var (
	_ graphql.HandlerExtension     = gqlExtension{}
	_ graphql.OperationInterceptor = gqlExtension{}
	_ graphql.ResponseInterceptor  = gqlExtension{}
)

func (gqlExtension) ExtensionName() string                   { return "Telemetry" }
func (gqlExtension) Validate(graphql.ExecutableSchema) error { return nil }

// InterceptOperation notes the operation and tenant and times the
// operation's first response.
func (e gqlExtension) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	name := oc.OperationName
	if name == "" && oc.Operation != nil {
		name = oc.Operation.Name
	}
	SetOperation(ctx, name)
	if v := viewer.FromContext(ctx); v != nil && v.TenantID != "" {
		SetTenant(ctx, string(v.TenantID))
	}
	start := time.Now()
	label := e.t.operationLabel(name)
	kind := "query"
	if oc.Operation != nil {
		kind = string(oc.Operation.Operation)
	}
	ctx, span := e.t.tracer.Start(ctx, "graphql "+kind+" "+label, trace.WithAttributes(
		attribute.String("graphql.operation.type", kind),
		attribute.String("graphql.operation.name", label)))
	first := true
	h := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		r := h(ctx)
		if first {
			first = false
			e.t.opDuration.WithLabelValues(label).Observe(time.Since(start).Seconds())
			if r != nil && len(r.Errors) > 0 {
				span.SetStatus(codes.Error, "GraphQL errors")
			}
			span.End()
		}
		return r
	}
}

// InterceptResponse counts the response's errors by code, also those of a
// request that never became an operation (a parse or validation failure).
func (e gqlExtension) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	r := next(ctx)
	if r != nil {
		e.t.countErrors(r.Errors)
	}
	return r
}

func (t *Telemetry) countErrors(errs gqlerror.List) {
	for _, err := range errs {
		code, _ := err.Extensions["code"].(string)
		if code == "" {
			code = "NONE"
		}
		t.errors.WithLabelValues(code).Inc()
	}
}
