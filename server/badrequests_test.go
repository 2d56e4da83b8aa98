package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"switchboard/auth"
	"switchboard/cmd/switchboard/wire"
	"switchboard/internal/testenv"
)

// logCapture collects a server's log lines.
type logCapture struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *logCapture) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Write(p)
}

func (c *logCapture) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}

// withLog makes the server log into c.
func withLog(c *logCapture) testenv.ServerOption {
	return func(cfg *wire.Config) { cfg.Logger = slog.New(slog.NewTextHandler(c, nil)) }
}

// postRaw posts body to /query as JSON with the token and decodes the answer.
func postRaw(t *testing.T, s *testenv.Server, token, contentType string, body io.Reader) testenv.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", body)
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var r testenv.Response
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("response %d is not JSON: %s", res.StatusCode, raw)
	}
	r.Status = res.StatusCode
	return r
}

// serverErrors counts the 5xx answers /metrics has seen on /query.
func serverErrors(t *testing.T, s *testenv.Server) int {
	t.Helper()
	res, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	n := 0
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.HasPrefix(line, "switchboard_http_requests_total{") && strings.Contains(line, `code="5`) {
			n++
		}
	}
	return n
}

// A body that is not a GraphQL request is the client's error: BAD_USER_INPUT,
// a 4xx, no ERROR line and no 5xx in /metrics.
func TestMalformedRequestBody(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		var logs logCapture
		s := testenv.NewServer(t, b, withLog(&logs))
		tn := s.NewTenant(t, "Acme")
		for _, body := range []string{`{`, `[]`, `{"query":7}`, `{"query":"{ viewer { id } }","variables":[]}`, ``} {
			for _, token := range []string{"", tn.AdminToken} {
				r := postRaw(t, s, token, "application/json", strings.NewReader(body))
				if r.Code() != "BAD_USER_INPUT" || r.Status < 400 || r.Status >= 500 {
					t.Errorf("body %q: status %d, errors %+v; want a 4xx with BAD_USER_INPUT", body, r.Status, r.Errors)
				}
			}
		}
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("bad requests logged as errors:\n%s", logs.String())
		}
		if n := serverErrors(t, s); n != 0 {
			t.Errorf("/metrics counts %d 5xx series for bad requests", n)
		}
	})
}

// A garbage cursor or Time is the client's error: BAD_USER_INPUT, not logged
// as an error.
func TestBadArguments(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		var logs logCapture
		s := testenv.NewServer(t, b, withLog(&logs))
		tn := s.NewTenant(t, "Acme")
		agent, _ := s.NewAgent(t, tn, "Ann", "ann@acme.example", auth.RoleAgent)
		for _, q := range []string{
			`{ agents(after: "garbage") { edges { node { id } } } }`,
			`{ agents(first: 2, after: "x") { edges { node { id } } } }`,
			`{ agents(last: 2, before: "%%%") { edges { node { id } } } }`,
			`{ searchContacts(query: "a", after: "x") { edges { node { id } } } }`,
			`{ agentStatusHistory(agentId: "` + agent + `", from: "yesterday", to: "2026-01-02T00:00:00Z") { status { name } } }`,
			`{ agentStatusHistory(agentId: "` + agent + `", from: "2026-01-01T00:00:00Z", to: 7) { status { name } } }`,
		} {
			r := s.Do(t, tn.AdminToken, q, nil)
			if r.Code() != "BAD_USER_INPUT" {
				t.Errorf("%s: status %d, errors %+v; want BAD_USER_INPUT", q, r.Status, r.Errors)
			}
		}
		r := s.Do(t, tn.AdminToken, `query($from: Time!) { agentStatusHistory(agentId: "`+agent+`", from: $from, to: "2026-01-02T00:00:00Z") { status { name } } }`,
			map[string]any{"from": "yesterday"})
		if r.Code() != "BAD_USER_INPUT" {
			t.Errorf("a Time variable of yesterday: status %d, errors %+v; want BAD_USER_INPUT", r.Status, r.Errors)
		}
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("bad arguments logged as errors:\n%s", logs.String())
		}
	})
}

// A GraphQL body over 1 MiB is refused with 413 and a code, whether its
// length is announced or not.
func TestBodyTooLarge(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		var logs logCapture
		s := testenv.NewServer(t, b, withLog(&logs))
		tn := s.NewTenant(t, "Acme")
		big := `{"query":"{ viewer { id } }","variables":{"pad":"` + strings.Repeat("a", 2<<20) + `"}}`
		for name, body := range map[string]io.Reader{
			"with a length": strings.NewReader(big),
			"chunked":       io.MultiReader(strings.NewReader(big)),
		} {
			r := postRaw(t, s, tn.AdminToken, "application/json", body)
			if r.Status != http.StatusRequestEntityTooLarge || r.Code() != "PAYLOAD_TOO_LARGE" {
				t.Errorf("%s: status %d, errors %+v; want 413 PAYLOAD_TOO_LARGE", name, r.Status, r.Errors)
			}
		}
		// Just under the limit still works.
		ok := `{"query":"{ viewer { id } }","variables":{"pad":"` + strings.Repeat("a", 1<<20-100) + `"}}`
		if r := postRaw(t, s, tn.AdminToken, "application/json", strings.NewReader(ok)); r.Status != http.StatusOK || len(r.Errors) > 0 {
			t.Errorf("a body under 1 MiB: status %d, errors %+v", r.Status, r.Errors)
		}
		if strings.Contains(logs.String(), "level=ERROR") {
			t.Errorf("large bodies logged as errors:\n%s", logs.String())
		}
		if n := serverErrors(t, s); n != 0 {
			t.Errorf("/metrics counts %d 5xx series for large bodies", n)
		}
	})
}

// A token naming a tenant that does not exist is refused, on HTTP and at
// connection_init, though its signature is good.
func TestTokenOfMissingTenant(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		s.NewTenant(t, "Acme")
		for _, role := range []auth.Role{auth.RoleAdmin, auth.RoleAgent} {
			tok := s.Token(t, auth.Claims{Email: "ghost@nowhere.example", Tenant: "TN01ARZ3NDEKTSV4RRFFQ69G5FAV", Role: role})
			if r := s.Do(t, tok, `{ viewer { email } }`, nil); r.Code() != "UNAUTHENTICATED" {
				t.Errorf("%s of a missing tenant over HTTP: status %d, data %s, errors %+v; want UNAUTHENTICATED", role, r.Status, r.Data, r.Errors)
			}
			c := dialWS(t, s, "graphql-transport-ws")
			_ = c.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + tok}})
			if code := closeCode(t, c); code != 4403 {
				t.Errorf("%s of a missing tenant over WebSocket: close code %d, want 4403", role, code)
			}
		}
	})
}
