// Package failure gives every error that reaches a client its contract code
// (UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, NOT_FOUND, CONFLICT, UPSTREAM,
// INTERNAL) and keeps internals out of what the client sees.
package failure

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
)

// Code is a contract error code.
type Code string

// The contract's error codes.
const (
	Unauthenticated Code = "UNAUTHENTICATED"
	Forbidden       Code = "FORBIDDEN"
	BadUserInput    Code = "BAD_USER_INPUT"
	NotFound        Code = "NOT_FOUND"
	Conflict        Code = "CONFLICT"
	Upstream        Code = "UPSTREAM"
	Internal        Code = "INTERNAL"
)

// Error is an error with a code and a message safe to show the client.
type Error struct {
	Code    Code
	Message string
	Err     error // the cause, for logs only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with the code and a client-safe message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with the code and message that keeps err as its cause.
func Wrap(code Code, err error, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Err: err}
}

// Classify returns the code and the client-safe message of any error.
func Classify(err error) (Code, string) {
	var fe *Error
	var ve *ent.ValidationError
	switch {
	case err == nil:
		return "", ""
	case errors.As(err, &fe):
		return fe.Code, fe.Message
	case errors.Is(err, privacy.Deny):
		return Forbidden, "not allowed"
	case ent.IsNotFound(err):
		return NotFound, "not found"
	case errors.As(err, &ve):
		return BadUserInput, fmt.Sprintf("invalid value for %s", ve.Name)
	case ent.IsConstraintError(err):
		return Conflict, "conflicts with an existing record"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return Internal, "request cancelled or timed out"
	}
	return Internal, "internal error"
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
					gqlErr.Extensions["code"] = string(BadUserInput)
				}
				return gqlErr
			}
		}
		cause := err
		if existing != nil && existing.Err != nil {
			cause = existing.Err
		}
		code, msg := Classify(cause)
		if existing != nil && existing.Err == nil && code == Internal {
			// gqlgen's own errors (argument coercion and the like) are the client's.
			code, msg = BadUserInput, existing.Message
		}
		if code == Internal {
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
