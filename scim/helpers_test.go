package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"switchboard/ent"
	"switchboard/internal/testenv"
	"switchboard/scim"
	"switchboard/viewer"
)

// env is a store with two tenants, A and B, each with a SCIM token, an
// admin and an agent, and a SCIM server mounted as the main server would.
type env struct {
	t      testing.TB
	client *ent.Client
	srv    *httptest.Server
	http   *http.Client
	a, b   tenantEnv

	patchUser string // the user of TestPatchOperations
}

type tenantEnv struct {
	tenant *ent.Tenant
	token  string
	admin  context.Context // an admin of the tenant
	agent  context.Context // an agent of the tenant, as the desktop reads contacts
}

func newEnv(t testing.TB, b testenv.Backend) *env {
	t.Helper()
	st := testenv.OpenStore(t, b.URL(t))
	c := st.Client
	op := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleOperator, Email: "op@platform.example"})
	e := &env{t: t, client: c}
	mk := func(name, region string) tenantEnv {
		tn, err := c.Tenant.Create().SetName(name).SetDefaultRegion(region).Save(op)
		if err != nil {
			t.Fatal(err)
		}
		admin := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: tn.ID, Email: "admin@" + strings.ToLower(name) + ".example"})
		ag, err := c.Agent.Create().SetName("Agent " + name).SetEmail("agent@" + strings.ToLower(name) + ".example").Save(admin)
		if err != nil {
			t.Fatal(err)
		}
		agent := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAgent, TenantID: tn.ID, AgentID: ag.ID, Email: ag.Email})
		token, _, err := scim.CreateToken(admin, c, "Entra ID", "admin@"+strings.ToLower(name)+".example")
		if err != nil {
			t.Fatal(err)
		}
		return tenantEnv{tenant: tn, token: token, admin: admin, agent: agent}
	}
	e.a = mk("Alpha", "AU")
	e.b = mk("Beta", "GB")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, nil))
	}
	mux := http.NewServeMux()
	mux.Handle("/scim/v2/", scim.Handler(c, log, scim.WithRowLocks(st.Dialect == dialect.Postgres)))
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	e.http = e.srv.Client()
	return e
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimSpace(p)))
	return len(p), nil
}

// response is an HTTP response with its body decoded.
type response struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends a SCIM request with the token ("" for none); body is sent as
// JSON unless it is a string, which is sent as is.
func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := e.http.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	r := response{status: res.StatusCode, header: res.Header}
	r.raw, _ = io.ReadAll(res.Body)
	if len(r.raw) > 0 {
		if err := json.Unmarshal(r.raw, &r.body); err != nil {
			e.t.Fatalf("%s %s: %d, not JSON: %s", method, path, res.StatusCode, r.raw)
		}
		if ct := res.Header.Get("Content-Type"); ct != scim.ContentType {
			e.t.Errorf("%s %s: content type %q", method, path, ct)
		}
	}
	return r
}

// must fails the test unless the response has the status.
func (r response) must(t testing.TB, status int) response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	return r
}

// scimError checks that the response is a SCIM error with the status and,
// when given, the scimType.
func (r response) scimError(t testing.TB, status int, scimType string) {
	t.Helper()
	r.must(t, status)
	schemas, _ := r.body["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != scim.ErrorSchema {
		t.Fatalf("not a SCIM error: %s", r.raw)
	}
	if r.body["status"] != itoa(status) {
		t.Fatalf("error status %v, want %q", r.body["status"], itoa(status))
	}
	if scimType != "" && r.body["scimType"] != scimType {
		t.Fatalf("scimType %v, want %s: %s", r.body["scimType"], scimType, r.raw)
	}
	if d, _ := r.body["detail"].(string); d == "" {
		t.Fatalf("no detail: %s", r.raw)
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// str returns the string at a dotted path of the body ("name.givenName").
func (r response) str(path string) string {
	var v any = r.body
	for _, k := range strings.Split(path, ".") {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	s, _ := v.(string)
	return s
}

func (r response) num(key string) int {
	f, _ := r.body[key].(float64)
	return int(f)
}

// resources returns a ListResponse's resources, checking its shape.
func (r response) resources(t testing.TB) []map[string]any {
	t.Helper()
	schemas, _ := r.body["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != scim.ListResponseSchema {
		t.Fatalf("not a ListResponse: %s", r.raw)
	}
	list, ok := r.body["Resources"].([]any)
	if !ok {
		t.Fatalf("no Resources array: %s", r.raw)
	}
	out := make([]map[string]any, len(list))
	for i, x := range list {
		out[i], _ = x.(map[string]any)
	}
	if r.num("itemsPerPage") != len(out) {
		t.Fatalf("itemsPerPage %d for %d resources", r.num("itemsPerPage"), len(out))
	}
	return out
}

// filterPath is GET /Users with a filter, written as Entra ID writes it
// (spaces as '+').
func filterPath(filter string, extra ...string) string {
	q := "filter=" + url.QueryEscape(filter)
	for _, x := range extra {
		q += "&" + x
	}
	return "/scim/v2/Users?" + q
}

// newUser posts a minimal user and returns its id.
func (e *env) newUser(token, userName string) string {
	e.t.Helper()
	r := e.do("POST", "/scim/v2/Users", token, map[string]any{
		"schemas":  []string{scim.UserSchema},
		"userName": userName,
		"name":     map[string]any{"givenName": "Given", "familyName": strings.Split(userName, "@")[0]},
		"emails":   []map[string]any{{"type": "work", "value": userName, "primary": true}},
		"active":   true,
	}).must(e.t, http.StatusCreated)
	return r.str("id")
}
