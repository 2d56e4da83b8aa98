package server_test

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"switchboard/internal/testenv"
)

// FuzzQueryBody posts arbitrary bodies, with arbitrary content types, to
// /query, with and without a token: whatever a client sends is answered
// without a 5xx or an ERROR log line, as JSON; an answer other than 200
// has errors, and every error carries a contract code.
func FuzzQueryBody(f *testing.F) {
	const multipart = "multipart/form-data; boundary=b"
	for _, s := range []struct {
		contentType, body string
	}{
		{"application/json", `{"query":"{ viewer { id } }"}`},
		{"application/json", `{"query":"query($n: Int) { agents(first: $n) { totalCount } }","variables":{"n":-1}}`},
		{"application/json", `{"query":"{ agents(after: \"x\") { totalCount } }"}`},
		{"application/json", `{"query":"mutation { __typename }","operationName":"nope"}`},
		{"application/json", `{"extensions":{"persistedQuery":{"version":1,"sha256Hash":"00"}}}`},
		{"application/json", `{"query":"{ __schema { types { name } } }"}`},
		{"application/json", `{"query":7}`},
		{"application/json", `{"query":"{ viewer { id } }","variables":[]}`},
		{"application/json", `[]`},
		{"application/json", `{`},
		{"application/json", ``},
		{"application/json; charset=utf-16", `{"query":"{ viewer { id } }"}`},
		{"application/graphql-response+json", `{"query":"{ viewer { id } }"}`},
		{"text/plain", `{ viewer { id } }`},
		{"", `{"query":"{ viewer { id } }"}`},
		{"application/x-www-form-urlencoded", `query=%7B+viewer+%7B+id+%7D+%7D`},
		{multipart, "--b\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n" +
			`{"query":"mutation($f: Upload!) { __typename }","variables":{"f":null}}` +
			"\r\n--b\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n" + `{"0":["variables.f"]}` +
			"\r\n--b\r\nContent-Disposition: form-data; name=\"0\"; filename=\"a.txt\"\r\n\r\nhello\r\n--b--\r\n"},
		{multipart, "--b\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n{}\r\n--b--\r\n"},
		{multipart, "not multipart"},
	} {
		f.Add(s.contentType, []byte(s.body), false)
		f.Add(s.contentType, []byte(s.body), true)
	}
	var logs logCapture
	s := testenv.NewServerOn(f, testenv.SQLiteURL(f), withLog(&logs))
	admin := s.NewTenant(f, "Acme").AdminToken
	f.Fuzz(func(t *testing.T, contentType string, body []byte, authed bool) {
		req := httptest.NewRequest(http.MethodPost, "/query", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if authed {
			req.Header.Set("Authorization", "Bearer "+admin)
		}
		logged := len(logs.String())
		rec := httptest.NewRecorder()
		s.App.ServeHTTP(rec, req) // in process: the listener adds nothing to what is fuzzed, and costs
		res := rec.Result()
		raw := rec.Body.Bytes()
		if res.StatusCode >= 500 {
			t.Fatalf("%q with %q: status %d: %s", body, contentType, res.StatusCode, raw)
		}
		if line := errorLine(logs.String()[logged:]); line != "" {
			t.Fatalf("%q with %q logged an error: %s", body, contentType, line)
		}
		if mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type")); !strings.HasSuffix(mt, "json") {
			t.Fatalf("%q with %q: status %d, Content-Type %q: %s", body, contentType, res.StatusCode, res.Header.Get("Content-Type"), raw)
		}
		var r testenv.Response
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("%q with %q: status %d, not JSON: %s", body, contentType, res.StatusCode, raw)
		}
		if res.StatusCode != http.StatusOK && len(r.Errors) == 0 {
			t.Fatalf("%q with %q: status %d without errors: %s", body, contentType, res.StatusCode, raw)
		}
		for _, e := range r.Errors {
			if c, _ := e.Extensions["code"].(string); c == "" {
				t.Fatalf("%q with %q: status %d, an error without a code: %s", body, contentType, res.StatusCode, raw)
			}
		}
	})
}

// errorLine returns the first ERROR line of logs, or "".
func errorLine(logs string) string {
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "level=ERROR") {
			return line
		}
	}
	return ""
}
