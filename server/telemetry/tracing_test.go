package telemetry_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"switchboard/cmd/switchboard/wire"
	"switchboard/internal/testenv"
)

// TestTracesReachAnOTLPReceiver: with an OTLP endpoint configured, a
// GraphQL request's HTTP span and operation span arrive at a local
// OTLP/HTTP receiver, the operation's a child of the request's, continuing
// the caller's trace.
func TestTracesReachAnOTLPReceiver(t *testing.T) {
	var mu sync.Mutex
	spans := map[string][]byte{}  // name → parent span ID
	traces := map[string][]byte{} // name → trace ID
	ids := map[string][]byte{}    // name → span ID
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		var req collectortrace.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(raw, &req) != nil {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					spans[s.Name], traces[s.Name], ids[s.Name] = s.ParentSpanId, s.TraceId, s.SpanId
				}
			}
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(nil)
	}))
	defer recv.Close()

	s := testenv.NewServer(t, testenv.Backends()[0], func(c *wire.Config) {
		c.Tracing = &wire.Tracing{Endpoint: recv.URL + "/v1/traces"}
	})
	req, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, s.URL+"/query",
		strings.NewReader(`{"query":"query Wallboard { __typename }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	s.App.Close() // flushes the spans

	mu.Lock()
	defer mu.Unlock()
	httpParent, ok := spans["POST /query"]
	if !ok {
		t.Fatalf("no HTTP span; got %v", spans)
	}
	opParent, ok := spans["graphql query Wallboard"]
	if !ok {
		t.Fatalf("no operation span; got %v", spans)
	}
	if string(opParent) != string(ids["POST /query"]) {
		t.Fatal("the operation span is not the request span's child")
	}
	if got := string(traces["POST /query"]); got != string([]byte{0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31, 0x9c}) {
		t.Fatalf("the caller's trace is not continued: %x", traces["POST /query"])
	}
	if len(httpParent) == 0 {
		t.Fatal("the request span has no parent: the incoming traceparent was ignored")
	}
}
