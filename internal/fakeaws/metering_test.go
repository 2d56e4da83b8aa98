package fakeaws_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering"
	"github.com/aws/aws-sdk-go-v2/service/marketplacemetering/types"

	"switchboard/internal/fakeaws"
)

func meteringClient(m *fakeaws.Metering, creds aws.Credentials) *marketplacemetering.Client {
	return marketplacemetering.New(marketplacemetering.Options{
		Region:           "us-east-1",
		Credentials:      credentials.StaticCredentialsProvider{Value: creds},
		BaseEndpoint:     aws.String(m.URL),
		RetryMaxAttempts: 1,
	})
}

func usage(customer, dimension string, ts time.Time, quantity int32) types.UsageRecord {
	return types.UsageRecord{
		CustomerIdentifier: aws.String(customer), Dimension: aws.String(dimension),
		Timestamp: aws.Time(ts), Quantity: aws.Int32(quantity),
	}
}

func TestMeteringWireAndLimits(t *testing.T) {
	m := fakeaws.NewMetering(t)
	m.TrustCaller(base)
	now := time.Date(2026, 12, 3, 10, 30, 0, 0, time.UTC)
	m.SetClock(func() time.Time { return now })
	m.AddCustomer("tok", fakeaws.MeteringCustomer{CustomerIdentifier: "c1", ProductCode: "p1"})
	client := meteringClient(m, base)
	ctx := context.Background()
	meter := func(records ...types.UsageRecord) (*marketplacemetering.BatchMeterUsageOutput, error) {
		return client.BatchMeterUsage(ctx, &marketplacemetering.BatchMeterUsageInput{ProductCode: aws.String("p1"), UsageRecords: records})
	}

	// Within the window by the fake's clock, though years from the wall clock's.
	out, err := meter(usage("c1", "agents", now.Add(-6*time.Hour), 2))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Results) != 1 || out.Results[0].Status != types.UsageRecordResultStatusSuccess ||
		aws.ToString(out.Results[0].UsageRecord.CustomerIdentifier) != "c1" ||
		!out.Results[0].UsageRecord.Timestamp.Equal(now.Add(-6*time.Hour)) {
		t.Fatalf("results %+v", out.Results)
	}
	req := m.Requests()[0]
	var body map[string]any
	if err := json.Unmarshal(req.Body, &body); err != nil || body["ProductCode"] != "p1" {
		t.Errorf("body %s", req.Body)
	}
	if req.Operation != fakeaws.OpBatchMeterUsage || req.AccessKeyID != base.AccessKeyID || req.Region != "us-east-1" {
		t.Errorf("request %+v", req)
	}

	for name, ts := range map[string]time.Time{
		"older than 6 hours": now.Add(-6*time.Hour - time.Second),
		"in the future":      now.Add(time.Second),
	} {
		if _, err := meter(usage("c1", "agents", ts, 1)); code(err) != "TimestampOutOfBoundsException" {
			t.Errorf("%s: %v", name, err)
		}
	}
	var many []types.UsageRecord
	for range fakeaws.MaxUsageRecords + 1 {
		many = append(many, usage("c1", "agents", now, 1))
	}
	if _, err := meter(many...); code(err) != "ValidationException" {
		t.Errorf("26 records: %v", err)
	}
	// One bad record refuses the call: nothing of it is metered.
	if _, err := meter(usage("c1", "minutes", now, 1), usage("c1", "chats", now.Add(time.Hour), 1)); err == nil {
		t.Error("a call with a future record accepted")
	}
	if n := len(m.Sent()); n != 1 {
		t.Errorf("%d records metered, want 1", n)
	}

	if _, err := meteringClient(m, aws.Credentials{AccessKeyID: "AKIAOTHER", SecretAccessKey: "x"}).
		ResolveCustomer(ctx, &marketplacemetering.ResolveCustomerInput{RegistrationToken: aws.String("tok")}); code(err) != "UnrecognizedClientException" {
		t.Errorf("another signer: %v", err)
	}
	forged := base
	forged.SecretAccessKey = "wrong"
	if _, err := meteringClient(m, forged).
		ResolveCustomer(ctx, &marketplacemetering.ResolveCustomerInput{RegistrationToken: aws.String("tok")}); code(err) != "InvalidSignatureException" {
		t.Errorf("wrong secret: %v", err)
	}
}

func TestMeteringRawProtocol(t *testing.T) {
	m := fakeaws.NewMetering(t)
	post := func(target, body string, signed bool) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, m.URL+"/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		if signed {
			req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAX/20261203/us-east-1/aws-marketplace/aws4_request, SignedHeaders=host, Signature=00")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	errorOf := func(resp *http.Response) (typ, message string) {
		var e struct {
			Type    string `json:"__type"`
			Message string `json:"message"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&e)
		return e.Type, e.Message
	}

	resp := post("AWSMPMeteringService.ResolveCustomer", `{"RegistrationToken":"nope"}`, false)
	if typ, _ := errorOf(resp); resp.StatusCode != 403 || typ != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned: %d %s", resp.StatusCode, typ)
	}
	resp = post("AWSMPMeteringService.ResolveCustomer", `{"RegistrationToken":"nope"}`, true)
	typ, msg := errorOf(resp)
	if resp.StatusCode != 400 || typ != "InvalidTokenException" || msg == "" {
		t.Errorf("unknown token: %d %s %q", resp.StatusCode, typ, msg)
	}
	if resp.Header.Get("x-amzn-RequestId") == "" || resp.Header.Get("Content-Type") != "application/x-amz-json-1.1" {
		t.Errorf("headers %v", resp.Header)
	}

	m.Fail(fakeaws.OpResolveCustomer, fakeaws.Failure{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded", Times: 1})
	if typ, _ := errorOf(post("AWSMPMeteringService.ResolveCustomer", `{"RegistrationToken":"nope"}`, true)); typ != "ThrottlingException" {
		t.Errorf("scripted failure: %s", typ)
	}
	if typ, _ := errorOf(post("AWSMPMeteringService.ResolveCustomer", `{"RegistrationToken":"nope"}`, true)); typ != "InvalidTokenException" {
		t.Errorf("after the failure ran out: %s", typ)
	}
}
