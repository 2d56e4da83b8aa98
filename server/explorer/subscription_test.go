package explorer

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// probeJS drives the embedded GraphiQL's fetcher the way explorer.js sets it
// up, runs one subscription and writes what came back into #out.
const probeJS = `(async function () {
  var out = document.getElementById('out');
  try {
    var http = new URL('/query', location.href);
    var ws = new URL(http.href);
    ws.protocol = 'ws:';
    var fetcher = GraphiQL.createFetcher({url: http.href, subscriptionUrl: ws.href});
    var query = 'subscription { tick }';
    var results = await fetcher({query: query}, {
      headers: {Authorization: 'Bearer probe-token'},
      documentAST: GraphiQL.GraphQL.parse(query),
    });
    var seen = [];
    for await (var r of results) seen.push(JSON.stringify(r));
    out.textContent = 'RESULT ' + seen.join(' ');
  } catch (err) {
    out.textContent = 'ERROR ' + err;
  }
})();`

// wsMessage is a graphql-transport-ws protocol message.
type wsMessage struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// TestBrowserSubscriptionOverWebSocket checks in headless Chromium that the
// embedded GraphiQL build can run subscriptions over a WebSocket with the
// graphql-transport-ws protocol (which gqlgen speaks), sending the header
// editor's headers as the connection_init payload. It guards against an
// asset update to a GraphiQL build that no longer bundles graphql-ws.
func TestBrowserSubscriptionOverWebSocket(t *testing.T) {
	chromium := requireChromium(t)
	h := Handler("/query", "").(*handler)

	var (
		initPayload = make(chan string, 1)
		subscribed  = make(chan string, 1)
	)
	upgrader := websocket.Upgrader{Subprotocols: []string{"graphql-transport-ws"}}
	mux := http.NewServeMux()
	mux.Handle("GET /explorer/", h)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!DOCTYPE html><html><body><div id="out">waiting</div>
<script src="%s"></script><script src="%s"></script><script src="%s"></script><script src="probe.js"></script>
</body></html>`, h.assets["react.production.min.js"].url(), h.assets["react-dom.production.min.js"].url(),
			h.assets["graphiql.min.js"].url())
	})
	mux.HandleFunc("GET /probe.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		io.WriteString(w, probeJS)
	})
	mux.HandleFunc("GET /query", func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered the request
		}
		defer conn.Close()
		if conn.Subprotocol() != "graphql-transport-ws" {
			return
		}
		var msg wsMessage
		if conn.ReadJSON(&msg) != nil || msg.Type != "connection_init" {
			return
		}
		initPayload <- string(msg.Payload)
		conn.WriteJSON(wsMessage{Type: "connection_ack"})
		if conn.ReadJSON(&msg) != nil || msg.Type != "subscribe" {
			return
		}
		subscribed <- string(msg.Payload)
		conn.WriteJSON(wsMessage{ID: msg.ID, Type: "next", Payload: json.RawMessage(`{"data":{"tick":1}}`)})
		conn.WriteJSON(wsMessage{ID: msg.ID, Type: "complete"})
		conn.ReadJSON(&msg) // wait for the client to close
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	dom, _ := runChromium(t, chromium, srv.URL+"/", "--dump-dom")
	if want := `RESULT {"data":{"tick":1}}`; !strings.Contains(dom, want) {
		t.Fatalf("the page did not get the subscription's result %s:\n%s", want, dom)
	}
	select {
	case p := <-initPayload:
		if !strings.Contains(p, `"Authorization":"Bearer probe-token"`) {
			t.Errorf("connection_init payload %s lacks the Authorization header", p)
		}
	default:
		t.Errorf("no connection_init message")
	}
	select {
	case p := <-subscribed:
		if !strings.Contains(p, "subscription { tick }") {
			t.Errorf("subscribe payload %s lacks the query", p)
		}
	default:
		t.Errorf("no subscribe message")
	}
}
