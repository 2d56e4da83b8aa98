// Package present turns any error that reaches a GraphQL client into one
// with a contract code and a message safe to show.
package present

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"switchboard/ent"
	"switchboard/ent/privacy"
	"switchboard/failure"
)

// Classify returns the code and the client-safe message of any error.
func Classify(err error) (failure.Code, string) {
	var fe *failure.Error
	var ve *ent.ValidationError
	switch {
	case err == nil:
		return "", ""
	case errors.As(err, &fe):
		return fe.Code, fe.Message
	case errors.Is(err, privacy.Deny):
		return failure.Forbidden, "not allowed"
	case ent.IsNotFound(err):
		return failure.NotFound, "not found"
	case errors.As(err, &ve):
		return failure.BadUserInput, fmt.Sprintf("invalid value for %s", ve.Name)
	case ent.IsConstraintError(err):
		return failure.Conflict, "conflicts with an existing record"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return failure.Internal, "request cancelled or timed out"
	}
	return failure.Internal, "internal error"
}

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
					gqlErr.Extensions["code"] = string(failure.BadUserInput)
				}
				return gqlErr
			}
		}
		cause := err
		if existing != nil && existing.Err != nil {
			cause = existing.Err
		}
		code, msg := Classify(cause)
		if existing != nil && existing.Err == nil && code == failure.Internal {
			// gqlgen's own errors (argument coercion and the like) are the client's.
			code, msg = failure.BadUserInput, existing.Message
		}
		if code == failure.Internal {
			log.ErrorContext(ctx, "internal error", "path", gqlErr.Path.String(), "err", cause)
		}
		gqlErr.Message = msg
		if gqlErr.Extensions == nil {
			gqlErr.Extensions = map[string]any{}
		}
		gqlErr.Extensions["code"] = string(code)
		return gqlErr
	}
}
