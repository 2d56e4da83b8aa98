// Package classify gives any error that may reach a client, the store's
// included, its contract code and a message safe to show.
package classify

import (
	"context"
	"errors"
	"fmt"

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/ent/privacy"
)

// Of returns the code and the client-safe message of any error. An
// *apierror.Error speaks for itself, a privacy denial among them: a policy
// that means its refusal for the client returns one that is both (ent/schema
// refuse), while any other privacy.Deny (no viewer, an unexpected type) is
// shown as "not allowed".
func Of(err error) (apierror.Code, string) {
	var fe *apierror.Error
	var ve *ent.ValidationError
	switch {
	case err == nil:
		return "", ""
	case errors.As(err, &fe):
		return fe.Code, fe.Message
	case errors.Is(err, privacy.Deny):
		return apierror.Forbidden, "not allowed"
	case ent.IsNotFound(err):
		return apierror.NotFound, "not found"
	case errors.As(err, &ve):
		return apierror.BadUserInput, fmt.Sprintf("invalid value for %s", ve.Name)
	case ent.IsConstraintError(err):
		return apierror.Conflict, "conflicts with an existing record"
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return apierror.Internal, "request cancelled or timed out"
	}
	return apierror.Internal, "internal error"
}
