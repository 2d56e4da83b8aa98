//go:build ignore

// The ent code generator: the ent client from ent/schema, with the entgql
// extension writing the GraphQL types of every entity to graph/schema/ent.graphqls.
package main

import (
	"log"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("../graph/schema/ent.graphqls"),
		entgql.WithConfigPath("../gqlgen.yml"),
		entgql.WithRelaySpec(true),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	opts := []entc.Option{
		entc.Extensions(ex),
		entc.FeatureNames("privacy", "entql", "intercept", "sql/upsert", "sql/execquery", "sql/lock", "sql/modifier", "sql/versioned-migration"),
		entc.TemplateFiles("template/gid.tmpl", "template/attach.tmpl"),
	}
	if err := entc.Generate("./schema", &gen.Config{}, opts...); err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}
