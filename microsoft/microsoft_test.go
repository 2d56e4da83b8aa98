package microsoft_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/microsoft"
)

const (
	tenantID      = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	tenantDomain  = "contoso.onmicrosoft.com"
	noCodesTenant = "11111111-2222-3333-4444-555555555555" // answers without error_codes
	bareTenant    = "66666666-7777-8888-9999-000000000000" // answers only "error"
	clientID      = "00001111-aaaa-2222-bbbb-3333cccc4444"
	goodSecret    = "Zk8Q~good.Secret_Value-0123456789abcdefXYZ"
	expiredSecret = "Zk8Q~expired.Secret_Value-0123456789abcdef"
	blockedSecret = "Zk8Q~blocked.Secret_Value-0123456789abcdef"
	wrongSecret   = "Zk8Q~wrong.Secret_Value-0123456789abcdefgh"
	secretID      = "b3a5c1d2-0000-4000-8000-123456789abc" // a Secret ID pasted for the Value
)

// allSecrets are every secret the tests send; no error may hold one.
var allSecrets = []string{goodSecret, expiredSecret, blockedSecret, wrongSecret, secretID}

// fakeEntra is a token endpoint that answers as Entra ID does, for one app
// in one directory (known by its GUID and its domain).
type fakeEntra struct {
	t  *testing.T
	mu sync.Mutex
	// the last request's tenant (from the path) and form
	tenant string
	form   url.Values
	calls  int
}

func (f *fakeEntra) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	tenant, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/"), "/oauth2/v2.0/token")
	if r.Method != http.MethodPost || !ok || strings.Contains(tenant, "/") {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<html>not found</html>")
		return
	}
	if err := r.ParseForm(); err != nil {
		f.t.Errorf("form: %v", err)
	}
	f.mu.Lock()
	f.tenant, f.form, f.calls = tenant, r.PostForm, f.calls+1
	f.mu.Unlock()

	mode := "full"
	switch strings.ToLower(tenant) {
	case tenantID, tenantDomain:
	case noCodesTenant:
		mode = "nocodes"
	case bareTenant:
		mode = "bare"
	default:
		f.fail(w, mode, 400, "invalid_request", 90002, "Tenant '"+tenant+"' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")
		return
	}
	form := r.PostForm
	switch {
	case r.Header.Get("Authorization") != "":
		f.t.Error("credentials sent in an Authorization header, not the form")
	case form.Get("grant_type") != "client_credentials":
		f.fail(w, mode, 400, "unsupported_grant_type", 70003, "The app requested an unsupported grant type.")
	case form.Get("scope") != microsoft.GraphScope:
		f.fail(w, mode, 400, "invalid_scope", 70011, "The provided value for scope is not valid.")
	case form.Get("client_id") != clientID:
		f.fail(w, mode, 400, "unauthorized_client", 700016, "Application with identifier '"+form.Get("client_id")+"' was not found in the directory 'Contoso'.")
	case form.Get("client_secret") == expiredSecret:
		f.fail(w, mode, 401, "invalid_client", 7000222, "The provided client secret keys for app '"+clientID+"' are expired.")
	case form.Get("client_secret") == blockedSecret:
		// Entra does not echo secrets; this answer does, to prove it is scrubbed.
		f.fail(w, mode, 400, "invalid_grant", 53003, "Access has been blocked by Conditional Access policies (client_secret="+blockedSecret+").")
	case form.Get("client_secret") != goodSecret:
		f.fail(w, mode, 401, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '"+clientID+"'.")
	default:
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		fmt.Fprint(w, `{"token_type":"Bearer","expires_in":3599,"ext_expires_in":3599,"access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.e30.c2ln"}`)
	}
}

// fail answers an Entra error: full (as Entra does), without error_codes,
// or bare (the OAuth error alone).
func (f *fakeEntra) fail(w http.ResponseWriter, mode string, status int, code string, aadsts int, desc string) {
	body := map[string]any{"error": code}
	if mode != "bare" {
		body["error_description"] = fmt.Sprintf("AADSTS%d: %s Trace ID: 0b9b1c5e-1d2f-4b8a-9a7e-2f6a1c3d4e00 Correlation ID: 5d0c7e9a-3b1f-4f0e-8c2d-6a7b8c9d0e1f Timestamp: 2025-01-01 00:00:00Z", aadsts, desc)
		body["trace_id"] = "0b9b1c5e-1d2f-4b8a-9a7e-2f6a1c3d4e00"
		body["correlation_id"] = "5d0c7e9a-3b1f-4f0e-8c2d-6a7b8c9d0e1f"
		body["error_uri"] = "https://login.microsoftonline.com/error?code=" + fmt.Sprint(aadsts)
	}
	if mode == "full" {
		body["error_codes"] = []int{aadsts}
		body["timestamp"] = "2025-01-01 00:00:00Z"
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func newFake(t *testing.T) (*fakeEntra, *httptest.Server) {
	f := &fakeEntra{t: t}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func good() microsoft.Credentials {
	return microsoft.Credentials{DirectoryTenantID: tenantID, ClientID: clientID, ClientSecret: goodSecret}
}

// noSecret fails when any rendering of err holds a secret.
func noSecret(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, text := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
		for _, s := range allSecrets {
			if strings.Contains(text, s) {
				t.Errorf("error shows a secret: %s", text)
			}
		}
	}
	var ce *microsoft.CheckError
	if errors.As(err, &ce) {
		for _, s := range allSecrets {
			if strings.Contains(ce.Description+ce.Fix+ce.TraceID+ce.CorrelationID+ce.Code, s) {
				t.Errorf("CheckError field shows a secret: %#v", ce)
			}
		}
	}
}

func checkError(t *testing.T, err error) *microsoft.CheckError {
	t.Helper()
	noSecret(t, err)
	var ce *microsoft.CheckError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v (%T), want a *CheckError", err, err)
	}
	return ce
}

// Good credentials get a token; the request is the client-credentials
// grant for Graph at the directory's token endpoint, with the secret in
// the form.
func TestCheckGoodCredentials(t *testing.T) {
	f, srv := newFake(t)
	for _, tenant := range []string{tenantID, strings.ToUpper(tenantID), tenantDomain, "Contoso.OnMicrosoft.com"} {
		c := good()
		c.DirectoryTenantID = tenant
		if err := microsoft.Check(context.Background(), srv.URL, c, srv.Client()); err != nil {
			t.Fatalf("tenant %s: %v", tenant, err)
		}
		if f.tenant != tenant {
			t.Errorf("token asked of tenant %q, want %q", f.tenant, tenant)
		}
		want := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {goodSecret}, "scope": {microsoft.GraphScope}}
		if fmt.Sprint(f.form) != fmt.Sprint(want) {
			t.Errorf("form %v, want %v", f.form, want)
		}
	}
	// A trailing slash on the authority changes nothing.
	if err := microsoft.Check(context.Background(), srv.URL+"/", good(), srv.Client()); err != nil {
		t.Fatal(err)
	}
}

// Entra's refusals become CheckErrors that name the field to fix and say
// how, and hold no secret.
func TestCheckRefusals(t *testing.T) {
	_, srv := newFake(t)
	cases := []struct {
		name   string
		edit   func(*microsoft.Credentials)
		reason microsoft.Reason
		field  microsoft.Field
		aadsts string
		says   string
	}{
		{"wrong secret", func(c *microsoft.Credentials) { c.ClientSecret = wrongSecret },
			microsoft.ReasonClientSecret, microsoft.FieldClientSecret, "AADSTS7000215", "client secret"},
		{"secret ID for the value", func(c *microsoft.Credentials) { c.ClientSecret = secretID },
			microsoft.ReasonClientSecret, microsoft.FieldClientSecret, "AADSTS7000215", "Secret ID"},
		{"expired secret", func(c *microsoft.Credentials) { c.ClientSecret = expiredSecret },
			microsoft.ReasonClientSecretExpired, microsoft.FieldClientSecret, "AADSTS7000222", "expired"},
		{"unknown app", func(c *microsoft.Credentials) { c.ClientID = "99999999-aaaa-2222-bbbb-3333cccc4444" },
			microsoft.ReasonClientID, microsoft.FieldClientID, "AADSTS700016", "client ID"},
		{"unknown tenant by ID", func(c *microsoft.Credentials) { c.DirectoryTenantID = "deadbeef-0000-4000-8000-000000000000" },
			microsoft.ReasonDirectory, microsoft.FieldDirectoryTenantID, "AADSTS90002", "directory"},
		{"unknown tenant by domain", func(c *microsoft.Credentials) { c.DirectoryTenantID = "fabrikam.example.com" },
			microsoft.ReasonDirectory, microsoft.FieldDirectoryTenantID, "AADSTS90002", "directory"},
		{"blocked, secret echoed", func(c *microsoft.Credentials) { c.ClientSecret = blockedSecret },
			microsoft.ReasonRefused, "", "AADSTS53003", "Conditional Access"},
		{"no error_codes: code from the description", func(c *microsoft.Credentials) { c.DirectoryTenantID, c.ClientSecret = noCodesTenant, wrongSecret },
			microsoft.ReasonClientSecret, microsoft.FieldClientSecret, "AADSTS7000215", "client secret"},
		{"bare invalid_client", func(c *microsoft.Credentials) { c.DirectoryTenantID, c.ClientSecret = bareTenant, wrongSecret },
			microsoft.ReasonClientSecret, microsoft.FieldClientSecret, "", "secret"},
		{"bare unauthorized_client", func(c *microsoft.Credentials) {
			c.DirectoryTenantID, c.ClientID = bareTenant, "99999999-aaaa-2222-bbbb-3333cccc4444"
		}, microsoft.ReasonClientID, microsoft.FieldClientID, "", "client ID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := good()
			tc.edit(&c)
			ce := checkError(t, microsoft.Check(context.Background(), srv.URL, c, srv.Client()))
			if ce.Reason != tc.reason || ce.Field != tc.field || ce.AADSTS != tc.aadsts {
				t.Errorf("reason %s, field %q, %q; want %s, %q, %q", ce.Reason, ce.Field, ce.AADSTS, tc.reason, tc.field, tc.aadsts)
			}
			if !strings.Contains(ce.Error(), tc.says) {
				t.Errorf("error %q does not say %q", ce.Error(), tc.says)
			}
			if ce.StatusCode < 400 || ce.Code == "" {
				t.Errorf("status %d, code %q", ce.StatusCode, ce.Code)
			}
			if tc.aadsts != "" && (ce.TraceID == "" || ce.CorrelationID == "" || !strings.Contains(ce.Description, tc.aadsts)) {
				t.Errorf("trace %q, correlation %q, description %q", ce.TraceID, ce.CorrelationID, ce.Description)
			}
		})
	}
}

// The sign-in service down, slow, unavailable or not Entra at all: an
// error that says so.
func TestCheckUnreachable(t *testing.T) {
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	ce := checkError(t, microsoft.Check(context.Background(), closed.URL, good(), nil))
	if ce.Reason != microsoft.ReasonUnreachable || ce.Field != "" || ce.Unwrap() == nil {
		t.Errorf("closed server: %#v", ce)
	}

	unavailable := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "<html>down for maintenance</html>")
	}))
	defer unavailable.Close()
	ce = checkError(t, microsoft.Check(context.Background(), unavailable.URL, good(), unavailable.Client()))
	if ce.Reason != microsoft.ReasonUnreachable || ce.StatusCode != 503 || strings.Contains(ce.Error(), "maintenance") {
		t.Errorf("503: %#v", ce)
	}

	_, srv := newFake(t)
	ce = checkError(t, microsoft.Check(context.Background(), srv.URL+"/not-entra", good(), srv.Client()))
	if ce.Reason != microsoft.ReasonUnexpected || ce.StatusCode != 404 {
		t.Errorf("wrong authority: %#v", ce)
	}

	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer slow.Close()
	defer close(release)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := microsoft.Check(ctx, slow.URL, good(), slow.Client())
	ce = checkError(t, err)
	if ce.Reason != microsoft.ReasonUnreachable || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("slow server: %#v", ce)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %v", d)
	}
}

// deadlineSpy records the deadline of the request it carries.
type deadlineSpy struct {
	deadline time.Time
	ok       bool
}

func (s *deadlineSpy) RoundTrip(r *http.Request) (*http.Response, error) {
	s.deadline, s.ok = r.Context().Deadline()
	return nil, errors.New("spy: not sent")
}

// Without a deadline in the context, the request has one DefaultTimeout
// away; with one, it keeps the caller's.
func TestCheckBoundsTheRequest(t *testing.T) {
	spy := &deadlineSpy{}
	start := time.Now()
	ce := checkError(t, microsoft.Check(context.Background(), "https://login.example", good(), &http.Client{Transport: spy}))
	if ce.Reason != microsoft.ReasonUnreachable {
		t.Errorf("transport error: %#v", ce)
	}
	if !spy.ok || spy.deadline.Before(start) || spy.deadline.After(start.Add(microsoft.DefaultTimeout+time.Second)) {
		t.Errorf("deadline %v (set %v), want about %v from %v", spy.deadline, spy.ok, microsoft.DefaultTimeout, start)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	want, _ := ctx.Deadline()
	_ = microsoft.Check(ctx, "https://login.example", good(), &http.Client{Transport: spy})
	if !spy.deadline.Equal(want) {
		t.Errorf("deadline %v, want the caller's %v", spy.deadline, want)
	}
}

// Credentials of the wrong form, or a bad authority, fail before any
// request.
func TestCheckRefusesBeforeAsking(t *testing.T) {
	f, srv := newFake(t)
	c := good()
	c.ClientID = "not-a-guid"
	var fe *microsoft.FieldError
	if err := microsoft.Check(context.Background(), srv.URL, c, srv.Client()); !errors.As(err, &fe) || fe.Field != microsoft.FieldClientID {
		t.Fatalf("bad client ID: %v", err)
	}
	for _, a := range []string{"ftp://login.example", "login.example", "https://", "https://login.example/?x=1"} {
		err := microsoft.Check(context.Background(), a, good(), srv.Client())
		var ce *microsoft.CheckError
		if err == nil || errors.As(err, &ce) {
			t.Errorf("authority %q: %v", a, err)
		}
		noSecret(t, err)
	}
	if f.calls != 0 {
		t.Errorf("%d requests made", f.calls)
	}
}

// Validate accepts GUIDs and domain names for the directory, a GUID for
// the client, and a plausible secret; anything else is a FieldError that
// names the field and shows no secret.
func TestValidate(t *testing.T) {
	ok := []microsoft.Credentials{
		good(),
		{DirectoryTenantID: tenantDomain, ClientID: strings.ToUpper(clientID), ClientSecret: "x"},
		{DirectoryTenantID: "contoso.com", ClientID: clientID, ClientSecret: strings.Repeat("s", microsoft.MaxClientSecret)},
		{DirectoryTenantID: "sub.xn--bcher-kva.example", ClientID: clientID, ClientSecret: "a b"},
	}
	for _, c := range ok {
		if err := microsoft.Validate(c); err != nil {
			t.Errorf("Validate(%v) = %v", c, err)
		}
	}

	bad := []struct {
		edit  func(*microsoft.Credentials)
		field microsoft.Field
	}{
		{func(c *microsoft.Credentials) { c.DirectoryTenantID = "" }, microsoft.FieldDirectoryTenantID},
		{func(c *microsoft.Credentials) { c.DirectoryTenantID = "common" }, microsoft.FieldDirectoryTenantID},
		{func(c *microsoft.Credentials) { c.DirectoryTenantID = "Organizations" }, microsoft.FieldDirectoryTenantID},
		{func(c *microsoft.Credentials) { c.DirectoryTenantID = "contoso" }, microsoft.FieldDirectoryTenantID},
		{func(c *microsoft.Credentials) { c.DirectoryTenantID = "10.0.0.1" }, microsoft.FieldDirectoryTenantID},
		{func(c *microsoft.Credentials) { c.DirectoryTenantID = "contoso.onmicrosoft.com/../x" }, microsoft.FieldDirectoryTenantID},
		{func(c *microsoft.Credentials) { c.DirectoryTenantID = "-contoso.com" }, microsoft.FieldDirectoryTenantID},
		{func(c *microsoft.Credentials) { c.DirectoryTenantID = "contoso..com" }, microsoft.FieldDirectoryTenantID},
		{func(c *microsoft.Credentials) { c.DirectoryTenantID = " " + tenantID }, microsoft.FieldDirectoryTenantID},
		{func(c *microsoft.Credentials) { c.DirectoryTenantID = tenantID[:35] }, microsoft.FieldDirectoryTenantID},
		{func(c *microsoft.Credentials) { c.DirectoryTenantID = "{" + tenantID + "}" }, microsoft.FieldDirectoryTenantID},
		{func(c *microsoft.Credentials) { c.DirectoryTenantID = strings.Repeat("a.", 127) + "com" }, microsoft.FieldDirectoryTenantID},
		{func(c *microsoft.Credentials) { c.ClientID = "" }, microsoft.FieldClientID},
		{func(c *microsoft.Credentials) { c.ClientID = "my-app" }, microsoft.FieldClientID},
		{func(c *microsoft.Credentials) { c.ClientID = tenantDomain }, microsoft.FieldClientID},
		{func(c *microsoft.Credentials) { c.ClientID = clientID + "\n" }, microsoft.FieldClientID},
		{func(c *microsoft.Credentials) { c.ClientID = strings.ReplaceAll(clientID, "a", "g") }, microsoft.FieldClientID},
		{func(c *microsoft.Credentials) { c.ClientSecret = "" }, microsoft.FieldClientSecret},
		{func(c *microsoft.Credentials) {
			c.ClientSecret = goodSecret + strings.Repeat("s", microsoft.MaxClientSecret)
		}, microsoft.FieldClientSecret},
		{func(c *microsoft.Credentials) { c.ClientSecret = goodSecret + "\n" }, microsoft.FieldClientSecret},
		{func(c *microsoft.Credentials) { c.ClientSecret = " " + goodSecret }, microsoft.FieldClientSecret},
		{func(c *microsoft.Credentials) { c.ClientSecret = goodSecret[:10] + "\x00" + goodSecret[10:] }, microsoft.FieldClientSecret},
	}
	for i, b := range bad {
		c := good()
		b.edit(&c)
		err := microsoft.Validate(c)
		var fe *microsoft.FieldError
		if !errors.As(err, &fe) || fe.Field != b.field {
			t.Errorf("case %d (%v): %v, want a FieldError on %s", i, c, err, b.field)
			continue
		}
		noSecret(t, err)
		if !strings.HasPrefix(err.Error(), "microsoft: ") || fe.Problem == "" {
			t.Errorf("case %d: %q", i, err)
		}
	}
}

// Printed or logged, Credentials show no secret.
func TestCredentialsHideTheSecret(t *testing.T) {
	c := good()
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("check", "credentials", c)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("check", "credentials", c)
	for _, s := range []string{c.String(), fmt.Sprint(c), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%v", &c), logged.String()} {
		if strings.Contains(s, goodSecret) {
			t.Errorf("secret shown: %s", s)
		}
		if !strings.Contains(s, clientID) {
			t.Errorf("client ID not shown: %s", s)
		}
	}
}
