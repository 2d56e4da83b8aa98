// Package ent holds switchboard's data model, generated from ent/schema.
package ent

//go:generate go run -mod=mod entc.go
//go:generate sh -c "cd .. && go run ./graph/gqlgen"
