package server_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/cmd/switchboard/wire"
	"switchboard/internal/testenv"
	"switchboard/server"
)

// TestDrippedBodiesAreCut: connections that send a body a byte at a time
// are answered 408 and closed once BodyTimeout has passed, on every route
// that reads a body, so that they hold nothing.
func TestDrippedBodiesAreCut(t *testing.T) {
	const timeout = 300 * time.Millisecond
	s := testenv.NewServerOn(t, testenv.SQLiteURL(t), func(c *wire.Config) { c.Limits.BodyTimeout = timeout })
	addr := strings.TrimPrefix(s.URL, "http://")
	const conns = 50
	start := time.Now()
	var wg sync.WaitGroup
	ends := make(chan string, conns+1)
	drip := func(path string) {
		defer wg.Done()
		c, err := net.Dial("tcp", addr)
		if err != nil {
			ends <- err.Error()
			return
		}
		defer c.Close()
		fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", path)
		go func() {
			for range 100 {
				time.Sleep(50 * time.Millisecond)
				if _, err := c.Write([]byte(" ")); err != nil {
					return
				}
			}
		}()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		res, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			ends <- "closed without an answer: " + err.Error()
			return
		}
		ends <- fmt.Sprint(res.StatusCode)
	}
	for range conns {
		wg.Add(1)
		go drip("/query")
	}
	wg.Add(1)
	go drip(server.AgentEventsPath)
	wg.Wait()
	close(ends)
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("dripping connections lasted %v; the bound is %v", d, timeout)
	}
	got := map[string]int{}
	for e := range ends {
		got[e]++
	}
	if got["408"] != conns {
		t.Errorf("GraphQL answers: %v, want %d × 408", got, conns)
	}
}

// TestCORS: browsers of the allowed origins may query over HTTP, preflight
// included; other origins get no CORS headers, and without the setting
// none does.
func TestCORS(t *testing.T) {
	const desk = "https://desk.example.com"
	s := testenv.NewServerOn(t, testenv.SQLiteURL(t), func(c *wire.Config) { c.AllowedOrigins = []string{desk} })
	closed := testenv.NewServerOn(t, testenv.SQLiteURL(t))
	a := s.NewTenant(t, "Acme")
	b := closed.NewTenant(t, "Globex")

	preflight := func(s *testenv.Server, origin string) *http.Response {
		req, _ := http.NewRequest(http.MethodOptions, s.URL+"/query", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		res, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	post := func(s *testenv.Server, origin, token string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", strings.NewReader(`{"query":"{ viewer { email } }"}`))
		req.Header.Set("Origin", origin)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}

	res := preflight(s, desk)
	if res.Header.Get("Access-Control-Allow-Origin") != desk ||
		!strings.Contains(strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")), "authorization") ||
		!strings.Contains(res.Header.Get("Access-Control-Allow-Methods"), "POST") {
		t.Fatalf("preflight of the allowed origin: %d %v", res.StatusCode, res.Header)
	}
	res = post(s, desk, a.AdminToken)
	if res.StatusCode != http.StatusOK || res.Header.Get("Access-Control-Allow-Origin") != desk ||
		!strings.Contains(res.Header.Get("Access-Control-Expose-Headers"), "Retry-After") {
		t.Fatalf("query from the allowed origin: %d %v", res.StatusCode, res.Header)
	}
	for _, c := range []struct {
		name   string
		s      *testenv.Server
		origin string
		token  string
	}{
		{"another origin", s, "https://evil.example", a.AdminToken},
		{"an origin like the allowed one", s, desk + ".evil.example", a.AdminToken},
		{"no origin allowed (default), another tenant", closed, desk, b.AdminToken},
	} {
		if res := preflight(c.s, c.origin); res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: preflight allowed: %v", c.name, res.Header)
		}
		if res := post(c.s, c.origin, c.token); res.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%s: answer readable: %v", c.name, res.Header)
		}
	}
}

// TestRequestTimeout: a request over RequestTimeout ends with an error and
// no data, rather than holding its connection and the store.
func TestRequestTimeout(t *testing.T) {
	s := testenv.NewServerOn(t, testenv.SQLiteURL(t), func(c *wire.Config) { c.Limits.RequestTimeout = time.Nanosecond })
	tok := s.OperatorToken(t)
	r := s.Do(t, tok, `{ tenants { totalCount } }`, nil)
	if r.Code() != "TIMEOUT" || r.Data != nil && string(r.Data) != "null" {
		t.Fatalf("got %d %s %+v", r.Status, r.Data, r.Errors)
	}
}
