package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/auth"
	"switchboard/ent"
	"switchboard/ent/tenant"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/seed"
	"switchboard/store"
	"switchboard/viewer"
)

// env is a getenv over a fixed map: tests never see the real environment.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// syncBuffer is a buffer that the server writes while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// runCmd runs the program to completion and returns its output.
func runCmd(t *testing.T, getenv func(string) string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out, errOut bytes.Buffer
	err = run(ctx, args, quickShutdown(getenv), &out, &errOut)
	return out.String(), errOut.String(), err
}

func TestToken(t *testing.T) {
	const secret = "a-shared-test-secret-of-enough-length"
	cases := []struct {
		name string
		args []string
		want auth.Claims
		ttl  time.Duration
	}{
		{
			name: "admin",
			args: []string{"token", "--tenant", "TN01JTESTTENANT0000000000000", "--email", "ada@example.com", "--role", "admin", "--name", "Ada Admin", "--ttl", "2h"},
			want: auth.Claims{Subject: "ada@example.com", Email: "ada@example.com", Name: "Ada Admin", Tenant: "TN01JTESTTENANT0000000000000", Role: auth.RoleAdmin},
			ttl:  2 * time.Hour,
		},
		{
			name: "agent with the default ttl",
			args: []string{"token", "-tenant", "TN01JTESTTENANT0000000000000", "-email", "alex@example.com", "-role", "agent"},
			want: auth.Claims{Subject: "alex@example.com", Email: "alex@example.com", Tenant: "TN01JTESTTENANT0000000000000", Role: auth.RoleAgent},
			ttl:  time.Hour,
		},
		{
			name: "supervisor in capitals",
			args: []string{"token", "--tenant", "TN2", "--email", "sam@example.com", "--role", "SUPERVISOR", "--ttl", "15m"},
			want: auth.Claims{Subject: "sam@example.com", Email: "sam@example.com", Tenant: "TN2", Role: auth.RoleSupervisor},
			ttl:  15 * time.Minute,
		},
		{
			name: "operator without a tenant",
			args: []string{"token", "--email", "op@platform.example", "--role", "operator"},
			want: auth.Claims{Subject: "op@platform.example", Email: "op@platform.example", Role: auth.RoleOperator},
			ttl:  time.Hour,
		},
	}
	// The secret comes from the environment, or from the file generated in
	// the data folder when the environment has none.
	sources := []struct {
		name string
		// setup returns the environment, extra arguments, and a function
		// returning the secret the server would verify with.
		setup func(t *testing.T) (map[string]string, []string, func() []byte)
	}{
		{"SWITCHBOARD_JWT_SECRET", func(t *testing.T) (map[string]string, []string, func() []byte) {
			dir := t.TempDir()
			return map[string]string{"SWITCHBOARD_JWT_SECRET": secret, "SWITCHBOARD_DATA_DIR": dir}, nil,
				func() []byte {
					if _, err := os.Stat(filepath.Join(dir, "jwt-secret")); err == nil {
						t.Errorf("a secret file was generated although SWITCHBOARD_JWT_SECRET is set")
					}
					return []byte(secret)
				}
		}},
		{"kept by serve in -data-dir", func(t *testing.T) (map[string]string, []string, func() []byte) {
			dir, envDir := t.TempDir(), t.TempDir()
			// serve makes the secret on its first run; token finds it.
			key, err := auth.LoadOrCreateSecret(filepath.Join(dir, "jwt-secret"))
			if err != nil {
				t.Fatal(err)
			}
			return map[string]string{"SWITCHBOARD_DATA_DIR": envDir}, []string{"-data-dir", dir},
				func() []byte {
					if _, err := os.Stat(filepath.Join(envDir, "jwt-secret")); err == nil {
						t.Errorf("a secret was made in $SWITCHBOARD_DATA_DIR, not read from -data-dir")
					}
					return key
				}
		}},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					m, extra, secretOf := src.setup(t)
					args := append(append([]string{}, c.args...), extra...)
					before := time.Now().Truncate(time.Second)
					out, errOut, err := runCmd(t, env(m), args...)
					if err != nil {
						t.Fatalf("token: %v\nstderr: %s", err, errOut)
					}
					tok := strings.TrimSpace(out)
					if tok == "" || strings.ContainsAny(tok, " \n") {
						t.Fatalf("token printed %q, want one token", out)
					}
					key := secretOf()
					v, err := auth.NewVerifier(context.Background(), auth.Options{Secret: key})
					if err != nil {
						t.Fatal(err)
					}
					got, err := v.Verify(context.Background(), tok)
					if err != nil {
						t.Fatalf("the server's verifier refuses the printed token: %v", err)
					}
					exp := got.ExpiresAt
					got.ExpiresAt = time.Time{}
					if got != c.want {
						t.Errorf("claims = %+v, want %+v", got, c.want)
					}
					if lo, hi := before.Add(c.ttl), time.Now().Add(c.ttl); exp.Before(lo) || exp.After(hi) {
						t.Errorf("expires at %v, want between %v and %v", exp, lo, hi)
					}
					// A verifier with another secret refuses it: it is really signed.
					other, _ := auth.NewVerifier(context.Background(), auth.Options{Secret: []byte("some-other-secret-some-other-secret")})
					if _, err := other.Verify(context.Background(), tok); err == nil {
						t.Error("a verifier with another secret accepts the token")
					}
				})
			}
		})
	}

	t.Run("no secret: refused, none made", func(t *testing.T) {
		dir := t.TempDir()
		out, errOut, err := runCmd(t, env(map[string]string{}), "token", "--email", "op@platform.example", "--role", "operator", "-data-dir", dir)
		if err == nil || out != "" {
			t.Fatalf("token without a secret printed %q, err %v; want an error and no token the server would refuse", out, err)
		}
		if !strings.Contains(err.Error(), "SWITCHBOARD_JWT_SECRET") || !strings.Contains(err.Error(), "-data-dir") {
			t.Errorf("the error %q does not say how to find the server's secret (stderr %q)", err, errOut)
		}
		if _, err := os.Stat(filepath.Join(dir, "jwt-secret")); err == nil {
			t.Error("token made a secret of its own")
		}
	})
}

func TestTokenDemo(t *testing.T) {
	dir := t.TempDir()
	m := map[string]string{"SWITCHBOARD_DATABASE_URL": "sqlite://" + filepath.Join(dir, "switchboard.db")}
	if _, err := auth.LoadOrCreateSecret(filepath.Join(dir, "jwt-secret")); err != nil { // as serve makes it
		t.Fatal(err)
	}
	if out, _, err := runCmd(t, env(m), "token", "--demo", "--role", "admin"); err == nil {
		t.Fatalf("token --demo printed %q before the demo tenant was loaded", out)
	}
	if _, errOut, err := runCmd(t, env(m), "seed"); err != nil {
		t.Fatalf("seed: %v\n%s", err, errOut)
	}
	key, err := auth.LoadSecret(filepath.Join(dir, "jwt-secret"))
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, m["SWITCHBOARD_DATABASE_URL"])
	demo, err := seed.DemoTenant(context.Background(), st.Client)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := auth.NewVerifier(context.Background(), auth.Options{Secret: key})
	for _, c := range []struct {
		role  string
		want  auth.Role
		email string
	}{
		{"admin", auth.RoleAdmin, seed.AdminEmail},
		{"agent", auth.RoleAgent, "alex.agent@demo.example.com"},
		{"supervisor", auth.RoleSupervisor, "sam.supervisor@demo.example.com"},
	} {
		out, errOut, err := runCmd(t, env(m), "token", "--demo", "--role", c.role, "--ttl", "720h")
		if err != nil {
			t.Fatalf("token --demo --role %s: %v\n%s", c.role, err, errOut)
		}
		got, err := v.Verify(context.Background(), strings.TrimSpace(out))
		if err != nil {
			t.Fatalf("the server refuses the demo %s token: %v", c.role, err)
		}
		if got.Tenant != string(demo) || got.Role != c.want || got.Email != c.email {
			t.Errorf("demo %s token claims %+v, want tenant %s, role %s, email %s", c.role, got, demo, c.want, c.email)
		}
		if d := time.Until(got.ExpiresAt); d < 700*time.Hour {
			t.Errorf("demo %s token expires in %v, want the --ttl asked for", c.role, d)
		}
	}
	if out, _, err := runCmd(t, env(m), "token", "--demo", "--role", "operator"); err == nil {
		t.Errorf("token --demo --role operator printed %q: the demo tenant has no operator", out)
	}
}

// TestServeBusyPort: a server whose port is taken says so before it makes
// a store, a secret or demo data.
func TestServeBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := t.TempDir()
	m := map[string]string{"SWITCHBOARD_DATABASE_URL": "sqlite://" + filepath.Join(dir, "switchboard.db")}
	_, _, err = runCmd(t, env(m), "serve", "-addr", ln.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("serve on a taken port: %v, want the listen error", err)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		t.Errorf("serve on a taken port wrote %s", e.Name())
	}
}

func TestTokenRefuses(t *testing.T) {
	cases := []struct {
		name string
		args []string
	}{
		{"unknown role", []string{"token", "--tenant", "TN1", "--email", "e@example.com", "--role", "root"}},
		{"empty role", []string{"token", "--tenant", "TN1", "--email", "e@example.com", "--role", ""}},
		{"operator with a tenant", []string{"token", "--tenant", "TN1", "--email", "op@platform.example", "--role", "operator"}},
		{"agent without a tenant", []string{"token", "--email", "e@example.com", "--role", "agent"}},
		{"admin without a tenant", []string{"token", "--email", "e@example.com", "--role", "admin"}},
		{"no email", []string{"token", "--tenant", "TN1", "--role", "agent"}},
		{"zero ttl", []string{"token", "--tenant", "TN1", "--email", "e@example.com", "--ttl", "0s"}},
		{"negative ttl", []string{"token", "--tenant", "TN1", "--email", "e@example.com", "--ttl", "-1h"}},
		{"bad ttl", []string{"token", "--tenant", "TN1", "--email", "e@example.com", "--ttl", "soon"}},
		{"unknown flag", []string{"token", "--tenant", "TN1", "--email", "e@example.com", "--colour", "red"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := map[string]string{"SWITCHBOARD_JWT_SECRET": "a-shared-test-secret-of-enough-length", "SWITCHBOARD_DATA_DIR": t.TempDir()}
			out, _, err := runCmd(t, env(m), c.args...)
			if err == nil {
				t.Fatalf("token %v succeeded and printed %q, want an error", c.args[1:], out)
			}
			if out != "" {
				t.Errorf("token printed %q on failure", out)
			}
		})
	}
}

// openStore opens a store that a command has migrated.
func openStore(t *testing.T, url string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestMigrateCommand(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		url := b.URL(t)
		m := map[string]string{"SWITCHBOARD_DATABASE_URL": url, "SWITCHBOARD_DATA_DIR": t.TempDir()}
		dialect := map[string]string{"sqlite": "sqlite3", "postgres": "postgres"}[b.Name]
		dir, err := store.MigrationDir(dialect)
		if err != nil {
			t.Fatal(err)
		}
		files, err := dir.Files()
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			out, errOut, err := runCmd(t, env(m), "migrate")
			if err != nil {
				t.Fatalf("migrate run %d: %v\nstderr: %s", i+1, err, errOut)
			}
			if !strings.Contains(out, "up to date") {
				t.Errorf("migrate run %d printed %q", i+1, out)
			}
			for _, f := range files {
				logged := strings.Contains(errOut, "applied migration") && strings.Contains(errOut, f.Version())
				if i == 0 && !logged {
					t.Errorf("the first migrate does not log applying %s:\n%s", f.Version(), errOut)
				}
				if i == 1 && logged {
					t.Errorf("the second migrate applied %s again:\n%s", f.Version(), errOut)
				}
			}
		}
		st := openStore(t, url)
		pending, err := st.Migrate(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(pending) != 0 {
			t.Errorf("after `migrate` the store still lacked %v", pending)
		}
	})
}

// counts are the rows of the demo tenant, as its admin sees them.
type counts struct{ tenants, agents, statuses, contacts, templates, modules, statusChanges int }

func countDemo(t *testing.T, c *ent.Client) (gid.ID, counts) {
	t.Helper()
	ctx := context.Background()
	op := viewer.NewContext(ctx, &viewer.Viewer{Subject: "test", Email: "op@platform.example", Role: viewer.RoleOperator})
	tenants, err := c.Tenant.Query().Where(tenant.Name(seed.DemoTenantName)).All(op)
	if err != nil {
		t.Fatal(err)
	}
	if len(tenants) == 0 {
		t.Fatal("no demo tenant")
	}
	id := tenants[0].ID
	admin := viewer.NewContext(ctx, &viewer.Viewer{Subject: "test", Email: seed.AdminEmail, Role: viewer.RoleAdmin, TenantID: id})
	n := counts{tenants: len(tenants)}
	for _, q := range []struct {
		dst   *int
		count func(context.Context) (int, error)
	}{
		{&n.agents, c.Agent.Query().Count},
		{&n.statuses, c.AgentStatus.Query().Count},
		{&n.contacts, c.Contact.Query().Count},
		{&n.templates, c.Template.Query().Count},
		{&n.modules, c.Module.Query().Count},
		{&n.statusChanges, c.AgentStatusChange.Query().Count},
	} {
		if *q.dst, err = q.count(admin); err != nil {
			t.Fatal(err)
		}
	}
	return id, n
}

func TestSeedCommandIsIdempotent(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		url := b.URL(t)
		m := map[string]string{"SWITCHBOARD_DATABASE_URL": url, "SWITCHBOARD_DATA_DIR": t.TempDir()}
		st := openStore(t, url)
		var ids []gid.ID
		var seen []counts
		for i := range 2 {
			out, errOut, err := runCmd(t, env(m), "seed")
			if err != nil {
				t.Fatalf("seed run %d: %v\nstderr: %s", i+1, err, errOut)
			}
			id, n := countDemo(t, st.Client)
			if !strings.Contains(out, string(id)) || !strings.Contains(out, seed.AdminEmail) {
				t.Errorf("seed run %d printed %q, want the tenant %s and its admin", i+1, out, id)
			}
			ids, seen = append(ids, id), append(seen, n)
		}
		first := seen[0]
		t.Logf("the demo tenant %s holds %+v", ids[0], first)
		if first.tenants != 1 || first.agents == 0 || first.statuses == 0 || first.contacts == 0 || first.templates == 0 || first.modules == 0 {
			t.Fatalf("the first seed loaded %+v; want one tenant with agents, statuses, contacts, templates and modules", first)
		}
		if seen[1] != first || ids[1] != ids[0] {
			t.Errorf("the second seed changed the store: tenant %s %+v, then tenant %s %+v", ids[0], first, ids[1], seen[1])
		}
	})
}

// servedLine waits for the line of out starting with prefix.
func servedLine(t *testing.T, out *syncBuffer, done <-chan error, prefix string) string {
	t.Helper()
	deadline := time.After(2 * time.Minute)
	for {
		sc := bufio.NewScanner(strings.NewReader(out.String()))
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), prefix) {
				return sc.Text()
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended before printing %q: %v\nstdout: %s", prefix, err, out.String())
		case <-deadline:
			t.Fatalf("serve printed no line starting %q:\n%s", prefix, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// quickShutdown makes serve stop at once when the test ends it, unless
// the test sets the shutdown delay.
func quickShutdown(getenv func(string) string) func(string) string {
	return func(k string) string {
		if v := getenv(k); v != "" || k != "SWITCHBOARD_SHUTDOWN_DELAY" {
			return v
		}
		return "0s"
	}
}

// startServe runs the program as a server until the test cancels it, and
// returns the base URL it prints (ending in /).
func startServe(t *testing.T, getenv func(string) string, args ...string) (base string, out *syncBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errOut := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, quickShutdown(getenv), out, errOut) }()
	var once sync.Once
	var stopErr error
	stop = func() error {
		once.Do(func() {
			cancel()
			select {
			case stopErr = <-done:
			case <-time.After(30 * time.Second):
				stopErr = errors.New("serve did not return within 30s of its context ending")
			}
		})
		return stopErr
	}
	t.Cleanup(func() { _ = stop() })
	line := servedLine(t, out, done, "switchboard is serving on ")
	base = strings.Fields(strings.TrimPrefix(line, "switchboard is serving on "))[0]
	if !strings.HasPrefix(base, "http://127.0.0.1:") || !strings.HasSuffix(base, "/") || strings.HasSuffix(base, ":0/") {
		t.Fatalf("serve printed the URL %q, want http://127.0.0.1:PORT/", base)
	}
	if !strings.Contains(line, base+"query") {
		t.Errorf("serve's line %q does not name the GraphQL endpoint %squery", line, base)
	}
	// Once the server answers, everything it prints at start is printed.
	get(t, base+"healthz", http.StatusOK)
	return base, out, stop
}

func get(t *testing.T, url string, want int) (string, http.Header) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d: %s", url, res.StatusCode, want, body)
	}
	return string(body), res.Header
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func postQuery(t *testing.T, endpoint, token, query string) gqlResponse {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query})
	req, _ := http.NewRequest(http.MethodPost, endpoint, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", endpoint, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var r gqlResponse
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatalf("POST %s: %d, not JSON: %s", endpoint, res.StatusCode, raw)
	}
	return r
}

const desktopBootstrap = `query DesktopBootstrap {
  viewer { id email role tenant { id name } agent { id } }
  agentStatuses { name type }
}`

// explorerToken returns the claims of the token the explorer's page fills
// its Headers editor with.
func explorerToken(t *testing.T, base string, v *auth.Verifier) auth.Claims {
	t.Helper()
	page, _ := get(t, base, http.StatusOK)
	m := regexp.MustCompile(`data-default-headers="[^"]*Bearer ([A-Za-z0-9._-]+)`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the explorer's page fills no headers:\n%s", page)
	}
	c, err := v.Verify(context.Background(), m[1])
	if err != nil {
		t.Fatalf("the explorer's token: %v", err)
	}
	return c
}

// An empty embedded store is migrated, seeded, and served; the admin token
// it prints works against the running server.
func TestServeEmbeddedStore(t *testing.T) {
	dir := t.TempDir()
	m := map[string]string{"SWITCHBOARD_DATABASE_URL": "sqlite://" + filepath.Join(dir, "switchboard.db")}
	base, out, stop := startServe(t, env(m), "serve", "-addr", "127.0.0.1:0")

	tokenLine := servedLine(t, out, nil, `{"Authorization": "Bearer `)
	var hdr map[string]string
	if err := json.Unmarshal([]byte(tokenLine), &hdr); err != nil {
		t.Fatalf("the token line %q is not the JSON the explorer's Headers tab takes: %v", tokenLine, err)
	}
	token, ok := strings.CutPrefix(hdr["Authorization"], "Bearer ")
	if !ok || token == "" {
		t.Fatalf("the token line %q holds no bearer token", tokenLine)
	}
	// The token is signed with the secret generated beside the store.
	key, err := auth.LoadOrCreateSecret(filepath.Join(dir, "jwt-secret"))
	if err != nil {
		t.Fatalf("no secret generated beside the embedded store: %v", err)
	}
	v, _ := auth.NewVerifier(context.Background(), auth.Options{Secret: key})
	claims, err := v.Verify(context.Background(), token)
	if err != nil {
		t.Fatalf("the printed token does not verify with the generated secret: %v", err)
	}
	if claims.Role != auth.RoleAdmin || claims.Email != seed.AdminEmail || claims.Tenant == "" {
		t.Errorf("the printed token's claims are %+v, want the demo tenant's admin", claims)
	}
	if _, err := os.Stat(filepath.Join(dir, "encryption-key")); err != nil {
		t.Errorf("no encryption key generated beside the embedded store: %v", err)
	}
	// The explorer opens signed in as the demo's admin.
	if c := explorerToken(t, base, v); c.Role != auth.RoleAdmin || c.Tenant != claims.Tenant {
		t.Errorf("the explorer's headers carry %+v, want the demo admin's", c)
	}

	if r := postQuery(t, base+"query", "", desktopBootstrap); len(r.Errors) == 0 || r.Errors[0].Extensions["code"] != "UNAUTHENTICATED" {
		t.Errorf("a query without a token got %+v, want UNAUTHENTICATED", r)
	}

	r := postQuery(t, base+"query", token, desktopBootstrap)
	if len(r.Errors) > 0 {
		t.Fatalf("DesktopBootstrap: %+v", r.Errors)
	}
	var data struct {
		Viewer struct {
			ID, Email, Role string
			Tenant          *struct{ ID, Name string }
			Agent           *struct{ ID string }
		}
		AgentStatuses []struct{ Name, Type string }
	}
	if err := json.Unmarshal(r.Data, &data); err != nil {
		t.Fatalf("decoding %s: %v", r.Data, err)
	}
	vw := data.Viewer
	if vw.Role != "ADMIN" || vw.Email != seed.AdminEmail {
		t.Errorf("viewer = %+v, want the demo admin %s with role ADMIN", vw, seed.AdminEmail)
	}
	if vw.Tenant == nil || vw.Tenant.Name != seed.DemoTenantName || vw.Tenant.ID != claims.Tenant {
		t.Errorf("viewer.tenant = %+v, want %q with the token's tenant %s", vw.Tenant, seed.DemoTenantName, claims.Tenant)
	}
	if vw.Agent == nil || vw.Agent.ID == "" {
		t.Errorf("viewer.agent = %+v, want the demo admin's agent record", vw.Agent)
	}
	types := map[string]string{}
	custom := 0
	for _, s := range data.AgentStatuses {
		types[s.Name] = s.Type
		if s.Type == "CUSTOM" {
			custom++
		}
	}
	for name, typ := range map[string]string{"Available": "ROUTABLE", "Offline": "OFFLINE"} {
		if types[name] != typ {
			t.Errorf("status %s has type %q, want %s (statuses: %+v)", name, types[name], typ, data.AgentStatuses)
		}
	}
	if custom == 0 {
		t.Errorf("no CUSTOM status among %+v", data.AgentStatuses)
	}

	page, h := get(t, base, http.StatusOK)
	if !strings.HasPrefix(h.Get("Content-Type"), "text/html") || !strings.Contains(strings.ToLower(page), "<!doctype html") ||
		!strings.Contains(page, "/query") {
		t.Errorf("GET / is not the explorer pointed at /query (Content-Type %q):\n%.500s", h.Get("Content-Type"), page)
	}
	get(t, base+"healthz", http.StatusOK)
	get(t, base+"readyz", http.StatusOK)

	if err := stop(); err != nil {
		t.Fatalf("serve returned %v after its context ended, want nil", err)
	}
	if res, err := http.Get(base + "healthz"); err == nil {
		res.Body.Close()
		t.Errorf("the server still answers after serve returned")
	}

	// A second start finds the store seeded: it loads nothing and prints no token.
	base2, out2, stop2 := startServe(t, env(m), "serve", "-addr", "127.0.0.1:0")
	if c := explorerToken(t, base2, v); c.Role != auth.RoleAdmin || c.Tenant != claims.Tenant {
		t.Errorf("on a later run the explorer's headers carry %+v, want the demo admin's", c)
	}
	if strings.Contains(out2.String(), "Bearer") {
		t.Errorf("serve on a seeded store printed a token again:\n%s", out2.String())
	}
	if err := stop2(); err != nil {
		t.Fatalf("second serve: %v", err)
	}
	st := openStore(t, m["SWITCHBOARD_DATABASE_URL"])
	if _, n := countDemo(t, st.Client); n.tenants != 1 {
		t.Errorf("%d demo tenants after two starts, want 1", n.tenants)
	}
}

// On PostgreSQL serve (the default command) migrates but never seeds.
func TestServePostgresDoesNotSeed(t *testing.T) {
	url := testenv.PostgresURL(t)
	m := map[string]string{
		"SWITCHBOARD_DATABASE_URL": url,
		"SWITCHBOARD_DATA_DIR":     t.TempDir(),
		"SWITCHBOARD_ADDR":         "127.0.0.1:0",
	}
	base, out, stop := startServe(t, env(m))
	get(t, base+"readyz", http.StatusOK)
	if strings.Contains(out.String(), "Bearer") {
		t.Errorf("serve on PostgreSQL printed a token:\n%s", out.String())
	}
	if err := stop(); err != nil {
		t.Fatalf("serve returned %v after its context ended, want nil", err)
	}
	st := openStore(t, url)
	op := viewer.NewContext(context.Background(), &viewer.Viewer{Subject: "test", Email: "op@platform.example", Role: viewer.RoleOperator})
	n, err := st.Client.Tenant.Query().Count(op)
	if err != nil {
		t.Fatalf("counting tenants (was the store migrated?): %v", err)
	}
	if n != 0 {
		t.Errorf("serve on PostgreSQL loaded %d tenants, want none", n)
	}
	if pending, err := st.Migrate(context.Background()); err != nil || len(pending) != 0 {
		t.Errorf("serve left migrations %v pending (%v)", pending, err)
	}
}

func TestCommandLine(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		wantErr bool
		// stdout and stderr must hold these.
		stdout, stderr []string
	}{
		{"help", []string{"help"}, false, []string{"serve", "migrate", "token", "seed", "meter"}, nil},
		{"unknown command", []string{"frobnicate"}, true, nil, []string{`unknown command "frobnicate"`, "serve", "migrate", "token", "seed"}},
		{"unknown serve flag", []string{"serve", "-no-such-flag"}, true, nil, []string{"no-such-flag"}},
		{"unknown migrate flag", []string{"migrate", "-no-such-flag"}, true, nil, []string{"no-such-flag"}},
		{"unknown seed flag", []string{"seed", "-no-such-flag"}, true, nil, []string{"no-such-flag"}},
		{"unknown meter flag", []string{"meter", "-no-such-flag"}, true, nil, []string{"no-such-flag"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := map[string]string{"SWITCHBOARD_DATA_DIR": t.TempDir(), "SWITCHBOARD_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "sb.db")}
			out, errOut, err := runCmd(t, env(m), c.args...)
			if (err != nil) != c.wantErr {
				t.Fatalf("run %v: error %v, want error: %v", c.args, err, c.wantErr)
			}
			for _, w := range c.stdout {
				if !strings.Contains(out, w) {
					t.Errorf("stdout lacks %q:\n%s", w, out)
				}
			}
			for _, w := range c.stderr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			if c.wantErr && out != "" {
				t.Errorf("a failed run printed %q to stdout", out)
			}
		})
	}
}
