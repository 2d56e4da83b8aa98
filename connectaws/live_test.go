package connectaws_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"switchboard/connectaws"
	"switchboard/internal/fakeaws"
)

// signedByTheirTenant asserts that every request the fake Connect received
// was signed with credentials issued for the role of the tenant whose
// instance it names (in its path or body), in that tenant's region.
func signedByTheirTenant(t *testing.T, e *env) {
	t.Helper()
	reqs := e.connect.Requests()
	if len(reqs) == 0 {
		t.Fatal("no requests")
	}
	for _, r := range reqs {
		issued, ok := e.sts.Lookup(r.AccessKeyID)
		if !ok {
			t.Fatalf("%s %s signed with unknown key %s", r.Operation, r.Path, r.AccessKeyID)
		}
		wantRole, wantRegion := tenantA.RoleARN, "eu-west-2"
		if strings.Contains(r.Path, instanceB) || strings.Contains(string(r.Body), instanceB) {
			wantRole, wantRegion = tenantB.RoleARN, "us-east-1"
		} else if !strings.Contains(r.Path, instanceA) && !strings.Contains(string(r.Body), instanceA) {
			t.Fatalf("%s %s names neither tenant's instance", r.Operation, r.Path)
		}
		if issued.RoleARN != wantRole || r.Region != wantRegion {
			t.Errorf("%s %s signed by %s's credentials in %s", r.Operation, r.Path, issued.RoleARN, r.Region)
		}
	}
}

func TestQueuesListsStandardQueuesPageByPage(t *testing.T) {
	e := newEnv(t, nil)
	e.connect.SetMaxPageSize(2)
	e.connect.SetQueues(instanceA,
		fakeaws.Queue{ID: "qa1", Name: "Sales"},
		fakeaws.Queue{ID: "agent-queue", Type: "AGENT"},
		fakeaws.Queue{ID: "qa2", Name: "Support"},
		fakeaws.Queue{ID: "qa3", Name: "Billing"},
	)
	e.connect.SetQueues(instanceB, fakeaws.Queue{ID: "qb1", Name: "Bolt desk"})
	ctx := context.Background()

	got, err := e.clients.Queues(ctx, tenantA)
	if err != nil {
		t.Fatal(err)
	}
	want := []connectaws.QueueSummary{
		{ID: "qa1", Name: "Sales", ARN: "arn:aws:connect:us-east-1:000000000000:instance/" + instanceA + "/queue/qa1"},
		{ID: "qa2", Name: "Support", ARN: "arn:aws:connect:us-east-1:000000000000:instance/" + instanceA + "/queue/qa2"},
		{ID: "qa3", Name: "Billing", ARN: "arn:aws:connect:us-east-1:000000000000:instance/" + instanceA + "/queue/qa3"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("queues %v", got)
	}
	if reqs := e.connect.RequestsFor(fakeaws.OpListQueues); len(reqs) != 2 || reqs[0].Query.Get("queueTypes") != "STANDARD" {
		t.Fatalf("ListQueues requests: %d, %v", len(reqs), reqs[0].Query)
	}
	b, err := e.clients.Queues(ctx, tenantB)
	if err != nil || len(b) != 1 || b[0].ID != "qb1" {
		t.Fatalf("tenant B's queues %v (%v)", b, err)
	}
	signedByTheirTenant(t, e)

	e.connect.Fail(fakeaws.OpListQueues, fakeaws.Failure{Status: 404, Code: "ResourceNotFoundException", Message: "gone"})
	if _, err := e.clients.Queues(ctx, tenantA); upstreamError(t, err).Code != "ResourceNotFoundException" {
		t.Fatalf("error %v", err)
	}
}

func TestQueueMetrics(t *testing.T) {
	e := newEnv(t, nil)
	e.connect.SetQueues(instanceA, fakeaws.Queue{ID: "qa1"}, fakeaws.Queue{ID: "qa2"}, fakeaws.Queue{ID: "quiet"})
	e.connect.SetQueueMetrics(instanceA, "qa1", fakeaws.QueueMetrics{AgentsOnline: 3, AgentsAvailable: 1, AgentsOnContact: 2, ContactsInQueue: 4, OldestContactAge: 24113 * time.Millisecond})
	e.connect.SetQueueMetrics(instanceA, "qa2", fakeaws.QueueMetrics{AgentsOnline: 9, ContactsInQueue: 1, OldestContactAge: 90 * time.Second})
	// Tenant B has a queue of the same ID, with other figures.
	e.connect.SetQueueMetrics(instanceB, "qa1", fakeaws.QueueMetrics{AgentsOnline: 42})
	ctx := context.Background()

	before := time.Now().Add(-time.Second)
	got, snapshot, err := e.clients.QueueMetrics(ctx, tenantA, []string{"qa1", "quiet", "qa2", "qa1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []connectaws.QueueMetrics{
		{QueueID: "qa1", AgentsOnline: 3, AgentsAvailable: 1, AgentsOnContact: 2, ContactsInQueue: 4, OldestContactAge: 24113 * time.Millisecond},
		{QueueID: "quiet"},
		{QueueID: "qa2", AgentsOnline: 9, ContactsInQueue: 1, OldestContactAge: 90 * time.Second},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("metrics\n got %v\nwant %v", got, want)
	}
	if snapshot.Before(before) || snapshot.After(time.Now().Add(time.Second)) {
		t.Fatalf("snapshot %v", snapshot)
	}
	reqs := e.connect.RequestsFor(fakeaws.OpGetCurrentMetricData)
	if len(reqs) != 1 {
		t.Fatalf("%d calls, want 1", len(reqs))
	}
	var body struct {
		Filters        struct{ Queues []string }
		Groupings      []string
		CurrentMetrics []struct{ Name, Unit string }
	}
	if err := json.Unmarshal(reqs[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if strings.Join(body.Filters.Queues, ",") != "qa1,quiet,qa2" || strings.Join(body.Groupings, ",") != "QUEUE" || len(body.CurrentMetrics) != 5 {
		t.Fatalf("request %s", reqs[0].Body)
	}

	b, _, err := e.clients.QueueMetrics(ctx, tenantB, []string{"qa1"})
	if err != nil || len(b) != 1 || b[0].AgentsOnline != 42 {
		t.Fatalf("tenant B's figures %v (%v)", b, err)
	}
	signedByTheirTenant(t, e)

	none, snapshot, err := e.clients.QueueMetrics(ctx, tenantA, nil)
	if err != nil || len(none) != 0 || !snapshot.IsZero() || len(e.connect.RequestsFor(fakeaws.OpGetCurrentMetricData)) != 2 {
		t.Fatalf("no queues: %v %v %v", none, snapshot, err)
	}

	// A call answered a row a page is followed to its end.
	e.connect.SetMaxPageSize(1)
	paged, _, err := e.clients.QueueMetrics(ctx, tenantA, []string{"qa1", "qa2"})
	if err != nil || fmt.Sprint(paged) != fmt.Sprint([]connectaws.QueueMetrics{want[0], want[2]}) {
		t.Fatalf("paged: %v (%v)", paged, err)
	}
	if n := len(e.connect.RequestsFor(fakeaws.OpGetCurrentMetricData)); n != 4 {
		t.Fatalf("%d calls, want 2 more: one a page", n)
	}
}

func TestQueueMetricsAsksForAHundredQueuesACall(t *testing.T) {
	e := newEnv(t, nil)
	var ids []string
	for i := range 250 {
		id := fmt.Sprintf("q%03d", i)
		ids = append(ids, id)
		if i%50 == 7 {
			e.connect.SetQueueMetrics(instanceA, id, fakeaws.QueueMetrics{AgentsOnline: i, ContactsInQueue: 1})
		}
	}
	got, _, err := e.clients.QueueMetrics(context.Background(), tenantA, ids)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 250 {
		t.Fatalf("%d queues' figures, want 250", len(got))
	}
	for i, m := range got {
		wantOnline := 0
		if i%50 == 7 {
			wantOnline = i
		}
		if m.QueueID != ids[i] || m.AgentsOnline != wantOnline {
			t.Fatalf("queue %d: %+v", i, m)
		}
	}
	var sizes []int
	for _, r := range e.connect.RequestsFor(fakeaws.OpGetCurrentMetricData) {
		var body struct{ Filters struct{ Queues []string } }
		json.Unmarshal(r.Body, &body)
		sizes = append(sizes, len(body.Filters.Queues))
	}
	if fmt.Sprint(sizes) != "[100 100 50]" {
		t.Fatalf("queues per call %v", sizes)
	}
}

// Past Connect's rate, QueueMetrics fails at once with an error
// IsThrottled recognises: one request, no retries spending the account's
// budget, though the Clients retry other calls three times.
func TestQueueMetricsThrottledIsNotRetried(t *testing.T) {
	e := newEnv(t, nil)
	e.connect.SetQueueMetrics(instanceA, "qa1", fakeaws.QueueMetrics{AgentsOnline: 1})
	e.connect.SetQueueMetrics(instanceB, "qb1", fakeaws.QueueMetrics{AgentsOnline: 2})
	e.connect.SetMetricRate(0.001, 2)
	ctx := context.Background()

	for range 2 {
		if _, _, err := e.clients.QueueMetrics(ctx, tenantA, []string{"qa1"}); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := e.clients.QueueMetrics(ctx, tenantA, []string{"qa1"})
	if !connectaws.IsThrottled(err) {
		t.Fatalf("error %v is not recognised as throttling", err)
	}
	if ue := upstreamError(t, err); ue.Code != "ThrottlingException" || ue.StatusCode != 429 || ue.Operation != "GetCurrentMetricData" {
		t.Fatalf("error %+v", ue)
	}
	if e.connect.Throttled(instanceA) != 1 || e.connect.MetricCalls(instanceA) != 2 {
		t.Fatalf("throttled %d (want 1: no retry), passed %d", e.connect.Throttled(instanceA), e.connect.MetricCalls(instanceA))
	}

	// Tenant B's account has its own budget.
	if b, _, err := e.clients.QueueMetrics(ctx, tenantB, []string{"qb1"}); err != nil || b[0].AgentsOnline != 2 {
		t.Fatalf("tenant B: %v %v", b, err)
	}

	// A throttled chunk fails the whole answer.
	e.connect.SetMetricRate(0.001, 1)
	ids := make([]string, 150)
	for i := range ids {
		ids[i] = fmt.Sprintf("q%d", i)
	}
	if got, _, err := e.clients.QueueMetrics(ctx, tenantA, ids); !connectaws.IsThrottled(err) || got != nil {
		t.Fatalf("second chunk throttled: %v, %v", got, err)
	}
	if e.connect.Throttled(instanceA) != 2 || e.connect.MetricCalls(instanceA) != 3 {
		t.Fatalf("throttled %d, passed %d", e.connect.Throttled(instanceA), e.connect.MetricCalls(instanceA))
	}
	signedByTheirTenant(t, e)
}

func TestSetContactRecording(t *testing.T) {
	e := newEnv(t, nil)
	e.connect.AddLiveContact(instanceA, "transferred", "initial")
	e.connect.AddLiveContact(instanceA, "solo", "")
	e.connect.AddLiveContact(instanceB, "theirs", "")
	ctx := context.Background()

	for _, state := range []string{connectaws.RecordingSuspended, connectaws.RecordingResumed, connectaws.RecordingStopped} {
		if err := e.clients.SetContactRecording(ctx, tenantA, "transferred", "initial", state); err != nil {
			t.Fatalf("%s: %v", state, err)
		}
		if lc, _ := e.connect.LiveContact(instanceA, "transferred"); lc.Recording != state {
			t.Fatalf("after %s: %+v", state, lc)
		}
	}
	lc, _ := e.connect.LiveContact(instanceA, "transferred")
	if len(lc.RecordingCalls) != 3 || lc.RecordingCalls[0] != (fakeaws.RecordingCall{Operation: fakeaws.OpSuspendContactRecording, ContactID: "transferred", InitialContactID: "initial"}) {
		t.Fatalf("calls %+v", lc.RecordingCalls)
	}
	// A stopped recording stays stopped.
	err := e.clients.SetContactRecording(ctx, tenantA, "transferred", "initial", connectaws.RecordingResumed)
	if ue := upstreamError(t, err); ue.Code != "InvalidRequestException" {
		t.Fatalf("resuming a stopped recording: %+v", ue)
	}

	// Without an initial contact, the contact is its own.
	if err := e.clients.SetContactRecording(ctx, tenantA, "solo", "", connectaws.RecordingSuspended); err != nil {
		t.Fatal(err)
	}
	if lc, _ := e.connect.LiveContact(instanceA, "solo"); lc.Recording != connectaws.RecordingSuspended || lc.RecordingCalls[0].InitialContactID != "solo" {
		t.Fatalf("solo %+v", lc)
	}

	// Another tenant's contact is not found through this tenant's instance.
	err = e.clients.SetContactRecording(ctx, tenantA, "theirs", "", connectaws.RecordingSuspended)
	if ue := upstreamError(t, err); ue.Code != "ResourceNotFoundException" || ue.StatusCode != 404 {
		t.Fatalf("another tenant's contact: %+v", ue)
	}
	if lc, _ := e.connect.LiveContact(instanceB, "theirs"); lc.Recording != "" {
		t.Fatalf("tenant B's contact was touched: %+v", lc)
	}
	if err := e.clients.SetContactRecording(ctx, tenantB, "theirs", "", connectaws.RecordingSuspended); err != nil {
		t.Fatal(err)
	}
	signedByTheirTenant(t, e)

	n := len(e.connect.Requests())
	for name, tc := range map[string]struct{ contact, state string }{
		"unknown state": {"solo", "PAUSED"},
		"no contact":    {"", connectaws.RecordingSuspended},
	} {
		if err := e.clients.SetContactRecording(ctx, tenantA, tc.contact, "", tc.state); !errors.Is(err, connectaws.ErrInvalidInput) || errors.Is(err, connectaws.ErrUpstream) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if len(e.connect.Requests()) != n {
		t.Fatal("invalid input reached Connect")
	}
}

func TestUpdateContactAttributes(t *testing.T) {
	e := newEnv(t, nil)
	e.connect.AddLiveContact(instanceA, "transferred", "initial")
	e.connect.AddLiveContact(instanceB, "theirs", "")
	ctx := context.Background()

	if err := e.clients.UpdateContactAttributes(ctx, tenantA, "initial", map[string]string{"reason": "billing", "vip": "yes"}); err != nil {
		t.Fatal(err)
	}
	if err := e.clients.UpdateContactAttributes(ctx, tenantA, "initial", map[string]string{"reason": "refund"}); err != nil {
		t.Fatal(err)
	}
	if got := e.connect.ContactAttributes(instanceA, "initial"); fmt.Sprint(got) != "map[reason:refund vip:yes]" {
		t.Fatalf("attributes %v", got)
	}

	// Connect's total, counted over the merged attributes, is Connect's to
	// refuse.
	big := strings.Repeat("x", 20000)
	if err := e.clients.UpdateContactAttributes(ctx, tenantA, "initial", map[string]string{"a": big}); err != nil {
		t.Fatal(err)
	}
	err := e.clients.UpdateContactAttributes(ctx, tenantA, "initial", map[string]string{"b": big})
	if ue := upstreamError(t, err); ue.Code != "InvalidParameterException" {
		t.Fatalf("merged past 32 KB: %+v", ue)
	}

	// Another tenant's contact is not found through this tenant's instance.
	err = e.clients.UpdateContactAttributes(ctx, tenantA, "theirs", map[string]string{"x": "y"})
	if ue := upstreamError(t, err); ue.Code != "ResourceNotFoundException" {
		t.Fatalf("another tenant's contact: %+v", ue)
	}
	if got := e.connect.ContactAttributes(instanceB, "theirs"); len(got) != 0 {
		t.Fatalf("tenant B's contact got %v", got)
	}
	if err := e.clients.UpdateContactAttributes(ctx, tenantB, "theirs", map[string]string{"x": "y"}); err != nil {
		t.Fatal(err)
	}
	signedByTheirTenant(t, e)

	n := len(e.connect.Requests())
	for name, tc := range map[string]struct {
		initial string
		attrs   map[string]string
	}{
		"key with a space": {"initial", map[string]string{"bad key": "v"}},
		"empty key":        {"initial", map[string]string{"": "v"}},
		"over 32 KB":       {"initial", map[string]string{"a": big, "b": big}},
		"long value":       {"initial", map[string]string{"a": strings.Repeat("é", 32768)}},
		"no contact":       {"", map[string]string{"a": "b"}},
	} {
		if err := e.clients.UpdateContactAttributes(ctx, tenantA, tc.initial, tc.attrs); !errors.Is(err, connectaws.ErrInvalidInput) || errors.Is(err, connectaws.ErrUpstream) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := e.clients.UpdateContactAttributes(ctx, tenantA, "initial", nil); err != nil {
		t.Fatalf("no attributes: %v", err)
	}
	if len(e.connect.Requests()) != n {
		t.Fatal("invalid or empty input reached Connect")
	}
}
