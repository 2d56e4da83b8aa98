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
// Responses of executed operations, WebSocket upgrades and multipart uploads
// pass untouched; so does every error's extensions.code.
func graphQLOverHTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "" {
			next.ServeHTTP(w, r)
			return
		}
		var body []byte
		switch {
		case r.Method == http.MethodGet:
		case r.Method == http.MethodPost && isJSON(r.Header.Get("Content-Type")):
			// Kept to tell a missing query from a bad one, should the
			// request fail; limitGraphQLBody has bounded it already.
			b, err := io.ReadAll(r.Body)
			if err != nil {
				writeGraphQLError(w, http.StatusBadRequest, apierror.BadUserInput, "the request body could not be read")
				return
			}
			body = b
			r.Body = io.NopCloser(bytes.NewReader(b))
		default:
			next.ServeHTTP(w, r)
			return
		}
		rw := &requestErrorWriter{ResponseWriter: w}
		next.ServeHTTP(rw, r)
		if rw.held != 0 {
			rw.flush(hasQuery(r, body))
		}
	})
}

// requestErrorWriter holds back a response that gqlgen's transports give a
// request error (400 or 422), so that its status and body can be rewritten.
type requestErrorWriter struct {
	http.ResponseWriter
	held  int // the status held back; 0 while nothing is
	wrote bool
	buf   bytes.Buffer
}

func (w *requestErrorWriter) WriteHeader(code int) {
	if w.wrote || w.held != 0 {
		return
	}
	if code == http.StatusBadRequest || code == http.StatusUnprocessableEntity {
		w.held = code
		return
	}
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *requestErrorWriter) Write(b []byte) (int, error) {
	if w.held != 0 {
		return w.buf.Write(b)
	}
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the original ResponseWriter.
func (w *requestErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// flush writes the held response: its status as the spec asks for the
// request (wellFormed: it carried a query) and the response's media type,
// and its body without "data": null.
func (w *requestErrorWriter) flush(wellFormed bool) {
	status := w.held
	if w.held == http.StatusUnprocessableEntity {
		// gqlgen gives 422 only under application/json.
		status = http.StatusOK
		if !wellFormed {
			status = http.StatusBadRequest
		}
	}
	out := w.buf.Bytes()
	var res map[string]json.RawMessage
	if json.Unmarshal(out, &res) == nil && string(res["data"]) == "null" {
		delete(res, "data")
		if b, err := json.Marshal(res); err == nil {
			out = b
		}
	}
	w.ResponseWriter.WriteHeader(status)
	_, _ = w.ResponseWriter.Write(out)
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
