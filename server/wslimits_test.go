package server_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/auth"
	"switchboard/internal/testenv"
	"switchboard/server"
)

// TestSubscriptionsPerConnection: one connection holds at most
// MaxSubscriptionsPerConn subscriptions; the one beyond is refused with
// RATE_LIMITED while the others and the connection go on, and a completed
// one frees its place. Another tenant's connection is not counted.
func TestSubscriptionsPerConnection(t *testing.T) {
	f := newLiveFixture(t, testenv.Backends()[0])
	ws := f.s.DialWS(t, f.supTok)
	for i := range server.MaxSubscriptionsPerConn {
		ws.Subscribe(fmt.Sprint(i), statusChanged, nil)
	}
	other := f.s.DialWS(t, f.b.AdminToken)
	other.Subscribe("b", statusChanged, nil)
	waitSubscriptions(t, f.s, server.MaxSubscriptionsPerConn+1)

	ws.Subscribe("over", statusChanged, nil)
	// Refused as a result with the error, then completed.
	m := ws.Read(5 * time.Second)
	if m.ID != "over" || m.Type != "next" || !strings.Contains(string(m.Payload), `"RATE_LIMITED"`) {
		t.Fatalf("the subscription over the bound: %+v %s", m, m.Payload)
	}
	if m := ws.Read(5 * time.Second); m.ID != "over" || m.Type != "complete" {
		t.Fatalf("then %+v %s", m, m.Payload)
	}
	ws.Complete("0")
	waitSubscriptions(t, f.s, server.MaxSubscriptionsPerConn)
	ws.Subscribe("again", statusChanged, nil)
	waitSubscriptions(t, f.s, server.MaxSubscriptionsPerConn+1)

	if r := f.set(t, f.alexTok, f.available, nil); len(r.Errors) > 0 {
		t.Fatal(r.Errors)
	}
	seen := map[string]bool{}
	for len(seen) < server.MaxSubscriptionsPerConn {
		m := ws.Read(10 * time.Second)
		if m.Type != "next" {
			t.Fatalf("got %+v %s", m, m.Payload)
		}
		seen[m.ID] = true
	}
	if seen["0"] || !seen["again"] {
		t.Fatalf("events reached %v", seen)
	}
}

// TestConnectionsPerPerson: one person holds at most WSConnsPerPerson
// connections on a replica; the next is closed with 4429 and says why,
// while a colleague and another tenant's people still connect, and a
// closed connection frees its place.
func TestConnectionsPerPerson(t *testing.T) {
	s := testenv.NewServerOn(t, testenv.SQLiteURL(t))
	a := s.NewTenant(t, "Acme")
	b := s.NewTenant(t, "Globex")
	_, ann := s.NewAgent(t, a, "Ann", "ann@acme.test", auth.RoleAgent)
	_, bo := s.NewAgent(t, a, "Bo", "bo@acme.test", auth.RoleAgent)
	_, cy := s.NewAgent(t, b, "Cy", "cy@globex.test", auth.RoleAgent)
	// Each of Ann's tokens is a fresh one: the bound is the person's.
	token := func() string {
		tok, err := auth.Mint(s.Secret, auth.Claims{Email: "ann@acme.test", Tenant: a.ID, Role: auth.RoleAgent}, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	var open []*testenv.WS
	open = append(open, s.DialWS(t, ann))
	for len(open) < server.DefaultLimits.WSConnsPerPerson {
		open = append(open, s.DialWS(t, token()))
	}
	c := dialWS(t, s, "graphql-transport-ws")
	_ = c.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + token()}})
	if code, reason := closeFrame(t, c); code != server.CloseTooManyConnections || reason != "too many connections" {
		t.Fatalf("closed with %d %q", code, reason)
	}
	s.DialWS(t, bo)
	s.DialWS(t, cy)

	_ = open[0].Conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	_ = open[0].Conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := dialWS(t, s, "graphql-transport-ws")
		_ = c.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + ann}})
		// Until the server has seen the close, its place is still taken:
		// the attempt is closed with 4429, and tried again.
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var m wsMsg
		err := c.ReadJSON(&m)
		var ce *websocket.CloseError
		switch {
		case err == nil && m.Type == "connection_ack":
		case err != nil && asCloseError(err, &ce) && ce.Code == server.CloseTooManyConnections:
		default:
			t.Fatalf("after a close: %+v, %v", m, err)
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a closed connection did not free its place")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestWebSocketMessageSize: a client message over MaxWSMessage ends the
// connection with 1009 (message too big) before it is read whole.
func TestWebSocketMessageSize(t *testing.T) {
	s := testenv.NewServerOn(t, testenv.SQLiteURL(t))
	a := s.NewTenant(t, "Acme")
	ws := s.DialWS(t, a.AdminToken)
	big := `{ __typename }` + strings.Repeat(" ", server.MaxWSMessage)
	_ = ws.Conn.WriteJSON(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": big}})
	if code := closeCode(t, ws.Conn); code != websocket.CloseMessageTooBig {
		t.Fatalf("close code %d, want 1009", code)
	}
}
