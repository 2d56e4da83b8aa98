package fakeaws_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	sesv1types "github.com/aws/aws-sdk-go-v2/service/ses/types"

	"switchboard/internal/fakeaws"
)

// sesv1Client returns a real SDK SES v1 client for f signing with creds.
func sesv1Client(f *fakeaws.SESv1, creds aws.CredentialsProvider) *ses.Client {
	return ses.New(ses.Options{Region: "us-east-1", Credentials: creds,
		BaseEndpoint: aws.String(f.URL), RetryMaxAttempts: 1})
}

var sesv1Static = credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: "AKIASTATIC", SecretAccessKey: "x"}}

func TestSESv1Identities(t *testing.T) {
	ctx := context.Background()
	f := fakeaws.NewSESv1(t)
	c := sesv1Client(f, sesv1Static)
	f.Verify("pre@example.com")
	for _, e := range []string{"a@example.com", "pre@example.com"} {
		if _, err := c.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(e)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String("nope")}); apiCode(err) != "InvalidParameterValue" {
		t.Errorf("invalid address: %v", err)
	}
	get := func() map[string]sesv1types.IdentityVerificationAttributes {
		t.Helper()
		out, err := c.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{
			Identities: []string{"a@example.com", "pre@example.com", "unknown@example.com"}})
		if err != nil {
			t.Fatal(err)
		}
		return out.VerificationAttributes
	}
	attrs := get()
	if len(attrs) != 2 || attrs["a@example.com"].VerificationStatus != sesv1types.VerificationStatusPending ||
		attrs["pre@example.com"].VerificationStatus != sesv1types.VerificationStatusSuccess {
		t.Errorf("attributes %+v", attrs)
	}
	f.Verify("a@example.com")
	if got := get()["a@example.com"].VerificationStatus; got != sesv1types.VerificationStatusSuccess {
		t.Errorf("after Verify: %s", got)
	}
	if ids := f.Identities(); len(ids) != 2 || ids["a@example.com"] != "Success" {
		t.Errorf("Identities %v", ids)
	}
}

func TestSESv1ReceiptRules(t *testing.T) {
	ctx := context.Background()
	f := fakeaws.NewSESv1(t)
	c := sesv1Client(f, sesv1Static)

	if out, err := c.DescribeActiveReceiptRuleSet(ctx, &ses.DescribeActiveReceiptRuleSetInput{}); err != nil || out.Metadata != nil {
		t.Fatalf("no active set: %+v %v", out, err)
	}
	if _, err := c.CreateReceiptRuleSet(ctx, &ses.CreateReceiptRuleSetInput{RuleSetName: aws.String("inbound")}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateReceiptRuleSet(ctx, &ses.CreateReceiptRuleSetInput{RuleSetName: aws.String("inbound")})
	var exists *sesv1types.AlreadyExistsException
	if !errors.As(err, &exists) {
		t.Errorf("second rule set: %v", err)
	}
	rule := &sesv1types.ReceiptRule{
		Name:        aws.String("to-s3"),
		Enabled:     true,
		Recipients:  []string{"in.example.com", "x@example.com"},
		ScanEnabled: true,
		TlsPolicy:   sesv1types.TlsPolicyRequire,
		Actions: []sesv1types.ReceiptAction{{S3Action: &sesv1types.S3Action{
			BucketName: aws.String("mail"), ObjectKeyPrefix: aws.String("in/"),
			TopicArn: aws.String("arn:aws:sns:us-east-1:111111111111:mail")}}},
	}
	if _, err := c.CreateReceiptRule(ctx, &ses.CreateReceiptRuleInput{RuleSetName: aws.String("inbound"), Rule: rule}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateReceiptRule(ctx, &ses.CreateReceiptRuleInput{RuleSetName: aws.String("inbound"), Rule: rule}); apiCode(err) != "AlreadyExists" {
		t.Errorf("second rule: %v", err)
	}
	_, err = c.CreateReceiptRule(ctx, &ses.CreateReceiptRuleInput{RuleSetName: aws.String("missing"), Rule: rule})
	var missing *sesv1types.RuleSetDoesNotExistException
	if !errors.As(err, &missing) {
		t.Errorf("rule in a missing set: %v", err)
	}
	if _, err := c.DescribeReceiptRuleSet(ctx, &ses.DescribeReceiptRuleSetInput{RuleSetName: aws.String("missing")}); apiCode(err) != "RuleSetDoesNotExist" {
		t.Errorf("describe a missing set: %v", err)
	}
	if _, err := c.SetActiveReceiptRuleSet(ctx, &ses.SetActiveReceiptRuleSetInput{RuleSetName: aws.String("missing")}); apiCode(err) != "RuleSetDoesNotExist" {
		t.Errorf("activate a missing set: %v", err)
	}

	out, err := c.DescribeReceiptRuleSet(ctx, &ses.DescribeReceiptRuleSetInput{RuleSetName: aws.String("inbound")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.Metadata.Name) != "inbound" || out.Metadata.CreatedTimestamp == nil || out.Metadata.CreatedTimestamp.IsZero() {
		t.Errorf("metadata %+v", out.Metadata)
	}
	if len(out.Rules) != 1 {
		t.Fatalf("rules %+v", out.Rules)
	}
	r := out.Rules[0]
	s3 := r.Actions[0].S3Action
	if aws.ToString(r.Name) != "to-s3" || !r.Enabled || !r.ScanEnabled || r.TlsPolicy != sesv1types.TlsPolicyRequire ||
		!slices.Equal(r.Recipients, rule.Recipients) || len(r.Actions) != 1 || s3 == nil ||
		aws.ToString(s3.BucketName) != "mail" || aws.ToString(s3.ObjectKeyPrefix) != "in/" ||
		aws.ToString(s3.TopicArn) != "arn:aws:sns:us-east-1:111111111111:mail" {
		t.Errorf("rule %+v", r)
	}

	if _, err := c.SetActiveReceiptRuleSet(ctx, &ses.SetActiveReceiptRuleSetInput{RuleSetName: aws.String("inbound")}); err != nil {
		t.Fatal(err)
	}
	active, err := c.DescribeActiveReceiptRuleSet(ctx, &ses.DescribeActiveReceiptRuleSetInput{})
	if err != nil || active.Metadata == nil || aws.ToString(active.Metadata.Name) != "inbound" || len(active.Rules) != 1 {
		t.Errorf("active set: %+v %v", active, err)
	}

	want := fakeaws.ReceiptRule{Name: "to-s3", Enabled: true, Recipients: rule.Recipients, S3Bucket: "mail", S3Prefix: "in/",
		TopicARN: "arn:aws:sns:us-east-1:111111111111:mail", ScanEnabled: true, TlsPolicy: "Require"}
	if got := f.Rules("inbound"); len(got) != 1 || !slices.Equal(got[0].Recipients, want.Recipients) ||
		got[0].Name != want.Name || got[0].S3Bucket != want.S3Bucket || got[0].S3Prefix != want.S3Prefix ||
		got[0].TopicARN != want.TopicARN || !got[0].Enabled || !got[0].ScanEnabled || got[0].TlsPolicy != want.TlsPolicy {
		t.Errorf("Rules %+v", got)
	}
	if f.ActiveRuleSet() != "inbound" || !slices.Equal(f.RuleSets(), []string{"inbound"}) || f.Creates() != 2 {
		t.Errorf("active %q, sets %v, creates %d", f.ActiveRuleSet(), f.RuleSets(), f.Creates())
	}
}

func TestSESv1FailAndTrustSTS(t *testing.T) {
	ctx := context.Background()
	st := fakeaws.NewSTS(t)
	f := fakeaws.NewSESv1(t)
	f.TrustSTS(st)
	c := sesv1Client(f, roleCredentials(t, st))
	f.Fail(fakeaws.OpCreateReceiptRuleSet, fakeaws.Failure{Status: 400, Code: "LimitExceeded", Message: "too many", Times: 1})
	if _, err := c.CreateReceiptRuleSet(ctx, &ses.CreateReceiptRuleSetInput{RuleSetName: aws.String("s")}); apiCode(err) != "LimitExceeded" {
		t.Errorf("queued failure: %v", err)
	}
	if _, err := c.CreateReceiptRuleSet(ctx, &ses.CreateReceiptRuleSetInput{RuleSetName: aws.String("s")}); err != nil {
		t.Errorf("after the failure: %v", err)
	}
	stranger := sesv1Client(f, credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: "AKIASTRANGER", SecretAccessKey: "x"}})
	if _, err := stranger.CreateReceiptRuleSet(ctx, &ses.CreateReceiptRuleSetInput{RuleSetName: aws.String("t")}); apiCode(err) != "InvalidClientTokenId" {
		t.Errorf("a stranger: %v", err)
	}
	if f.Creates() != 1 || !slices.Equal(f.RuleSets(), []string{"s"}) {
		t.Errorf("creates %d, sets %v", f.Creates(), f.RuleSets())
	}
	reqs := f.Requests()
	if len(reqs) != 3 || reqs[0].ErrorCode != "LimitExceeded" || reqs[1].Status != 200 || reqs[2].Status != 403 ||
		reqs[2].AccessKeyID != "AKIASTRANGER" || reqs[1].Operation != fakeaws.OpCreateReceiptRuleSet {
		t.Errorf("requests %+v", reqs)
	}
}
