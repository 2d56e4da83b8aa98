package telemetry_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"switchboard/auth"
	"switchboard/cmd/switchboard/wire"
	"switchboard/connectaws"
	"switchboard/gid"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
	"switchboard/server/telemetry"
)

// TestNoEmailBodyInLogs: an email sent, and one whose sending fails, leave
// neither its body nor its subject in the logs; the SES call is measured.
func TestNoEmailBodyInLogs(t *testing.T) {
	logs := &logBuffer{}
	platform := aws.Credentials{AccessKeyID: "AKIAPLATFORM", SecretAccessKey: platformSecret}
	sts, s3, ses := fakeaws.NewSTS(t), fakeaws.NewS3(t), fakeaws.NewSES(t)
	sts.TrustCaller(platform)
	s3.TrustSTS(sts)
	ses.TrustSTS(sts)
	s := testenv.NewServer(t, testenv.Backends()[0], func(c *wire.Config) {
		c.Logger = slog.New(telemetry.NewHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
		c.AWS = &wire.AWS{Options: connectaws.Options{
			BaseCredentials: credentials.StaticCredentialsProvider{Value: platform}, STSEndpoint: sts.URL, RetryMaxAttempts: 1,
			S3Endpoint: s3.URL, SESEndpoint: ses.URL,
		}}
	})
	f := &fixture{s: s, logs: logs}
	a := s.NewTenant(t, "Acme")
	_, agentTok := s.NewAgent(t, a, "Alex", "alex@acme.example", auth.RoleAgent)
	const account, region = "111111111111", "eu-west-2"
	role := "arn:aws:iam::" + account + ":role/SwitchboardAccess"
	sts.AllowRole(role, "ext-acme")
	content, attachments := s.App.Mail().BucketNames(gid.ID(a.ID), "acme-support")
	s3.SetOwner(content, role)
	s3.SetOwner(attachments, role)
	s.MustDo(t, a.AdminToken, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"instanceArn": "arn:aws:connect:" + region + ":" + account + ":instance/11111111-2222-3333-4444-555555555555",
		"alias":       "acme-support", "region": region, "roleArn": role, "externalId": "ext-acme", "modules": []string{"email"},
	}}, nil)
	var addr struct {
		CreateEmailAddress struct{ ID string } `json:"createEmailAddress"`
	}
	s.MustDo(t, a.AdminToken, `mutation($in: CreateEmailAddressInput!) { createEmailAddress(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"address": "support@acme.example", "sesIdentityArn": "arn:aws:ses:" + region + ":" + account + ":identity/acme.example",
	}}, &addr)

	const body, subject = "the customer's account number is 99-1234-5678", "Private subject line 42"
	send := func() testenv.Response {
		return s.Do(t, agentTok, testenv.ContractOperation(t, "SendEmail"), map[string]any{"input": map[string]any{
			"from": addr.CreateEmailAddress.ID, "to": []string{"jordan@customer.example"}, "subject": subject, "text": body,
		}})
	}
	if r := send(); len(r.Errors) > 0 {
		t.Fatalf("sendEmail: %+v", r.Errors)
	}
	ses.Fail(fakeaws.Failure{Status: 500, Code: "InternalFailure", Message: "down", Times: 1})
	if r := send(); len(r.Errors) == 0 {
		t.Fatal("sendEmail succeeded against a failing SES")
	}
	if n := f.metric(t, `switchboard_aws_call_errors_total{operation="SendEmail",service="SESv2"}`); n < 1 {
		t.Errorf("the failed SES call is not counted: %v", n)
	}
	logs2 := logs.String()
	if !strings.Contains(logs2, `"operation":"SendEmail"`) {
		t.Fatalf("no access log of SendEmail: %s", logs2)
	}
	for _, secret := range []string{body, subject, platformSecret, agentTok, a.AdminToken} {
		if strings.Contains(logs2, secret) {
			t.Errorf("%q is in the logs", secret)
		}
	}
	if t.Failed() {
		t.Log(logs2)
	}
}
