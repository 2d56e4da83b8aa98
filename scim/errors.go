package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/ent/privacy"
)

// ErrorSchema is the schema of SCIM error responses.
const ErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"

// Error is a SCIM error response (RFC 7644 §3.12): an HTTP status, for a
// 400 a scimType (invalidFilter, invalidPath, invalidValue, invalidSyntax,
// uniqueness, mutability, noTarget, tooMany), and a detail safe to show.
type Error struct {
	Status   int
	ScimType string
	Detail   string
}

// Error implements error.
func (e *Error) Error() string {
	if e.ScimType != "" {
		return fmt.Sprintf("scim %d %s: %s", e.Status, e.ScimType, e.Detail)
	}
	return fmt.Sprintf("scim %d: %s", e.Status, e.Detail)
}

// MarshalJSON writes the error in the SCIM error schema; the status is a
// string, as RFC 7644 writes it.
func (e *Error) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Schemas  []string `json:"schemas"`
		Status   string   `json:"status"`
		ScimType string   `json:"scimType,omitempty"`
		Detail   string   `json:"detail,omitempty"`
	}{[]string{ErrorSchema}, strconv.Itoa(e.Status), e.ScimType, e.Detail})
}

func badRequest(scimType, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

func notFound(format string, args ...any) *Error {
	return &Error{Status: http.StatusNotFound, Detail: fmt.Sprintf(format, args...)}
}

// scimAttribute names the SCIM attribute of a contact field, for messages.
var scimAttribute = map[string]string{
	"name":             "displayName",
	"given_name":       "name.givenName",
	"family_name":      "name.familyName",
	"job_title":        "title",
	"scim_user_name":   "userName",
	"scim_external_id": "externalId",
	"emails":           "emails",
	"phone_numbers":    "phoneNumbers",
	"email":            "emails",
	"phone_number":     "phoneNumbers",
}

// asError turns any error into a SCIM error: the data layer's validation,
// not-found and uniqueness errors become 400, 404 and 409; what is left is
// a 500 whose cause the caller logs (internal reports whether it is one).
func asError(err error) (e *Error, internal bool) {
	var se *Error
	var fe *apierror.Error
	var ve *ent.ValidationError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &se):
		return se, se.Status >= 500
	case errors.As(err, &mbe):
		return &Error{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("the request body is larger than %d bytes", mbe.Limit)}, false
	case errors.As(err, &fe):
		switch fe.Code {
		case apierror.BadUserInput:
			return badRequest("invalidValue", "%s", fe.Message), false
		case apierror.NotFound:
			return notFound("%s", fe.Message), false
		case apierror.Conflict:
			return &Error{Status: http.StatusConflict, ScimType: "uniqueness", Detail: fe.Message}, false
		case apierror.Forbidden:
			return &Error{Status: http.StatusForbidden, Detail: fe.Message}, false
		case apierror.Unauthenticated:
			return &Error{Status: http.StatusUnauthorized, Detail: fe.Message}, false
		}
	case errors.As(err, &ve):
		name := scimAttribute[ve.Name]
		if name == "" {
			name = ve.Name
		}
		return badRequest("invalidValue", "invalid value for %s (too long or empty)", name), false
	case ent.IsNotFound(err):
		return notFound("no such resource"), false
	case ent.IsConstraintError(err):
		return &Error{Status: http.StatusConflict, ScimType: "uniqueness", Detail: "userName is already taken"}, false
	case errors.Is(err, privacy.Deny):
		return &Error{Status: http.StatusForbidden, Detail: "not allowed"}, false
	}
	return &Error{Status: http.StatusInternalServerError, Detail: "internal error"}, true
}
