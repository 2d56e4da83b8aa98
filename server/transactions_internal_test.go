package server

import (
	"testing"

	"github.com/vektah/gqlparser/v2"

	"switchboard/resolvers"
)

// TestWithoutRequestTx: an operation runs without the request's
// transaction when any of its mutation fields does, however the field is
// reached (directly, in an inline fragment, or in a named one).
func TestWithoutRequestTx(t *testing.T) {
	schema := resolvers.NewSchema(nil, resolvers.Services{}).Schema()
	for query, want := range map[string]bool{
		`mutation { createTemplate(input: {name: "a", channel: SMS, body: "b"}) { id } }`: false,
		`mutation { rotateAgentEventKey }`:                                                false,
		`mutation { importAgentStatuses { id } }`:                                         true,
		`mutation { rotateAgentEventKey importAgentStatuses { id } }`:                     true,
		`mutation { ... on Mutation { importAgentStatuses { id } } }`:                     true,
		`mutation { ...M } fragment M on Mutation { configureInstance(input: {instanceArn: "x", region: "r", roleArn: "r", externalId: "e"}) { id } }`: true,
		`mutation { setAgentStatus(input: {statusId: "x"}) { id } }`:                                                                                   true,
		`query { __typename }`: false,
	} {
		doc, err := gqlparser.LoadQuery(schema, query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		if got := withoutRequestTx(doc.Operations[0]); got != want {
			t.Errorf("%s: without the request's transaction = %v, want %v", query, got, want)
		}
	}
}
