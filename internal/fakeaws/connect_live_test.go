package fakeaws_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"switchboard/internal/fakeaws"
)

// status returns the HTTP status of an SDK error, or 0.
func status(err error) int {
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

// metricsInput asks for the five figures of queues, grouped by queue.
func metricsInput(inst string, grouped bool, queues ...string) *connect.GetCurrentMetricDataInput {
	in := &connect.GetCurrentMetricDataInput{
		InstanceId: aws.String(inst),
		Filters:    &types.Filters{Queues: queues},
		CurrentMetrics: []types.CurrentMetric{
			{Name: types.CurrentMetricNameAgentsOnline, Unit: types.UnitCount},
			{Name: types.CurrentMetricNameAgentsAvailable, Unit: types.UnitCount},
			{Name: types.CurrentMetricNameAgentsOnContact, Unit: types.UnitCount},
			{Name: types.CurrentMetricNameContactsInQueue, Unit: types.UnitCount},
			{Name: types.CurrentMetricNameOldestContactAge, Unit: types.UnitSeconds},
		},
	}
	if grouped {
		in.Groupings = []types.Grouping{types.GroupingQueue}
	}
	return in
}

// figures renders a result's collections as NAME=VALUE, in order.
func figures(r types.CurrentMetricResult) string {
	var parts []string
	for _, c := range r.Collections {
		parts = append(parts, fmt.Sprintf("%s=%g", c.Metric.Name, aws.ToFloat64(c.Value)))
	}
	return strings.Join(parts, " ")
}

func TestConnectQueues(t *testing.T) {
	c := fakeaws.NewConnect(t)
	c.SetQueues(instance,
		fakeaws.Queue{ID: "q1", Name: "Sales"},
		fakeaws.Queue{ID: "agent-q", Type: "AGENT"},
		fakeaws.Queue{ID: "q2", Name: "Support", ARN: "arn:aws:connect:eu-west-2:111111111111:instance/" + instance + "/queue/q2"},
		fakeaws.Queue{ID: "q3", Name: "Billing"},
	)
	c.SetPageSize(2)
	cl := connectClient(c, credentials.StaticCredentialsProvider{Value: base})
	ctx := context.Background()

	p := connect.NewListQueuesPaginator(cl, &connect.ListQueuesInput{
		InstanceId: aws.String(instance), QueueTypes: []types.QueueType{types.QueueTypeStandard},
	})
	var got []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range page.QueueSummaryList {
			got = append(got, aws.ToString(q.Id)+" "+aws.ToString(q.Name)+" "+string(q.QueueType)+" "+aws.ToString(q.Arn))
		}
	}
	want := []string{
		"q1 Sales STANDARD arn:aws:connect:us-east-1:000000000000:instance/" + instance + "/queue/q1",
		"q2 Support STANDARD arn:aws:connect:eu-west-2:111111111111:instance/" + instance + "/queue/q2",
		"q3 Billing STANDARD arn:aws:connect:us-east-1:000000000000:instance/" + instance + "/queue/q3",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("queues:\n%s", strings.Join(got, "\n"))
	}
	reqs := c.RequestsFor(fakeaws.OpListQueues)
	if len(reqs) != 2 || reqs[0].Path != "/queues-summary/"+instance || reqs[0].Query.Get("queueTypes") != "STANDARD" {
		t.Fatalf("requests %+v", reqs)
	}
	all, err := cl.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String(instance), MaxResults: aws.Int32(10)})
	if err != nil || len(all.QueueSummaryList) != 4 || all.NextToken != nil {
		t.Fatalf("unfiltered: %+v, %v", all, err)
	}
	c.SetMaxPageSize(1)
	capped, err := cl.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String(instance), MaxResults: aws.Int32(10)})
	if err != nil || len(capped.QueueSummaryList) != 1 || aws.ToString(capped.NextToken) == "" {
		t.Fatalf("capped at 1: %+v, %v", capped, err)
	}
	if _, err := cl.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String("other")}); code(err) != "ResourceNotFoundException" {
		t.Fatalf("unknown instance: %v", err)
	}
}

func TestConnectCurrentMetricData(t *testing.T) {
	c := fakeaws.NewConnect(t)
	c.SetQueues(instance, fakeaws.Queue{ID: "q1", Name: "Sales"}, fakeaws.Queue{ID: "q2", Name: "Support"}, fakeaws.Queue{ID: "q3"})
	c.SetQueueMetrics(instance, "q1", fakeaws.QueueMetrics{AgentsOnline: 2, AgentsAvailable: 1, AgentsOnContact: 1, ContactsInQueue: 3, OldestContactAge: 24113 * time.Millisecond})
	c.SetQueueMetrics(instance, "q2", fakeaws.QueueMetrics{AgentsOnline: 5, ContactsInQueue: 1, OldestContactAge: 2 * time.Second})
	c.SetMetricRate(0, 0) // TestConnectMetricRateLimit tests the limit
	cl := connectClient(c, credentials.StaticCredentialsProvider{Value: base})
	ctx := context.Background()

	q2ARN := "arn:aws:connect:us-east-1:000000000000:instance/" + instance + "/queue/q2"
	before := time.Now().Add(-time.Second)
	out, err := cl.GetCurrentMetricData(ctx, metricsInput(instance, true, "q1", q2ARN, "q3", "q1"))
	if err != nil {
		t.Fatal(err)
	}
	// q3 has no figures, so no row; q2 first (more agents online); q2 named
	// by its ARN is answered with its ID.
	var got []string
	for _, r := range out.MetricResults {
		got = append(got, aws.ToString(r.Dimensions.Queue.Id)+" "+aws.ToString(r.Dimensions.Queue.Arn)+": "+figures(r))
	}
	want := []string{
		"q2 " + q2ARN + ": AGENTS_ONLINE=5 AGENTS_AVAILABLE=0 AGENTS_ON_CONTACT=0 CONTACTS_IN_QUEUE=1 OLDEST_CONTACT_AGE=2",
		"q1 arn:aws:connect:us-east-1:000000000000:instance/" + instance + "/queue/q1: AGENTS_ONLINE=2 AGENTS_AVAILABLE=1 AGENTS_ON_CONTACT=1 CONTACTS_IN_QUEUE=3 OLDEST_CONTACT_AGE=24.113",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("results:\n%s", strings.Join(got, "\n"))
	}
	if snap := aws.ToTime(out.DataSnapshotTime); snap.Before(before) || snap.After(time.Now().Add(time.Second)) {
		t.Fatalf("DataSnapshotTime %v", snap)
	}
	if aws.ToInt64(out.ApproximateTotalCount) != 2 || out.NextToken != nil {
		t.Fatalf("count %d, next %v", aws.ToInt64(out.ApproximateTotalCount), out.NextToken)
	}
	r := c.RequestsFor(fakeaws.OpGetCurrentMetricData)[0]
	if r.Method != "POST" || r.Path != "/metrics/current/"+instance || !strings.Contains(string(r.Body), `"Groupings":["QUEUE"]`) {
		t.Fatalf("request %s %s %s", r.Method, r.Path, r.Body)
	}

	// Paged, one row a page.
	in := metricsInput(instance, true, "q1", "q2")
	in.MaxResults = aws.Int32(1)
	var ids []string
	for p := connect.NewGetCurrentMetricDataPaginator(cl, in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.MetricResults {
			ids = append(ids, aws.ToString(r.Dimensions.Queue.Id))
		}
	}
	if strings.Join(ids, ",") != "q2,q1" {
		t.Fatalf("paged: %v", ids)
	}

	// Not grouped: one row of sums, the oldest age in milliseconds.
	out, err = cl.GetCurrentMetricData(ctx, metricsInput(instance, false, "q1", "q2"))
	if err != nil || len(out.MetricResults) != 1 || out.MetricResults[0].Dimensions != nil {
		t.Fatalf("not grouped: %+v, %v", out, err)
	}
	if f := figures(out.MetricResults[0]); f != "AGENTS_ONLINE=7 AGENTS_AVAILABLE=1 AGENTS_ON_CONTACT=1 CONTACTS_IN_QUEUE=4 OLDEST_CONTACT_AGE=24113" {
		t.Fatalf("not grouped: %s", f)
	}

	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("q%d", i)
	}
	wrongUnit := metricsInput(instance, true, "q1")
	wrongUnit.CurrentMetrics[4].Unit = types.UnitCount
	byProfile := metricsInput(instance, true)
	byProfile.Filters = &types.Filters{RoutingProfiles: []string{"rp"}}
	for name, tc := range map[string]struct {
		in     *connect.GetCurrentMetricDataInput
		code   string
		status int
	}{
		"101 queues":       {metricsInput(instance, true, many...), "InvalidParameterException", 400},
		"no queue":         {metricsInput(instance, true), "InvalidParameterException", 400},
		"wrong unit":       {wrongUnit, "InvalidParameterException", 400},
		"routing profiles": {byProfile, "InvalidParameterException", 400},
		"unknown instance": {metricsInput("other", true, "q1"), "ResourceNotFoundException", 404},
	} {
		_, err := cl.GetCurrentMetricData(ctx, tc.in)
		if code(err) != tc.code || status(err) != tc.status {
			t.Errorf("%s: error %v", name, err)
		}
	}
	if n := c.MetricCalls(instance); n != 8 || c.Throttled(instance) != 0 {
		t.Errorf("MetricCalls = %d, want 8 (1 + 2 pages + 1 + the 4 refusals of this instance, which passed the limit)", n)
	}
}

func TestConnectMetricRateLimit(t *testing.T) {
	c := fakeaws.NewConnect(t)
	c.SetQueueMetrics(instance, "q1", fakeaws.QueueMetrics{AgentsOnline: 1})
	cl := connectClient(c, credentials.StaticCredentialsProvider{Value: base})
	ctx := context.Background()
	get := func() error {
		_, err := cl.GetCurrentMetricData(ctx, metricsInput(instance, true, "q1"))
		return err
	}

	// Connect's own quota by default: a burst of 8, then 429.
	for i := range 8 {
		if err := get(); err != nil {
			t.Fatalf("call %d of the burst: %v", i+1, err)
		}
	}
	err := get()
	var te *types.ThrottlingException
	if !errors.As(err, &te) || status(err) != 429 {
		t.Fatalf("the 9th call in a burst: %v", err)
	}
	if c.MetricCalls(instance) != 8 || c.Throttled(instance) != 1 {
		t.Fatalf("calls %d, throttled %d", c.MetricCalls(instance), c.Throttled(instance))
	}

	// A tight limit refills at its rate.
	c.SetMetricRate(20, 1)
	if err := get(); err != nil {
		t.Fatal(err)
	}
	if err := get(); status(err) != 429 {
		t.Fatalf("second call at once: %v", err)
	}
	time.Sleep(60 * time.Millisecond)
	if err := get(); err != nil {
		t.Fatalf("after the bucket refilled: %v", err)
	}
	if c.MetricCalls(instance) != 10 || c.Throttled(instance) != 2 {
		t.Fatalf("calls %d, throttled %d", c.MetricCalls(instance), c.Throttled(instance))
	}

	// Other operations are not limited unless a test says so.
	for range 20 {
		if _, err := cl.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String(instance)}); err != nil {
			t.Fatal(err)
		}
	}
	c.SetRateLimit(fakeaws.OpListQueues, 0.001, 1)
	cl.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String(instance)})
	if _, err := cl.ListQueues(ctx, &connect.ListQueuesInput{InstanceId: aws.String(instance)}); code(err) != "ThrottlingException" {
		t.Fatalf("ListQueues past its limit: %v", err)
	}
	c.SetMetricRate(0, 0)
	for range 20 {
		if err := get(); err != nil {
			t.Fatalf("without a limit: %v", err)
		}
	}
}

// The rate limit is the account's: instances of one account share it,
// another account's role has its own.
func TestConnectMetricRateLimitIsPerAccount(t *testing.T) {
	const otherRole, otherInstance, sameAccountInstance = "arn:aws:iam::222222222222:role/SwitchboardAccess", "other-instance", "second-instance"
	s := fakeaws.NewSTS(t)
	s.TrustCaller(base)
	s.AllowRole(role, externalID)
	s.AllowRole(otherRole, externalID)
	c := fakeaws.NewConnect(t)
	c.TrustSTS(s)
	for _, id := range []string{instance, otherInstance, sameAccountInstance} {
		c.SetQueueMetrics(id, "q1", fakeaws.QueueMetrics{AgentsOnline: 1})
	}
	c.SetMetricRate(0.001, 2)
	ctx := context.Background()

	mine := connectClient(c, credentials.StaticCredentialsProvider{Value: assumed(t, s)})
	other, err := stsClient(s, base).AssumeRole(ctx, stsInput(otherRole))
	if err != nil {
		t.Fatal(err)
	}
	theirs := connectClient(c, credentials.StaticCredentialsProvider{Value: aws.Credentials{
		AccessKeyID: aws.ToString(other.Credentials.AccessKeyId), SecretAccessKey: aws.ToString(other.Credentials.SecretAccessKey),
		SessionToken: aws.ToString(other.Credentials.SessionToken),
	}})
	for _, id := range []string{instance, sameAccountInstance} {
		if _, err := mine.GetCurrentMetricData(ctx, metricsInput(id, true, "q1")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := mine.GetCurrentMetricData(ctx, metricsInput(instance, true, "q1")); code(err) != "ThrottlingException" {
		t.Fatalf("third call of the account: %v", err)
	}
	if _, err := theirs.GetCurrentMetricData(ctx, metricsInput(otherInstance, true, "q1")); err != nil {
		t.Fatalf("another account's first call: %v", err)
	}
	if c.Throttled(instance) != 1 || c.Throttled(otherInstance) != 0 || c.MetricCalls(sameAccountInstance) != 1 {
		t.Fatalf("throttled %d/%d", c.Throttled(instance), c.Throttled(otherInstance))
	}
}

func TestConnectContactRecording(t *testing.T) {
	c := fakeaws.NewConnect(t)
	c.AddLiveContact(instance, "transferred", "initial")
	c.AddLiveContact(instance, "initial", "")
	cl := connectClient(c, credentials.StaticCredentialsProvider{Value: base})
	ctx := context.Background()
	ids := func(contact, initial string) (*string, *string, *string) {
		return aws.String(instance), aws.String(contact), aws.String(initial)
	}

	inst, ct, initial := ids("transferred", "initial")
	if _, err := cl.SuspendContactRecording(ctx, &connect.SuspendContactRecordingInput{InstanceId: inst, ContactId: ct, InitialContactId: initial}); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.LiveContact(instance, "transferred"); got.Recording != fakeaws.RecordingSuspended {
		t.Fatalf("after suspend: %+v", got)
	}
	if _, err := cl.ResumeContactRecording(ctx, &connect.ResumeContactRecordingInput{InstanceId: inst, ContactId: ct, InitialContactId: initial,
		ContactRecordingType: types.ContactRecordingTypeAgent}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.StopContactRecording(ctx, &connect.StopContactRecordingInput{InstanceId: inst, ContactId: ct, InitialContactId: initial}); err != nil {
		t.Fatal(err)
	}
	got, ok := c.LiveContact(instance, "transferred")
	if !ok || got.Recording != fakeaws.RecordingStopped || len(got.RecordingCalls) != 3 ||
		got.RecordingCalls[1] != (fakeaws.RecordingCall{Operation: fakeaws.OpResumeContactRecording, ContactID: "transferred", InitialContactID: "initial", RecordingType: "AGENT"}) {
		t.Fatalf("after stop: %+v", got)
	}
	if _, err := cl.ResumeContactRecording(ctx, &connect.ResumeContactRecordingInput{InstanceId: inst, ContactId: ct, InitialContactId: initial}); code(err) != "InvalidRequestException" {
		t.Fatalf("resuming a stopped recording: %v", err)
	}
	if other, _ := c.LiveContact(instance, "initial"); other.Recording != "" {
		t.Fatalf("the initial contact's recording was touched: %+v", other)
	}

	for name, in := range map[string]*connect.SuspendContactRecordingInput{
		"unknown contact":  {InstanceId: inst, ContactId: aws.String("nope"), InitialContactId: aws.String("nope")},
		"wrong initial":    {InstanceId: inst, ContactId: ct, InitialContactId: aws.String("transferred")},
		"unknown instance": {InstanceId: aws.String("other"), ContactId: ct, InitialContactId: initial},
	} {
		if _, err := cl.SuspendContactRecording(ctx, in); code(err) != "ResourceNotFoundException" || status(err) != 404 {
			t.Errorf("%s: %v", name, err)
		}
	}
	for _, op := range []string{fakeaws.OpSuspendContactRecording, fakeaws.OpResumeContactRecording, fakeaws.OpStopContactRecording} {
		r := c.RequestsFor(op)[0]
		want := "/contact/" + map[string]string{fakeaws.OpSuspendContactRecording: "suspend", fakeaws.OpResumeContactRecording: "resume", fakeaws.OpStopContactRecording: "stop"}[op] + "-recording"
		if r.Method != "POST" || r.Path != want {
			t.Errorf("%s: %s %s", op, r.Method, r.Path)
		}
	}
}

func TestConnectContactAttributes(t *testing.T) {
	c := fakeaws.NewConnect(t)
	c.AddLiveContact(instance, "transferred", "initial")
	cl := connectClient(c, credentials.StaticCredentialsProvider{Value: base})
	ctx := context.Background()
	update := func(initial string, attrs map[string]string) error {
		_, err := cl.UpdateContactAttributes(ctx, &connect.UpdateContactAttributesInput{
			InstanceId: aws.String(instance), InitialContactId: aws.String(initial), Attributes: attrs,
		})
		return err
	}

	if err := update("initial", map[string]string{"reason": "billing", "vip": "yes"}); err != nil {
		t.Fatal(err)
	}
	if err := update("initial", map[string]string{"reason": "refund", "case-id_2": "77"}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"reason": "refund", "vip": "yes", "case-id_2": "77"}
	if got := c.ContactAttributes(instance, "initial"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("attributes %v", got)
	}
	if lc, _ := c.LiveContact(instance, "transferred"); fmt.Sprint(lc.Attributes) != fmt.Sprint(want) {
		t.Fatalf("the live contact's attributes %v", lc.Attributes)
	}

	big := strings.Repeat("x", 16000)
	for name, tc := range map[string]struct {
		initial string
		attrs   map[string]string
		code    string
	}{
		"key with a space":        {"initial", map[string]string{"bad key": "v"}, "InvalidParameterException"},
		"empty key":               {"initial", map[string]string{"": "v"}, "InvalidParameterException"},
		"over 32 KB in all":       {"initial", map[string]string{"a": big, "b": big, "c": big}, "InvalidParameterException"},
		"value over 32767 chars":  {"initial", map[string]string{"a": strings.Repeat("é", 32768)}, "InvalidParameterException"},
		"over 32 KB once merged":  {"initial", map[string]string{"a": big, "b": big + strings.Repeat("y", 800)}, "InvalidParameterException"},
		"unknown contact":         {"nope", map[string]string{"a": "b"}, "ResourceNotFoundException"},
		"a contact, not initial":  {"transferred", map[string]string{"a": "b"}, "ResourceNotFoundException"},
		"initial contact ID long": {strings.Repeat("i", 257), map[string]string{"a": "b"}, "InvalidParameterException"},
	} {
		if err := update(tc.initial, tc.attrs); code(err) != tc.code {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got := c.ContactAttributes(instance, "initial"); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("a refused update changed the attributes: %v", got)
	}
	// Exactly 32,768 bytes in all is allowed.
	fill := 32768 - len("reason") - len("refund") - len("vip") - len("yes") - len("case-id_2") - len("77") - len("z")
	if err := update("initial", map[string]string{"z": strings.Repeat("z", fill)}); err != nil {
		t.Fatalf("32768 bytes: %v", err)
	}

	// A chat the fake started takes attributes too.
	chat, err := cl.StartChatContact(ctx, &connect.StartChatContactInput{
		InstanceId: aws.String(instance), ContactFlowId: aws.String("flow"),
		ParticipantDetails: &types.ParticipantDetails{DisplayName: aws.String("Jo")},
		Attributes:         map[string]string{"conversation": "1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := update(aws.ToString(chat.ContactId), map[string]string{"topic": "returns"}); err != nil {
		t.Fatal(err)
	}
	if ct, _ := c.Contact(aws.ToString(chat.ContactId)); ct.Attributes["conversation"] != "1" || ct.Attributes["topic"] != "returns" {
		t.Fatalf("chat attributes %v", ct.Attributes)
	}
	if r := c.RequestsFor(fakeaws.OpUpdateContactAttributes)[0]; r.Method != "POST" || r.Path != "/contact/attributes" {
		t.Fatalf("request %s %s", r.Method, r.Path)
	}
}

func TestConnectUsersProfilesAndFlows(t *testing.T) {
	c := fakeaws.NewConnect(t)
	c.SetUsers(instance,
		fakeaws.User{ID: "u1", Username: "jo", FirstName: "Jo", LastName: "Bloggs", Email: "jo@example.com", RoutingProfileID: "rp1"},
		fakeaws.User{ID: "u2", Username: "sam"},
		fakeaws.User{ID: "u3", Username: "kim", RoutingProfileID: "rp2"},
	)
	c.SetAgentStatuses(instance, fakeaws.AgentStatus{ID: "available", Name: "Available", Type: "ROUTABLE"})
	c.SetRoutingProfiles(instance, fakeaws.RoutingProfile{ID: "rp1", Name: "Sales"}, fakeaws.RoutingProfile{ID: "rp2", Name: "Support"})
	c.SetContactFlows(instance,
		fakeaws.ContactFlow{ID: "f1", Name: "Inbound"},
		fakeaws.ContactFlow{ID: "f2", Name: "Hold music", Type: "CUSTOMER_HOLD"},
		fakeaws.ContactFlow{ID: "f3", Name: "Old inbound", State: "ARCHIVED", Status: "SAVED"},
	)
	c.SetPageSize(2)
	cl := connectClient(c, credentials.StaticCredentialsProvider{Value: base})
	ctx := context.Background()

	var users []string
	for p := connect.NewListUsersPaginator(cl, &connect.ListUsersInput{InstanceId: aws.String(instance)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page.UserSummaryList {
			users = append(users, aws.ToString(u.Id)+" "+aws.ToString(u.Username)+" "+aws.ToString(u.Arn))
		}
	}
	if len(users) != 3 || users[0] != "u1 jo arn:aws:connect:us-east-1:000000000000:instance/"+instance+"/agent/u1" {
		t.Fatalf("users %v", users)
	}
	if n := len(c.RequestsFor(fakeaws.OpListUsers)); n != 2 {
		t.Fatalf("%d ListUsers pages, want 2", n)
	}

	d, err := cl.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: aws.String(instance), UserId: aws.String("u1")})
	if err != nil {
		t.Fatal(err)
	}
	u := d.User
	if aws.ToString(u.Id) != "u1" || aws.ToString(u.Username) != "jo" || aws.ToString(u.IdentityInfo.FirstName) != "Jo" ||
		aws.ToString(u.IdentityInfo.LastName) != "Bloggs" || aws.ToString(u.IdentityInfo.Email) != "jo@example.com" ||
		aws.ToString(u.RoutingProfileId) != "rp1" || u.PhoneConfig == nil || u.PhoneConfig.PhoneType != types.PhoneTypeSoftPhone {
		t.Fatalf("user %+v", u)
	}
	if r := c.RequestsFor(fakeaws.OpDescribeUser)[0]; r.Method != "GET" || r.Path != "/users/"+instance+"/u1" {
		t.Fatalf("request %s %s", r.Method, r.Path)
	}
	if _, err := cl.DescribeUser(ctx, &connect.DescribeUserInput{InstanceId: aws.String(instance), UserId: aws.String("nope")}); code(err) != "ResourceNotFoundException" {
		t.Fatalf("unknown user: %v", err)
	}
	// A user SetUsers made takes a status.
	if _, err := cl.PutUserStatus(ctx, &connect.PutUserStatusInput{InstanceId: aws.String(instance), UserId: aws.String("u2"), AgentStatusId: aws.String("available")}); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.UserStatus(instance, "u2"); s != "available" {
		t.Fatalf("u2's status %q", s)
	}

	var profiles []string
	for p := connect.NewListRoutingProfilesPaginator(cl, &connect.ListRoutingProfilesInput{InstanceId: aws.String(instance)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, rp := range page.RoutingProfileSummaryList {
			profiles = append(profiles, aws.ToString(rp.Id)+" "+aws.ToString(rp.Name))
		}
	}
	if strings.Join(profiles, ",") != "rp1 Sales,rp2 Support" {
		t.Fatalf("profiles %v", profiles)
	}

	flows, err := cl.ListContactFlows(ctx, &connect.ListContactFlowsInput{
		InstanceId: aws.String(instance), ContactFlowTypes: []types.ContactFlowType{types.ContactFlowTypeContactFlow}, MaxResults: aws.Int32(10),
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range flows.ContactFlowSummaryList {
		got = append(got, fmt.Sprintf("%s %s %s %s %s", aws.ToString(f.Id), aws.ToString(f.Name), f.ContactFlowType, f.ContactFlowState, f.ContactFlowStatus))
	}
	if strings.Join(got, ",") != "f1 Inbound CONTACT_FLOW ACTIVE PUBLISHED,f3 Old inbound CONTACT_FLOW ARCHIVED SAVED" {
		t.Fatalf("flows %v", got)
	}
	if r := c.RequestsFor(fakeaws.OpListContactFlows)[0]; r.Path != "/contact-flows-summary/"+instance || r.Query.Get("contactFlowTypes") != "CONTACT_FLOW" {
		t.Fatalf("request %s %v", r.Path, r.Query)
	}
}

// stsInput assumes roleARN with the tests' external ID.
func stsInput(roleARN string) *sts.AssumeRoleInput {
	return &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("test"), ExternalId: aws.String(externalID)}
}
