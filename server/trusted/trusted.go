// Package trusted holds the GraphQL documents the front ends send — the
// operations of the contract (contract/*.graphql) — each as a document of
// its own (the operation and the fragments it uses), known by the SHA-256
// of its text. A server that accepts only trusted documents from its
// agents and supervisors runs no query an attacker wrote; a client may
// send a document's hash alone, as an automatic persisted query.
//
// A document is recognised however it is laid out: each is compared in
// its canonical form, as gqlparser's formatter prints it.
package trusted

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"
)

//go:embed contract/*.graphql
var contract embed.FS

// Document is one trusted operation.
type Document struct {
	Name string // the operation's name
	Hash string // hex SHA-256 of Text
	Text string // canonical: the operation and its fragments, as printed
}

// Set is a set of trusted documents.
type Set struct {
	byHash map[string]*Document
	byText map[string]*Document
	list   []*Document
}

// Contract returns the contract's operations, read once.
var Contract = sync.OnceValue(readContract)

func readContract() *Set {
	files, err := fs.Glob(contract, "contract/*.graphql")
	if err != nil {
		panic(err)
	}
	var srcs []*ast.Source
	for _, f := range files {
		b, err := contract.ReadFile(f)
		if err != nil {
			panic(err)
		}
		srcs = append(srcs, &ast.Source{Name: f, Input: string(b)})
	}
	s, err := FromSources(srcs...)
	if err != nil {
		panic(err) // the embedded contract parses; a test holds it to
	}
	return s
}

// FromSources splits the sources' operations into trusted documents; every
// operation must be named, and the names unique.
func FromSources(srcs ...*ast.Source) (*Set, error) {
	s := &Set{byHash: map[string]*Document{}, byText: map[string]*Document{}}
	names := map[string]bool{}
	for _, src := range srcs {
		doc, err := parser.ParseQuery(src)
		if err != nil {
			return nil, fmt.Errorf("trusted: %s: %w", src.Name, err)
		}
		for _, op := range doc.Operations {
			if op.Name == "" {
				return nil, fmt.Errorf("trusted: %s: an operation without a name", src.Name)
			}
			text := print(single(doc, op))
			if _, dup := s.byText[text]; dup {
				continue
			}
			if names[op.Name] {
				return nil, fmt.Errorf("trusted: two operations named %s", op.Name)
			}
			names[op.Name] = true
			d := &Document{Name: op.Name, Text: text, Hash: Hash(text)}
			s.byHash[d.Hash] = d
			s.byText[text] = d
			s.list = append(s.list, d)
		}
	}
	sort.Slice(s.list, func(i, j int) bool { return s.list[i].Name < s.list[j].Name })
	return s, nil
}

// Documents returns the set's documents by name.
func (s *Set) Documents() []*Document { return s.list }

// ByHash returns the document of the hash, if trusted.
func (s *Set) ByHash(hash string) (*Document, bool) {
	d, ok := s.byHash[hash]
	return d, ok
}

// Trusts reports whether the operation op of doc, with the fragments it
// uses, is one of the set's, however it is laid out.
func (s *Set) Trusts(doc *ast.QueryDocument, op *ast.OperationDefinition) bool {
	_, ok := s.byText[print(single(doc, op))]
	return ok
}

// Hash is the hex SHA-256 of text, as automatic persisted queries name a
// document.
func Hash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// single is op of doc as a document of its own, with the fragments it uses
// in the order they are first spread.
func single(doc *ast.QueryDocument, op *ast.OperationDefinition) *ast.QueryDocument {
	out := &ast.QueryDocument{Operations: ast.OperationList{op}}
	used := map[string]bool{}
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if f := doc.Fragments.ForName(s.Name); f != nil && !used[s.Name] {
					used[s.Name] = true
					out.Fragments = append(out.Fragments, f)
					walk(f.SelectionSet)
				}
			}
		}
	}
	walk(op.SelectionSet)
	return out
}

func print(doc *ast.QueryDocument) string {
	var buf bytes.Buffer
	formatter.NewFormatter(&buf).FormatQueryDocument(doc)
	return buf.String()
}
