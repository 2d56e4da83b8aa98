// Package apierror is the vocabulary of the errors that reach a client: a
// contract code (UNAUTHENTICATED, FORBIDDEN, BAD_USER_INPUT, NOT_FOUND,
// CONFLICT, UPSTREAM, INTERNAL, PAYLOAD_TOO_LARGE, RATE_LIMITED, TIMEOUT, COMPLEXITY_LIMIT_EXCEEDED,
// DOCUMENT_NOT_TRUSTED) and a message
// safe to show.
// server/errorpresenter presents every error to GraphQL clients in these terms.
package apierror

import "fmt"

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
	// PayloadTooLarge is a request body over the server's bound (HTTP 413).
	PayloadTooLarge Code = "PAYLOAD_TOO_LARGE"
	// RateLimited is a caller over its rate (HTTP 429, with Retry-After),
	// or a subscription beyond a connection's bound.
	RateLimited Code = "RATE_LIMITED"
	// Timeout is a request that outlived the server's bound on it.
	Timeout Code = "TIMEOUT"
	// ComplexityLimitExceeded is an operation over one of the bounds of
	// its shape and cost (server/querylimit); gqlgen's name for it.
	ComplexityLimitExceeded Code = "COMPLEXITY_LIMIT_EXCEEDED"
	// DocumentNotTrusted is a document other than the trusted ones, from
	// a caller who may run only those (server/trusted).
	DocumentNotTrusted Code = "DOCUMENT_NOT_TRUSTED"
)

// Error is an error with a code and a message safe to show the client.
type Error struct {
	Code    Code
	Message string
	// Reason, when set, is extensions.reason: a finer cause a client acts
	// on, such as ReasonTenantUnsubscribed.
	Reason string
	Err    error // the cause, for logs only
}

// ReasonTenantUnsubscribed is why every credential of an unsubscribed
// tenant is refused (FORBIDDEN).
const ReasonTenantUnsubscribed = "TENANT_UNSUBSCRIBED"

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
