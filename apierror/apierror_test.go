package apierror_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"switchboard/apierror"
)

func TestCodesAreTheContracts(t *testing.T) {
	for code, want := range map[apierror.Code]string{
		apierror.Unauthenticated: "UNAUTHENTICATED",
		apierror.Forbidden:       "FORBIDDEN",
		apierror.BadUserInput:    "BAD_USER_INPUT",
		apierror.NotFound:        "NOT_FOUND",
		apierror.Conflict:        "CONFLICT",
		apierror.Upstream:        "UPSTREAM",
		apierror.Internal:        "INTERNAL",
	} {
		if string(code) != want {
			t.Errorf("code %q, want %q", code, want)
		}
	}
}

func TestNew(t *testing.T) {
	e := apierror.New(apierror.BadUserInput, "first must be between 0 and %d", 100)
	if e.Code != apierror.BadUserInput || e.Message != "first must be between 0 and 100" || e.Err != nil {
		t.Fatalf("New = %+v", e)
	}
	if got := e.Error(); got != "first must be between 0 and 100" {
		t.Fatalf("Error() = %q", got)
	}
	if errors.Unwrap(e) != nil {
		t.Fatalf("New has a cause: %v", errors.Unwrap(e))
	}
	if got := apierror.New(apierror.Forbidden, "not allowed").Error(); got != "not allowed" {
		t.Fatalf("New without arguments = %q", got)
	}
}

func TestWrap(t *testing.T) {
	cause := fmt.Errorf("connect: %w", io.ErrUnexpectedEOF)
	e := apierror.Wrap(apierror.Upstream, cause, "Amazon Connect did not %s the chat", "start")
	if e.Code != apierror.Upstream || e.Message != "Amazon Connect did not start the chat" || e.Err != cause {
		t.Fatalf("Wrap = %+v", e)
	}
	// Error() adds the cause, for logs; Message alone is for the client.
	if got, want := e.Error(), "Amazon Connect did not start the chat: connect: unexpected EOF"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(e, io.ErrUnexpectedEOF) {
		t.Fatal("errors.Is does not reach the cause through Wrap")
	}
	if errors.Unwrap(e) != cause {
		t.Fatalf("Unwrap = %v", errors.Unwrap(e))
	}
	// Wrap with a nil cause is New.
	if n := apierror.Wrap(apierror.Internal, nil, "boom"); n.Error() != "boom" || n.Unwrap() != nil {
		t.Fatalf("Wrap(nil) = %q, %v", n.Error(), n.Unwrap())
	}
}

type causeError struct{ detail string }

func (e *causeError) Error() string { return "cause: " + e.detail }

func TestErrorsAsThroughWrapping(t *testing.T) {
	cause := &causeError{detail: "row 7"}
	inner := apierror.Wrap(apierror.NotFound, cause, "not found")
	outer := fmt.Errorf("loading agent: %w", inner)

	var ae *apierror.Error
	if !errors.As(outer, &ae) || ae != inner {
		t.Fatalf("errors.As(*apierror.Error) through fmt.Errorf: %v", ae)
	}
	var ce *causeError
	if !errors.As(outer, &ce) || ce != cause {
		t.Fatalf("errors.As(cause) through Wrap and fmt.Errorf: %v", ce)
	}
	if !errors.Is(outer, inner) {
		t.Fatal("errors.Is(outer, inner)")
	}
	// An apierror wrapping another: the outer one is found first.
	twice := apierror.Wrap(apierror.Upstream, apierror.New(apierror.BadUserInput, "inner"), "outer")
	if !errors.As(fmt.Errorf("x: %w", twice), &ae) || ae.Code != apierror.Upstream || ae.Message != "outer" {
		t.Fatalf("the outer error is not found first: %+v", ae)
	}
	// context errors survive a Wrap (classify tells cancellations apart).
	if !errors.Is(apierror.Wrap(apierror.Upstream, context.Canceled, "x"), context.Canceled) {
		t.Fatal("context.Canceled lost in Wrap")
	}
	// Two errors with equal fields are still two errors.
	if errors.Is(apierror.New(apierror.NotFound, "x"), apierror.New(apierror.NotFound, "x")) {
		t.Fatal("errors.Is compares apierror values by their fields")
	}
}
