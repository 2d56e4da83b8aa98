package server_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/auth"
	"switchboard/cmd/switchboard/wire"
	"switchboard/internal/testenv"
	"switchboard/server"
)

// TestRateLimitedOverHTTPAndWebSocket: a person who sends faster than the
// rate gets 429 with Retry-After and RATE_LIMITED over HTTP, and the same
// code on a WebSocket operation, which leaves the connection open; another
// tenant's people are not slowed.
func TestRateLimitedOverHTTPAndWebSocket(t *testing.T) {
	s := testenv.NewServerOn(t, testenv.SQLiteURL(t), func(c *wire.Config) {
		c.Limits.RatePerPerson, c.Limits.RatePerTenant = 1, 1000
	})
	a := s.NewTenant(t, "Acme")
	b := s.NewTenant(t, "Globex")
	_, ann := s.NewAgent(t, a, "Ann", "ann@acme.test", auth.RoleAgent)
	ws := s.DialWS(t, ann)

	var limited *http.Response
	for i := 0; i < 20 && limited == nil; i++ {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", strings.NewReader(`{"query":"{ viewer { email } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+ann)
		res, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode == http.StatusTooManyRequests {
			limited = res
		}
	}
	if limited == nil {
		t.Fatal("20 requests at once at a rate of one a second were all served")
	}
	if s, err := strconv.Atoi(limited.Header.Get("Retry-After")); err != nil || s < 1 || s > 3 {
		t.Fatalf("Retry-After %q", limited.Header.Get("Retry-After"))
	}
	if r := s.Do(t, ann, `{ viewer { email } }`, nil); r.Status != http.StatusTooManyRequests || r.Code() != "RATE_LIMITED" {
		t.Fatalf("over the rate: %d %+v", r.Status, r.Errors)
	}
	ws.Subscribe("1", `{ viewer { email } }`, nil)
	if m := ws.Read(5 * time.Second); m.Type != "next" || !strings.Contains(string(m.Payload), `"RATE_LIMITED"`) {
		t.Fatalf("over the rate on a WebSocket: %+v %s", m, m.Payload)
	}
	for range server.BurstSeconds { // B's admin's own burst
		if r := s.Do(t, b.AdminToken, `{ viewer { email } }`, nil); len(r.Errors) > 0 {
			t.Fatalf("another tenant was slowed: %+v", r.Errors)
		}
	}
	time.Sleep(1100 * time.Millisecond)
	if r := s.Do(t, ann, `{ viewer { email } }`, nil); len(r.Errors) > 0 {
		t.Fatalf("a second later: %+v", r.Errors)
	}
}
