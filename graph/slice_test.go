package graph

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/99designs/gqlgen/graphql"
)

// marshalSlice marshals in order, in the caller's goroutine, each element
// with its index in its field context; a panicking element becomes null
// and an error, and the others are still marshalled.
func TestMarshalSliceInTurn(t *testing.T) {
	ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, graphql.DefaultRecover)
	var order []int
	ret := marshalSlice(ctx, 4, func(ctx context.Context, i int) graphql.Marshaler {
		if *graphql.GetFieldContext(ctx).Index != i {
			t.Errorf("element %d has index %d", i, *graphql.GetFieldContext(ctx).Index)
		}
		order = append(order, i) // no lock: one goroutine
		if i == 2 {
			panic("boom")
		}
		return graphql.MarshalInt(i)
	})
	if len(ret) != 4 || ret[2] != graphql.Null || ret[3] == graphql.Null || len(order) != 4 || order[3] != 3 {
		t.Fatalf("marshalled %v in order %v", ret, order)
	}
	if errs := graphql.GetErrors(ctx); len(errs) != 1 {
		t.Fatalf("errors %v", errs)
	}
}

// The generated schema marshals no list concurrently: graph/gqlgen
// pointed every such call at marshalSlice.
func TestGeneratedListsInTurn(t *testing.T) {
	src, err := os.ReadFile("generated.go")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(src, []byte("MarshalSliceConcurrently")) || !bytes.Contains(src, []byte("marshalSlice(ctx, len(v), func(")) {
		t.Fatal("generated.go marshals lists concurrently: regenerate with go generate ./... (graph/gqlgen)")
	}
	if bytes.Contains(src, []byte(".Concurrently(")) {
		t.Fatal("generated.go resolves an object's fields concurrently")
	}
}
