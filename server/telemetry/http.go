package telemetry

import (
	"bufio"
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// fieldsKey holds a request's *fields, which the handlers within fill.
type fieldsKey struct{}

// fields are what the handlers within a request learn for its access log
// line: the GraphQL operation and the tenant.
type fields struct {
	mu        sync.Mutex
	operation string
	tenant    string
}

// SetOperation records the GraphQL operation name of the request of ctx.
func SetOperation(ctx context.Context, name string) {
	if f, ok := ctx.Value(fieldsKey{}).(*fields); ok {
		f.mu.Lock()
		f.operation = name
		f.mu.Unlock()
	}
}

// SetTenant records the tenant that the request of ctx was authenticated for.
func SetTenant(ctx context.Context, id string) {
	if f, ok := ctx.Value(fieldsKey{}).(*fields); ok {
		f.mu.Lock()
		f.tenant = id
		f.mu.Unlock()
	}
}

// Middleware gives each request an ID (a sane incoming X-Request-ID, or a
// new one), echoes it in the response, carries it in the context, writes
// one access log line per request and observes its duration. A WebSocket
// upgrade is logged when the connection ends and counted while it lasts.
func (t *Telemetry) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get(RequestIDHeader)
		if !SaneRequestID(id) {
			id = NewRequestID()
		}
		w.Header().Set(RequestIDHeader, id)
		f := &fields{}
		ctx := context.WithValue(WithRequestID(r.Context(), id), fieldsKey{}, f)
		ctx = propagator.Extract(ctx, propagation.HeaderCarrier(r.Header))
		ctx, span := t.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer),
			trace.WithAttributes(attribute.String("http.request.method", r.Method), attribute.String("request.id", id)))
		defer span.End()
		r = r.WithContext(ctx)
		upgrade := strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
		if upgrade {
			t.wsConnections.Inc()
			defer t.wsConnections.Dec()
		}
		rw := &responseWriter{ResponseWriter: w}
		next.ServeHTTP(rw, r)
		d := time.Since(start)
		status := rw.status
		if status == 0 {
			status = http.StatusOK
			if rw.hijacked {
				status = http.StatusSwitchingProtocols
			}
		}
		route := r.Pattern // set by the server's ServeMux on this request
		if route == "" {
			route = "unmatched"
		} else if _, p, ok := strings.Cut(route, " "); ok {
			route = p // without the method
		}
		span.SetName(r.Method + " " + route)
		span.SetAttributes(attribute.String("http.route", route), attribute.Int("http.response.status_code", status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
		}
		if !rw.hijacked {
			t.httpDuration.WithLabelValues(route).Observe(d.Seconds())
		}
		f.mu.Lock()
		op, tenant := f.operation, f.tenant
		f.mu.Unlock()
		attrs := []slog.Attr{
			slog.String("method", r.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Float64("duration_ms", float64(d.Microseconds())/1000),
			slog.Int64("bytes", rw.bytes),
		}
		if op != "" {
			attrs = append(attrs, slog.String("operation", op))
		}
		if tenant != "" {
			attrs = append(attrs, slog.String("tenant", tenant))
		}
		t.log.LogAttrs(ctx, slog.LevelInfo, "http request", attrs...)
	})
}

// responseWriter notes a response's status and size.
type responseWriter struct {
	http.ResponseWriter
	status   int
	bytes    int64
	hijacked bool
}

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Flush passes a flush on (server-sent events, multipart responses).
func (w *responseWriter) Flush() {
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Hijack hands the connection over (a WebSocket upgrade), noting it.
func (w *responseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return c, rw, err
}

// Unwrap lets http.ResponseController reach the original ResponseWriter.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
