package testenv

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"switchboard/auth"
	"switchboard/cmd/switchboard/wire"
	"switchboard/server"
	"switchboard/store"
)

// Server is a switchboard server over a fresh store, on a real HTTP
// listener, built as the switchboard command builds it (wire.New).
type Server struct {
	*httptest.Server
	App     *wire.App
	Store   *store.Store
	Secret  []byte
	Counter *StatementCounter
}

// NewServer starts a server over a new store of backend b.
func NewServer(t testing.TB, b Backend, opts ...ServerOption) *Server {
	t.Helper()
	return NewServerOn(t, b.URL(t), opts...)
}

// NewServerOn starts a server over the store at rawURL: two servers on one
// PostgreSQL database are two replicas.
func NewServerOn(t testing.TB, rawURL string, opts ...ServerOption) *Server {
	t.Helper()
	wrap, counter := CountStatements()
	st := OpenStore(t, rawURL, store.WithDriver(wrap))
	secret := []byte("test-secret-test-secret-test-secret")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	cfg := wire.Config{
		Store:          st,
		Auth:           auth.Options{Secret: secret},
		Logger:         log,
		WSInitTimeout:  2 * time.Second,
		WSPingInterval: time.Second,
		// Tests act as one person far faster than people do; those of the
		// rate limits set them (server/ratelimit_test.go).
		Limits: server.Limits{RatePerPerson: -1, RatePerTenant: -1},
	}
	for _, o := range opts {
		o(&cfg)
	}
	app, err := wire.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(app.Close)
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	return &Server{Server: srv, App: app, Store: st, Secret: secret, Counter: counter}
}

// ServerOption changes what a test server is built from; its Store is the
// test's store. Without one setting Config.AWS, no AWS is reached.
type ServerOption func(*wire.Config)

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}

// Token mints a token for c, valid for an hour.
func (s *Server) Token(t testing.TB, c auth.Claims) string {
	t.Helper()
	tok, err := auth.Mint(s.Secret, c, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// OperatorToken is a platform operator's token.
func (s *Server) OperatorToken(t testing.TB) string {
	return s.Token(t, auth.Claims{Email: "op@platform.example", Role: auth.RoleOperator})
}

// GQLError is one error of a GraphQL response.
type GQLError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Response is a GraphQL response.
type Response struct {
	Data   json.RawMessage `json:"data"`
	Errors []GQLError      `json:"errors"`
	Status int             `json:"-"`
}

// Code returns the extensions.code of the first error, or "".
func (r Response) Code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

// Do posts a GraphQL operation with the token ("" for none).
func (s *Server) Do(t testing.TB, token, query string, vars map[string]any) Response {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var r Response
	raw, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("response %d is not JSON: %s", res.StatusCode, raw)
	}
	r.Status = res.StatusCode
	return r
}

// MustDo is Do that fails t on any GraphQL error and decodes data into v.
func (s *Server) MustDo(t testing.TB, token, query string, vars map[string]any, v any) {
	t.Helper()
	r := s.Do(t, token, query, vars)
	if len(r.Errors) > 0 {
		t.Fatalf("unexpected errors: %+v", r.Errors)
	}
	if v != nil {
		if err := json.Unmarshal(r.Data, v); err != nil {
			t.Fatalf("decoding %s: %v", r.Data, err)
		}
	}
}

// Tenant is a tenant made for a test, with an admin token.
type Tenant struct {
	ID         string
	AdminToken string
}

// NewTenant creates a tenant through the API as an operator.
func (s *Server) NewTenant(t testing.TB, name string) Tenant {
	t.Helper()
	var out struct {
		CreateTenant struct{ ID string } `json:"createTenant"`
	}
	s.MustDo(t, s.OperatorToken(t), `mutation($input: CreateTenantInput!) { createTenant(input: $input) { id name } }`,
		map[string]any{"input": map[string]any{"name": name}}, &out)
	return Tenant{
		ID:         out.CreateTenant.ID,
		AdminToken: s.Token(t, auth.Claims{Email: "admin@" + out.CreateTenant.ID + ".example", Tenant: out.CreateTenant.ID, Role: auth.RoleAdmin}),
	}
}

// NewAgent creates an agent in the tenant and returns its ID and a token of its own role.
func (s *Server) NewAgent(t testing.TB, tn Tenant, name, email string, role auth.Role) (id, token string) {
	t.Helper()
	var out struct {
		CreateAgent struct{ ID string } `json:"createAgent"`
	}
	s.MustDo(t, tn.AdminToken, `mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }`,
		map[string]any{"input": map[string]any{"name": name, "email": email, "role": map[auth.Role]string{
			auth.RoleAgent: "AGENT", auth.RoleSupervisor: "SUPERVISOR", auth.RoleAdmin: "ADMIN"}[role]}}, &out)
	return out.CreateAgent.ID, s.Token(t, auth.Claims{Email: email, Name: name, Tenant: tn.ID, Role: role})
}
