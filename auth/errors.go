package auth

import "errors"

// ErrUnauthenticated is returned, wrapped with a short reason, for every token
// that is missing, malformed, badly signed, expired or whose claims break the
// contract. Test for it with errors.Is. The message of a wrapping error is safe
// to show to clients: it never contains key material or the token itself.
var ErrUnauthenticated = errors.New("unauthenticated")

// authError carries a client-safe reason and, for logging and errors.Is/As,
// the underlying library error, which is not part of the message.
type authError struct {
	reason string
	cause  error
}

func (e *authError) Error() string { return ErrUnauthenticated.Error() + ": " + e.reason }

func (e *authError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrUnauthenticated}
	}
	return []error{ErrUnauthenticated, e.cause}
}

func unauthenticated(reason string, cause error) error {
	return &authError{reason: reason, cause: cause}
}
