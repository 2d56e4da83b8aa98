package clienttest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"testing"
	"time"
)

// auditTimeout bounds one run of audit.mjs; the audits take well under a
// second against a local server.
const auditTimeout = 2 * time.Minute

// AuditResult is one GraphQL-over-HTTP audit of graphql-http's
// auditServer, as audit.mjs prints it.
type AuditResult struct {
	ID   string `json:"id"`
	Name string `json:"name"` // starts with the requirement: MUST, SHOULD or MAY
	// Status is "ok", or for a failed audit "error" (a MUST), "warn" (a
	// SHOULD) or "notice" (a MAY).
	Status string `json:"status"`
	Reason string `json:"reason,omitempty"`
	// Response is what the server answered to a failed audit.
	Response *AuditResponse `json:"response,omitempty"`
}

// AuditResponse is the HTTP status and body (cut at 2 KiB) of a response
// an audit failed on.
type AuditResponse struct {
	Status int    `json:"status"`
	Body   string `json:"body"`
}

// OK reports whether the audit passed.
func (r AuditResult) OK() bool { return r.Status == "ok" }

// Audit runs graphql-http's auditServer against the GraphQL endpoint at url
// (http://host:port/query) with clienttest/audit.mjs and returns every
// audit's result, passed or not. A non-empty token is sent on every request
// as "Authorization: Bearer <token>". The test fails if the audit could not
// run, and is skipped (or failed, see RequireNodeEnv) if Node.js is
// unavailable.
func Audit(t testing.TB, url, token string) []AuditResult {
	t.Helper()
	dir := Ensure(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("clienttest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), auditTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "audit.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "URL="+url, "TOKEN="+token)
	cmd.WaitDelay = 5 * time.Second
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	// Exit status 1 only says that some audit failed: the results say which.
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("clienttest: audit.mjs: %v; stderr:\n%s", err, stderr.String())
	}

	var results []AuditResult
	total := -1
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		var line struct {
			AuditResult
			Summary *struct {
				Total int `json:"total"`
			} `json:"summary"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("clienttest: audit.mjs printed a line that is not JSON: %s", sc.Text())
		}
		if line.Summary != nil {
			total = line.Summary.Total
			continue
		}
		results = append(results, line.AuditResult)
	}
	if total != len(results) || total == 0 {
		t.Fatalf("clienttest: audit.mjs printed %d results and a summary of %d; stderr:\n%s", len(results), total, stderr.String())
	}
	return results
}
