package wsgorilla_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/testserver"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"

	"switchboard/server/wsgorilla"
)

const (
	transportWS = "graphql-transport-ws"
	legacyWS    = "graphql-ws"

	subscriptionQuery = `{"query":"subscription { name }"}`
	ioTimeout         = 5 * time.Second
)

// env is a gqlgen test server with the gorilla implementation mounted on an
// httptest.Server.
type env struct {
	gql   *testserver.TestServer
	srv   *httptest.Server
	wsURL string

	closeCodes chan int

	mu   sync.Mutex
	errs []transport.WebsocketError
}

// newEnv mounts transport.Websocket (cfg with Implementation, CloseFunc and
// ErrorFunc filled in) on gqlgen's test schema.
func newEnv(tb testing.TB, opts wsgorilla.Options, cfg transport.Websocket) *env {
	tb.Helper()
	return newEnvWith(tb, opts, cfg, nil)
}

// newEnvWith is newEnv with a setup function that can configure the gqlgen
// server (add middleware) before it starts serving.
func newEnvWith(tb testing.TB, opts wsgorilla.Options, cfg transport.Websocket, setup func(*testserver.TestServer)) *env {
	tb.Helper()
	e := &env{
		gql:        testserver.New(),
		closeCodes: make(chan int, 4096),
	}
	cfg.Implementation = wsgorilla.New(opts)
	cfg.CloseFunc = func(_ context.Context, code int) { e.closeCodes <- code }
	cfg.ErrorFunc = func(_ context.Context, err error) {
		var wsErr transport.WebsocketError
		if !errors.As(err, &wsErr) {
			wsErr = transport.WebsocketError{Err: err}
		}
		e.mu.Lock()
		e.errs = append(e.errs, wsErr)
		e.mu.Unlock()
	}
	e.gql.AddTransport(cfg)
	if setup != nil {
		setup(e.gql)
	}
	e.srv = httptest.NewServer(e.gql)
	e.wsURL = "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/query"
	tb.Cleanup(e.srv.Close)
	return e
}

// readErrors returns the read errors the transport reported via ErrorFunc.
func (e *env) readErrors() []transport.WebsocketError {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []transport.WebsocketError
	for _, err := range e.errs {
		if err.IsReadError {
			out = append(out, err)
		}
	}
	return out
}

// waitClosed waits until the transport called CloseFunc n times and returns
// the codes it reported.
func (e *env) waitClosed(tb testing.TB, n int) []int {
	tb.Helper()
	codes := make([]int, 0, n)
	timeout := time.After(10 * time.Second)
	for len(codes) < n {
		select {
		case code := <-e.closeCodes:
			codes = append(codes, code)
		case <-timeout:
			tb.Fatalf("CloseFunc called %d times, want %d", len(codes), n)
		}
	}
	return codes
}

func (e *env) dial(subprotocols []string, header http.Header) (*client, *http.Response, error) {
	d := websocket.Dialer{
		Subprotocols:     subprotocols,
		HandshakeTimeout: ioTimeout,
	}
	c, resp, err := d.Dial(e.wsURL, header)
	if err != nil {
		return nil, resp, err
	}
	return &client{Conn: c}, resp, nil
}

// mustDial dials with a single subprotocol ("" for none) and checks that the
// server agreed to it.
func (e *env) mustDial(tb testing.TB, subprotocol string) *client {
	tb.Helper()
	var protocols []string
	if subprotocol != "" {
		protocols = []string{subprotocol}
	}
	c, resp, err := e.dial(protocols, nil)
	if err != nil {
		tb.Fatalf("dial: %v (response %v)", err, resp)
	}
	tb.Cleanup(func() { _ = c.Close() })
	if got := c.Subprotocol(); got != subprotocol {
		tb.Fatalf("negotiated subprotocol %q, want %q", got, subprotocol)
	}
	return c
}

// wsMsg is a message of either GraphQL websocket subprotocol.
type wsMsg struct {
	Type    string          `json:"type"`
	ID      string          `json:"id,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// client is a gorilla websocket client speaking JSON messages.
type client struct {
	*websocket.Conn
}

func (c *client) send(typ, id, payload string) error {
	m := wsMsg{Type: typ, ID: id}
	if payload != "" {
		m.Payload = json.RawMessage(payload)
	}
	_ = c.SetWriteDeadline(time.Now().Add(ioTimeout))
	return c.WriteJSON(m)
}

func (c *client) read() (wsMsg, error) {
	_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
	var m wsMsg
	_, data, err := c.ReadMessage()
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("decode %q: %w", data, err)
	}
	return m, nil
}

func (c *client) mustSend(tb testing.TB, typ, id, payload string) {
	tb.Helper()
	if err := c.send(typ, id, payload); err != nil {
		tb.Fatalf("send %s: %v", typ, err)
	}
}

// expect reads one message and checks its type and id.
func (c *client) expect(tb testing.TB, typ, id string) wsMsg {
	tb.Helper()
	m, err := c.read()
	if err != nil {
		tb.Fatalf("waiting for %q: %v", typ, err)
	}
	if m.Type != typ || m.ID != id {
		tb.Fatalf("got message %+v (payload %s), want type %q id %q", m, m.Payload, typ, id)
	}
	return m
}

// expectClose reads until the server closes the connection and returns the
// messages received before the close frame together with the close error.
func (c *client) expectClose(tb testing.TB) ([]wsMsg, *websocket.CloseError) {
	tb.Helper()
	var msgs []wsMsg
	for {
		m, err := c.read()
		if err == nil {
			msgs = append(msgs, m)
			continue
		}
		var closeErr *websocket.CloseError
		if !errors.As(err, &closeErr) {
			tb.Fatalf("expected a close frame, got %v (messages %+v)", err, msgs)
		}
		return msgs, closeErr
	}
}

// handshake performs connection_init and waits for connection_ack (and the
// "ka" the legacy protocol sends right after it).
func (c *client) handshake(tb testing.TB) {
	tb.Helper()
	c.mustSend(tb, "connection_init", "", "")
	c.expect(tb, "connection_ack", "")
	if c.Subprotocol() != transportWS {
		c.expect(tb, "ka", "")
	}
}

// closeNormally performs a client-initiated closing handshake with code 1000
// and waits for the server's close frame.
func (c *client) closeNormally() error {
	defer c.Close()
	msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")
	if err := c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(ioTimeout)); err != nil {
		return err
	}
	for {
		if _, err := c.read(); err != nil {
			if websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				return nil
			}
			return err
		}
	}
}

// settleGoroutines waits until the number of goroutines drops to at most
// want, and fails with a goroutine dump if it does not within the timeout.
func settleGoroutines(tb testing.TB, want int, timeout time.Duration) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		n := runtime.NumGoroutine()
		if n <= want {
			return
		}
		if time.Now().After(deadline) {
			var buf bytes.Buffer
			_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
			tb.Fatalf("%d goroutines still running, want <= %d:\n%s", n, want, buf.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func assertJSONEqual(tb testing.TB, got json.RawMessage, want string) {
	tb.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		tb.Fatalf("invalid JSON %q: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		tb.Fatalf("invalid expected JSON %q: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		tb.Fatalf("payload %s, want %s", got, want)
	}
}
