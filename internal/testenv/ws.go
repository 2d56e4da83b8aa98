package testenv

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// WSMessage is one graphql-transport-ws message.
type WSMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// WS is a graphql-transport-ws client connection.
type WS struct {
	t    testing.TB
	Conn *websocket.Conn
}

// DialWS connects to the server's /query with graphql-transport-ws and
// initialises with the token; it fails t unless the server acknowledges.
func (s *Server) DialWS(t testing.TB, token string) *WS {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 10 * time.Second}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(s.URL, "http")+"/query", nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	ws := &WS{t: t, Conn: c}
	ws.Send(WSMessage{Type: "connection_init", Payload: mustJSON(map[string]any{"Authorization": "Bearer " + token})})
	if m := ws.Read(10 * time.Second); m.Type != "connection_ack" {
		t.Fatalf("connection_init: got %+v %s", m, m.Payload)
	}
	return ws
}

// Send writes a message.
func (w *WS) Send(m WSMessage) {
	w.t.Helper()
	if err := w.Conn.WriteJSON(m); err != nil {
		w.t.Fatalf("ws write: %v", err)
	}
}

// Subscribe starts an operation with the id.
func (w *WS) Subscribe(id, query string, vars map[string]any) {
	w.Send(WSMessage{ID: id, Type: "subscribe", Payload: mustJSON(map[string]any{"query": query, "variables": vars})})
}

// Complete stops the operation with the id.
func (w *WS) Complete(id string) { w.Send(WSMessage{ID: id, Type: "complete"}) }

// Read returns the next message other than ping and pong, failing t after timeout.
func (w *WS) Read(timeout time.Duration) WSMessage {
	w.t.Helper()
	m, ok := w.TryRead(timeout)
	if !ok {
		w.t.Fatalf("no message within %v", timeout)
	}
	return m
}

// TryRead returns the next message other than ping and pong, or false after timeout.
func (w *WS) TryRead(timeout time.Duration) (WSMessage, bool) {
	w.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		_ = w.Conn.SetReadDeadline(deadline)
		var m WSMessage
		if err := w.Conn.ReadJSON(&m); err != nil {
			if ne, ok := err.(interface{ Timeout() bool }); ok && ne.Timeout() {
				return WSMessage{}, false
			}
			w.t.Fatalf("ws read: %v", err)
		}
		switch m.Type {
		case "ping":
			w.Send(WSMessage{Type: "pong"})
			continue
		case "pong":
			continue
		}
		return m, true
	}
}

// Watch reads the connection from now on in the background, answering the
// server's pings (a connection left unread is closed for not answering
// them), and returns what it has received so far, pings and pongs left out,
// each time it is called. Read and TryRead must not be used after it.
func (w *WS) Watch() (received func() []WSMessage) {
	var mu sync.Mutex
	var got []WSMessage
	go func() {
		for {
			_ = w.Conn.SetReadDeadline(time.Time{})
			var m WSMessage
			if err := w.Conn.ReadJSON(&m); err != nil {
				return
			}
			switch m.Type {
			case "ping":
				_ = w.Conn.WriteJSON(WSMessage{Type: "pong"})
			case "pong":
			default:
				mu.Lock()
				got = append(got, m)
				mu.Unlock()
			}
		}
	}()
	return func() []WSMessage {
		mu.Lock()
		defer mu.Unlock()
		return append([]WSMessage(nil), got...)
	}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
