package connectaws

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// ErrUpstream matches (with errors.Is) every error that AWS returned or that
// reaching AWS caused: Connect or STS refused the request, throttled it past
// the SDK's retries, or could not be reached. errors.As with *UpstreamError
// gives the details. The caller's own context ending (cancelled, past its
// deadline) is not an upstream error.
var ErrUpstream = errors.New("connectaws: upstream AWS error")

// UpstreamError is an error from AWS, or from reaching it. Its text holds
// the service, operation, AWS error code and message, never credentials or
// external IDs.
type UpstreamError struct {
	// Service and Operation name the AWS call that failed, e.g. "Connect"
	// "PutUserStatus", or "STS" "AssumeRole" when the tenant's role could not
	// be assumed.
	Service, Operation string
	// Code is the AWS error code, e.g. "ResourceNotFoundException",
	// "AccessDenied", "TooManyRequestsException"; empty when no response
	// came back (a network failure).
	Code string
	// Message is AWS's error message, at most 256 bytes of it.
	Message string
	// StatusCode is the HTTP status of the response; 0 when there was none.
	StatusCode int
	// RequestID is AWS's request ID, for support cases.
	RequestID string
	// Throttled reports that AWS throttled the call (and the SDK's retries
	// ran out).
	Throttled bool

	err error
}

// Error implements error.
func (e *UpstreamError) Error() string {
	s := "connectaws: " + e.Service + " " + e.Operation + ": "
	switch {
	case e.Code != "":
		s += e.Code
		if e.StatusCode != 0 {
			s += fmt.Sprintf(" (HTTP %d)", e.StatusCode)
		}
		if e.Message != "" {
			s += ": " + e.Message
		}
	case e.err != nil:
		s += e.err.Error()
	default:
		s += "failed"
	}
	if e.RequestID != "" {
		s += " [request " + e.RequestID + "]"
	}
	return s
}

// Is makes errors.Is(err, ErrUpstream) true.
func (e *UpstreamError) Is(target error) bool { return target == ErrUpstream }

// Unwrap returns the SDK's error.
func (e *UpstreamError) Unwrap() error { return e.err }

// maxMessage bounds how much of AWS's error message an UpstreamError keeps.
const maxMessage = 256

// throttles recognises throttling errors as the SDK's retryer does.
var throttles = retry.IsErrorThrottles(retry.DefaultThrottles)

// upstream turns an SDK error from operation on service into an
// *UpstreamError. Cancellation by the caller is returned as it is.
func upstream(service, operation string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("connectaws: %s %s: %w", service, operation, err)
	}
	e := &UpstreamError{Service: service, Operation: operation, err: err}
	// The innermost operation is the one that failed: AssumeRole, when
	// Connect's credentials could not be had.
	for x := err; x != nil; x = errors.Unwrap(x) {
		if op, ok := x.(*smithy.OperationError); ok {
			e.Service, e.Operation = op.ServiceID, op.OperationName
		}
	}
	if apiErr, ok := errors.AsType[smithy.APIError](err); ok {
		e.Code = apiErr.ErrorCode()
		e.Message = apiErr.ErrorMessage()
		if len(e.Message) > maxMessage {
			e.Message = strings.ToValidUTF8(e.Message[:maxMessage], "") + "…"
		}
	}
	if respErr, ok := errors.AsType[*awshttp.ResponseError](err); ok {
		e.StatusCode = respErr.HTTPStatusCode()
		e.RequestID = respErr.ServiceRequestID()
	}
	e.Throttled = throttles.IsErrorThrottle(err).Bool()
	return e
}

// ErrorCode returns the AWS error code of err (an *UpstreamError's Code),
// or "" when err is no answer of AWS.
func ErrorCode(err error) string {
	if ue, ok := errors.AsType[*UpstreamError](err); ok {
		return ue.Code
	}
	return ""
}

// IsNotFound reports whether AWS answered that what the call named does
// not exist (a contact that has ended, a profile of another domain).
func IsNotFound(err error) bool {
	switch ErrorCode(err) {
	case "ResourceNotFoundException", "ContactNotFoundException":
		return true
	}
	return false
}
