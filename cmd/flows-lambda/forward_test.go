package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"switchboard/flows"
)

// testKey is shaped like a real flows key (flows.KeyPrefix and 43
// characters of base64url).
const testKey = "sbf_3yQm7Zp1VqK0c9X2wR8tL5nB6hJ4dF0sA1gE7uIoP2M"

// scheduleEventJSON is a contact flow's event as Amazon Connect sends it
// (the Lambda developer guide's sample, filled in), fields the
// events.ConnectEvent type does not know included.
const scheduleEventJSON = `{
  "Details": {
    "ContactData": {
      "Attributes": {"language": "en-AU", "callerType": "returning"},
      "AwsRegion": "ap-southeast-2",
      "Channel": "VOICE",
      "ContactId": "4a573372-1f28-4e26-b97b-6f2e0b2a4e11",
      "CustomerEndpoint": {"Address": "+61255501234", "Type": "TELEPHONE_NUMBER"},
      "CustomerId": null,
      "Description": null,
      "InitialContactId": "4a573372-1f28-4e26-b97b-6f2e0b2a4e11",
      "InitiationMethod": "INBOUND",
      "InstanceARN": "arn:aws:connect:ap-southeast-2:123456789012:instance/c8c0e68d-2200-4265-82c0-5b1f3d9a7e20",
      "LanguageCode": "en-US",
      "MediaStreams": {"Customer": {"Audio": null}},
      "Name": null,
      "PreviousContactId": "4a573372-1f28-4e26-b97b-6f2e0b2a4e11",
      "Queue": {
        "ARN": "arn:aws:connect:ap-southeast-2:123456789012:instance/c8c0e68d-2200-4265-82c0-5b1f3d9a7e20/queue/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
        "Name": "Main line"
      },
      "References": {},
      "SystemEndpoint": {"Address": "+61280001234", "Type": "TELEPHONE_NUMBER"},
      "Tags": {"aws:connect:instanceId": "c8c0e68d-2200-4265-82c0-5b1f3d9a7e20"}
    },
    "Parameters": {"action": "schedule", "schedule": "Main line"}
  },
  "Name": "ContactFlowEvent"
}`

func connectEvent(t *testing.T, parameters map[string]string) events.ConnectEvent {
	t.Helper()
	var ev events.ConnectEvent
	if err := json.Unmarshal([]byte(scheduleEventJSON), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Name != "ContactFlowEvent" || ev.Details.ContactData.Channel != "VOICE" ||
		ev.Details.ContactData.CustomerEndpoint.Type != "TELEPHONE_NUMBER" {
		t.Fatalf("sample event decoded as %+v", ev)
	}
	if parameters != nil {
		ev.Details.Parameters = parameters
	}
	return ev
}

// switchboard is a stand-in for switchboard's /flows that checks every
// request as the real one would need it and answers with reply, given the
// attempt's number (1, 2, ...).
type switchboard struct {
	*httptest.Server
	requests atomic.Int32
}

func newSwitchboard(t *testing.T, path string, want events.ConnectEvent, reply func(w http.ResponseWriter, r *http.Request, attempt int)) *switchboard {
	t.Helper()
	s := &switchboard{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(s.requests.Add(1))
		if r.Method != http.MethodPost {
			t.Errorf("method %s, want POST", r.Method)
		}
		if r.URL.Path != path {
			t.Errorf("path %q, want %q", r.URL.Path, path)
		}
		if got := r.Header.Get(flows.KeyHeader); got != testKey {
			t.Errorf("%s header %q, want the flows key", flows.KeyHeader, got)
		}
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type %q, want application/json", got)
		}
		var got events.ConnectEvent
		if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
			t.Errorf("body does not decode as a ConnectEvent: %v", err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("forwarded event differs (-sent +received):\n%s", d)
		}
		if got.Details.ContactData.ContactID == "" || len(got.Details.Parameters) == 0 {
			t.Errorf("forwarded event lost its ContactId or Parameters: %+v", got.Details)
		}
		reply(w, r, n)
	}))
	t.Cleanup(s.Close)
	return s
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func respond(status int, body string) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}
}

func TestForwardReplies(t *testing.T) {
	schedule := map[string]string{"action": "schedule", "schedule": "Main line"}
	parameters := map[string]string{"action": "parameters", "group": "Holidays"}
	for _, tc := range []struct {
		name         string
		parameters   map[string]string
		reply        func(http.ResponseWriter, *http.Request, int)
		want         events.ConnectResponse
		wantErr      string // a part of the error; "" for none
		wantRequests int
	}{{
		name:       "schedule",
		parameters: schedule,
		reply:      respond(200, `{"open":"true","reason":"opening hours","nextChangeAt":"2026-12-03T17:00:00+11:00","schedule":"Main line"}`),
		want: events.ConnectResponse{
			"open": "true", "reason": "opening hours", "nextChangeAt": "2026-12-03T17:00:00+11:00", "schedule": "Main line",
		},
		wantRequests: 1,
	}, {
		name:         "parameters",
		parameters:   parameters,
		reply:        respond(200, `{"greeting":"Merry Christmas from Acme","overflowQueue":"Overflow","closed":"false"}`),
		want:         events.ConnectResponse{"greeting": "Merry Christmas from Acme", "overflowQueue": "Overflow", "closed": "false"},
		wantRequests: 1,
	}, {
		name:         "empty group",
		parameters:   parameters,
		reply:        respond(200, `{}`),
		want:         events.ConnectResponse{},
		wantRequests: 1,
	}, {
		name:         "unknown schedule is a reply, not an error",
		parameters:   map[string]string{"action": "schedule", "schedule": "Nowhere"},
		reply:        respond(404, `{"error":"no schedule named \"Nowhere\""}`),
		want:         events.ConnectResponse{"found": "false", "status": "404", "error": `no schedule named "Nowhere"`},
		wantRequests: 1,
	}, {
		name:         "404 without a JSON body",
		parameters:   parameters,
		reply:        respond(404, `not here`),
		want:         events.ConnectResponse{"found": "false", "status": "404", "error": "Not Found"},
		wantRequests: 1,
	}, {
		name:         "wrong key",
		parameters:   schedule,
		reply:        respond(401, `{"error":"unknown flows key"}`),
		wantErr:      "401: unknown flows key",
		wantRequests: 1,
	}, {
		name:         "unsubscribed tenant",
		parameters:   schedule,
		reply:        respond(403, `{"error":"subscription ended"}`),
		wantErr:      "403: subscription ended",
		wantRequests: 1,
	}, {
		name:         "other 4xx is an error, not retried",
		parameters:   map[string]string{"action": "dance"},
		reply:        respond(400, `{"error":"unknown action \"dance\""}`),
		wantErr:      `400: unknown action "dance"`,
		wantRequests: 1,
	}, {
		name:         "500 is an error, not retried",
		parameters:   schedule,
		reply:        respond(500, `{"error":"internal error"}`),
		wantErr:      "500: internal error",
		wantRequests: 1,
	}, {
		name:       "503 then 200 is retried once",
		parameters: schedule,
		reply: func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				respond(503, `{"error":"starting"}`)(w, r, n)
				return
			}
			respond(200, `{"open":"false","reason":"closed","schedule":"Main line"}`)(w, r, n)
		},
		want:         events.ConnectResponse{"open": "false", "reason": "closed", "schedule": "Main line"},
		wantRequests: 2,
	}, {
		name:         "503 twice is an error",
		parameters:   schedule,
		reply:        respond(503, `{"error":"starting"}`),
		wantErr:      "503: starting",
		wantRequests: 2,
	}, {
		name:       "502 then 504 is an error after one retry",
		parameters: schedule,
		reply: func(w http.ResponseWriter, r *http.Request, n int) {
			respond(502-2*(1-n), `bad gateway`)(w, r, n)
		},
		wantErr:      "504: Gateway Timeout",
		wantRequests: 2,
	}, {
		name:       "dropped connection is retried",
		parameters: schedule,
		reply: func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 1 {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				conn.Close()
				return
			}
			respond(200, `{"open":"true"}`)(w, r, n)
		},
		want:         events.ConnectResponse{"open": "true"},
		wantRequests: 2,
	}, {
		name:         "non-string value",
		parameters:   parameters,
		reply:        respond(200, `{"greeting":"hello","maxWait":30}`),
		wantErr:      `the value of "maxWait" is a number, not a string`,
		wantRequests: 1,
	}, {
		name:         "nested value",
		parameters:   parameters,
		reply:        respond(200, `{"greeting":{"en":"hello"}}`),
		wantErr:      `the value of "greeting" is an object`,
		wantRequests: 1,
	}, {
		name:         "null value",
		parameters:   parameters,
		reply:        respond(200, `{"greeting":null}`),
		wantErr:      `the value of "greeting" is null`,
		wantRequests: 1,
	}, {
		name:         "array body",
		parameters:   parameters,
		reply:        respond(200, `["hello"]`),
		wantErr:      "not a JSON object",
		wantRequests: 1,
	}, {
		name:         "null body",
		parameters:   parameters,
		reply:        respond(200, `null`),
		wantErr:      "not a JSON object",
		wantRequests: 1,
	}, {
		name:         "trailing data",
		parameters:   parameters,
		reply:        respond(200, `{"a":"b"} {"c":"d"}`),
		wantErr:      "data after its JSON object",
		wantRequests: 1,
	}, {
		name:         "oversized body",
		parameters:   parameters,
		reply:        respond(200, `{"a":"`+strings.Repeat("x", 70<<10)+`"}`),
		wantErr:      "larger than 64 KiB",
		wantRequests: 1,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			ev := connectEvent(t, tc.parameters)
			sb := newSwitchboard(t, "/flows", ev, tc.reply)
			var logs bytes.Buffer
			f := newForwarder(env(map[string]string{"SWITCHBOARD_URL": sb.URL, "SWITCHBOARD_FLOWS_KEY": testKey}), &logs)

			got, err := f.handle(context.Background(), ev)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q (reply %v)", err, tc.wantErr, got)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("reply (-want +got):\n%s", d)
			}
			if n := int(sb.requests.Load()); n != tc.wantRequests {
				t.Errorf("%d requests, want %d", n, tc.wantRequests)
			}
			line := logs.String()
			if strings.Count(line, "\n") != 1 || !strings.Contains(line, "action="+tc.parameters["action"]) ||
				!strings.Contains(line, "contact=4a573372-1f28-4e26-b97b-6f2e0b2a4e11") || !strings.Contains(line, "duration=") {
				t.Errorf("log %q, want one line with the action, contact and duration", line)
			}
			if strings.Contains(line, testKey) || (err != nil && strings.Contains(err.Error(), testKey)) {
				t.Errorf("the key leaked: log %q, error %v", line, err)
			}
		})
	}
}

// TestLogLine pins the line's fields, which CloudWatch Logs Insights
// queries parse.
func TestLogLine(t *testing.T) {
	ev := connectEvent(t, nil)
	sb := newSwitchboard(t, "/flows", ev, func(w http.ResponseWriter, r *http.Request, n int) {
		if n == 1 {
			respond(503, `{}`)(w, r, n)
			return
		}
		respond(200, `{"open":"true"}`)(w, r, n)
	})
	var logs bytes.Buffer
	f := newForwarder(env(map[string]string{"SWITCHBOARD_URL": sb.URL, "SWITCHBOARD_FLOWS_KEY": testKey}), &logs)
	if _, err := f.handle(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	want := "level=INFO msg=flows action=schedule contact=4a573372-1f28-4e26-b97b-6f2e0b2a4e11 status=200 attempts=2 duration="
	if line := logs.String(); !strings.HasPrefix(line, want) {
		t.Errorf("log %q, want it to begin %q", line, want)
	}
}

func TestSlowServerTimesOut(t *testing.T) {
	ev := connectEvent(t, nil)
	slow := func(w http.ResponseWriter, r *http.Request, n int) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}
	t.Run("SWITCHBOARD_TIMEOUT", func(t *testing.T) {
		sb := newSwitchboard(t, "/flows", ev, slow)
		var logs bytes.Buffer
		f := newForwarder(env(map[string]string{
			"SWITCHBOARD_URL": sb.URL, "SWITCHBOARD_FLOWS_KEY": testKey, "SWITCHBOARD_TIMEOUT": "300ms",
		}), &logs)
		start := time.Now()
		_, err := f.handle(context.Background(), ev)
		took := time.Since(start)
		if err == nil || !strings.Contains(err.Error(), "did not answer in time") {
			t.Fatalf("error %v, want a timeout", err)
		}
		if took < 300*time.Millisecond || took > 800*time.Millisecond {
			t.Errorf("took %s, want about the 300ms timeout", took)
		}
		if n := sb.requests.Load(); n != 1 {
			t.Errorf("%d requests, want 1: a timeout is not retried", n)
		}
		if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "status=0") {
			t.Errorf("log %q", logs.String())
		}
	})
	t.Run("invocation deadline", func(t *testing.T) {
		sb := newSwitchboard(t, "/flows", ev, slow)
		f := newForwarder(env(map[string]string{"SWITCHBOARD_URL": sb.URL, "SWITCHBOARD_FLOWS_KEY": testKey}), &bytes.Buffer{})
		ctx, cancel := context.WithTimeout(context.Background(), 600*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := f.handle(ctx, ev)
		took := time.Since(start)
		if err == nil || ctx.Err() != nil {
			t.Fatalf("error %v after %s (context: %v), want an error before the invocation's deadline", err, took, ctx.Err())
		}
		if took < 300*time.Millisecond {
			t.Errorf("took %s, want about 600ms less the reply margin", took)
		}
	})
}

// TestNoRetryWithoutTime: a 503 is not retried when the invocation's
// deadline is too close for a second attempt.
func TestNoRetryWithoutTime(t *testing.T) {
	ev := connectEvent(t, nil)
	sb := newSwitchboard(t, "/flows", ev, respond(503, `{"error":"starting"}`))
	f := newForwarder(env(map[string]string{"SWITCHBOARD_URL": sb.URL, "SWITCHBOARD_FLOWS_KEY": testKey}), &bytes.Buffer{})
	ctx, cancel := context.WithTimeout(context.Background(), replyMargin+500*time.Millisecond)
	defer cancel()
	if _, err := f.handle(ctx, ev); err == nil || !strings.Contains(err.Error(), "503") {
		t.Fatalf("error %v, want the 503", err)
	}
	if n := sb.requests.Load(); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestBaseURL(t *testing.T) {
	for _, tc := range []struct{ base, path string }{
		{"", "/flows"},
		{"/", "/flows"},
		{"/switchboard", "/switchboard/flows"},
		{"/switchboard/", "/switchboard/flows"},
	} {
		t.Run(tc.base, func(t *testing.T) {
			ev := connectEvent(t, nil)
			sb := newSwitchboard(t, tc.path, ev, respond(200, `{"open":"true"}`))
			f := newForwarder(env(map[string]string{"SWITCHBOARD_URL": sb.URL + tc.base, "SWITCHBOARD_FLOWS_KEY": testKey}), &bytes.Buffer{})
			got, err := f.handle(context.Background(), ev)
			if err != nil || got["open"] != "true" {
				t.Fatalf("reply %v, error %v", got, err)
			}
		})
	}
}

func TestConfig(t *testing.T) {
	ok := map[string]string{"SWITCHBOARD_URL": "https://switchboard.example.com/", "SWITCHBOARD_FLOWS_KEY": testKey}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for k, v := range ok {
			m[k] = v
		}
		m[k] = v
		return m
	}
	for _, tc := range []struct {
		name    string
		env     map[string]string
		wantErr string
	}{
		{"nothing set", map[string]string{}, "SWITCHBOARD_URL is not set"},
		{"nothing set says all", map[string]string{}, "SWITCHBOARD_FLOWS_KEY is not set"},
		{"no URL", with("SWITCHBOARD_URL", ""), "SWITCHBOARD_URL is not set"},
		{"not a URL", with("SWITCHBOARD_URL", "::nope"), "does not parse"},
		{"not http", with("SWITCHBOARD_URL", "ftp://switchboard.example.com"), "must begin with https://"},
		{"host name alone", with("SWITCHBOARD_URL", "switchboard.example.com"), "must begin with https://"},
		{"no host", with("SWITCHBOARD_URL", "https:///flows"), "has no host"},
		{"credentials in URL", with("SWITCHBOARD_URL", "https://me:secret@switchboard.example.com"), "must not hold a user or password"},
		{"query", with("SWITCHBOARD_URL", "https://switchboard.example.com/?x=1"), "query"},
		{"no key", with("SWITCHBOARD_FLOWS_KEY", " "), "SWITCHBOARD_FLOWS_KEY is not set"},
		{"key with a space", with("SWITCHBOARD_FLOWS_KEY", "sbf_abc def"), "characters a header cannot carry"},
		{"bad timeout", with("SWITCHBOARD_TIMEOUT", "soon"), "not a duration"},
		{"zero timeout", with("SWITCHBOARD_TIMEOUT", "0s"), "more than 0"},
		{"timeout beyond Connect's", with("SWITCHBOARD_TIMEOUT", "10s"), "at most 8s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			f := newForwarder(env(tc.env), &logs) // must not panic
			got, err := f.handle(context.Background(), connectEvent(t, nil))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "misconfigured") {
				t.Fatalf("reply %v, error %v, want one containing %q", got, err, tc.wantErr)
			}
			if !strings.Contains(logs.String(), "misconfigured") {
				t.Errorf("log %q, want the error", logs.String())
			}
			if strings.Contains(err.Error(), "secret") || strings.Contains(logs.String(), "secret") {
				t.Errorf("a password leaked: %v", err)
			}
		})
	}

	for raw, want := range map[string]time.Duration{"": 3 * time.Second, "2500ms": 2500 * time.Millisecond, "2": 2 * time.Second, "1.5": 1500 * time.Millisecond, "8s": 8 * time.Second} {
		c, err := loadConfig(env(with("SWITCHBOARD_TIMEOUT", raw)))
		if err != nil || c.timeout != want {
			t.Errorf("SWITCHBOARD_TIMEOUT %q: %v, %v; want %v", raw, c.timeout, err, want)
		}
	}
	c, err := loadConfig(env(ok))
	if err != nil || c.endpoint != "https://switchboard.example.com/flows" || c.key != testKey {
		t.Errorf("config %+v, %v", c, err)
	}
}

// TestKeyHeader holds the header to the one switchboard reads.
func TestKeyHeader(t *testing.T) {
	if keyHeader != flows.KeyHeader {
		t.Errorf("keyHeader %q, switchboard reads %q", keyHeader, flows.KeyHeader)
	}
	if !strings.HasPrefix(testKey, flows.KeyPrefix) || len(testKey) != len(flows.KeyPrefix)+43 {
		t.Errorf("testKey is not shaped like a flows key")
	}
}
