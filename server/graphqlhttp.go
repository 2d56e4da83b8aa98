package server

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"

	"switchboard/apierror"
)

// graphQLOverHTTP answers the request errors of gqlgen's GET and JSON POST
// transports as the GraphQL-over-HTTP spec asks, which gqlgen does not
// quite:
//
//   - A request whose query parameter is missing is malformed: 400, whatever
//     the response's media type (gqlgen answers 422 under application/json).
//   - A document that fails to parse or validate, or variables that fail to
//     coerce, in a well-formed request: 200 under application/json, where
//     clients read the errors from the body whatever the status (gqlgen:
//     422), and 400 under application/graphql-response+json (as gqlgen does).
//   - A request error has no data entry, as the GraphQL spec says of errors
//     raised before execution (gqlgen writes "data": null).
//
// And every error of an answer of status 400 or more carries an
// extensions.code and comes as JSON, also those gqlgen's transports write
// past the error presenter: a content type no transport takes, a multipart
// body that is not an upload request (BAD_USER_INPUT; PAYLOAD_TOO_LARGE for
// 413, INTERNAL for 5xx).
//
// Responses of executed operations and WebSocket upgrades pass untouched,
// and so does every code already set.
func graphQLOverHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" { // a WebSocket: its errors are close codes
			next.ServeHTTP(w, r)
			return
		}
		var body []byte
		spec := false // a request the GraphQL-over-HTTP rules above are for
		switch {
		case r.Method == http.MethodGet:
			spec = true
		case r.Method == http.MethodPost && isJSON(r.Header.Get("Content-Type")):
			// Kept to tell a missing query from a bad one, should the
			// request fail; limitGraphQLBody has bounded it already.
			b, err := io.ReadAll(r.Body)
			if err != nil {
				writeGraphQLError(w, http.StatusBadRequest, apierror.BadUserInput, "the request body could not be read")
				return
			}
			body, spec = b, true
			r.Body = io.NopCloser(bytes.NewReader(b))
		}
		hw := &heldWriter{ResponseWriter: w}
		next.ServeHTTP(hw, r)
		if hw.status == 0 {
			return
		}
		requestError := spec && (hw.status == http.StatusBadRequest || hw.status == http.StatusUnprocessableEntity)
		status := hw.status
		if requestError && status == http.StatusUnprocessableEntity {
			// gqlgen gives 422 only under application/json.
			status = http.StatusOK
			if !hasQuery(r, body) {
				status = http.StatusBadRequest
			}
		}
		writeHeld(w, hw.status, status, hw.body.Bytes(), requestError)
	})
}

// heldWriter holds back an answer of status 400 or more until it is
// complete, so that its status and body can be rewritten.
type heldWriter struct {
	http.ResponseWriter
	status int  // the held-back status; 0 while passing through
	passed bool // a status or body already went through
	body   bytes.Buffer
}

func (w *heldWriter) WriteHeader(status int) {
	if status >= 400 && !w.passed && w.status == 0 {
		w.status = status
		return
	}
	if w.status == 0 {
		w.passed = true
		w.ResponseWriter.WriteHeader(status)
	}
}

func (w *heldWriter) Write(p []byte) (int, error) {
	if w.status != 0 {
		return w.body.Write(p)
	}
	w.passed = true
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *heldWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// writeHeld writes a held answer of status held as status, its errors each
// with a code, and, for a request error, without "data": null.
func writeHeld(w http.ResponseWriter, held, status int, body []byte, requestError bool) {
	code := apierror.BadUserInput
	switch {
	case held == http.StatusRequestEntityTooLarge:
		code = apierror.PayloadTooLarge
	case held >= 500:
		code = apierror.Internal
	}
	var res map[string]json.RawMessage
	var errs []map[string]any
	if json.Unmarshal(body, &res) != nil || json.Unmarshal(res["errors"], &errs) != nil || len(errs) == 0 {
		writeGraphQLError(w, status, code, http.StatusText(held))
		return
	}
	changed := false
	for _, e := range errs {
		ext, _ := e["extensions"].(map[string]any)
		if _, ok := ext["code"]; ok {
			continue
		}
		if ext == nil {
			ext = map[string]any{}
			e["extensions"] = ext
		}
		ext["code"] = string(code)
		changed = true
	}
	if requestError && string(res["data"]) == "null" {
		delete(res, "data")
		changed = true
	}
	if changed {
		res["errors"], _ = json.Marshal(errs)
		if b, err := json.Marshal(res); err == nil {
			body = b
		}
	}
	if mt, _, _ := mime.ParseMediaType(w.Header().Get("Content-Type")); mt != "application/json" && mt != "application/graphql-response+json" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// hasQuery reports whether the request carries a query parameter: in the
// URL of a GET, or as a string in a JSON body.
func hasQuery(r *http.Request, body []byte) bool {
	if r.Method == http.MethodGet {
		return r.URL.Query().Has("query")
	}
	var params struct {
		Query *string `json:"query"`
	}
	return json.Unmarshal(body, &params) == nil && params.Query != nil
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}
