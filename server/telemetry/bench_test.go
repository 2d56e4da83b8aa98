package telemetry_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard/server/telemetry"
)

// BenchmarkMiddleware is the cost the request ID, access log line, span
// (tracing off) and duration histogram add to one request.
func BenchmarkMiddleware(b *testing.B) {
	log := slog.New(telemetry.NewHandler(slog.NewJSONHandler(io.Discard, nil)))
	tel, err := telemetry.New(log, prometheus.NewRegistry(), nil)
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/query", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"data":{}}`)) })
	h := tel.Middleware(mux)
	req := httptest.NewRequest(http.MethodPost, "/query", nil)
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
}

// BenchmarkWithoutMiddleware is BenchmarkMiddleware's baseline.
func BenchmarkWithoutMiddleware(b *testing.B) {
	mux := http.NewServeMux()
	mux.HandleFunc("/query", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"data":{}}`)) })
	req := httptest.NewRequest(http.MethodPost, "/query", nil)
	b.ReportAllocs()
	for b.Loop() {
		mux.ServeHTTP(httptest.NewRecorder(), req)
	}
}
