// Package clienttest runs the real graphql-ws JavaScript client (the npm
// package graphql-ws, pinned in clienttest/package-lock.json) against a
// server under test, so that Go tests can check what a browser-side client
// of the graphql-transport-ws protocol actually sees.
//
// Start runs clienttest/subscribe.mjs with Node.js: it connects with
// connectionParams {Authorization: "Bearer <token>"}, subscribes to one
// operation and prints one JSON line per event, which Start decodes into
// Events. Audit runs clienttest/audit.mjs, graphql-http's GraphQL-over-HTTP
// audits (the npm package graphql-http, pinned likewise), against an HTTP
// endpoint. Ensure installs the npm packages (npm ci) when they are missing.
//
// Without node or npm the tests using this package are skipped, unless
// SWITCHBOARD_REQUIRE_NODE=1 is set, which makes them fail instead (set it
// in CI so that a broken Node.js setup cannot pass unnoticed).
package clienttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"
)

// RequireNodeEnv is the environment variable that turns a missing Node.js
// setup from a skipped test into a failed one.
const RequireNodeEnv = "SWITCHBOARD_REQUIRE_NODE"

// minNodeMajor is the oldest Node.js major version graphql-ws 6 supports.
const minNodeMajor = 20

// npmTimeout bounds npm ci.
const npmTimeout = 5 * time.Minute

// Event is one line printed by subscribe.mjs.
type Event struct {
	// Type is "connected" (connection_ack received), "next", "error",
	// "complete" or "closed" (the socket closed).
	Type string `json:"type"`
	// Payload is the execution result of a next event.
	Payload json.RawMessage `json:"payload,omitempty"`
	// Errors are the GraphQL errors of an error message from the server.
	Errors json.RawMessage `json:"errors,omitempty"`
	// Message describes an error that is neither a server error message
	// nor a close.
	Message string `json:"message,omitempty"`
	// Code and Reason are the close code and reason of a closed event, and
	// of an error event caused by the socket closing.
	Code   int    `json:"code,omitempty"`
	Reason string `json:"reason,omitempty"`
}

// Options configure a client run.
type Options struct {
	URL   string // ws://host:port/path
	Token string // sent as "Bearer <Token>"; empty sends no Authorization
	Query string
	// Variables of the operation; nil sends none.
	Variables map[string]any
	// MaxEvents makes the client dispose of itself and exit 0 after that
	// many next events; 0 means no limit.
	MaxEvents int
	// RetryAttempts is graphql-ws' retryAttempts; the default 0 makes the
	// first close final, so that its code is reported.
	RetryAttempts int
	// Timeout makes the client give up (exit status 2); 0 means a minute.
	Timeout time.Duration
}

// Client is a running subscribe.mjs process.
type Client struct {
	// Events delivers the decoded events in order; it is closed once the
	// process has exited.
	Events <-chan Event

	done chan struct{}

	mu        sync.Mutex
	closeCode int
	waitErr   error
	stderr    bytes.Buffer
}

// Start subscribes to query with vars on url, authenticating with token, and
// returns the running client. vars may be nil. The test is skipped (or
// failed, see RequireNodeEnv) if Node.js is unavailable. The process is
// stopped when the test ends.
func Start(t testing.TB, url, token, query string, vars map[string]any) *Client {
	t.Helper()
	return StartWith(t, Options{URL: url, Token: token, Query: query, Variables: vars})
}

// StartWith is Start with all options.
func StartWith(t testing.TB, opts Options) *Client {
	t.Helper()
	dir := Ensure(t)

	env := append(os.Environ(),
		"URL="+opts.URL,
		"TOKEN="+opts.Token,
		"QUERY="+opts.Query,
		"MAX_EVENTS="+strconv.Itoa(opts.MaxEvents),
		"RETRY_ATTEMPTS="+strconv.Itoa(opts.RetryAttempts),
		"VARIABLES=",
	)
	if opts.Variables != nil {
		vars, err := json.Marshal(opts.Variables)
		if err != nil {
			t.Fatalf("clienttest: encoding variables: %v", err)
		}
		env[len(env)-1] = "VARIABLES=" + string(vars)
	}
	if opts.Timeout > 0 {
		env = append(env, "TIMEOUT_MS="+strconv.FormatInt(opts.Timeout.Milliseconds(), 10))
	}

	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("clienttest: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, node, "subscribe.mjs")
	cmd.Dir = dir
	cmd.Env = env
	cmd.WaitDelay = 5 * time.Second
	c := &Client{done: make(chan struct{})}
	cmd.Stderr = &lockedWriter{mu: &c.mu, w: &c.stderr}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		t.Fatalf("clienttest: %v", err)
	}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("clienttest: starting node: %v", err)
	}

	events := make(chan Event, 1024)
	c.Events = events
	go func() {
		defer close(c.done)
		defer close(events)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			var ev Event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev = Event{Type: "invalid", Message: sc.Text()}
			}
			if ev.Type == "closed" {
				c.mu.Lock()
				c.closeCode = ev.Code
				c.mu.Unlock()
			}
			events <- ev
		}
		err := cmd.Wait()
		c.mu.Lock()
		c.waitErr = err
		c.mu.Unlock()
	}()
	t.Cleanup(func() {
		cancel()
		for range c.Events { // unblock the reader if nobody took the events
		}
		<-c.done
	})
	return c
}

// Next returns the next event, failing the test if none arrives within
// timeout or the process exited.
func (c *Client) Next(t testing.TB, timeout time.Duration) Event {
	t.Helper()
	select {
	case ev, ok := <-c.Events:
		if !ok {
			code, err := c.Wait()
			t.Fatalf("clienttest: client exited (%v, last close code %d) while an event was expected; stderr:\n%s", err, code, c.Stderr())
		}
		return ev
	case <-time.After(timeout):
		t.Fatalf("clienttest: no event within %v; stderr:\n%s", timeout, c.Stderr())
	}
	return Event{}
}

// Wait waits for the process to exit, discarding events not yet received,
// and returns the code of the last close the client saw (0 if none) and the
// process' exit error (nil for exit status 0).
func (c *Client) Wait() (closeCode int, err error) {
	for range c.Events {
	}
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closeCode, c.waitErr
}

// Stderr returns what the process wrote to stderr so far.
func (c *Client) Stderr() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stderr.String()
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

// Ensure checks that Node.js is available and that the harness' npm
// packages are installed, running `npm ci --no-audit --no-fund` in
// clienttest/ when node_modules is missing or older than package-lock.json.
// It returns the clienttest directory. Without a usable node or npm the test
// is skipped, or failed if SWITCHBOARD_REQUIRE_NODE=1.
func Ensure(t testing.TB) string {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatalf("clienttest: %v", err)
	}
	dir := filepath.Join(root, "clienttest")

	node, err := exec.LookPath("node")
	if err != nil {
		unavailable(t, "node not found in PATH (Node.js %d or newer is needed)", minNodeMajor)
	}
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		unavailable(t, "running %s --version: %v", node, err)
	}
	if major, ok := nodeMajor(string(out)); !ok || major < minNodeMajor {
		unavailable(t, "node %s is too old: graphql-ws 6 needs Node.js %d or newer", bytes.TrimSpace(out), minNodeMajor)
	}

	installMu.Lock()
	defer installMu.Unlock()
	if !needsInstall(dir) {
		return dir
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		unavailable(t, "node_modules is missing in %s and npm is not in PATH", dir)
	}
	// Other test binaries (go test runs packages in parallel) may install
	// at the same time.
	unlock, err := lockDir(dir)
	if err != nil {
		t.Fatalf("clienttest: %v", err)
	}
	defer unlock()
	if !needsInstall(dir) {
		return dir
	}
	ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		unavailable(t, "npm ci in %s failed: %v\n%s", dir, err, out)
	}
	if needsInstall(dir) {
		t.Fatalf("clienttest: npm ci in %s did not install graphql-ws and graphql-http", dir)
	}
	return dir
}

var installMu sync.Mutex

func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv(RequireNodeEnv) == "1" {
		t.Fatalf("clienttest: %s (%s=1)", msg, RequireNodeEnv)
	}
	t.Skipf("clienttest: %s; skipping (set %s=1 to fail instead)", msg, RequireNodeEnv)
}

var nodeVersion = regexp.MustCompile(`^v(\d+)\.`)

func nodeMajor(version string) (int, bool) {
	m := nodeVersion.FindStringSubmatch(string(bytes.TrimSpace([]byte(version))))
	if m == nil {
		return 0, false
	}
	major, err := strconv.Atoi(m[1])
	return major, err == nil
}

// needsInstall reports whether npm ci has to run: npm's record of what it
// installed (node_modules/.package-lock.json) is missing or older than
// package-lock.json, or graphql-ws or graphql-http is not there.
func needsInstall(dir string) bool {
	installed, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json"))
	if err != nil {
		return true
	}
	for _, pkg := range []string{"graphql-ws", "graphql-http"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			return true
		}
	}
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return true
	}
	return installed.ModTime().Before(lock.ModTime())
}

// repoRoot walks up from the working directory to the directory holding
// go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod found above the working directory")
		}
		dir = parent
	}
}
