package server_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"switchboard/clienttest"
	"switchboard/internal/testenv"
)

// TestGraphQLOverHTTPAudit runs graphql-http's GraphQL-over-HTTP audits
// (the npm package, through clienttest) against /query: every MUST, SHOULD
// and MAY must pass, signed in or not. Skipped without Node.js unless
// SWITCHBOARD_REQUIRE_NODE=1.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	s := testenv.NewServer(t, testenv.Backends()[0])
	tn := s.NewTenant(t, "Acme")
	for name, token := range map[string]string{"anonymous": "", "admin": tn.AdminToken} {
		t.Run(name, func(t *testing.T) {
			results := clienttest.Audit(t, s.URL+"/query", token)
			failed := 0
			for _, r := range results {
				if !r.OK() {
					failed++
					t.Errorf("%s %s: %s: %s", r.ID, r.Name, r.Status, r.Reason)
					if r.Response != nil {
						t.Logf("  answered %d: %s", r.Response.Status, r.Response.Body)
					}
				}
			}
			if failed > 0 {
				t.Errorf("%d of %d audits failed", failed, len(results))
			}
		})
	}
}

// A request error (the request never reaches execution) is answered by the
// response's media type: under application/json 200 for a document that
// fails, 400 for a request without a query; under
// application/graphql-response+json 400 for both. Neither has a data entry,
// and the code stays BAD_USER_INPUT. This holds without Node.js, which the
// audit needs.
func TestGraphQLRequestErrors(t *testing.T) {
	s := testenv.NewServer(t, testenv.Backends()[0])
	const (
		asJSON     = "application/json"
		asResponse = "application/graphql-response+json"
	)
	for _, c := range []struct {
		name, accept, body string
		get                bool // the body is the GET's query string
		want               int
	}{
		{"parse failure", asJSON, `{"query":"{"}`, false, http.StatusOK},
		{"parse failure", asResponse, `{"query":"{"}`, false, http.StatusBadRequest},
		{"parse failure", "", `{"query":"{"}`, false, http.StatusOK},
		{"unknown field", asJSON, `{"query":"{ nope }"}`, false, http.StatusOK},
		{"unknown field", asResponse, `{"query":"{ nope }"}`, false, http.StatusBadRequest},
		{"variable coercion", asJSON, `{"query":"query($id: ID!) { node(id: $id) { id } }","variables":{"id":null}}`, false, http.StatusOK},
		{"variable coercion", asResponse, `{"query":"query($id: ID!) { node(id: $id) { id } }","variables":{"id":null}}`, false, http.StatusBadRequest},
		{"empty query", asJSON, `{"query":""}`, false, http.StatusOK},
		{"no query", asJSON, `{"qeury":"{ __typename }"}`, false, http.StatusBadRequest},
		{"no query", asResponse, `{"qeury":"{ __typename }"}`, false, http.StatusBadRequest},
		{"null query", asJSON, `{"query":null}`, false, http.StatusBadRequest},
		{"body not JSON", asJSON, `{`, false, http.StatusBadRequest},
		{"body not JSON", asResponse, `{`, false, http.StatusBadRequest},
		{"GET parse failure", asJSON, "query=" + url.QueryEscape("{"), true, http.StatusOK},
		{"GET parse failure", asResponse, "query=" + url.QueryEscape("{"), true, http.StatusBadRequest},
		{"GET without a query", asJSON, "operationName=x", true, http.StatusBadRequest},
	} {
		method, target, body := http.MethodPost, s.URL+"/query", io.Reader(strings.NewReader(c.body))
		if c.get {
			method, target, body = http.MethodGet, s.URL+"/query?"+c.body, nil
		}
		req, _ := http.NewRequest(method, target, body)
		if !c.get {
			req.Header.Set("Content-Type", "application/json")
		}
		if c.accept != "" {
			req.Header.Set("Accept", c.accept)
		}
		res, err := s.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var entries map[string]json.RawMessage
		var out testenv.Response
		if json.Unmarshal(raw, &entries) != nil || json.Unmarshal(raw, &out) != nil {
			t.Fatalf("%s (Accept %q): %d, not JSON: %s", c.name, c.accept, res.StatusCode, raw)
		}
		if _, data := entries["data"]; res.StatusCode != c.want || data || out.Code() != "BAD_USER_INPUT" {
			t.Errorf("%s (Accept %q): %d %s; want %d, BAD_USER_INPUT and no data entry", c.name, c.accept, res.StatusCode, raw, c.want)
		}
	}
	// An executed operation keeps its data, errors or not.
	if r := s.Do(t, "", `{ viewer { id } }`, nil); r.Status != http.StatusOK || string(r.Data) == "" || r.Code() != "UNAUTHENTICATED" {
		t.Errorf("an operation without a viewer: %d, data %s, errors %+v", r.Status, r.Data, r.Errors)
	}
}
