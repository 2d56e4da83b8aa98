package server

import (
	"context"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"switchboard/apierror"
	"switchboard/server/trusted"
	"switchboard/viewer"
)

// trustedOnly refuses every document that is not trusted from a
// caller that is not a tenant's admin or an operator: agents, supervisors
// and callers without a token run only what the front ends send. Admins
// and operators explore the API in GraphiQL.
type trustedOnly struct {
	set     *trusted.Set
	checked *lru.LRU[bool] // raw query → trusted, to print each once
}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = trustedOnly{}

func (trustedOnly) ExtensionName() string                   { return "TrustedDocuments" }
func (trustedOnly) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext runs after validation, before any resolver.
func (t trustedOnly) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil || explores(viewer.FromContext(ctx)) {
		return nil
	}
	ok, seen := t.checked.Get(ctx, oc.RawQuery)
	if !seen {
		ok = t.set.Trusts(oc.Doc, oc.Operation)
		t.checked.Add(ctx, oc.RawQuery, ok)
	}
	if ok {
		return nil
	}
	return &gqlerror.Error{
		Message:    "this server runs only the front ends' documents for agents and supervisors; send a trusted document or its hash",
		Extensions: map[string]any{"code": string(apierror.DocumentNotTrusted)},
	}
}

// explores reports whether v may run any document and introspect the
// schema when only trusted documents are accepted.
func explores(v *viewer.Viewer) bool {
	return v != nil && (v.Operator() || v.InTenant(viewer.RoleAdmin))
}

// persistedQueries is the automatic persisted query cache: the trusted
// documents, always known by their hash, then those clients registered.
type persistedQueries struct {
	set    *trusted.Set
	recent *lru.LRU[string]
}

func (p persistedQueries) Get(ctx context.Context, hash string) (string, bool) {
	if d, ok := p.set.ByHash(hash); ok {
		return d.Text, true
	}
	return p.recent.Get(ctx, hash)
}

func (p persistedQueries) Add(ctx context.Context, hash, query string) {
	if _, ok := p.set.ByHash(hash); !ok {
		p.recent.Add(ctx, hash, query)
	}
}
