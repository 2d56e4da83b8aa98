package wsgorilla_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"switchboard/server/wsgorilla"
)

// directEnv serves `subscription { name }`, whose results are published on
// a broadcast and sent through a wsgorilla.Writer when the subscription has
// one, and through the executor when it has none.
type directEnv struct {
	url string

	mu      sync.Mutex
	subs    []chan []byte
	direct  atomic.Int64 // subscriptions that had a Writer
	through atomic.Int64 // and that had none
}

// newDirectEnv starts the server; wrapInit and withIDs say whether it uses
// the Implementation's InitFunc and the OperationIDs extension.
func newDirectEnv(t *testing.T, wrapInit, withIDs bool, ping time.Duration) *directEnv {
	e := &directEnv{}
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
		type Query { name: String! }
		type Subscription { name: String! }
	`})
	srv := handler.New(&graphql.ExecutableSchemaMock{
		SchemaFunc:     func() *ast.Schema { return schema },
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) { return 1, true },
		ExecFunc: func(ctx context.Context) graphql.ResponseHandler {
			if graphql.GetOperationContext(ctx).Operation.Operation != ast.Subscription {
				done := false
				return func(context.Context) *graphql.Response {
					if done {
						return nil
					}
					done = true
					return &graphql.Response{Data: []byte(`{"name":"q"}`)}
				}
			}
			ch := make(chan []byte, 64)
			e.mu.Lock()
			e.subs = append(e.subs, ch)
			e.mu.Unlock()
			w := wsgorilla.NewWriter(ctx)
			if w != nil {
				e.direct.Add(1)
			} else {
				e.through.Add(1)
			}
			return func(ctx context.Context) *graphql.Response {
				for {
					select {
					case p, ok := <-ch:
						if !ok {
							return nil
						}
						if w == nil {
							var r graphql.Response
							if err := json.Unmarshal(p, &r); err != nil {
								panic(err)
							}
							return &r
						}
						if err := w.Next(p); err != nil {
							return nil
						}
					case <-ctx.Done():
						return nil
					}
				}
			}
		},
	})
	impl := wsgorilla.New(wsgorilla.Options{})
	ws := transport.Websocket{Implementation: impl, PingPongInterval: ping}
	if wrapInit {
		ws.InitFunc = impl.InitFunc(nil)
	}
	srv.AddTransport(ws)
	if withIDs {
		srv.Use(wsgorilla.OperationIDs{})
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	e.url = "ws" + strings.TrimPrefix(hs.URL, "http")
	return e
}

func (e *directEnv) dial(t *testing.T, subprotocol string) *client {
	env := &env{wsURL: e.url}
	return env.mustDial(t, subprotocol)
}

// waitSubs waits until n subscriptions are running.
func (e *directEnv) waitSubs(t *testing.T, n int) {
	deadline := time.Now().Add(ioTimeout)
	for {
		e.mu.Lock()
		got := len(e.subs)
		e.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d subscriptions started", got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *directEnv) publish(payload string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ch := range e.subs {
		ch <- []byte(payload)
	}
}

func (e *directEnv) end() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, ch := range e.subs {
		close(ch)
	}
	e.subs = nil
}

// Results written directly reach each operation under its own id, escaped as
// JSON escapes it, exactly as the executor would have sent them, and the
// transport completes each operation after its last result.
func TestDirectWrites(t *testing.T) {
	e := newDirectEnv(t, true, true, 0)
	c := e.dial(t, transportWS)
	c.handshake(t)
	ids := []string{"a", `q"uote\d`, "ünï"}
	for _, id := range ids {
		c.mustSend(t, "subscribe", id, `{"query":"subscription { name }"}`)
	}
	e.waitSubs(t, len(ids))
	if d, th := e.direct.Load(), e.through.Load(); d != int64(len(ids)) || th != 0 {
		t.Fatalf("%d subscriptions wrote directly, %d did not", d, th)
	}
	const events = 5
	for i := 0; i < events; i++ {
		e.publish(fmt.Sprintf(`{"data":{"name":"n%d"}}`, i))
	}
	seen := map[string]int{}
	for i := 0; i < events*len(ids); i++ {
		_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
		_, raw, err := c.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var m wsMsg
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if m.Type != "next" {
			t.Fatalf("got %s", raw)
		}
		assertJSONEqual(t, m.Payload, fmt.Sprintf(`{"data":{"name":"n%d"}}`, seen[m.ID]))
		seen[m.ID]++
	}
	for _, id := range ids {
		if seen[id] != events {
			t.Errorf("operation %q received %d results, want %d", id, seen[id], events)
		}
	}
	e.end()
	completed := map[string]bool{}
	for range ids {
		m, err := c.read()
		if err != nil || m.Type != "complete" {
			t.Fatalf("want complete, got %+v, %v", m, err)
		}
		completed[m.ID] = true
	}
	for _, id := range ids {
		if !completed[id] {
			t.Errorf("no complete for %q", id)
		}
	}
}

// Without the InitFunc wrapper, without the extension, or on the legacy
// graphql-ws protocol, a subscription has no Writer and its results go
// through the executor, as before.
func TestNoWriterWithoutTheParts(t *testing.T) {
	for _, tc := range []struct {
		name              string
		wrapInit, withIDs bool
		subprotocol       string
	}{
		{"no InitFunc", false, true, transportWS},
		{"no OperationIDs", true, false, transportWS},
		{"graphql-ws", true, true, legacyWS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newDirectEnv(t, tc.wrapInit, tc.withIDs, 0)
			c := e.dial(t, tc.subprotocol)
			c.handshake(t)
			start := map[string]string{transportWS: "subscribe", legacyWS: "start"}[tc.subprotocol]
			c.mustSend(t, start, "s1", `{"query":"subscription { name }"}`)
			e.waitSubs(t, 1)
			if e.direct.Load() != 0 || e.through.Load() != 1 {
				t.Fatalf("%d direct, %d through the executor", e.direct.Load(), e.through.Load())
			}
			e.publish(`{"data":{"name":"x"}}`)
			want := map[string]string{transportWS: "next", legacyWS: "data"}[tc.subprotocol]
			m := c.expect(t, want, "s1")
			assertJSONEqual(t, m.Payload, `{"data":{"name":"x"}}`)
		})
	}
}

// Direct writes share the connection with the transport's own (results of
// queries sent meanwhile on the same connection): every frame arrives whole
// (run with -race).
func TestDirectWritesBesideTransportWrites(t *testing.T) {
	e := newDirectEnv(t, true, true, 0)
	c := e.dial(t, transportWS)
	c.handshake(t)
	c.mustSend(t, "subscribe", "s", `{"query":"subscription { name }"}`)
	e.waitSubs(t, 1)
	const events, queries = 300, 50
	go func() {
		for i := 0; i < events; i++ {
			e.publish(fmt.Sprintf(`{"data":{"name":"n%d"}}`, i))
		}
	}()
	for i := 0; i < queries; i++ {
		c.mustSend(t, "subscribe", fmt.Sprint("q", i), `{"query":"query { name }"}`)
	}
	got, answered, completed := 0, 0, 0
	for got < events || answered < queries || completed < queries {
		m, err := c.read()
		if err != nil {
			t.Fatalf("after %d results, %d answers: %v", got, answered, err)
		}
		switch {
		case m.Type == "next" && m.ID == "s":
			assertJSONEqual(t, m.Payload, fmt.Sprintf(`{"data":{"name":"n%d"}}`, got))
			got++
		case m.Type == "next" && strings.HasPrefix(m.ID, "q"):
			assertJSONEqual(t, m.Payload, `{"data":{"name":"q"}}`)
			answered++
		case m.Type == "complete" && strings.HasPrefix(m.ID, "q"):
			completed++
		default:
			t.Fatalf("unexpected %+v", m)
		}
	}
}

// A payload that is not a JSON object is refused before anything is written.
func TestDirectWriteRefusesNonObjects(t *testing.T) {
	e := newDirectEnv(t, true, true, 0)
	c := e.dial(t, transportWS)
	c.handshake(t)
	c.mustSend(t, "subscribe", "s", `{"query":"subscription { name }"}`)
	e.waitSubs(t, 1)
	e.publish(`[1]`) // Next fails: the subscription ends
	c.expect(t, "complete", "s")
}

// A client may reuse an id once it completed its operation, before gqlgen
// has stopped it: the old operation's messages never reach the new one,
// and the new one still ends when the client completes it.
func TestIDReuseKeepsOperationsApart(t *testing.T) {
	e := newDirectEnv(t, true, true, 0)
	c := e.dial(t, transportWS)
	c.handshake(t)
	c.mustSend(t, "subscribe", "1", `{"query":"subscription { name }"}`)
	e.waitSubs(t, 1)
	c.mustSend(t, "complete", "1", "")
	c.mustSend(t, "subscribe", "1", `{"query":"subscription { name }"}`)
	e.waitSubs(t, 2)
	c.mustSend(t, "ping", "", "")
	c.expect(t, "pong", "") // nothing of the first operation: no complete

	e.publish(`{"data":{"name":"x"}}`)
	m := c.expect(t, "next", "1") // from the second operation only
	assertJSONEqual(t, m.Payload, `{"data":{"name":"x"}}`)
	c.mustSend(t, "ping", "", "")
	c.expect(t, "pong", "")

	c.mustSend(t, "complete", "1", "")
	c.mustSend(t, "ping", "", "")
	c.expect(t, "pong", "") // the server has read the complete
	e.publish(`{"data":{"name":"y"}}`)
	c.mustSend(t, "ping", "", "")
	c.expect(t, "pong", "") // the second operation ended with the client's complete
	c.mustSend(t, "subscribe", "1", `{"query":"subscription { name }"}`)
	e.waitSubs(t, 3)
	e.publish(`{"data":{"name":"z"}}`)
	m = c.expect(t, "next", "1")
	assertJSONEqual(t, m.Payload, `{"data":{"name":"z"}}`)
}
