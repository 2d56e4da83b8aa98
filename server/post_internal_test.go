package server

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// writeResponse writes what encoding/json writes, byte for byte, for data
// alone (without HTML characters, which encoding/json escapes and need
// not be), for null data, with errors and with extensions.
func TestWriteResponseAsEncodingJSON(t *testing.T) {
	yes := true
	for name, resp := range map[string]*graphql.Response{
		"data":       {Data: json.RawMessage(`{"agents":{"totalCount":2,"edges":[{"node":{"id":"AG1","name":"Zoë \"Z\" Ng"}}]}}`)},
		"null data":  {},
		"errors":     {Data: json.RawMessage(`{"a":null}`), Errors: gqlerror.List{{Message: "no", Extensions: map[string]any{"code": "FORBIDDEN"}}}},
		"extensions": {Data: json.RawMessage(`{"a":1}`), Extensions: map[string]any{"cost": 3}},
		"a part":     {Data: json.RawMessage(`{"a":1}`), HasNext: &yes, Label: "x"},
	} {
		want, err := json.Marshal(resp)
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		writeResponse(w, resp)
		if got := w.Body.Bytes(); !bytes.Equal(got, want) {
			t.Errorf("%s: wrote %s, encoding/json %s", name, got, want)
		}
	}
	// HTML characters are left as they are, still valid JSON.
	w := httptest.NewRecorder()
	writeResponse(w, &graphql.Response{Data: json.RawMessage(`{"name":"<b>&"}`)})
	var back struct{ Data struct{ Name string } }
	if err := json.Unmarshal(w.Body.Bytes(), &back); err != nil || back.Data.Name != "<b>&" {
		t.Fatalf("%s: %v", w.Body.Bytes(), err)
	}
}
