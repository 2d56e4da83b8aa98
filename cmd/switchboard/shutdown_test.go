package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/auth"
	"switchboard/internal/testenv"
	"switchboard/seed"
)

// TestShutdown ends serve as SIGTERM does, with a WebSocket open and a
// mutation in flight: the socket is closed at once with 1001, /readyz
// answers 503 while requests are still served for the delay, the mutation
// that was in flight is answered and kept, and serve returns.
func TestShutdown(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		dbURL := b.URL(t)
		if b.Name == "sqlite" {
			dbURL = "sqlite://" + filepath.Join(t.TempDir(), "switchboard.db") // the demo's store
		}
		testShutdown(t, dbURL)
	})
}

func testShutdown(t *testing.T, dbURL string) {
	const secret = "a-shared-test-secret-of-enough-length"
	m := map[string]string{
		"SWITCHBOARD_DATABASE_URL":   dbURL,
		"SWITCHBOARD_JWT_SECRET":     secret,
		"SWITCHBOARD_SHUTDOWN_DELAY": "1500ms",
		"SWITCHBOARD_DATA_DIR":       t.TempDir(),
	}
	base, _, stop := startServe(t, env(m), "serve", "-addr", "127.0.0.1:0")
	tenant := someTenant(t, base, secret)
	admin, err := auth.Mint([]byte(secret), auth.Claims{Email: seed.AdminEmail, Tenant: tenant, Role: auth.RoleAdmin}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}

	ws, _, err := (&websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}).Dial("ws"+strings.TrimPrefix(base, "http")+"query", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	_ = ws.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + admin}})
	var ack struct{ Type string }
	if err := ws.ReadJSON(&ack); err != nil || ack.Type != "connection_ack" {
		t.Fatalf("connection_init: %+v %v", ack, err)
	}

	// A mutation whose body is half sent when the signal comes.
	body, _ := json.Marshal(map[string]any{"query": `mutation { createAgentStatus(input: {name: "Fire drill", type: CUSTOM}) { id name } }`})
	inflight, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(base, "http://"), "/"))
	if err != nil {
		t.Fatal(err)
	}
	defer inflight.Close()
	fmt.Fprintf(inflight, "POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s", admin, len(body), body[:10])
	time.Sleep(100 * time.Millisecond) // the server has the request

	stopped := make(chan error, 1)
	signalled := time.Now()
	go func() { stopped <- stop() }()

	_ = ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			if ce.Code != websocket.CloseGoingAway || time.Since(signalled) > time.Second {
				t.Fatalf("WebSocket closed with %d %q after %v, want 1001 at once", ce.Code, ce.Text, time.Since(signalled))
			}
			break
		}
		if err != nil {
			t.Fatalf("WebSocket ended without a close frame: %v", err)
		}
	}
	get(t, base+"readyz", http.StatusServiceUnavailable)
	if r := postQuery(t, base+"query", admin, `{ agentStatuses { name } }`); len(r.Errors) > 0 {
		t.Fatalf("a request while draining: %+v", r.Errors)
	}

	if _, err := inflight.Write(body[10:]); err != nil {
		t.Fatal(err)
	}
	_ = inflight.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(inflight), nil)
	if err != nil {
		t.Fatalf("the request in flight got no answer: %v", err)
	}
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.Contains(string(raw), `"Fire drill"`) {
		t.Fatalf("the request in flight: %d %s", res.StatusCode, raw)
	}
	if err := <-stopped; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if _, err := http.Get(base + "healthz"); err == nil {
		t.Fatal("still listening after serve returned")
	}

	// What was acknowledged is in the store.
	delete(m, "SWITCHBOARD_SHUTDOWN_DELAY")
	base2, _, stop2 := startServe(t, env(m), "serve", "-addr", "127.0.0.1:0")
	defer stop2()
	r := postQuery(t, base2+"query", admin, `{ agentStatuses { name } }`)
	if !strings.Contains(string(r.Data), `"Fire drill"`) {
		t.Fatalf("the acknowledged write is gone: %s %+v", r.Data, r.Errors)
	}
}

// someTenant returns the ID of the store's first tenant (the demo's, on
// the embedded store), creating one when there is none.
func someTenant(t *testing.T, base, secret string) string {
	t.Helper()
	op, err := auth.Mint([]byte(secret), auth.Claims{Email: "op@platform.example", Role: auth.RoleOperator}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r := postQuery(t, base+"query", op, `{ tenants(first: 1) { edges { node { id } } } }`)
	var d struct {
		Tenants struct {
			Edges []struct{ Node struct{ ID string } }
		}
	}
	if err := json.Unmarshal(r.Data, &d); err != nil {
		t.Fatalf("tenants: %s %+v", r.Data, r.Errors)
	}
	if len(d.Tenants.Edges) == 1 {
		return d.Tenants.Edges[0].Node.ID
	}
	r = postQuery(t, base+"query", op, `mutation { createTenant(input: {name: "Acme"}) { id } }`)
	var c struct{ CreateTenant struct{ ID string } }
	if err := json.Unmarshal(r.Data, &c); err != nil || c.CreateTenant.ID == "" {
		t.Fatalf("createTenant: %s %+v", r.Data, r.Errors)
	}
	return c.CreateTenant.ID
}
