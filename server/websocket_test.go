package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/auth"
	"switchboard/internal/testenv"
)

func dialWS(t *testing.T, s *testenv.Server, protocol string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{protocol}, HandshakeTimeout: 5 * time.Second}
	c, res, err := d.Dial("ws"+strings.TrimPrefix(s.URL, "http")+"/query", nil)
	if err != nil {
		t.Fatalf("dial: %v (%v)", err, res)
	}
	if c.Subprotocol() != protocol {
		t.Fatalf("subprotocol %q, want %q", c.Subprotocol(), protocol)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type wsMsg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func readMsg(t *testing.T, c *websocket.Conn) wsMsg {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		var m wsMsg
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("read: %v", err)
		}
		if m.Type == "ping" || m.Type == "ka" {
			continue
		}
		return m
	}
}

// closeCode reads until the server closes the connection and returns its code.
func closeCode(t *testing.T, c *websocket.Conn) int {
	t.Helper()
	code, _ := closeFrame(t, c)
	return code
}

// closeFrame reads until the server's close frame and returns its code and
// reason.
func closeFrame(t *testing.T, c *websocket.Conn) (int, string) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if ok := asCloseError(err, &ce); ok {
			return ce.Code, ce.Text
		}
		t.Fatalf("connection ended without a close frame: %v", err)
	}
}

func asCloseError(err error, target **websocket.CloseError) bool {
	ce, ok := err.(*websocket.CloseError)
	if ok {
		*target = ce
	}
	return ok
}

func TestWebSocketIdentity(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		tn := s.NewTenant(t, "Acme")
		_, agentTok := s.NewAgent(t, tn, "Alex", "alex@acme.example", auth.RoleAgent)
		other := s.NewTenant(t, "Other")

		t.Run("graphql-transport-ws", func(t *testing.T) {
			c := dialWS(t, s, "graphql-transport-ws")
			_ = c.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + agentTok}})
			if m := readMsg(t, c); m.Type != "connection_ack" {
				t.Fatalf("got %+v", m)
			}
			_ = c.WriteJSON(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{
				"query": `{ viewer { email role tenant { id } } }`}})
			m := readMsg(t, c)
			if m.Type != "next" || !strings.Contains(string(m.Payload), `"alex@acme.example"`) || !strings.Contains(string(m.Payload), tn.ID) {
				t.Fatalf("got %+v %s", m, m.Payload)
			}
			if m := readMsg(t, c); m.Type != "complete" || m.ID != "1" {
				t.Fatalf("got %+v", m)
			}
			// The connection's viewer is confined to its tenant like any other.
			_ = c.WriteJSON(map[string]any{"id": "2", "type": "subscribe", "payload": map[string]any{
				"query": `query($id: ID!) { node(id: $id) { id } }`, "variables": map[string]any{"id": other.ID}}})
			if m := readMsg(t, c); m.Type != "next" || !strings.Contains(string(m.Payload), `"node":null`) {
				t.Fatalf("got %+v %s", m, m.Payload)
			}
		})
		t.Run("legacy graphql-ws", func(t *testing.T) {
			c := dialWS(t, s, "graphql-ws")
			_ = c.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + agentTok}})
			if m := readMsg(t, c); m.Type != "connection_ack" {
				t.Fatalf("got %+v", m)
			}
			_ = c.WriteJSON(map[string]any{"id": "1", "type": "start", "payload": map[string]any{"query": `{ viewer { email } }`}})
			if m := readMsg(t, c); m.Type != "data" || !strings.Contains(string(m.Payload), "alex@acme.example") {
				t.Fatalf("got %+v %s", m, m.Payload)
			}
		})
		expired, err := auth.Mint(s.Secret, auth.Claims{Email: "alex@acme.example", Tenant: tn.ID, Role: auth.RoleAgent}, time.Minute, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []struct{ name, auth, reason string }{
			{"no token", "", "required"},
			{"forged token", "Bearer " + forge(t), "invalid"},
			{"expired token", "Bearer " + expired, "expired"},
			{"not bearer", "Basic abc", "bearer"},
		} {
			for _, protocol := range []string{"graphql-transport-ws", "graphql-ws"} {
				t.Run("refused: "+bad.name+" over "+protocol, func(t *testing.T) {
					c := dialWS(t, s, protocol)
					_ = c.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": bad.auth}})
					code, reason := closeFrame(t, c)
					if code != 4403 || !strings.Contains(strings.ToLower(reason), bad.reason) {
						t.Fatalf("closed with %d %q, want 4403 saying %q", code, reason, bad.reason)
					}
				})
			}
		}
		t.Run("origin", func(t *testing.T) {
			d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
			_, res, err := d.Dial("ws"+strings.TrimPrefix(s.URL, "http")+"/query", http.Header{"Origin": {"https://evil.example"}})
			if err == nil || res == nil || res.StatusCode != http.StatusForbidden {
				t.Fatalf("foreign origin accepted: %v %v", err, res)
			}
		})
	})
}

func forge(t *testing.T) string {
	tok, err := auth.Mint([]byte("some-other-secret-some-other-secret"), auth.Claims{Email: "x@y.example", Tenant: "TN", Role: auth.RoleAdmin}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
