// Command gqlgen generates the executable schema (graph/generated.go) as
// gqlgen's own command does, from gqlgen.yml, with one difference made
// through gqlgen's plugin API: fields and list elements are resolved one
// after another, in the goroutine of their parent, instead of each in a
// goroutine of its own.
//
// gqlgen starts a goroutine for every element of a list of objects and
// for every field with a resolver, so that resolvers that wait (on the
// database, say) wait together. Here nothing in a list element waits:
// edges are loaded with their page (a wallboard's statuses, activity), and
// a request's statements share one connection or transaction anyway, which
// lib/pq may not use from two goroutines at once. The goroutines were the
// largest cost of a wallboard page: measured by bench's BenchmarkWallboard,
// about a third of switchboard's requests a second.
//
// The plugin marks every object so that its fields are resolved in turn
// (codegen.Object.DisableConcurrency, gqlgen's own switch, which it sets
// for Mutation); gqlgen has no switch for lists, so the one call by which
// its template marshals a list of objects is pointed at graph's
// marshalSlice, which does what gqlgen's does but in turn.
package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
)

// inTurn is the plugin.
type inTurn struct{}

func (inTurn) Name() string { return "in-turn" }

// GenerateCode marks every object's fields to be resolved in turn.
func (inTurn) GenerateCode(data *codegen.Data) error {
	for _, o := range data.Objects {
		o.DisableConcurrency = true
	}
	return nil
}

// concurrently is how gqlgen's template (codegen/type.gotpl) marshals a
// list of objects; inTurn is what it becomes.
var (
	concurrently = []byte("graphql.MarshalSliceConcurrently(ctx, len(v), 0, false, func(")
	inTurnCall   = []byte("marshalSlice(ctx, len(v), func(")
)

func main() {
	cfg, err := config.LoadConfigFromDefaultLocations()
	if err != nil {
		fail(err)
	}
	if err := api.Generate(cfg, api.AddPlugin(inTurn{})); err != nil {
		fail(err)
	}
	src, err := os.ReadFile(cfg.Exec.Filename)
	if err != nil {
		fail(err)
	}
	if !bytes.Contains(src, concurrently) {
		fail(fmt.Errorf("%s has no %s: gqlgen's template changed; look again at what graph/slice.go replaces", cfg.Exec.Filename, concurrently))
	}
	src = bytes.ReplaceAll(src, concurrently, inTurnCall)
	if err := os.WriteFile(cfg.Exec.Filename, src, 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "gqlgen:", err)
	os.Exit(1)
}
