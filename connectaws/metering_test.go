package connectaws_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"switchboard/connectaws"
	"switchboard/internal/fakeaws"
)

const (
	productCode = "prod-switchboard-1"
	licenseARN  = "arn:aws:license-manager::123456789012:license:l-0123456789abcdef"
	buyerAcct   = "123456789012"
)

// meteringEnv is a fake Marketplace Metering, trusting only the platform's
// credentials, with two customers of each kind, and the real SDK client
// pointed at it through Clients.
func meteringEnv(t *testing.T) (*fakeaws.Metering, *connectaws.Metering) {
	t.Helper()
	fake := fakeaws.NewMetering(t)
	fake.TrustCaller(platform)
	fake.AddCustomer("token-legacy", fakeaws.MeteringCustomer{CustomerIdentifier: "cust-legacy", ProductCode: productCode})
	fake.AddCustomer("token-gone", fakeaws.MeteringCustomer{CustomerIdentifier: "cust-gone", ProductCode: productCode})
	fake.AddCustomer("token-licensed", fakeaws.MeteringCustomer{
		CustomerAWSAccountID: buyerAcct, ProductCode: productCode, LicenseARN: licenseARN,
	})
	clients, err := connectaws.New(context.Background(), connectaws.Options{
		BaseCredentials:  credentials.StaticCredentialsProvider{Value: platform},
		MeteringEndpoint: fake.URL,
		RetryMaxAttempts: 2,
		RetryMaxBackoff:  10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	if clients.Metering() != clients.Metering() {
		t.Error("Metering made a second client")
	}
	return fake, clients.Metering()
}

// lastHour is a whole UTC hour AWS still accepts.
func lastHour() time.Time { return time.Now().UTC().Truncate(time.Hour).Add(-time.Hour) }

func legacy(customer, dimension string, hour time.Time, quantity int) connectaws.UsageRecord {
	return connectaws.UsageRecord{Hour: hour, CustomerIdentifier: customer, Dimension: dimension, Quantity: quantity}
}

func statuses(resp connectaws.MeterResponse) []string {
	var out []string
	for _, r := range resp.Results {
		out = append(out, r.Status)
	}
	return out
}

func TestBatchMeterUsageLegacyCustomers(t *testing.T) {
	fake, m := meteringEnv(t)
	ctx := context.Background()
	hour := lastHour()
	records := []connectaws.UsageRecord{
		legacy("cust-legacy", "agents", hour, 7),
		legacy("cust-legacy", "minutes", hour, 1200),
		legacy("cust-gone", "agents", hour, 3),
	}
	fake.Unsubscribe("cust-gone")

	resp, err := m.BatchMeterUsage(ctx, productCode, records)
	if err != nil {
		t.Fatal(err)
	}
	if resp.RequestID == "" {
		t.Error("no request ID")
	}
	// The fake answers Results in reverse: they must still line up.
	want := []string{connectaws.MeterSuccess, connectaws.MeterSuccess, connectaws.MeterCustomerNotSubscribed}
	if got := statuses(resp); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	for i, r := range resp.Results {
		if r.Record != records[i] {
			t.Errorf("result %d is for %+v, want %+v", i, r.Record, records[i])
		}
	}
	if resp.Results[0].MeteringRecordID == "" || resp.Results[0].MeteringRecordID == resp.Results[1].MeteringRecordID {
		t.Errorf("record IDs %q and %q", resp.Results[0].MeteringRecordID, resp.Results[1].MeteringRecordID)
	}
	sent := fake.Sent()
	if len(sent) != 2 || sent[0].Customer != "cust-legacy" || sent[0].Dimension != "agents" || sent[0].Quantity != 7 ||
		!sent[0].Hour.Equal(hour) || sent[0].ProductCode != productCode || sent[1].Quantity != 1200 {
		t.Fatalf("AWS accepted %+v", sent)
	}
	reqs := fake.Requests()
	if reqs[0].AccessKeyID != platform.AccessKeyID || reqs[0].Region != "us-east-1" {
		t.Errorf("signed by %q in %q, want the platform in us-east-1", reqs[0].AccessKeyID, reqs[0].Region)
	}

	// Sent again (a retry after a lost answer): the same IDs, nothing new.
	again, err := m.BatchMeterUsage(ctx, productCode, records[:2])
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again.Results {
		if r.Status != connectaws.MeterSuccess || r.MeteringRecordID != resp.Results[i].MeteringRecordID {
			t.Errorf("resent record %d: %s %q, want Success %q", i, r.Status, r.MeteringRecordID, resp.Results[i].MeteringRecordID)
		}
	}
	// The same hour with another quantity is a duplicate, not a correction.
	dup, err := m.BatchMeterUsage(ctx, productCode, []connectaws.UsageRecord{legacy("cust-legacy", "agents", hour, 8)})
	if err != nil {
		t.Fatal(err)
	}
	if dup.Results[0].Status != connectaws.MeterDuplicateRecord {
		t.Errorf("another quantity: %s, want DuplicateRecord", dup.Results[0].Status)
	}
	if n := len(fake.Sent()); n != 2 {
		t.Errorf("AWS accepted %d records in all, want 2", n)
	}
}

func TestBatchMeterUsageLicensedCustomer(t *testing.T) {
	fake, m := meteringEnv(t)
	rec := connectaws.UsageRecord{
		Hour: lastHour(), CustomerAWSAccountID: buyerAcct, LicenseARN: licenseARN, Dimension: "agents", Quantity: 4,
	}
	resp, err := m.BatchMeterUsage(context.Background(), productCode, []connectaws.UsageRecord{rec})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Results[0].Status != connectaws.MeterSuccess || resp.Results[0].Record != rec {
		t.Fatalf("result %+v", resp.Results[0])
	}
	sent := fake.Sent()
	// With a licence the product code must not be sent (AWS bills twice).
	if len(sent) != 1 || sent[0].Customer != buyerAcct || sent[0].LicenseARN != licenseARN || sent[0].ProductCode != "" {
		t.Fatalf("AWS accepted %+v", sent)
	}

	// Another licence of the same account is not subscribed.
	other := rec
	other.LicenseARN = licenseARN + "0"
	resp, err = m.BatchMeterUsage(context.Background(), "", []connectaws.UsageRecord{other})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Results[0].Status != connectaws.MeterCustomerNotSubscribed {
		t.Errorf("unknown licence: %s", resp.Results[0].Status)
	}
}

func TestBatchMeterUsageUnprocessedRecords(t *testing.T) {
	fake, m := meteringEnv(t)
	hour := lastHour()
	records := []connectaws.UsageRecord{
		legacy("cust-legacy", "agents", hour, 1),
		legacy("cust-legacy", "minutes", hour, 2),
		legacy("cust-legacy", "chats", hour, 3),
	}
	fake.UnprocessNext(2)
	resp, err := m.BatchMeterUsage(context.Background(), productCode, records)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{connectaws.MeterUnprocessed, connectaws.MeterUnprocessed, connectaws.MeterSuccess}
	if got := statuses(resp); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
	// Sending them all again meters each exactly once.
	resp, err = m.BatchMeterUsage(context.Background(), productCode, records)
	if err != nil {
		t.Fatal(err)
	}
	if got := statuses(resp); fmt.Sprint(got) != fmt.Sprint([]string{"Success", "Success", "Success"}) {
		t.Fatalf("resent: %v", got)
	}
	if sent := fake.Sent(); len(sent) != 3 {
		t.Fatalf("AWS accepted %d records, want 3: %+v", len(sent), sent)
	}
}

func TestBatchMeterUsageThrottledAfterRetries(t *testing.T) {
	fake, m := meteringEnv(t)
	fake.Fail(fakeaws.OpBatchMeterUsage, fakeaws.Failure{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded", Times: 2})
	resp, err := m.BatchMeterUsage(context.Background(), productCode, []connectaws.UsageRecord{legacy("cust-legacy", "agents", lastHour(), 1)})
	if !connectaws.IsThrottled(err) {
		t.Fatalf("error %v is not throttling", err)
	}
	if !errors.Is(err, connectaws.ErrUpstream) {
		t.Errorf("error %v is not upstream", err)
	}
	if resp.RequestID == "" {
		t.Error("no request ID on the error path")
	}
	if n := len(fake.Requests()); n != 2 {
		t.Errorf("%d attempts, want RetryMaxAttempts (2)", n)
	}
	if len(fake.Sent()) != 0 {
		t.Error("a throttled call metered")
	}
	// Once AWS lets it through, it meters.
	if _, err := m.BatchMeterUsage(context.Background(), productCode, []connectaws.UsageRecord{legacy("cust-legacy", "agents", lastHour(), 1)}); err != nil {
		t.Fatal(err)
	}
	if connectaws.IsThrottled(errors.New("other")) {
		t.Error("any error is throttling")
	}
}

func TestBatchMeterUsageRefusedLocally(t *testing.T) {
	fake, m := meteringEnv(t)
	hour := lastHour()
	var many []connectaws.UsageRecord
	for i := range connectaws.MaxUsageRecords + 1 {
		many = append(many, legacy("cust-legacy", fmt.Sprintf("dim-%d", i), hour, 1))
	}
	licensed := connectaws.UsageRecord{Hour: hour, CustomerAWSAccountID: buyerAcct, LicenseARN: licenseARN, Dimension: "agents"}
	for name, records := range map[string][]connectaws.UsageRecord{
		"26 records":      many,
		"mixed kinds":     {legacy("cust-legacy", "agents", hour, 1), licensed},
		"same hour twice": {legacy("cust-legacy", "agents", hour, 1), legacy("cust-legacy", "agents", hour.Add(time.Minute), 2)},
		"negative":        {legacy("cust-legacy", "agents", hour, -1)},
		"no dimension":    {legacy("cust-legacy", "", hour, 1)},
	} {
		if _, err := m.BatchMeterUsage(context.Background(), productCode, records); err == nil || errors.Is(err, connectaws.ErrUpstream) {
			t.Errorf("%s: error %v, want a local refusal", name, err)
		}
	}
	if _, err := m.BatchMeterUsage(context.Background(), "", many[:1]); err == nil {
		t.Error("no product code for a CustomerIdentifier record accepted")
	}
	if n := len(fake.Requests()); n != 0 {
		t.Errorf("%d requests reached AWS", n)
	}
	if _, err := m.BatchMeterUsage(context.Background(), productCode, many[:25]); err != nil {
		t.Errorf("25 records: %v", err)
	}
}

func TestBatchMeterUsageOutOfBoundsHour(t *testing.T) {
	_, m := meteringEnv(t)
	_, err := m.BatchMeterUsage(context.Background(), productCode,
		[]connectaws.UsageRecord{legacy("cust-legacy", "agents", lastHour().Add(-7*time.Hour), 1)})
	if ue := upstreamError(t, err); ue.Code != "TimestampOutOfBoundsException" || ue.RequestID == "" {
		t.Errorf("error %v", err)
	}
}

func TestResolveCustomer(t *testing.T) {
	fake, m := meteringEnv(t)
	ctx := context.Background()
	c, err := m.ResolveCustomer(ctx, "token-licensed")
	if err != nil {
		t.Fatal(err)
	}
	if want := (connectaws.Customer{CustomerAWSAccountID: buyerAcct, ProductCode: productCode, LicenseARN: licenseARN}); c != want {
		t.Errorf("resolved %+v, want %+v", c, want)
	}
	c, err = m.ResolveCustomer(ctx, "token-legacy")
	if err != nil || c.CustomerIdentifier != "cust-legacy" || c.ProductCode != productCode {
		t.Errorf("resolved %+v, %v", c, err)
	}

	_, err = m.ResolveCustomer(ctx, "forged")
	if !connectaws.IsInvalidToken(err) {
		t.Errorf("unknown token: %v is not an invalid token", err)
	}
	if ue := upstreamError(t, err); ue.RequestID == "" || ue.StatusCode != 400 {
		t.Errorf("unknown token: %+v", ue)
	}
	fake.Fail(fakeaws.OpResolveCustomer, fakeaws.Failure{Status: 400, Code: "ExpiredTokenException", Message: "expired", Times: 1})
	if _, err := m.ResolveCustomer(ctx, "token-legacy"); !connectaws.IsInvalidToken(err) {
		t.Errorf("expired token: %v is not an invalid token", err)
	}
	fake.Fail(fakeaws.OpResolveCustomer, fakeaws.Failure{Status: 500, Code: "InternalServiceErrorException", Times: 2})
	if _, err := m.ResolveCustomer(ctx, "token-legacy"); err == nil || connectaws.IsInvalidToken(err) {
		t.Errorf("AWS failing: %v", err)
	}
}
