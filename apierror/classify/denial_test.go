package classify_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"switchboard/apierror"
	"switchboard/apierror/classify"
	"switchboard/ent/privacy"
)

// TestOfPolicyDenials: a policy's refusal meant for the client keeps its message;
// every other denial is "not allowed".
func TestOfPolicyDenials(t *testing.T) {
	policyRefusal := &apierror.Error{Code: apierror.Forbidden, Message: "only the tenant's admins manage SCIM tokens", Err: privacy.Deny}
	for _, c := range []struct {
		name string
		err  error
		code apierror.Code
		msg  string
	}{
		{"nil", nil, "", ""},
		{"a policy's refusal for the client", policyRefusal, apierror.Forbidden, "only the tenant's admins manage SCIM tokens"},
		{"the same, wrapped", fmt.Errorf("ent: %w", policyRefusal), apierror.Forbidden, "only the tenant's admins manage SCIM tokens"},
		{"an internal denial", privacy.Denyf("no viewer in context"), apierror.Forbidden, "not allowed"},
		{"an api error", apierror.New(apierror.BadUserInput, "bad"), apierror.BadUserInput, "bad"},
		{"cancelled", context.Canceled, apierror.Internal, "request cancelled or timed out"},
		{"anything else", errors.New("boom: secret detail"), apierror.Internal, "internal error"},
	} {
		if code, msg := classify.Of(c.err); code != c.code || msg != c.msg {
			t.Errorf("%s: %s %q, want %s %q", c.name, code, msg, c.code, c.msg)
		}
	}
	if !errors.Is(policyRefusal, privacy.Deny) {
		t.Fatal("a policy's refusal is no privacy.Deny")
	}
}
