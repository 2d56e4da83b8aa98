package explorer

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// defaultChromium is where Debian's chromium package puts the browser.
const defaultChromium = "/usr/bin/chromium"

// findChromium returns the Chromium binary to use: $SWITCHBOARD_CHROMIUM,
// else /usr/bin/chromium, else chromium or chromium-browser on $PATH.
func findChromium() (string, bool) {
	if p := os.Getenv("SWITCHBOARD_CHROMIUM"); p != "" {
		return p, true
	}
	if _, err := os.Stat(defaultChromium); err == nil {
		return defaultChromium, true
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, true
		}
	}
	return "", false
}

// requireChromium returns the Chromium binary, or skips the test (fails it
// when SWITCHBOARD_REQUIRE_BROWSER=1) if there is none.
func requireChromium(t *testing.T) string {
	t.Helper()
	if p, ok := findChromium(); ok {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("cannot run Chromium at %s: %v", p, err)
		}
		return p
	}
	const how = "install it with `apt-get install -y chromium` or point SWITCHBOARD_CHROMIUM at a Chromium binary"
	if os.Getenv("SWITCHBOARD_REQUIRE_BROWSER") == "1" {
		t.Fatal("SWITCHBOARD_REQUIRE_BROWSER=1 but no Chromium was found; " + how)
	}
	t.Skip("skipping the real-browser test of the query explorer: no Chromium found; " + how +
		" (set SWITCHBOARD_REQUIRE_BROWSER=1 to make this a failure)")
	return ""
}

// runChromium runs headless Chromium on url with extra flags and returns
// its standard output and standard error.
func runChromium(t *testing.T, chromium, url string, extra ...string) (stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	args := append([]string{
		"--headless",
		"--no-sandbox",
		"--disable-gpu",
		"--disable-quic",
		"--no-first-run",
		"--disable-background-networking",
		"--disable-component-update",
		"--disable-sync",
		"--user-data-dir=" + t.TempDir(),
		"--virtual-time-budget=10000",
	}, extra...)
	args = append(args, url)
	cmd := exec.CommandContext(ctx, chromium, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\nstderr:\n%s", chromium, err, quiet(errOut.String()))
	}
	return out.String(), quiet(errOut.String())
}

// quiet drops the D-Bus complaints that headless Chromium prints on a
// machine without a desktop session from its standard error.
func quiet(stderr string) string {
	var keep []string
	for _, line := range strings.Split(stderr, "\n") {
		if !strings.Contains(strings.ToLower(line), "dbus") && !strings.Contains(line, "D-Bus") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// cspReports collects the Content-Security-Policy violation reports that a
// browser posts to it.
type cspReports struct {
	mu      sync.Mutex
	reports []string
}

func (c *cspReports) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	c.mu.Lock()
	c.reports = append(c.reports, string(body))
	c.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (c *cspReports) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.reports...)
}

// reportingWriter adds a report-uri directive to the page's
// Content-Security-Policy, so that violations reach the test.
type reportingWriter struct {
	http.ResponseWriter
	uri string
}

func (w reportingWriter) WriteHeader(code int) {
	if csp := w.Header().Get("Content-Security-Policy"); csp != "" {
		w.Header().Set("Content-Security-Policy", csp+"; report-uri "+w.uri)
	}
	w.ResponseWriter.WriteHeader(code)
}

// newReportingServer is newServer whose page reports CSP violations to the
// returned collector.
func newReportingServer(t *testing.T, defaultHeaders string) (*httptest.Server, *cspReports) {
	t.Helper()
	reports := &cspReports{}
	h := Handler("/query", defaultHeaders)
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(reportingWriter{w, "/csp-report"}, r)
	}))
	mux.Handle("GET /explorer/", h)
	mux.Handle("POST /csp-report", reports)
	mux.HandleFunc("/query", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"errors":[{"message":"no schema in this test"}]}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, reports
}

var graphiqlRoot = regexp.MustCompile(`class="[^"]*\bgraphiql-container\b`)

// TestBrowserRendersGraphiQL loads the page in headless Chromium and checks
// that GraphiQL rendered without violating the page's Content-Security-Policy
// (in the form the handler sends it, plus a report-uri). Set
// SWITCHBOARD_EXPLORER_SCREENSHOT=/path.png to also save a screenshot.
func TestBrowserRendersGraphiQL(t *testing.T) {
	chromium := requireChromium(t)
	srv, reports := newReportingServer(t, `{"Authorization": "Bearer demo-token-1234"}`)

	dom, stderr := runChromium(t, chromium, srv.URL+"/", "--dump-dom")
	if !graphiqlRoot.MatchString(dom) {
		t.Fatalf("no element with class graphiql-container in the DOM:\n%s\nstderr:\n%s", dom, stderr)
	}
	for _, bad := range []string{"explorer-loading", "explorer-error"} {
		if strings.Contains(dom, bad) {
			t.Errorf("the DOM still has %s: GraphiQL did not start\n%s", bad, dom)
		}
	}
	// The header editor must be there for admins to paste a token into.
	if !strings.Contains(dom, "graphiql-editor-tool") || !strings.Contains(dom, ">Headers<") {
		t.Errorf("no Headers editor tab in the DOM")
	}
	// Filled with the server's default headers (the demo's token).
	if !strings.Contains(dom, "demo-token-1234") {
		t.Errorf("the Headers editor does not show the default headers")
	}
	for _, r := range reports.all() {
		t.Errorf("Content-Security-Policy violation: %s", r)
	}

	if path := os.Getenv("SWITCHBOARD_EXPLORER_SCREENSHOT"); path != "" {
		runChromium(t, chromium, srv.URL+"/", "--screenshot="+path, "--window-size=1280,800")
		t.Logf("screenshot saved to %s", path)
	}
}
