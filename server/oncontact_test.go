package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
)

// On a live contact, on both stores, through the real SDK: an agent pauses
// and resumes the recording of, and sets attributes on, a contact the
// agent event stream shows it on (a transferred one: Connect is given its
// initial contact) or one it recorded as an interaction; another agent's
// contact is FORBIDDEN and reaches nothing; a supervisor acts on any of the
// tenant's; another tenant's people reach only their own instance, where
// the contact is unknown; bad attributes change nothing and reach nothing;
// an ended contact is NOT_FOUND, Connect failing UPSTREAM.
func TestOnContact(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newConnectFixture(t, b)
		fc := f.connect
		var key struct {
			RotateAgentEventKey string `json:"rotateAgentEventKey"`
		}
		f.s.MustDo(t, f.a.AdminToken, `mutation { rotateAgentEventKey }`, nil, &key)
		// Bolt has an instance of its own, in its own account.
		const boltRole, boltInstance = "arn:aws:iam::222222222222:role/SwitchboardAccess", "99999999-2222-3333-4444-555555555555"
		f.sts.AllowRole(boltRole, "bolt-ext")
		fc.AddInstance(boltInstance)
		f.s.MustDo(t, f.b.AdminToken, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`,
			map[string]any{"in": map[string]any{"instanceArn": "arn:aws:connect:ap-southeast-2:222222222222:instance/" + boltInstance,
				"region": "ap-southeast-2", "roleArn": boltRole, "externalId": "bolt-ext"}}, nil)

		fc.AddLiveContact(instanceID, "c-alex", "c-first") // transferred to Alex
		fc.AddLiveContact(instanceID, "c-bea", "")
		fc.AddLiveContact(instanceID, "c-called", "")
		now := time.Now().Truncate(time.Millisecond)
		if code := deliver(t, f.s, key.RotateAgentEventKey,
			withInitial(contactEvent("e1", "user-alex", "Available", now, "c-alex", "CONNECTED", now, ""), "c-first"),
			contactEvent("e2", "user-bea", "Available", now, "c-bea", "CONNECTED", now, "")); code != http.StatusOK {
			t.Fatalf("delivery: %d", code)
		}
		f.s.MustDo(t, f.alexTok, testenv.ContractOperation(t, "RecordInteraction"), map[string]any{"input": map[string]any{
			"contactId": "c-called", "channel": "VOICE", "connectionType": "OUTBOUND", "startedAt": now}}, nil)

		recording := testenv.ContractOperation(t, "SetContactRecording")
		attributes := testenv.ContractOperation(t, "UpdateContactAttributes")
		calls := func() int {
			n := 0
			for _, op := range []string{fakeaws.OpSuspendContactRecording, fakeaws.OpResumeContactRecording,
				fakeaws.OpStopContactRecording, fakeaws.OpUpdateContactAttributes} {
				n += len(fc.RequestsFor(op))
			}
			return n
		}
		set := func(token, contactID, state string) testenv.Response {
			return f.s.Do(t, token, recording, map[string]any{"contactId": contactID, "state": state})
		}
		stateOf := func(inst, contactID string) string {
			ct, _ := fc.LiveContact(inst, contactID)
			return ct.Recording
		}

		// Alex on his own, transferred contact: Connect hears of it with
		// the initial contact.
		if r := set(f.alexTok, "c-alex", "SUSPENDED"); len(r.Errors) > 0 || !strings.Contains(string(r.Data), `"state":"SUSPENDED"`) {
			t.Fatalf("suspend: %s %+v", r.Data, r.Errors)
		}
		ct, _ := fc.LiveContact(instanceID, "c-alex")
		if ct.Recording != "SUSPENDED" || len(ct.RecordingCalls) != 1 || ct.RecordingCalls[0].ContactID != "c-alex" || ct.RecordingCalls[0].InitialContactID != "c-first" {
			t.Fatalf("Connect holds %+v", ct)
		}
		if r := set(f.alexTok, "c-alex", "RESUMED"); len(r.Errors) > 0 || stateOf(instanceID, "c-alex") != "RESUMED" {
			t.Fatalf("resume: %+v, state %s", r.Errors, stateOf(instanceID, "c-alex"))
		}
		// His recorded interaction is his too.
		if r := set(f.alexTok, "c-called", "SUSPENDED"); len(r.Errors) > 0 || stateOf(instanceID, "c-called") != "SUSPENDED" {
			t.Fatalf("the recorded interaction: %+v", r.Errors)
		}
		// Bea's contact is not his; nothing reaches Connect.
		before := calls()
		if r := set(f.alexTok, "c-bea", "SUSPENDED"); r.Code() != "FORBIDDEN" {
			t.Fatalf("Alex on Bea's contact: %q", r.Code())
		}
		if r := f.s.Do(t, f.alexTok, attributes, map[string]any{"contactId": "c-bea", "attributes": []any{map[string]any{"key": "x", "value": "y"}}}); r.Code() != "FORBIDDEN" {
			t.Fatalf("Alex's attributes on Bea's contact: %q", r.Code())
		}
		if r := set(f.cyTok, "c-bea", "STOPPED"); r.Code() != "FORBIDDEN" {
			t.Fatalf("Bolt's agent: %q", r.Code())
		}
		if n := calls(); n != before || stateOf(instanceID, "c-bea") != "" {
			t.Fatalf("refused calls reached Connect: %d, Bea's recording %q", n-before, stateOf(instanceID, "c-bea"))
		}
		// The supervisor acts on Bea's.
		if r := set(f.supTok, "c-bea", "STOPPED"); len(r.Errors) > 0 || stateOf(instanceID, "c-bea") != "STOPPED" {
			t.Fatalf("the supervisor: %+v", r.Errors)
		}
		// Bolt's admin reaches only Bolt's instance, which knows no c-alex.
		if r := set(f.b.AdminToken, "c-alex", "STOPPED"); r.Code() != "NOT_FOUND" || stateOf(instanceID, "c-alex") != "RESUMED" {
			t.Fatalf("Bolt's admin on Acme's contact: %q, state %s", r.Code(), stateOf(instanceID, "c-alex"))
		}
		for _, r := range fc.RequestsFor(fakeaws.OpStopContactRecording) {
			creds, _ := f.sts.Lookup(r.AccessKeyID)
			if strings.Contains(string(r.Body), boltInstance) != (creds.RoleARN == boltRole) {
				t.Fatalf("a call for %s signed as %s", r.Body, creds.RoleARN)
			}
		}

		// Attributes, on the initial contact, checked first.
		if r := f.s.Do(t, f.alexTok, attributes, map[string]any{"contactId": "c-alex", "attributes": []any{
			map[string]any{"key": "Reason", "value": "Refund"}, map[string]any{"key": "order_id", "value": "A-1234"}}}); len(r.Errors) > 0 ||
			!strings.Contains(string(r.Data), `"contactId":"c-alex"`) {
			t.Fatalf("attributes: %s %+v", r.Data, r.Errors)
		}
		if got := fc.ContactAttributes(instanceID, "c-first"); got["Reason"] != "Refund" || got["order_id"] != "A-1234" {
			t.Fatalf("Connect holds %v", got)
		}
		before = calls()
		for name, attrs := range map[string][]any{
			"none":        {},
			"a bad key":   {map[string]any{"key": "has space", "value": "v"}},
			"a key twice": {map[string]any{"key": "k", "value": "1"}, map[string]any{"key": "k", "value": "2"}},
			"too long":    {map[string]any{"key": "k", "value": strings.Repeat("x", 32768)}},
			"too many":    manyAttributes(101),
		} {
			if r := f.s.Do(t, f.alexTok, attributes, map[string]any{"contactId": "c-alex", "attributes": attrs}); r.Code() != "BAD_USER_INPUT" {
				t.Errorf("%s: %q", name, r.Code())
			}
		}
		for name, id := range map[string]string{"empty": "", "too long": strings.Repeat("c", 257)} {
			if r := set(f.supTok, id, "SUSPENDED"); r.Code() != "BAD_USER_INPUT" {
				t.Errorf("contact ID %s: %q", name, r.Code())
			}
		}
		if n := calls(); n != before {
			t.Fatalf("bad input reached Connect %d times", n-before)
		}
		if got := fc.ContactAttributes(instanceID, "c-first"); len(got) != 2 {
			t.Fatalf("bad input changed the attributes: %v", got)
		}

		// Ended (unknown to Connect): NOT_FOUND; Connect down: UPSTREAM.
		if r := set(f.supTok, "c-ended", "SUSPENDED"); r.Code() != "NOT_FOUND" {
			t.Fatalf("an ended contact: %q", r.Code())
		}
		fc.Fail(fakeaws.OpSuspendContactRecording, fakeaws.Failure{Status: 500, Code: "InternalServiceException", Message: "down", Times: 1})
		if r := set(f.alexTok, "c-alex", "SUSPENDED"); r.Code() != "UPSTREAM" || stateOf(instanceID, "c-alex") != "RESUMED" {
			t.Fatalf("Connect down: %q", r.Code())
		}
	})
}

// withInitial sets the initial contact of an event's contact.
func withInitial(e map[string]any, initial string) map[string]any {
	snap := e["CurrentAgentSnapshot"].(map[string]any)
	snap["Contacts"].([]any)[0].(map[string]any)["InitialContactId"] = initial
	return e
}

func manyAttributes(n int) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = map[string]any{"key": "k" + strings.Repeat("x", i), "value": "v"}
	}
	return out
}
