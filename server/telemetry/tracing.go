package telemetry

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// NewTracerProvider returns a tracer provider that sends spans over
// OTLP/HTTP to endpoint, the full URL of the collector's traces endpoint
// (e.g. http://collector:4318/v1/traces), or, when endpoint is empty, to
// where the standard OTEL_EXPORTER_OTLP_* variables say. Shutdown sends
// what is left.
func NewTracerProvider(ctx context.Context, endpoint string) (*sdktrace.TracerProvider, error) {
	var opts []otlptracehttp.Option
	if endpoint != "" {
		opts = append(opts, otlptracehttp.WithEndpointURL(endpoint))
	}
	exp, err := otlptracehttp.New(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("telemetry: the OTLP trace exporter: %w", err)
	}
	res := resource.NewSchemaless(attribute.String("service.name", "switchboard"))
	return sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res)), nil
}

// propagator reads an incoming W3C traceparent, so that a caller's trace
// continues here.
var propagator = propagation.TraceContext{}

// tracerOf is the tracer of tp; a no-op one for nil (tracing off).
func tracerOf(tp trace.TracerProvider) trace.Tracer {
	if tp == nil {
		tp = noop.NewTracerProvider()
	}
	return tp.Tracer("switchboard/server/telemetry")
}
