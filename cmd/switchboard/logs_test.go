package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard/auth"
)

// TestServeLogsNoSecrets runs the command with its secrets in the
// configuration and logging at debug level (JSON, the default), sends it
// good and failing requests carrying tokens, and greps everything it logged
// for each secret; the logs are JSON lines with an access log line per
// request.
func TestServeLogsNoSecrets(t *testing.T) {
	const (
		jwtSecret     = "jwt-secret-for-the-log-test-0123456789"
		encryptionKey = "encryption-key-for-the-log-test-0123456789"
	)
	dir := t.TempDir()
	m := map[string]string{
		"SWITCHBOARD_DATABASE_URL":   "sqlite://" + filepath.Join(dir, "switchboard.db"),
		"SWITCHBOARD_JWT_SECRET":     jwtSecret,
		"SWITCHBOARD_ENCRYPTION_KEY": encryptionKey,
		"SWITCHBOARD_LOG_LEVEL":      "debug",
	}
	ctx, cancel := context.WithCancel(context.Background())
	out, logs := &syncBuffer{}, &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "-addr", "127.0.0.1:0"}, quickShutdown(env(m)), out, logs) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop")
		}
	}()
	line := servedLine(t, out, done, "switchboard is serving on ")
	base := strings.Fields(strings.TrimPrefix(line, "switchboard is serving on "))[0]
	get(t, base+"healthz", http.StatusOK)

	op, err := auth.Mint([]byte(jwtSecret), auth.Claims{Email: "op@platform.example", Role: auth.RoleOperator}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	forged, _ := auth.Mint([]byte("another-secret-another-secret-0123"), auth.Claims{Email: "x@y.example", Role: auth.RoleOperator}, time.Hour, time.Now())
	if r := postQuery(t, base+"query", op, `query Tenants { tenants(first: 1) { totalCount } }`); len(r.Errors) > 0 {
		t.Fatalf("operator query: %+v", r.Errors)
	}
	if r := postQuery(t, base+"query", forged, `{ viewer { role } }`); len(r.Errors) == 0 {
		t.Fatal("a forged token was accepted")
	}
	postQuery(t, base+"query", op, `{ noSuchField }`)
	for _, body := range []string{`{`, `{"query": 7}`} {
		req, _ := http.NewRequest(http.MethodPost, base+"query", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+op)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}
	cancel()
	<-done
	done <- nil // for the deferred stop

	text := logs.String()
	access := 0
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		var l map[string]any
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("a log line is not JSON: %q", sc.Text())
		}
		if l["msg"] == "http request" {
			access++
		}
	}
	if access < 5 {
		t.Fatalf("%d access log lines:\n%s", access, text)
	}
	for what, s := range map[string]string{"JWT secret": jwtSecret, "encryption key": encryptionKey, "operator token": op, "forged token": forged} {
		if strings.Contains(text, s) {
			t.Errorf("the %s is in the logs", what)
		}
	}
	if t.Failed() {
		t.Log(text)
	}
}
