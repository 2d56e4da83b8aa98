package wsgorilla_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/testserver"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"

	"switchboard/clienttest"
	"switchboard/server/wsgorilla"
)

// These tests run the real graphql-ws JavaScript client (clienttest) against
// gqlgen's test server on the gorilla adapter. They are skipped without
// Node.js unless SWITCHBOARD_REQUIRE_NODE=1.

const clientToken = "secret-token"

// newClientEnv returns a test server whose InitFunc accepts only
// "Bearer secret-token" and refuses everything else with 4403, like the
// production server, and a channel that receives a value whenever an
// operation starts executing.
func newClientEnv(t *testing.T) (*env, <-chan struct{}) {
	t.Helper()
	started := make(chan struct{}, 16)
	e := newEnvWith(t, wsgorilla.Options{}, transport.Websocket{
		InitTimeout:      5 * time.Second,
		PingPongInterval: 100 * time.Millisecond, // the client must answer pings
		InitFunc: func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			if p.Authorization() != "Bearer "+clientToken {
				return transport.WithWebsocketCloseCode(ctx, 4403), nil, errors.New("forbidden")
			}
			return ctx, nil, nil
		},
	}, func(gql *testserver.TestServer) {
		gql.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
			select {
			case started <- struct{}{}:
			default:
			}
			return next(ctx)
		})
	})
	return e, started
}

func waitStarted(t *testing.T, started <-chan struct{}) {
	t.Helper()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the operation did not start")
	}
}

func expectEvent(t *testing.T, c *clienttest.Client, typ string) clienttest.Event {
	t.Helper()
	ev := c.Next(t, 10*time.Second)
	t.Logf("client event %s payload=%s errors=%s code=%d reason=%q", ev.Type, ev.Payload, ev.Errors, ev.Code, ev.Reason)
	if ev.Type != typ {
		t.Fatalf("client event %+v, want %q", ev, typ)
	}
	return ev
}

func TestGraphQLWSClientSubscription(t *testing.T) {
	e, started := newClientEnv(t)
	c := clienttest.Start(t, e.wsURL, clientToken, "subscription { name }", nil)

	expectEvent(t, c, "connected")
	waitStarted(t, started)
	for range 3 {
		e.gql.SendNextSubscriptionMessage()
		ev := expectEvent(t, c, "next")
		assertJSONEqual(t, ev.Payload, `{"data":{"name":"test"}}`)
	}
	// Longer than a ping interval: the client answers the server's pings.
	time.Sleep(300 * time.Millisecond)
	e.gql.SendNextSubscriptionMessage()
	expectEvent(t, c, "next")

	e.gql.SendCompleteSubscriptionMessage()
	expectEvent(t, c, "complete")
	if ev := expectEvent(t, c, "closed"); ev.Code != websocket.CloseNormalClosure {
		t.Fatalf("closed with %d %q, want 1000", ev.Code, ev.Reason)
	}
	code, err := c.Wait()
	if err != nil || code != websocket.CloseNormalClosure {
		t.Fatalf("client exit %v, close code %d; want success and 1000; stderr:\n%s", err, code, c.Stderr())
	}
	if codes := e.waitClosed(t, 1); codes[0] != websocket.CloseNormalClosure {
		t.Fatalf("CloseFunc code %d, want 1000", codes[0])
	}
	if errs := e.readErrors(); len(errs) != 0 {
		t.Fatalf("transport reported read errors: %v", errs)
	}
}

func TestGraphQLWSClientMaxEvents(t *testing.T) {
	e, started := newClientEnv(t)
	c := clienttest.StartWith(t, clienttest.Options{
		URL:       e.wsURL,
		Token:     clientToken,
		Query:     "subscription { name }",
		MaxEvents: 2,
	})
	expectEvent(t, c, "connected")
	waitStarted(t, started)
	e.gql.SendNextSubscriptionMessage()
	e.gql.SendNextSubscriptionMessage()
	expectEvent(t, c, "next")
	expectEvent(t, c, "next")
	// The client completes the subscription and closes the socket.
	if ev := expectEvent(t, c, "closed"); ev.Code != websocket.CloseNormalClosure {
		t.Fatalf("closed with %d %q, want 1000", ev.Code, ev.Reason)
	}
	if _, err := c.Wait(); err != nil {
		t.Fatalf("client exit %v; stderr:\n%s", err, c.Stderr())
	}
	if codes := e.waitClosed(t, 1); codes[0] != websocket.CloseNormalClosure {
		t.Fatalf("CloseFunc code %d, want 1000", codes[0])
	}
}

func TestGraphQLWSClientVariables(t *testing.T) {
	e, _ := newClientEnv(t)
	const query = "query Find($id: Int!) { find(id: $id) }"

	c := clienttest.Start(t, e.wsURL, clientToken, query, map[string]any{"id": 7})
	expectEvent(t, c, "connected")
	ev := expectEvent(t, c, "next")
	assertJSONEqual(t, ev.Payload, `{"data":{"name":"test"}}`) // the test server's fixed answer
	expectEvent(t, c, "complete")
	if _, err := c.Wait(); err != nil {
		t.Fatalf("client exit %v; stderr:\n%s", err, c.Stderr())
	}

	// Without the required variable gqlgen refuses the operation with an
	// error message.
	c = clienttest.Start(t, e.wsURL, clientToken, query, nil)
	expectEvent(t, c, "connected")
	ev = expectEvent(t, c, "error")
	if !strings.Contains(string(ev.Errors), "must be defined") {
		t.Fatalf("errors %s, want the missing variable", ev.Errors)
	}
	if _, err := c.Wait(); err == nil {
		t.Fatal("client exited 0 after an error, want status 1")
	}
}

func TestGraphQLWSClientForbidden(t *testing.T) {
	e, _ := newClientEnv(t)
	c := clienttest.Start(t, e.wsURL, "wrong-token", "subscription { name }", nil)

	var sawClosed, sawError bool
	for ev := range c.Events {
		switch ev.Type {
		case "closed":
			sawClosed = true
			if ev.Code != 4403 {
				t.Fatalf("closed with %d %q, want 4403", ev.Code, ev.Reason)
			}
		case "error":
			sawError = true
			if ev.Code != 4403 {
				t.Fatalf("error event %+v, want the 4403 close", ev)
			}
		default:
			t.Fatalf("unexpected client event %+v", ev)
		}
	}
	if !sawClosed || !sawError {
		t.Fatalf("closed event %v, error event %v; want both", sawClosed, sawError)
	}
	code, err := c.Wait()
	if code != 4403 {
		t.Fatalf("final close code %d, want 4403", code)
	}
	var exitErr interface{ ExitCode() int }
	if !errors.As(err, &exitErr) || exitErr.ExitCode() != 1 {
		t.Fatalf("client exit %v, want status 1 (error); stderr:\n%s", err, c.Stderr())
	}
	if codes := e.waitClosed(t, 1); codes[0] != 4403 {
		t.Fatalf("CloseFunc code %d, want 4403", codes[0])
	}
}
