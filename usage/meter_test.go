package usage_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"switchboard/connectaws"
	"switchboard/ent/billinglogentry"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
	"switchboard/minutes"
	"switchboard/usage"
	"switchboard/viewer"
)

// newMetering is a local Marketplace Metering that trusts the platform's
// credentials and knows the buyer cust-a of product prod, and the clients
// (the real SDK) that reach it.
func newMetering(t *testing.T) (*fakeaws.Metering, *connectaws.Clients) {
	t.Helper()
	fake := fakeaws.NewMetering(t)
	platform := aws.Credentials{AccessKeyID: "AKIAPLATFORM", SecretAccessKey: "platform-secret"}
	fake.TrustCaller(platform)
	fake.AddCustomer("t1", fakeaws.MeteringCustomer{CustomerIdentifier: "cust-a", ProductCode: "prod"})
	clients, err := connectaws.New(context.Background(), connectaws.Options{
		BaseCredentials: credentials.StaticCredentialsProvider{Value: platform}, MeteringEndpoint: fake.URL,
		RetryMaxAttempts: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return fake, clients
}

// Metering on both stores, through the real SDK against the local
// Marketplace Metering endpoint: two meters started together (two
// replicas) send each closed hour once; an unprocessed record and a
// throttled call are tried again; a customer that is not subscribed is
// logged as such; a tenant with no buyer is not metered; the billing log
// says what AWS answered, record by record.
func TestMeterSendsEachHourOnce(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		st := testenv.OpenStore(t, b.URL(t))
		fake, clients := newMetering(t)
		A, B, C := newFixture(t, st.Client, "A"), newFixture(t, st.Client, "B"), newFixture(t, st.Client, "C")
		op := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleOperator, Email: "op@switchboard"})
		st.Client.Tenant.UpdateOneID(A.id).SetMarketplaceCustomerIdentifier("cust-a").SetMarketplaceProductCode("prod").ExecX(op)
		st.Client.Tenant.UpdateOneID(B.id).SetMarketplaceCustomerIdentifier("cust-gone").SetMarketplaceProductCode("prod").ExecX(op)
		h := usage.HourOf(time.Now())
		for _, f := range []*fixture{A, B, C} {
			f.record(t, f.agents(t, 1)[0], minutes.Change{At: h.Add(15 * time.Minute), Status: available})
		}
		closer := &usage.Closer{Client: st.Client, Now: func() time.Time { return h.Add(time.Hour + 20*time.Minute) }}
		if _, err := closer.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
		fake.SetClock(func() time.Time { return h.Add(time.Hour + 20*time.Minute) })
		fake.UnprocessNext(1)
		fake.Fail(fakeaws.OpBatchMeterUsage, fakeaws.Failure{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded", Times: 1})

		meter := func() *usage.Meter {
			return &usage.Meter{Client: st.Client, AWS: clients.Metering(), Backoff: time.Millisecond,
				Now:  func() time.Time { return h.Add(time.Hour + 20*time.Minute) },
				Lock: func(ctx context.Context) (func(), bool, error) { return st.TryLock(ctx, usage.MeterLockKey) }}
		}
		var wg sync.WaitGroup
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if _, err := meter().Step(context.Background(), time.Time{}); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		// Once more, as the next step would: nothing is left to send.
		if sent, err := meter().Step(context.Background(), time.Time{}); err != nil || len(sent) != 0 {
			t.Fatalf("a later step sent %+v, %v", sent, err)
		}
		got := fake.Sent()
		if len(got) != 1 || got[0].Customer != "cust-a" || got[0].Quantity != 45 || !got[0].Hour.Equal(h) || got[0].Dimension != usage.DefaultDimension {
			t.Fatalf("AWS took %+v", got)
		}
		statuses := func(f *fixture) []billinglogentry.Status {
			entries, err := st.Client.BillingLogEntry.Query().Order(billinglogentry.ByAttempt()).All(op)
			if err != nil {
				t.Fatal(err)
			}
			var out []billinglogentry.Status
			for _, e := range entries {
				if e.TenantID == f.id {
					out = append(out, e.Status)
				}
			}
			return out
		}
		last := func(s []billinglogentry.Status) billinglogentry.Status {
			if len(s) == 0 {
				return ""
			}
			return s[len(s)-1]
		}
		if s := statuses(A); len(s) < 2 || last(s) != billinglogentry.StatusSUCCESS {
			t.Errorf("A's billing log: %v", s)
		}
		if s := statuses(B); last(s) != billinglogentry.StatusCUSTOMER_NOT_SUBSCRIBED {
			t.Errorf("B's billing log: %v", s)
		}
		if s := statuses(C); len(s) != 0 {
			t.Errorf("C, with no buyer, was metered: %v", s)
		}
		// A tenant's admin cannot read the billing log.
		if _, err := st.Client.BillingLogEntry.Query().All(A.admin); err == nil {
			t.Error("A's admin read the billing log")
		}
	})
}

// `switchboard meter`'s work on both stores: an hour whose grace is not
// over, one too old for AWS and a time that is not on the hour are refused
// with nothing sent or closed; a closed hour is closed and sent on demand
// (without a replica's closer having run), once, for the tenant with a
// buyer only; asking again sends nothing.
func TestMeterOnDemand(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		st := testenv.OpenStore(t, b.URL(t))
		fake, clients := newMetering(t)
		A, B := newFixture(t, st.Client, "A"), newFixture(t, st.Client, "B")
		op := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleOperator, Email: "op@switchboard"})
		st.Client.Tenant.UpdateOneID(A.id).SetMarketplaceCustomerIdentifier("cust-a").SetMarketplaceProductCode("prod").ExecX(op)
		h := usage.HourOf(time.Now())
		A.record(t, A.agents(t, 1)[0], minutes.Change{At: h.Add(20 * time.Minute), Status: available})
		B.record(t, B.agents(t, 1)[0], minutes.Change{At: h, Status: available})

		now := h.Add(time.Hour + 5*time.Minute) // within the grace
		clock := func() time.Time { return now }
		fake.SetClock(clock)
		closer := &usage.Closer{Client: st.Client, Now: clock}
		meter := &usage.Meter{Client: st.Client, AWS: clients.Metering(), Backoff: time.Millisecond, Now: clock}
		for _, hour := range []time.Time{h, h.Add(time.Hour), h.Add(-7 * time.Hour), h.Add(time.Minute)} {
			if sent, err := meter.OnDemand(context.Background(), closer, hour); !errors.Is(err, usage.ErrHourOpen) || len(sent) != 0 {
				t.Errorf("hour %s at %s: sent %+v, %v", hour.Format(time.RFC3339), now.Format(time.RFC3339), sent, err)
			}
		}
		if n := st.Client.UsageHour.Query().CountX(viewer.NewContext(context.Background(), viewer.SystemOperator("usage"))); n != 0 {
			t.Fatalf("a refused hour closed %d rows", n)
		}
		now = h.Add(time.Hour + 20*time.Minute)
		if b.Name == "postgres" {
			// A replica's meter holds the lock for longer than the wait.
			held, ok, err := st.TryLock(context.Background(), usage.MeterLockKey)
			if err != nil || !ok {
				t.Fatalf("taking the meter's lock: %v, %v", ok, err)
			}
			busy := *meter
			busy.Lock = func(ctx context.Context) (func(), bool, error) {
				return st.WaitLock(ctx, usage.MeterLockKey, 300*time.Millisecond)
			}
			if sent, err := busy.OnDemand(context.Background(), closer, h); !errors.Is(err, usage.ErrBusy) || len(sent) != 0 {
				t.Errorf("while a replica meters: sent %+v, %v", sent, err)
			}
			held()
			if got := fake.Sent(); len(got) != 0 {
				t.Fatalf("AWS took %+v while the lock was held", got)
			}
		}
		sent, err := meter.OnDemand(context.Background(), closer, h)
		if err != nil || len(sent) != 1 || sent[0].TenantID != A.id || sent[0].Quantity != 40 || sent[0].Status != billinglogentry.StatusSUCCESS {
			t.Fatalf("on demand: %+v, %v", sent, err)
		}
		if got := fake.Sent(); len(got) != 1 || got[0].Customer != "cust-a" || got[0].Quantity != 40 {
			t.Fatalf("AWS took %+v", got)
		}
		if sent, err := meter.OnDemand(context.Background(), closer, time.Time{}); err != nil || len(sent) != 0 {
			t.Fatalf("asked again: %+v, %v", sent, err)
		}
		if got := fake.Sent(); len(got) != 1 {
			t.Fatalf("AWS took %d records", len(got))
		}
	})
}
