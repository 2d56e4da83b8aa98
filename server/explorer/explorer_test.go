package explorer

import (
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// newServer starts the handler the way the package documentation says to
// mount it, next to an unrelated route, and returns the test server.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	h := Handler("/query", "")
	mux.Handle("GET /{$}", h)
	mux.Handle("GET /explorer/", h)
	mux.HandleFunc("/query", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"errors":[{"message":"no schema in this test"}]}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// get fetches url with a plain client that neither follows redirects nor
// asks for compression, and returns the response and its body.
func get(t *testing.T, rawURL string, header http.Header) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	tr := &http.Transport{DisableCompression: true}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

var (
	scriptSrc = regexp.MustCompile(`<script\b[^>]*\bsrc="([^"]*)"`)
	linkHref  = regexp.MustCompile(`<link\b[^>]*\bhref="([^"]*)"`)
	inlineJS  = regexp.MustCompile(`<script\b[^>]*>\s*[^<\s]`)
)

func TestPageAssetsAreSameOriginAndServed(t *testing.T) {
	srv := newServer(t)
	resp, body := get(t, srv.URL+"/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /: status %d", resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("GET /: Content-Type %q, want text/html", ct)
	}
	page := string(body)
	if !strings.Contains(page, `data-endpoint="/query"`) {
		t.Errorf("page does not name the endpoint /query:\n%s", page)
	}
	if inlineJS.MatchString(page) {
		t.Errorf("page has an inline script, which the CSP forbids:\n%s", page)
	}

	base, _ := url.Parse(srv.URL + "/")
	var refs []string
	for _, m := range scriptSrc.FindAllStringSubmatch(page, -1) {
		refs = append(refs, m[1])
	}
	for _, m := range linkHref.FindAllStringSubmatch(page, -1) {
		if strings.HasPrefix(m[1], "data:") { // the empty favicon
			continue
		}
		refs = append(refs, m[1])
	}
	if len(refs) < 6 { // react, react-dom, graphiql, explorer.js, 2 stylesheets
		t.Fatalf("found only %d script/stylesheet references in the page: %q", len(refs), refs)
	}

	for _, ref := range refs {
		u, err := url.Parse(ref)
		if err != nil {
			t.Errorf("%q: %v", ref, err)
			continue
		}
		if u.Scheme != "" || u.Host != "" {
			t.Errorf("%q is not a relative URL; every asset must come from this server", ref)
			continue
		}
		abs := base.ResolveReference(u)
		if abs.Host != base.Host {
			t.Errorf("%q resolves to another host: %s", ref, abs)
			continue
		}
		resp, body := get(t, abs.String(), nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: status %d", abs.Path, resp.StatusCode)
			continue
		}
		ct := resp.Header.Get("Content-Type")
		switch {
		case strings.HasSuffix(u.Path, ".js"):
			if !strings.HasPrefix(ct, "text/javascript") {
				t.Errorf("GET %s: Content-Type %q, want text/javascript", abs.Path, ct)
			}
		case strings.HasSuffix(u.Path, ".css"):
			if !strings.HasPrefix(ct, "text/css") {
				t.Errorf("GET %s: Content-Type %q, want text/css", abs.Path, ct)
			}
		default:
			t.Errorf("%s is neither a .js nor a .css file", abs.Path)
		}
		if len(body) < 200 {
			t.Errorf("GET %s: only %d bytes", abs.Path, len(body))
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
			t.Errorf("GET %s: Cache-Control %q, want a long immutable cache", abs.Path, cc)
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s: no X-Content-Type-Options: nosniff", abs.Path)
		}
	}
}

func TestPageSecurityHeaders(t *testing.T) {
	srv := newServer(t)
	resp, _ := get(t, srv.URL+"/", nil)
	host := strings.TrimPrefix(srv.URL, "http://")

	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("page Cache-Control %q, want no-cache", cc)
	}
	csp := map[string]string{}
	for _, d := range strings.Split(resp.Header.Get("Content-Security-Policy"), ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		csp[name] = value
	}
	want := map[string]string{
		"default-src":     "'none'",
		"script-src":      "'self'",
		"style-src":       "'self' 'unsafe-inline'",
		"connect-src":     "'self' ws://" + host + " wss://" + host,
		"frame-ancestors": "'none'",
	}
	for name, value := range want {
		if csp[name] != value {
			t.Errorf("CSP %s = %q, want %q", name, csp[name], value)
		}
	}
}

func TestAbsoluteEndpointIsAllowedByCSP(t *testing.T) {
	h := Handler("https://api.example.com/query", "")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://admin.example.com/", nil))
	csp := rec.Header().Get("Content-Security-Policy")
	want := "connect-src 'self' ws://admin.example.com wss://admin.example.com https://api.example.com wss://api.example.com;"
	if !strings.Contains(csp, want) {
		t.Errorf("CSP %q does not contain %q", csp, want)
	}
}

func TestBadEndpointPanics(t *testing.T) {
	for _, endpoint := range []string{"", "ftp://example.com/query", "https://a;b/query"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Handler(%q) did not panic", endpoint)
				}
			}()
			Handler(endpoint, "")
		}()
	}
}

func TestHostHeaderCannotInjectIntoCSP(t *testing.T) {
	h := Handler("/query", "")
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Host = "evil.example; script-src *"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if csp := rec.Header().Get("Content-Security-Policy"); strings.Contains(csp, "evil") {
		t.Errorf("CSP contains the bad Host header: %q", csp)
	}
}

// assetURL returns the path at which the page links the named asset.
func assetURL(t *testing.T, srv *httptest.Server, name string) string {
	t.Helper()
	_, body := get(t, srv.URL+"/", nil)
	m := regexp.MustCompile(`"(explorer/[0-9a-f]+/` + regexp.QuoteMeta(name) + `)"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("page does not link %s", name)
	}
	return "/" + string(m[1])
}

func TestAssetGzipAndConditionalRequests(t *testing.T) {
	srv := newServer(t)
	path := assetURL(t, srv, "graphiql.min.js")

	plainResp, plain := get(t, srv.URL+path, nil)
	gzResp, gz := get(t, srv.URL+path, http.Header{"Accept-Encoding": {"gzip, deflate, br"}})
	if gzResp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("no gzip encoding for a client that accepts it")
	}
	if !strings.Contains(gzResp.Header.Get("Vary"), "Accept-Encoding") {
		t.Errorf("Vary %q lacks Accept-Encoding", gzResp.Header.Get("Vary"))
	}
	zr, err := gzip.NewReader(strings.NewReader(string(gz)))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if string(unzipped) != string(plain) {
		t.Errorf("gzipped body differs from the plain one")
	}
	if len(gz) >= len(plain)/2 {
		t.Errorf("gzip saved little: %d -> %d bytes", len(plain), len(gz))
	}
	if plainResp.Header.Get("ETag") == gzResp.Header.Get("ETag") {
		t.Errorf("plain and gzipped bodies share the ETag %s", plainResp.Header.Get("ETag"))
	}

	resp, body := get(t, srv.URL+path, http.Header{"If-None-Match": {plainResp.Header.Get("ETag")}})
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("conditional GET: status %d with %d bytes, want 304 and none", resp.StatusCode, len(body))
	}
	resp, _ = get(t, srv.URL+path, http.Header{"Accept-Encoding": {"gzip;q=0"}})
	if resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("gzip sent although the client refused it with q=0")
	}
}

func TestStaleAssetHashIsServedUncached(t *testing.T) {
	srv := newServer(t)
	resp, body := get(t, srv.URL+"/explorer/0000000000000000/react.production.min.js", nil)
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		t.Fatalf("status %d, %d bytes; want the current file", resp.StatusCode, len(body))
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("Cache-Control %q for a stale hash, want no-cache", cc)
	}
}

func TestUnknownPaths(t *testing.T) {
	h := Handler("/query", "")
	for _, p := range []string{
		"/favicon.ico",
		"/index.html",
		"/explorer/",
		"/explorer/abc",
		"/explorer/abc/nope.js",
		"/explorer/abc/../../etc/passwd",
		"/explorer/abc/index.html",
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://x"+p, nil))
		if rec.Code != http.StatusNotFound {
			t.Errorf("GET %s: status %d, want 404", p, rec.Code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: status %d, Allow %q; want 405 and GET, HEAD", rec.Code, rec.Header().Get("Allow"))
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, "/", nil))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Errorf("HEAD /: status %d with %d bytes, want 200 and none", rec.Code, rec.Body.Len())
	}
}

// TestVendoredAssetsMatchChecksums makes sure the vendored files are exactly
// what update-assets.sh produced: regenerate them with it, never edit them.
func TestVendoredAssetsMatchChecksums(t *testing.T) {
	sums, err := os.ReadFile("assets/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		want, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("bad SHA256SUMS line %q", line)
		}
		name = strings.TrimPrefix(name, "./")
		listed[name] = true
		body, err := os.ReadFile(filepath.Join("assets", filepath.FromSlash(name)))
		if err != nil {
			t.Error(err)
			continue
		}
		if got := fmt.Sprintf("%x", sha256.Sum256(body)); got != want {
			t.Errorf("assets/%s changed since update-assets.sh wrote it (sha256 %s, want %s)", name, got, want)
		}
	}
	entries, err := fs.ReadDir(vendored, "assets")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !listed[e.Name()] {
			t.Errorf("embedded assets/%s is not in assets/SHA256SUMS", e.Name())
		}
	}
}

func TestNoticesAreServed(t *testing.T) {
	srv := newServer(t)
	resp, body := get(t, srv.URL+"/explorer/current/THIRD-PARTY-NOTICES.txt", nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, pkg := range []string{"graphiql@", "react@", "react-dom@", "graphql@"} {
		if !strings.Contains(string(body), "\n"+pkg) {
			t.Errorf("notices do not cover %s", pkg)
		}
	}
}
