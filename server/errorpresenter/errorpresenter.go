// Package errorpresenter presents every error that reaches a GraphQL client in
// the terms of package apierror: a contract code and a message safe to show.
package errorpresenter

import (
	"context"
	"errors"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"switchboard/apierror"
	"switchboard/apierror/classify"
)

// Presenter is gqlgen's error presenter: it sets extensions.code on every
// error and replaces the message of unexpected errors, which it logs.
func Presenter(log *slog.Logger) graphql.ErrorPresenterFunc {
	return func(ctx context.Context, err error) *gqlerror.Error {
		gqlErr := graphql.DefaultErrorPresenter(ctx, err)
		var existing *gqlerror.Error
		if errors.As(err, &existing) && existing.Extensions != nil {
			if c, ok := existing.Extensions["code"].(string); ok {
				switch c {
				case errcode.ValidationFailed, errcode.ParseFailed:
					gqlErr.Extensions["code"] = string(apierror.BadUserInput)
				}
				return gqlErr
			}
		}
		cause := err
		if existing != nil && existing.Err != nil {
			cause = existing.Err
		}
		code, msg := classify.Of(cause)
		if existing != nil && code == apierror.Internal && (existing.Err == nil || inArgument(ctx, existing.Path)) {
			// gqlgen's own errors (argument coercion and the like) are the
			// client's, and so are a scalar's (a garbage cursor or Time).
			code, msg = apierror.BadUserInput, existing.Message
		}
		if code == apierror.Internal {
			log.ErrorContext(ctx, "internal error", "path", gqlErr.Path.String(), "err", cause)
		}
		gqlErr.Message = msg
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		gqlErr.Extensions["code"] = string(code)
		var fe *apierror.Error
		if errors.As(cause, &fe) && fe.Reason != "" {
			gqlErr.Extensions["reason"] = fe.Reason
		}
		return gqlErr
	}
}

// inArgument reports whether path lies in an argument of the field being
// resolved: the error then came from decoding what the client sent.
func inArgument(ctx context.Context, path ast.Path) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil {
		return false
	}
	at := fc.Path()
	if len(path) <= len(at) {
		return false
	}
	for i := range at {
		if at[i] != path[i] {
			return false
		}
	}
	name, ok := path[len(at)].(ast.PathName)
	return ok && fc.Field.Arguments.ForName(string(name)) != nil
}
