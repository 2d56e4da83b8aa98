package fakeaws_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"switchboard/internal/fakeaws"
)

const (
	role       = "arn:aws:iam::111111111111:role/SwitchboardAccess"
	externalID = "ext-1"
	instance   = "11111111-2222-4333-8444-555555555555"
)

var base = aws.Credentials{AccessKeyID: "AKIABASE000000000001", SecretAccessKey: "base-secret"}

// connectClient returns a real SDK Connect client for c signing with creds.
func connectClient(c *fakeaws.Connect, creds aws.CredentialsProvider) *connect.Client {
	return connect.New(connect.Options{
		Region:           "eu-west-2",
		Credentials:      creds,
		BaseEndpoint:     aws.String(c.URL),
		RetryMaxAttempts: 1,
	})
}

func stsClient(s *fakeaws.STS, creds aws.Credentials) *sts.Client {
	return sts.New(sts.Options{
		Region:       "eu-west-2",
		Credentials:  credentials.StaticCredentialsProvider{Value: creds},
		BaseEndpoint: aws.String(s.URL),
		Retryer:      retry.AddWithMaxBackoffDelay(retry.NewStandard(), 10*time.Millisecond),
	})
}

// assumed returns credentials for role from s, through the SDK's provider.
func assumed(t *testing.T, s *fakeaws.STS) aws.Credentials {
	t.Helper()
	p := stscreds.NewAssumeRoleProvider(stsClient(s, base), role, func(o *stscreds.AssumeRoleOptions) {
		o.ExternalID = aws.String(externalID)
		o.RoleSessionName = "test"
	})
	creds, err := p.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return creds
}

func code(err error) string {
	if apiErr, ok := errors.AsType[smithy.APIError](err); ok {
		return apiErr.ErrorCode()
	}
	return ""
}

func TestSTSAssumeRole(t *testing.T) {
	s := fakeaws.NewSTS(t)
	s.TrustCaller(base)
	s.AllowRole(role, externalID)
	s.SetExpiry(90 * time.Minute)

	creds := assumed(t, s)
	issued, ok := s.Lookup(creds.AccessKeyID)
	if !ok || issued.SecretAccessKey != creds.SecretAccessKey || issued.SessionToken != creds.SessionToken ||
		!creds.CanExpire || creds.Expires.Sub(issued.Expires).Abs() > time.Millisecond ||
		time.Until(creds.Expires) < 89*time.Minute || len(creds.AccessKeyID) != 20 {
		t.Fatalf("credentials %+v, issued %+v", creds, issued)
	}
	again := assumed(t, s)
	if again.AccessKeyID == creds.AccessKeyID {
		t.Fatal("two issues share an access key")
	}

	for name, tc := range map[string]struct {
		creds      aws.Credentials
		role, ext  string
		wantCode   string
		wantStatus int
	}{
		"wrong external ID": {base, role, "nope", "AccessDenied", 403},
		"no external ID":    {base, role, "", "AccessDenied", 403},
		"unknown role":      {base, "arn:aws:iam::111111111111:role/Other", externalID, "AccessDenied", 403},
		"wrong secret":      {aws.Credentials{AccessKeyID: base.AccessKeyID, SecretAccessKey: "guess"}, role, externalID, "SignatureDoesNotMatch", 403},
		"unknown caller":    {aws.Credentials{AccessKeyID: "AKIAOTHER", SecretAccessKey: "x"}, role, externalID, "InvalidClientTokenId", 403},
	} {
		in := &sts.AssumeRoleInput{RoleArn: aws.String(tc.role), RoleSessionName: aws.String("test")}
		if tc.ext != "" {
			in.ExternalId = aws.String(tc.ext)
		}
		_, err := stsClient(s, tc.creds).AssumeRole(context.Background(), in)
		var re interface{ HTTPStatusCode() int }
		if code(err) != tc.wantCode || !errors.As(err, &re) || re.HTTPStatusCode() != tc.wantStatus {
			t.Errorf("%s: error %v", name, err)
		}
	}
	if n := s.CallCount(role); n != 6 {
		t.Fatalf("calls for the role = %d, want 6", n)
	}

	s.Fail(fakeaws.Failure{Status: 400, Code: "Throttling", Message: "Rate exceeded", Times: 1})
	_, err := stsClient(s, base).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn: aws.String(role), RoleSessionName: aws.String("t"), ExternalId: aws.String(externalID),
	})
	if err != nil {
		t.Fatalf("a throttled AssumeRole should be retried: %v", err)
	}
	calls := s.Calls()
	if last, prev := calls[len(calls)-1], calls[len(calls)-2]; prev.ErrorCode != "Throttling" || last.ErrorCode != "" || last.IssuedKeyID == "" {
		t.Fatalf("last calls: %+v, %+v", prev, last)
	}
}

func TestConnectAuthentication(t *testing.T) {
	s := fakeaws.NewSTS(t)
	s.AllowRole(role, externalID)
	c := fakeaws.NewConnect(t)
	c.TrustSTS(s)
	c.AddInstance(instance)
	ctx := context.Background()
	list := &connect.ListAgentStatusesInput{InstanceId: aws.String(instance)}

	good := assumed(t, s)
	if _, err := connectClient(c, credentials.StaticCredentialsProvider{Value: good}).ListAgentStatuses(ctx, list); err != nil {
		t.Fatal(err)
	}

	forged := good
	forged.SecretAccessKey = "not-the-secret"
	noToken := good
	noToken.SessionToken = ""
	for name, tc := range map[string]struct {
		creds aws.Credentials
		code  string
	}{
		"platform credentials": {base, "UnrecognizedClientException"},
		"wrong secret":         {forged, "InvalidSignatureException"},
		"no session token":     {noToken, "InvalidSignatureException"},
	} {
		_, err := connectClient(c, credentials.StaticCredentialsProvider{Value: tc.creds}).ListAgentStatuses(ctx, list)
		if code(err) != tc.code {
			t.Errorf("%s: error %v", name, err)
		}
	}

	s.SetExpiry(time.Millisecond)
	expiring := assumed(t, s)
	time.Sleep(5 * time.Millisecond)
	expiring.CanExpire = false // make the SDK use them anyway
	_, err := connectClient(c, credentials.StaticCredentialsProvider{Value: expiring}).ListAgentStatuses(ctx, list)
	if code(err) != "ExpiredTokenException" {
		t.Errorf("expired credentials: error %v", err)
	}

	resp, err := http.Get(c.URL + "/agent-status/" + instance)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 || resp.Header.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned request: %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"))
	}
}

func TestConnectContacts(t *testing.T) {
	c := fakeaws.NewConnect(t)
	c.AddInstance(instance)
	cl := connectClient(c, credentials.StaticCredentialsProvider{Value: base})
	ctx := context.Background()

	chatIn := &connect.StartChatContactInput{
		InstanceId:         aws.String(instance),
		ContactFlowId:      aws.String("flow-1"),
		ParticipantDetails: &types.ParticipantDetails{DisplayName: aws.String("Jo Bloggs")},
		Attributes:         map[string]string{"conversation": "42"},
		ClientToken:        aws.String("token-1"),
	}
	chat, err := cl.StartChatContact(ctx, chatIn)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(chat.ContactId) == "" || aws.ToString(chat.ParticipantId) == "" || aws.ToString(chat.ParticipantToken) == "" {
		t.Fatalf("chat = %+v", chat)
	}
	again, err := cl.StartChatContact(ctx, chatIn)
	if err != nil || aws.ToString(again.ContactId) != aws.ToString(chat.ContactId) {
		t.Fatalf("same ClientToken gave contact %v (%v)", aws.ToString(again.ContactId), err)
	}
	ct, ok := c.Contact(aws.ToString(chat.ContactId))
	if !ok || ct.Channel != "CHAT" || ct.DisplayName != "Jo Bloggs" || ct.Attributes["conversation"] != "42" || ct.ContactFlowID != "flow-1" {
		t.Fatalf("recorded chat = %+v", ct)
	}

	task, err := cl.StartTaskContact(ctx, &connect.StartTaskContactInput{
		InstanceId:    aws.String(instance),
		ContactFlowId: aws.String("flow-2"),
		Name:          aws.String("Email from jo@example.com"),
		References: map[string]types.Reference{
			"email": {Type: types.ReferenceTypeUrl, Value: aws.String("https://example.com/m/1")},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ct, _ = c.Contact(aws.ToString(task.ContactId))
	if ct.Channel != "TASK" || ct.Name != "Email from jo@example.com" || ct.References["email"].Value != "https://example.com/m/1" {
		t.Fatalf("recorded task = %+v", ct)
	}
	_, err = cl.StartTaskContact(ctx, &connect.StartTaskContactInput{
		InstanceId: aws.String(instance), Name: aws.String("x"),
		ContactFlowId: aws.String("flow"), QuickConnectId: aws.String("qc"),
	})
	if code(err) != "InvalidRequestException" {
		t.Errorf("two targets: error %v", err)
	}

	stop := &connect.StopContactInput{InstanceId: aws.String(instance), ContactId: chat.ContactId}
	if _, err := cl.StopContact(ctx, stop); err != nil {
		t.Fatal(err)
	}
	if ct, _ := c.Contact(aws.ToString(chat.ContactId)); !ct.Stopped {
		t.Fatal("contact not stopped")
	}
	if _, err := cl.StopContact(ctx, stop); code(err) != "ContactNotFoundException" {
		t.Errorf("stopping twice: error %v", err)
	}

	ops := []string{}
	for _, r := range c.Requests() {
		ops = append(ops, r.Method+" "+r.Path+" "+r.Operation)
	}
	want := []string{
		"PUT /contact/chat StartChatContact", "PUT /contact/chat StartChatContact", "PUT /contact/task StartTaskContact",
		"PUT /contact/task StartTaskContact", "POST /contact/stop StopContact", "POST /contact/stop StopContact",
	}
	if strings.Join(ops, "\n") != strings.Join(want, "\n") {
		t.Fatalf("requests:\n%s", strings.Join(ops, "\n"))
	}
	if len(c.RequestsFor(fakeaws.OpStopContact)) != 2 || c.Requests()[0].AccessKeyID != base.AccessKeyID {
		t.Fatal("requests not recorded with their signer")
	}
}

func TestParseAuthorization(t *testing.T) {
	sig, err := fakeaws.ParseAuthorization("AWS4-HMAC-SHA256 Credential=ASIAX/20240304/eu-west-2/connect/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc")
	if err != nil || sig.AccessKeyID != "ASIAX" || sig.Region != "eu-west-2" || sig.Service != "connect" || len(sig.SignedHeaders) != 2 {
		t.Fatalf("%+v %v", sig, err)
	}
	for _, h := range []string{"", "Bearer x", "AWS4-HMAC-SHA256 Credential=ASIAX/x, SignedHeaders=host, Signature=abc"} {
		if _, err := fakeaws.ParseAuthorization(h); err == nil {
			t.Errorf("accepted %q", h)
		}
	}
}
