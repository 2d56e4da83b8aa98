package wsgorilla_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"

	"switchboard/server/wsgorilla"
)

func TestGraphQLTransportWS(t *testing.T) {
	t.Run("default buffers", func(t *testing.T) {
		testGraphQLTransportWS(t, wsgorilla.Options{})
	})
	t.Run("tiny pooled buffers", func(t *testing.T) {
		// Messages larger than the buffers are read and written in pieces.
		testGraphQLTransportWS(t, wsgorilla.Options{ReadBufferSize: 16, WriteBufferSize: 8})
	})
	t.Run("reused net/http buffers", func(t *testing.T) {
		testGraphQLTransportWS(t, wsgorilla.Options{ReuseHTTPBuffers: true})
	})
}

func testGraphQLTransportWS(t *testing.T, opts wsgorilla.Options) {
	e := newEnv(t, opts, transport.Websocket{InitTimeout: 2 * time.Second})
	c := e.mustDial(t, transportWS)

	c.mustSend(t, "connection_init", "", `{"authorization":"token"}`)
	c.expect(t, "connection_ack", "")

	// subscribe → next → complete (server-side completion).
	c.mustSend(t, "subscribe", "1", subscriptionQuery)
	c.mustSend(t, "ping", "", "")
	c.expect(t, "pong", "") // the subscribe message has been processed
	e.gql.SendNextSubscriptionMessage()
	next := c.expect(t, "next", "1")
	assertJSONEqual(t, next.Payload, `{"data":{"name":"test"}}`)
	e.gql.SendNextSubscriptionMessage()
	c.expect(t, "next", "1")
	e.gql.SendCompleteSubscriptionMessage()
	c.expect(t, "complete", "1")

	// Client-side completion: gqlgen cancels the operation, and its
	// complete is not passed on (nothing more is sent for an operation the
	// client completed).
	c.mustSend(t, "subscribe", "2", subscriptionQuery)
	c.mustSend(t, "ping", "", "")
	c.expect(t, "pong", "")
	e.gql.SendNextSubscriptionMessage()
	c.expect(t, "next", "2")
	c.mustSend(t, "complete", "2", "")
	c.mustSend(t, "ping", "", "")
	c.expect(t, "pong", "")

	// A websocket-level ping control frame is answered by gorilla.
	pong := make(chan string, 1)
	c.SetPongHandler(func(data string) error { pong <- data; return nil })
	if err := c.WriteControl(websocket.PingMessage, []byte("hi"), time.Now().Add(ioTimeout)); err != nil {
		t.Fatal(err)
	}
	c.mustSend(t, "ping", "", "")
	c.expect(t, "pong", "") // reading processes the control frame
	select {
	case data := <-pong:
		if data != "hi" {
			t.Fatalf("pong data %q, want %q", data, "hi")
		}
	case <-time.After(ioTimeout):
		t.Fatal("no pong control frame")
	}

	// A normal close by the client ends the connection without the transport
	// reporting a read error (NextReader returned ErrWebsocketClosed).
	if err := c.closeNormally(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if codes := e.waitClosed(t, 1); codes[0] != websocket.CloseNormalClosure {
		t.Fatalf("CloseFunc code %d, want 1000", codes[0])
	}
	if errs := e.readErrors(); len(errs) != 0 {
		t.Fatalf("transport reported read errors on a normal close: %v", errs)
	}
}

func TestLegacyGraphQLWS(t *testing.T) {
	e := newEnv(t, wsgorilla.Options{}, transport.Websocket{InitTimeout: 2 * time.Second})
	c := e.mustDial(t, legacyWS)

	c.mustSend(t, "connection_init", "", "")
	c.expect(t, "connection_ack", "")
	c.expect(t, "ka", "") // gqlgen sends one keep-alive right after the ack

	c.mustSend(t, "start", "1", subscriptionQuery)
	e.gql.SendNextSubscriptionMessage()
	data := c.expect(t, "data", "1")
	assertJSONEqual(t, data.Payload, `{"data":{"name":"test"}}`)

	c.mustSend(t, "stop", "1", "")
	c.expect(t, "complete", "1")

	c.mustSend(t, "start", "2", subscriptionQuery)
	e.gql.SendNextSubscriptionMessage()
	c.expect(t, "data", "2")
	e.gql.SendCompleteSubscriptionMessage()
	c.expect(t, "complete", "2")

	// connection_terminate makes the server close with 1000.
	c.mustSend(t, "connection_terminate", "", "")
	_, closeErr := c.expectClose(t)
	if closeErr.Code != websocket.CloseNormalClosure || closeErr.Text != "terminated" {
		t.Fatalf("close %d %q, want 1000 \"terminated\"", closeErr.Code, closeErr.Text)
	}
	e.waitClosed(t, 1)
}

func TestSubprotocolNegotiation(t *testing.T) {
	e := newEnv(t, wsgorilla.Options{}, transport.Websocket{})

	t.Run("server preference wins when both are offered", func(t *testing.T) {
		c, _, err := e.dial([]string{transportWS, legacyWS}, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		// gqlgen lists graphql-ws first and the upgrader keeps that order.
		if got := c.Subprotocol(); got != legacyWS {
			t.Fatalf("negotiated %q, want %q", got, legacyWS)
		}
	})

	t.Run("no subprotocol falls back to graphql-ws", func(t *testing.T) {
		c := e.mustDial(t, "")
		c.mustSend(t, "connection_init", "", "")
		c.expect(t, "connection_ack", "")
		c.expect(t, "ka", "")
	})
}

func TestOrigin(t *testing.T) {
	tests := []struct {
		name    string
		allowed []string
		origin  string // "self" means the server's own origin
		ok      bool
	}{
		{name: "listed origin", allowed: []string{"https://desk.example.com"}, origin: "https://desk.example.com", ok: true},
		{name: "listed origin, other case and trailing slash in config", allowed: []string{"HTTPS://Desk.Example.com/"}, origin: "https://desk.example.com", ok: true},
		{name: "unlisted origin", allowed: []string{"https://desk.example.com"}, origin: "https://evil.example.com", ok: false},
		{name: "listed host with other scheme", allowed: []string{"https://desk.example.com"}, origin: "http://desk.example.com", ok: false},
		{name: "same origin with empty list", origin: "self", ok: true},
		{name: "same origin with a list", allowed: []string{"https://desk.example.com"}, origin: "self", ok: true},
		{name: "cross origin with empty list", origin: "https://evil.example.com", ok: false},
		{name: "null origin with empty list", origin: "null", ok: false},
		{name: "no Origin header (non-browser client)", origin: "", ok: true},
		{name: "explicit wildcard", allowed: []string{"*"}, origin: "https://anything.example.org", ok: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, wsgorilla.Options{AllowedOrigins: tt.allowed}, transport.Websocket{})
			header := http.Header{}
			switch tt.origin {
			case "":
			case "self":
				header.Set("Origin", e.srv.URL)
			default:
				header.Set("Origin", tt.origin)
			}
			c, resp, err := e.dial([]string{transportWS}, header)
			if tt.ok {
				if err != nil {
					t.Fatalf("dial: %v (response %v)", err, resp)
				}
				defer c.Close()
				c.handshake(t)
				return
			}
			if err == nil {
				c.Close()
				t.Fatal("connection with a disallowed origin was upgraded")
			}
			if !errors.Is(err, websocket.ErrBadHandshake) || resp == nil {
				t.Fatalf("dial error %v, want a refused handshake", err)
			}
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403", resp.StatusCode)
			}
			if resp.Header.Get("Upgrade") != "" {
				t.Fatalf("refused response carries Upgrade header %q", resp.Header.Get("Upgrade"))
			}
		})
	}
}

// TestSecondConnectionInit checks the close for a repeated connection_init:
// graphql-transport-ws prescribes 4429, which the adapter sends; legacy
// graphql-ws keeps gqlgen's behaviour (a connection_error message and 1002).
func TestSecondConnectionInit(t *testing.T) {
	tests := []struct {
		proto      string
		wantCode   int
		wantReason string
		// CloseFunc gets gqlgen's own code: it does not know which close
		// frame the adapter sent.
		wantCloseFunc int
	}{
		{transportWS, 4429, "Too many initialisation requests", websocket.CloseNormalClosure},
		{legacyWS, websocket.CloseProtocolError, "unexpected message", websocket.CloseProtocolError},
	}
	for _, tt := range tests {
		t.Run(tt.proto, func(t *testing.T) {
			e := newEnv(t, wsgorilla.Options{}, transport.Websocket{})
			c := e.mustDial(t, tt.proto)
			c.handshake(t)
			c.mustSend(t, "connection_init", "", "")
			msgs, closeErr := c.expectClose(t)
			if closeErr.Code != tt.wantCode || closeErr.Text != tt.wantReason {
				t.Fatalf("close %d %q, want %d %q", closeErr.Code, closeErr.Text, tt.wantCode, tt.wantReason)
			}
			if tt.proto == legacyWS {
				// graphql-ws additionally gets a connection_error message.
				if len(msgs) != 1 || msgs[0].Type != "connection_error" {
					t.Fatalf("messages before close %+v, want one connection_error", msgs)
				}
			} else if len(msgs) != 0 {
				t.Fatalf("unexpected messages before close: %+v", msgs)
			}
			if codes := e.waitClosed(t, 1); codes[0] != tt.wantCloseFunc {
				t.Fatalf("CloseFunc code %d, want %d", codes[0], tt.wantCloseFunc)
			}
			if tt.proto == transportWS {
				e.expectProtocolError(t, 4429)
			}
		})
	}
}

// TestInitTimeout checks the close when no connection_init arrives within
// InitTimeout: gqlgen closes with 1002 "connection initialisation timeout",
// which the adapter sends as graphql-transport-ws' 4408; legacy graphql-ws
// keeps 1002.
func TestInitTimeout(t *testing.T) {
	const timeout = 150 * time.Millisecond
	tests := []struct {
		proto      string
		wantCode   int
		wantReason string
	}{
		{transportWS, 4408, "Connection initialisation timeout"},
		{legacyWS, websocket.CloseProtocolError, "connection initialisation timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.proto, func(t *testing.T) {
			e := newEnv(t, wsgorilla.Options{}, transport.Websocket{InitTimeout: timeout})
			c := e.mustDial(t, tt.proto)
			start := time.Now()
			_, closeErr := c.expectClose(t)
			if elapsed := time.Since(start); elapsed < timeout/2 {
				t.Fatalf("closed after %v, before the %v init timeout", elapsed, timeout)
			}
			if closeErr.Code != tt.wantCode || closeErr.Text != tt.wantReason {
				t.Fatalf("close %d %q, want %d %q", closeErr.Code, closeErr.Text, tt.wantCode, tt.wantReason)
			}
			if codes := e.waitClosed(t, 1); codes[0] != websocket.CloseProtocolError {
				t.Fatalf("CloseFunc code %d, want gqlgen's 1002", codes[0])
			}
		})
	}
}

// TestDuplicateSubscribeID checks that a subscribe whose id belongs to an
// active operation closes a graphql-transport-ws connection with 4409, and
// that the operation that was running is stopped.
func TestDuplicateSubscribeID(t *testing.T) {
	tests := []struct {
		name    string
		payload string
	}{
		{"subscription", subscriptionQuery},
		// gqlgen runs every operation asynchronously; the id is reserved
		// until its complete, whatever the operation.
		{"same id, other operation", `{"query":"{ name }"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, wsgorilla.Options{}, transport.Websocket{})
			baseline := runtime.NumGoroutine()
			c := e.mustDial(t, transportWS)
			c.handshake(t)

			c.mustSend(t, "subscribe", "dup", subscriptionQuery)
			c.mustSend(t, "subscribe", "other", subscriptionQuery)
			c.mustSend(t, "ping", "", "")
			c.expect(t, "pong", "")
			c.mustSend(t, "subscribe", "dup", tt.payload)
			msgs, closeErr := c.expectClose(t)
			if closeErr.Code != 4409 || closeErr.Text != "Subscriber for dup already exists" {
				t.Fatalf("close %d %q, want 4409 \"Subscriber for dup already exists\"", closeErr.Code, closeErr.Text)
			}
			if len(msgs) != 0 {
				t.Fatalf("unexpected messages before close: %+v", msgs)
			}
			e.waitClosed(t, 1)
			e.expectProtocolError(t, 4409)
			// Both subscriptions were cancelled with the connection.
			settleGoroutines(t, baseline, 5*time.Second)
		})
	}
}

// TestDuplicateSubscribeIDLongID checks that the 4409 reason is cut to what
// a close frame can carry.
func TestDuplicateSubscribeIDLongID(t *testing.T) {
	e := newEnv(t, wsgorilla.Options{}, transport.Websocket{})
	c := e.mustDial(t, transportWS)
	c.handshake(t)
	id := strings.Repeat("x", 200)
	c.mustSend(t, "subscribe", id, subscriptionQuery)
	c.mustSend(t, "subscribe", id, subscriptionQuery)
	_, closeErr := c.expectClose(t)
	if want := ("Subscriber for " + id)[:123]; closeErr.Code != 4409 || closeErr.Text != want {
		t.Fatalf("close %d %q, want 4409 %q", closeErr.Code, closeErr.Text, want)
	}
}

// TestLegacyDuplicateStartID records that legacy graphql-ws keeps gqlgen's
// behaviour for a start whose id is already active: both operations run, the
// id now refers to the newer one only, and the older one keeps streaming
// under the same id until it ends on its own.
func TestLegacyDuplicateStartID(t *testing.T) {
	e := newEnv(t, wsgorilla.Options{}, transport.Websocket{})
	c := e.mustDial(t, legacyWS)
	c.handshake(t)

	c.mustSend(t, "start", "dup", subscriptionQuery)
	c.mustSend(t, "start", "dup", subscriptionQuery)
	// "stop" for the id cancels only the second operation …
	c.mustSend(t, "stop", "dup", "")
	c.expect(t, "complete", "dup")

	// … while the first one is still running under the same id.
	e.gql.SendNextSubscriptionMessage()
	c.expect(t, "data", "dup")
	e.gql.SendCompleteSubscriptionMessage()
	c.expect(t, "complete", "dup")

	if err := c.closeNormally(); err != nil {
		t.Fatalf("close: %v", err)
	}
	e.waitClosed(t, 1)
}

// TestSubscribeBeforeAck checks that operations are refused with 4401 before
// the connection is acknowledged, on graphql-transport-ws only.
func TestSubscribeBeforeAck(t *testing.T) {
	t.Run(transportWS, func(t *testing.T) {
		e := newEnv(t, wsgorilla.Options{}, transport.Websocket{InitTimeout: 5 * time.Second})
		baseline := runtime.NumGoroutine()
		c := e.mustDial(t, transportWS)
		c.mustSend(t, "subscribe", "1", subscriptionQuery)
		msgs, closeErr := c.expectClose(t)
		if closeErr.Code != 4401 || closeErr.Text != "Unauthorized" {
			t.Fatalf("close %d %q, want 4401 \"Unauthorized\"", closeErr.Code, closeErr.Text)
		}
		if len(msgs) != 0 {
			t.Fatalf("unexpected messages before close: %+v", msgs)
		}
		// gqlgen itself saw a failed read during initialisation.
		if codes := e.waitClosed(t, 1); codes[0] != websocket.CloseProtocolError {
			t.Fatalf("CloseFunc code %d, want gqlgen's 1002", codes[0])
		}
		// No operation was started.
		settleGoroutines(t, baseline, 5*time.Second)
	})
	t.Run(legacyWS, func(t *testing.T) {
		e := newEnv(t, wsgorilla.Options{}, transport.Websocket{})
		c := e.mustDial(t, legacyWS)
		c.mustSend(t, "start", "1", subscriptionQuery)
		msgs, closeErr := c.expectClose(t)
		if closeErr.Code != websocket.CloseProtocolError || closeErr.Text != "unexpected message" {
			t.Fatalf("close %d %q, want 1002 \"unexpected message\"", closeErr.Code, closeErr.Text)
		}
		if len(msgs) != 1 || msgs[0].Type != "connection_error" {
			t.Fatalf("messages before close %+v, want one connection_error", msgs)
		}
		e.waitClosed(t, 1)
	})
}

// TestOperationIDReuse checks that an id is free again once its operation
// ended, however it ended, and that distinct ids run side by side.
func TestOperationIDReuse(t *testing.T) {
	e := newEnv(t, wsgorilla.Options{}, transport.Websocket{})
	c := e.mustDial(t, transportWS)
	c.handshake(t)

	// Server-side completion.
	for range 3 {
		c.mustSend(t, "subscribe", "a", subscriptionQuery)
		c.mustSend(t, "ping", "", "")
		c.expect(t, "pong", "")
		e.gql.SendNextSubscriptionMessage()
		c.expect(t, "next", "a")
		e.gql.SendCompleteSubscriptionMessage()
		c.expect(t, "complete", "a")
	}

	// Client-side completion: nothing more for the id, which is free again.
	for range 3 {
		c.mustSend(t, "subscribe", "b", subscriptionQuery)
		c.mustSend(t, "complete", "b", "")
		c.mustSend(t, "ping", "", "")
		c.expect(t, "pong", "")
	}

	// A query: next and complete, then the id is free.
	for range 3 {
		c.mustSend(t, "subscribe", "q", `{"query":"{ name }"}`)
		next := c.expect(t, "next", "q")
		assertJSONEqual(t, next.Payload, `{"data":{"name":"test"}}`)
		c.expect(t, "complete", "q")
	}

	// An operation gqlgen refuses: error, which ends it (the complete gqlgen
	// sends after it is not passed on), and the id is free again.
	for range 3 {
		c.mustSend(t, "subscribe", "e", `{"query":5}`)
		c.expect(t, "error", "e")
		c.mustSend(t, "ping", "", "")
		c.expect(t, "pong", "")
	}

	// Distinct ids are independent.
	c.mustSend(t, "subscribe", "x", subscriptionQuery)
	c.mustSend(t, "subscribe", "y", subscriptionQuery)
	c.mustSend(t, "complete", "x", "")
	c.mustSend(t, "subscribe", "x", subscriptionQuery)
	c.mustSend(t, "complete", "y", "")
	c.mustSend(t, "complete", "x", "")
	c.mustSend(t, "ping", "", "")
	c.expect(t, "pong", "")

	if err := c.closeNormally(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if codes := e.waitClosed(t, 1); codes[0] != websocket.CloseNormalClosure {
		t.Fatalf("CloseFunc code %d, want 1000", codes[0])
	}
	if errs := e.readErrors(); len(errs) != 0 {
		t.Fatalf("transport reported read errors: %v", errs)
	}
}

// TestResubscribeRightAfterClientComplete covers a client that reuses an id
// as soon as it sent complete for it, before gqlgen stopped the old
// operation: the protocol allows it, and nothing of the old operation (its
// complete) reaches the client or frees the id of the new one.
func TestResubscribeRightAfterClientComplete(t *testing.T) {
	e := newEnv(t, wsgorilla.Options{}, transport.Websocket{})
	c := e.mustDial(t, transportWS)
	c.handshake(t)

	c.mustSend(t, "subscribe", "r", subscriptionQuery)
	c.mustSend(t, "ping", "", "")
	c.expect(t, "pong", "")
	c.mustSend(t, "complete", "r", "")
	c.mustSend(t, "subscribe", "r", subscriptionQuery)
	c.mustSend(t, "ping", "", "")
	c.expect(t, "pong", "") // and no complete for the first operation

	// The second operation is running …
	e.gql.SendNextSubscriptionMessage()
	c.expect(t, "next", "r")
	// … so its id is still taken.
	c.mustSend(t, "subscribe", "r", subscriptionQuery)
	_, closeErr := c.expectClose(t)
	if closeErr.Code != 4409 {
		t.Fatalf("close %d %q, want 4409", closeErr.Code, closeErr.Text)
	}
}

// expectProtocolError checks that the transport reported exactly one read
// error, the adapter's *wsgorilla.ProtocolError with the given code.
func (e *env) expectProtocolError(tb testing.TB, code int) {
	tb.Helper()
	errs := e.readErrors()
	if len(errs) != 1 {
		tb.Fatalf("read errors %v, want one protocol error", errs)
	}
	var pe *wsgorilla.ProtocolError
	if !errors.As(errs[0].Err, &pe) || pe.Code != code {
		tb.Fatalf("read error %v, want a *wsgorilla.ProtocolError with code %d", errs[0].Err, code)
	}
}

// TestInitFuncError records the close codes used when InitFunc rejects a
// connection: the code comes from transport.WithWebsocketCloseCode on the
// returned context and defaults to 1000; the reason comes from
// transport.AppendCloseReason and defaults to "terminated".
func TestInitFuncError(t *testing.T) {
	longReason := strings.Repeat("é", 100) // 200 bytes, more than a close frame holds

	tests := []struct {
		name       string
		proto      string
		initFunc   transport.WebsocketInitFunc
		wantCode   int
		wantReason string
	}{
		{
			name:  "4403 via WithWebsocketCloseCode",
			proto: transportWS,
			initFunc: func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
				return transport.WithWebsocketCloseCode(ctx, 4403), nil, errors.New("forbidden")
			},
			wantCode:   4403,
			wantReason: "terminated",
		},
		{
			name:  "no close code set",
			proto: transportWS,
			initFunc: func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
				return ctx, nil, errors.New("forbidden")
			},
			wantCode:   websocket.CloseNormalClosure,
			wantReason: "terminated",
		},
		{
			name:  "4403 with a reason longer than a close frame",
			proto: transportWS,
			initFunc: func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
				ctx = transport.AppendCloseReason(ctx, longReason)
				return transport.WithWebsocketCloseCode(ctx, 4403), nil, errors.New("forbidden")
			},
			wantCode:   4403,
			wantReason: longReason[:122], // 61 whole runes
		},
		{
			name:  "legacy graphql-ws",
			proto: legacyWS,
			initFunc: func(ctx context.Context, _ transport.InitPayload) (context.Context, *transport.InitPayload, error) {
				return transport.WithWebsocketCloseCode(ctx, 4403), nil, errors.New("forbidden")
			},
			wantCode:   4403,
			wantReason: "terminated",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, wsgorilla.Options{}, transport.Websocket{InitFunc: tt.initFunc})
			c := e.mustDial(t, tt.proto)
			c.mustSend(t, "connection_init", "", "")
			msgs, closeErr := c.expectClose(t)
			if closeErr.Code != tt.wantCode || closeErr.Text != tt.wantReason {
				t.Fatalf("close %d %q, want %d %q", closeErr.Code, closeErr.Text, tt.wantCode, tt.wantReason)
			}
			if !utf8.ValidString(closeErr.Text) {
				t.Fatalf("close reason is not valid UTF-8: %q", closeErr.Text)
			}
			if tt.proto == legacyWS {
				if len(msgs) != 1 || msgs[0].Type != "connection_error" {
					t.Fatalf("messages before close %+v, want one connection_error", msgs)
				}
				assertJSONEqual(t, msgs[0].Payload, `{"message":"forbidden"}`)
			} else if len(msgs) != 0 {
				t.Fatalf("unexpected messages before close: %+v", msgs)
			}
			if codes := e.waitClosed(t, 1); codes[0] != tt.wantCode {
				t.Fatalf("CloseFunc code %d, want %d", codes[0], tt.wantCode)
			}
		})
	}
}

// TestPayloadReadLimit checks that the transport's PayloadReadLimit reaches
// gorilla through SetReadLimit: gorilla answers an oversized message with
// close code 1009.
func TestPayloadReadLimit(t *testing.T) {
	limit := int64(64)
	e := newEnv(t, wsgorilla.Options{}, transport.Websocket{PayloadReadLimit: &limit})
	c := e.mustDial(t, transportWS)
	c.mustSend(t, "connection_init", "", `{"authorization":"`+strings.Repeat("x", 200)+`"}`)
	_, closeErr := c.expectClose(t)
	if closeErr.Code != websocket.CloseMessageTooBig {
		t.Fatalf("close %d %q, want 1009", closeErr.Code, closeErr.Text)
	}
	e.waitClosed(t, 1)
}

// TestPingPongReadDeadline checks that the transport's pong timeout works
// through SetReadDeadline: a client answering pings stays connected, a
// client that stops answering is disconnected after 2×PingPongInterval.
func TestPingPongReadDeadline(t *testing.T) {
	const interval = 100 * time.Millisecond
	e := newEnv(t, wsgorilla.Options{}, transport.Websocket{PingPongInterval: interval})
	c := e.mustDial(t, transportWS)
	c.handshake(t)

	pings := 0
	for stop := time.Now().Add(6 * interval); time.Now().Before(stop); {
		c.expect(t, "ping", "")
		pings++
		c.mustSend(t, "pong", "", "")
	}
	if pings < 3 {
		t.Fatalf("got %d pings in %v, want at least 3", pings, 6*interval)
	}

	start := time.Now()
	_, closeErr := c.expectClose(t) // pings are no longer answered
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Fatalf("connection closed %v after the last pong, want about %v", elapsed, 2*interval)
	}
	t.Logf("missing pong: server closed with %d %q", closeErr.Code, closeErr.Text)
	e.waitClosed(t, 1)
	if errs := e.readErrors(); len(errs) != 1 || !isTimeout(errs[0].Err) {
		t.Fatalf("read errors %v, want one timeout", errs)
	}
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}

// TestAcceptDirect drives the adapter without gqlgen's transport: response
// headers and subprotocols from the accept options, and the mapping of close
// codes received from the peer.
func TestAcceptDirect(t *testing.T) {
	closeCodes := []struct {
		code   int
		normal bool
	}{
		{websocket.CloseNormalClosure, true},
		{websocket.CloseGoingAway, true},
		{websocket.CloseNoStatusReceived, true},
		{websocket.CloseProtocolError, false},
		{4000, false},
	}
	for _, cc := range closeCodes {
		t.Run(closeName(cc.code), func(t *testing.T) {
			impl := wsgorilla.New(wsgorilla.Options{})
			result := make(chan error, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				conn, err := impl.Accept(w, r, transport.WebsocketAcceptOptions{
					ResponseHeader: http.Header{"X-Test": {"yes"}},
					Subprotocols:   []string{"proto-a", "proto-b"},
				})
				if err != nil {
					result <- err
					return
				}
				defer conn.Close()
				if err := conn.WriteJSON(map[string]string{"hello": conn.Subprotocol()}); err != nil {
					result <- err
					return
				}
				_, _, err = conn.NextReader()
				result <- err
			}))
			defer srv.Close()

			d := websocket.Dialer{Subprotocols: []string{"proto-b"}}
			c, resp, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := resp.Header.Get("X-Test"); got != "yes" {
				t.Fatalf("X-Test header %q, want %q", got, "yes")
			}
			var hello map[string]string
			if err := c.ReadJSON(&hello); err != nil {
				t.Fatal(err)
			}
			if hello["hello"] != "proto-b" {
				t.Fatalf("server saw subprotocol %q, want proto-b", hello["hello"])
			}

			payload := websocket.FormatCloseMessage(cc.code, "")
			if err := c.WriteControl(websocket.CloseMessage, payload, time.Now().Add(ioTimeout)); err != nil {
				t.Fatal(err)
			}
			err = <-result
			if got := errors.Is(err, transport.ErrWebsocketClosed); got != cc.normal {
				t.Fatalf("NextReader error %v; ErrWebsocketClosed=%v, want %v", err, got, cc.normal)
			}
		})
	}
}

func closeName(code int) string {
	switch code {
	case websocket.CloseNormalClosure:
		return "1000"
	case websocket.CloseGoingAway:
		return "1001"
	case websocket.CloseNoStatusReceived:
		return "1005"
	case websocket.CloseProtocolError:
		return "1002"
	default:
		return "4000"
	}
}

// TestWriteTimeoutClosesConn checks that a peer that stops reading cannot
// block writers forever: the write deadline fires, the write fails and the
// connection is closed so that the reader sees an error too.
func TestWriteTimeoutClosesConn(t *testing.T) {
	impl := wsgorilla.New(wsgorilla.Options{WriteTimeout: 100 * time.Millisecond})
	type outcome struct{ writeErr, readErr error }
	result := make(chan outcome, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := impl.Accept(w, r, transport.WebsocketAcceptOptions{})
		if err != nil {
			result <- outcome{writeErr: err}
			return
		}
		defer conn.Close()
		big := strings.Repeat("x", 64<<10)
		deadline := time.Now().Add(30 * time.Second)
		var writeErr error
		for writeErr == nil && time.Now().Before(deadline) {
			writeErr = conn.WriteJSON(big)
		}
		_, _, readErr := conn.NextReader()
		result <- outcome{writeErr, readErr}
	}))
	defer srv.Close()

	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close() // never reads

	select {
	case o := <-result:
		if !isTimeout(o.writeErr) {
			t.Fatalf("write error %v, want a timeout", o.writeErr)
		}
		if o.readErr == nil {
			t.Fatalf("read after failed write: %v, want an error", o.readErr)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("writer blocked on a peer that does not read")
	}
}

// TestConcurrentConnectionsNoLeak opens 200 connections at once; each one
// completes the handshake, subscribes and receives events, then closes. All
// server and client goroutines must be gone afterwards.
func TestConcurrentConnectionsNoLeak(t *testing.T) {
	const n = 200
	e := newEnv(t, wsgorilla.Options{}, transport.Websocket{
		InitTimeout:      5 * time.Second,
		PingPongInterval: 10 * time.Second,
	})
	baseline := runtime.NumGoroutine()

	var (
		subscribed sync.WaitGroup
		done       sync.WaitGroup
		nexts      atomic.Int64
		errs       = make(chan error, n)
		mu         sync.Mutex
		clients    []*client
	)
	subscribed.Add(n)
	done.Add(n)
	for range n {
		go func() {
			defer done.Done()
			ok := false
			defer func() {
				if !ok {
					subscribed.Done()
				}
			}()
			c, _, err := e.dial([]string{transportWS}, nil)
			if err != nil {
				errs <- err
				return
			}
			defer c.Close()
			mu.Lock()
			clients = append(clients, c)
			mu.Unlock()
			if err := c.send("connection_init", "", ""); err != nil {
				errs <- err
				return
			}
			if m, err := c.read(); err != nil || m.Type != "connection_ack" {
				errs <- errors.Join(errors.New("no connection_ack"), err)
				return
			}
			if err := c.send("subscribe", "1", subscriptionQuery); err != nil {
				errs <- err
				return
			}
			if err := c.send("ping", "", ""); err != nil {
				errs <- err
				return
			}
			if m, err := c.read(); err != nil || m.Type != "pong" {
				errs <- errors.Join(errors.New("no pong"), err)
				return
			}
			ok = true
			subscribed.Done()
			for {
				_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
				_, data, err := c.ReadMessage()
				if err != nil {
					if !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
						errs <- err
					}
					return
				}
				if strings.Contains(string(data), `"next"`) {
					nexts.Add(1)
				}
			}
		}()
	}
	subscribed.Wait()
	select {
	case err := <-errs:
		t.Fatalf("client failed: %v", err)
	default:
	}

	// Every event is taken by exactly one of the waiting subscriptions.
	for range n {
		e.gql.SendNextSubscriptionMessage()
	}
	for deadline := time.Now().Add(10 * time.Second); nexts.Load() < n; {
		if time.Now().After(deadline) {
			t.Fatalf("received %d next messages, want %d", nexts.Load(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}

	mu.Lock()
	for _, c := range clients {
		msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")
		if err := c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(ioTimeout)); err != nil {
			t.Errorf("writing close: %v", err)
		}
	}
	mu.Unlock()
	done.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("client: %v", err)
	}

	codes := e.waitClosed(t, n)
	for _, code := range codes {
		if code != websocket.CloseNormalClosure {
			t.Fatalf("CloseFunc code %d, want 1000", code)
		}
	}
	if errs := e.readErrors(); len(errs) != 0 {
		t.Fatalf("transport reported %d read errors, first: %v", len(errs), errs[0])
	}
	settleGoroutines(t, baseline, 10*time.Second)
}

// TestServerInitiatedCloseHandshake checks that the peer's answer to a close
// frame sent with WriteClose is reported as ErrWebsocketClosed, whatever its
// code, rather than as a read error.
func TestServerInitiatedCloseHandshake(t *testing.T) {
	impl := wsgorilla.New(wsgorilla.Options{})
	result := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := impl.Accept(w, r, transport.WebsocketAcceptOptions{})
		if err != nil {
			result <- err
			return
		}
		defer conn.Close()
		if err := conn.WriteClose(4400, "bad request"); err != nil {
			result <- err
			return
		}
		// A second close is a no-op, as the transport may close twice.
		if err := conn.WriteClose(websocket.CloseNormalClosure, ""); err != nil {
			result <- err
			return
		}
		_, _, err = conn.NextReader()
		result <- err
	}))
	defer srv.Close()

	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	// gorilla's default close handler echoes the server's code (4400).
	_, _, err = c.ReadMessage()
	if !websocket.IsCloseError(err, 4400) {
		t.Fatalf("client read %v, want close 4400", err)
	}
	if err := <-result; !errors.Is(err, transport.ErrWebsocketClosed) {
		t.Fatalf("server NextReader error %v, want ErrWebsocketClosed", err)
	}
}

// TestAbandonedConnectionIsClosed covers a gqlgen v0.17.98 path that returns
// from the handler without closing the websocket: a connection_init payload
// that is not a JSON object. On graphql-transport-ws the adapter refuses such
// a message itself (4400); on legacy graphql-ws it closes the socket when the
// handler returns, so the client sees the connection end instead of hanging.
func TestAbandonedConnectionIsClosed(t *testing.T) {
	for _, tt := range []struct {
		proto string
		code  int
	}{{transportWS, wsgorilla.CloseBadRequest}, {legacyWS, websocket.CloseAbnormalClosure}} {
		t.Run(tt.proto, func(t *testing.T) {
			e := newEnv(t, wsgorilla.Options{}, transport.Websocket{})
			c := e.mustDial(t, tt.proto)
			c.mustSend(t, "connection_init", "", `[1]`)
			start := time.Now()
			_, err := c.read()
			if err == nil {
				t.Fatal("got a message, want the connection to be closed")
			}
			if isTimeout(err) || time.Since(start) > 2*time.Second {
				t.Fatalf("connection left open: %v after %v", err, time.Since(start))
			}
			var closeErr *websocket.CloseError
			if !errors.As(err, &closeErr) || closeErr.Code != tt.code {
				t.Fatalf("read error %v, want close %d", err, tt.code)
			}
		})
	}
}

// TestPingBeforeInit: graphql-transport-ws allows a ping at any time; before
// connection_init is acknowledged gqlgen takes nothing else, so the adapter
// answers it, and the connection goes on as usual.
func TestPingBeforeInit(t *testing.T) {
	e := newEnv(t, wsgorilla.Options{}, transport.Websocket{})
	c := e.mustDial(t, transportWS)
	c.mustSend(t, "ping", "", "")
	c.expect(t, "pong", "")
	c.handshake(t)
	c.mustSend(t, "ping", "", "")
	c.expect(t, "pong", "")
}

// TestProtocolStateDirect drives the graphql-transport-ws checks without
// gqlgen's transport: a subscribe after connection_init but before the
// server's connection_ack is refused with 4401, server messages written as
// other types than gqlgen's are recognised from their JSON, and the messages
// handed on are complete.
func TestProtocolStateDirect(t *testing.T) {
	type step struct {
		recv string // expected client message type ("" for a protocol close)
		send any    // server message written after it, if any
	}
	type serverMsg struct {
		Kind string `json:"type"`
		Op   string `json:"id,omitempty"`
	}
	tests := []struct {
		name     string
		client   []string // client messages
		steps    []step
		wantCode int
	}{
		{
			name:     "subscribe between connection_init and connection_ack",
			client:   []string{`{"type":"connection_init"}`, `{"type":"subscribe","id":"1","payload":{}}`},
			steps:    []step{{recv: "connection_init"}, {}},
			wantCode: 4401,
		},
		{
			name: "ack and complete as map and own struct type",
			client: []string{
				`{"type":"connection_init","payload":{"big":"` + strings.Repeat("x", 3000) + `"}}`,
				`{"type":"subscribe","id":"1","payload":{}}`,
				`{"type":"subscribe","id":"1","payload":{}}`,
				`{"type":"subscribe","id":"1","payload":{}}`,
			},
			steps: []step{
				{recv: "connection_init", send: map[string]string{"type": "connection_ack"}},
				{recv: "subscribe", send: &serverMsg{Kind: "complete", Op: "1"}},
				{recv: "subscribe"},
				{},
			},
			wantCode: 4409,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			impl := wsgorilla.New(wsgorilla.Options{ReadBufferSize: 64})
			result := make(chan error, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				result <- func() error {
					conn, err := impl.Accept(w, r, transport.WebsocketAcceptOptions{Subprotocols: []string{transportWS}})
					if err != nil {
						return err
					}
					defer conn.Close()
					for i, st := range tt.steps {
						_, rd, err := conn.NextReader()
						if st.recv == "" {
							var pe *wsgorilla.ProtocolError
							if !errors.As(err, &pe) || pe.Code != tt.wantCode {
								return fmt.Errorf("step %d: NextReader error %v, want protocol error %d", i, err, tt.wantCode)
							}
							// Further reads keep failing without touching the socket.
							if _, _, err2 := conn.NextReader(); err2 != err {
								return fmt.Errorf("second NextReader error %v, want %v", err2, err)
							}
							return nil
						}
						if err != nil {
							return fmt.Errorf("step %d: %w", i, err)
						}
						data, err := io.ReadAll(rd)
						if err != nil {
							return err
						}
						if err := sameMessage(data, tt.client[i]); err != nil {
							return fmt.Errorf("step %d: %w", i, err)
						}
						if st.send != nil {
							if err := conn.WriteJSON(st.send); err != nil {
								return err
							}
						}
					}
					return errors.New("no protocol close")
				}()
			}))
			defer srv.Close()

			d := websocket.Dialer{Subprotocols: []string{transportWS}}
			c, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for _, m := range tt.client {
				if err := c.WriteMessage(websocket.TextMessage, []byte(m)); err != nil {
					t.Fatal(err)
				}
			}
			_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
			for {
				_, _, err := c.ReadMessage()
				if err == nil {
					continue
				}
				if !websocket.IsCloseError(err, tt.wantCode) {
					t.Fatalf("client read %v, want close %d", err, tt.wantCode)
				}
				break
			}
			if err := <-result; err != nil {
				t.Fatal(err)
			}
		})
	}
}

// recordingHijacker records the buffered reader and writer its Hijack hands
// out.
type recordingHijacker struct {
	http.ResponseWriter
	brw *bufio.ReadWriter
}

func (h *recordingHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	h.brw = brw
	return c, brw, err
}

// unwrapOnly is a middleware's ResponseWriter wrapper that offers Hijack only
// through Unwrap.
type unwrapOnly struct{ http.ResponseWriter }

func (u unwrapOnly) Unwrap() http.ResponseWriter { return u.ResponseWriter }

// TestHijackedBuffersReleased checks that Accept drops net/http's 4 KiB
// buffers after the upgrade unless ReuseHTTPBuffers is set, that the
// connection works either way, and that a ResponseWriter wrapper exposing
// Hijack only through Unwrap can be upgraded.
func TestHijackedBuffersReleased(t *testing.T) {
	for _, reuse := range []bool{false, true} {
		t.Run(fmt.Sprintf("ReuseHTTPBuffers=%v", reuse), func(t *testing.T) {
			impl := wsgorilla.New(wsgorilla.Options{ReuseHTTPBuffers: reuse})
			type sizes struct{ reader, writer int }
			result := make(chan error, 1)
			got := make(chan sizes, 1)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				rec := &recordingHijacker{ResponseWriter: w}
				conn, err := impl.Accept(unwrapOnly{rec}, r, transport.WebsocketAcceptOptions{Subprotocols: []string{transportWS}})
				if err != nil {
					result <- err
					return
				}
				defer conn.Close()
				got <- sizes{rec.brw.Reader.Size(), rec.brw.Writer.Size()}
				// The connection still reads and writes.
				_, rd, err := conn.NextReader()
				if err != nil {
					result <- err
					return
				}
				var m struct {
					Payload struct{ Big string }
				}
				if err := json.NewDecoder(rd).Decode(&m); err != nil {
					result <- err
					return
				}
				result <- conn.WriteJSON(map[string]string{"type": "connection_ack", "echo": m.Payload.Big})
			}))
			defer srv.Close()

			d := websocket.Dialer{Subprotocols: []string{transportWS}}
			c, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			big := strings.Repeat("y", 10000)
			if err := c.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]string{"big": big}}); err != nil {
				t.Fatal(err)
			}
			_ = c.SetReadDeadline(time.Now().Add(ioTimeout))
			var ack map[string]string
			if err := c.ReadJSON(&ack); err != nil {
				t.Fatal(err)
			}
			if ack["type"] != "connection_ack" || ack["echo"] != big {
				t.Fatalf("got %.80v…, want the ack echoing the payload", ack)
			}
			if err := <-result; err != nil {
				t.Fatal(err)
			}
			s := <-got
			want := sizes{16, 16}
			if reuse {
				want = sizes{4096, 4096}
			}
			if s != want {
				t.Fatalf("hijacked buffer sizes %+v, want %+v", s, want)
			}
		})
	}
}

// TestInvalidMessages checks that a message graphql-transport-ws does not
// define closes the connection with 4400, before connection_init as after
// it, and that the server sends nothing else first.
func TestInvalidMessages(t *testing.T) {
	tests := []struct {
		name       string
		beforeInit bool
		raw        string
		reason     string
	}{
		{"not JSON", false, `{"type":`, "Invalid message received"},
		{"not an object", false, `[1,2]`, "Invalid message received"},
		{"type not a string", false, `{"type":5}`, "Invalid message received"},
		{"no type", false, `{"id":"1"}`, `Invalid message received: unknown type ""`},
		{"a server's type", false, `{"type":"next","id":"1","payload":{}}`, `Invalid message received: unknown type "next"`},
		{"graphql-ws's start", false, `{"type":"start","id":"1","payload":{"query":"subscription { name }"}}`, `Invalid message received: unknown type "start"`},
		{"subscribe without id", false, `{"type":"subscribe","payload":{"query":"subscription { name }"}}`, "Invalid message received: subscribe without an id"},
		{"complete without id", false, `{"type":"complete"}`, "Invalid message received: complete without an id"},
		{"garbage before init", true, `hello`, "Invalid message received"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, wsgorilla.Options{}, transport.Websocket{})
			c := e.mustDial(t, transportWS)
			if !tt.beforeInit {
				c.handshake(t)
			}
			_ = c.SetWriteDeadline(time.Now().Add(ioTimeout))
			if err := c.WriteMessage(websocket.TextMessage, []byte(tt.raw)); err != nil {
				t.Fatal(err)
			}
			msgs, closeErr := c.expectClose(t)
			if closeErr.Code != wsgorilla.CloseBadRequest || closeErr.Text != tt.reason {
				t.Fatalf("close %d %q, want 4400 %q", closeErr.Code, closeErr.Text, tt.reason)
			}
			if len(msgs) != 0 {
				t.Fatalf("messages before the close: %+v", msgs)
			}
		})
	}
}

// sameMessage checks that the adapter handed on the client's message whole:
// the same bytes, or, for an operation's messages, the same message under
// the operation's internal id (the client's id and its generation).
func sameMessage(got []byte, sent string) error {
	if string(got) == sent {
		return nil
	}
	var g, w struct {
		Type    string          `json:"type"`
		ID      string          `json:"id"`
		Payload json.RawMessage `json:"payload"`
	}
	if json.Unmarshal(got, &g) != nil || json.Unmarshal([]byte(sent), &w) != nil ||
		g.Type != w.Type || !strings.HasPrefix(g.ID, w.ID+"\x00") || string(g.Payload) != string(w.Payload) {
		return fmt.Errorf("read %q, want %q", got, sent)
	}
	return nil
}
