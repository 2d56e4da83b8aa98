package marketplace_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"switchboard/awssns"
	"switchboard/connectaws"
	"switchboard/ent"
	"switchboard/ent/tenant"
	"switchboard/gid"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
	"switchboard/marketplace"
	"switchboard/tenants"
	"switchboard/viewer"
)

// env is the endpoints over one store, with the real SDK against the local
// Marketplace Metering and messages signed by the local SNS.
type env struct {
	client  *ent.Client
	srv     *httptest.Server
	http    *http.Client // follows no redirect
	metered *fakeaws.Metering
	sns     *fakeaws.SNS
	gate    *tenants.Gate
}

var operator = viewer.NewContext(context.Background(), &viewer.Viewer{Email: "op@switchboard", Role: viewer.RoleOperator})

func newEnv(t *testing.T, b testenv.Backend, edit ...func(*marketplace.Options)) *env {
	t.Helper()
	st := testenv.OpenStore(t, b.URL(t))
	e := &env{client: st.Client, metered: fakeaws.NewMetering(t), sns: fakeaws.NewSNS(t)}
	platform := aws.Credentials{AccessKeyID: "AKIAPLATFORM", SecretAccessKey: "platform-secret"}
	e.metered.TrustCaller(platform)
	clients, err := connectaws.New(context.Background(), connectaws.Options{
		BaseCredentials: credentials.StaticCredentialsProvider{Value: platform}, MeteringEndpoint: e.metered.URL,
		RetryMaxAttempts: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.gate = tenants.NewGate(st.Client, time.Second, log)
	snsHost := mustURL(t, e.sns.URL).Host
	o := marketplace.Options{
		Client:    st.Client,
		Metering:  clients.Metering(),
		Tenants:   tenants.NewService(e.gate, st.Dialect),
		SignupURL: "https://console.example/signup?from=marketplace",
		SNS: awssns.Options{
			AllowURL:   func(u *url.URL) bool { return u.Host == snsHost },
			HTTPClient: e.sns.Client(),
		},
		Logger: log,
	}
	for _, f := range edit {
		f(&o)
	}
	e.srv = httptest.NewServer(marketplace.Handler(o))
	t.Cleanup(e.srv.Close)
	e.http = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return e
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *env) register(t *testing.T, token string) (int, string) {
	t.Helper()
	form := url.Values{}
	if token != "" {
		form.Set("x-amzn-marketplace-token", token)
	}
	resp, err := e.http.PostForm(e.srv.URL+marketplace.RegisterPath, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Location")
}

func (e *env) post(t *testing.T, body []byte) int {
	t.Helper()
	resp, err := e.http.Post(e.srv.URL+marketplace.SNSPath, "text/plain; charset=UTF-8", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

func (e *env) pending(t *testing.T) []*ent.PendingSubscription {
	t.Helper()
	ps, err := e.client.PendingSubscription.Query().All(operator)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func (e *env) newTenant(t *testing.T, name, customer, product string) gid.ID {
	t.Helper()
	tn, err := e.client.Tenant.Create().SetName(name).
		SetMarketplaceCustomerIdentifier(customer).SetMarketplaceProductCode(product).Save(operator)
	if err != nil {
		t.Fatal(err)
	}
	return tn.ID
}

func (e *env) lifecycle(t *testing.T, id gid.ID) tenant.Lifecycle {
	t.Helper()
	tn, err := e.client.Tenant.Get(operator, id)
	if err != nil {
		t.Fatal(err)
	}
	return tn.Lifecycle
}

// The fulfilment URL on both stores: a buyer's token is resolved with
// ResolveCustomer and held once as a pending subscription (registering
// again finds the same one), for either kind of buyer, and the browser is
// sent on to the sign-up page with it; a buyer already linked goes to its
// tenant; a forged or missing token is 400 and nothing is stored.
func TestRegister(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		e.metered.AddCustomer("tok-old", fakeaws.MeteringCustomer{CustomerIdentifier: "cust-old", ProductCode: "prod"})
		e.metered.AddCustomer("tok-new", fakeaws.MeteringCustomer{CustomerAWSAccountID: "123456789012", LicenseARN: "arn:aws:license-manager::123456789012:license:l-1", ProductCode: "prod"})
		e.metered.AddCustomer("tok-linked", fakeaws.MeteringCustomer{CustomerIdentifier: "cust-A", ProductCode: "prod"})
		A := e.newTenant(t, "A", "cust-A", "prod")

		for _, token := range []string{"forged", ""} {
			if code, loc := e.register(t, token); code != http.StatusBadRequest || loc != "" {
				t.Errorf("token %q: %d %q", token, code, loc)
			}
		}
		if ps := e.pending(t); len(ps) != 0 {
			t.Fatalf("a refused token stored %d pending subscriptions", len(ps))
		}

		code, loc := e.register(t, "tok-old")
		if code != http.StatusSeeOther {
			t.Fatalf("register: %d", code)
		}
		ps := e.pending(t)
		if len(ps) != 1 || ps[0].CustomerIdentifier != "cust-old" || ps[0].ProductCode != "prod" || ps[0].CustomerAWSAccountID != "" {
			t.Fatalf("pending: %+v", ps)
		}
		u := mustURL(t, loc)
		if u.Host != "console.example" || u.Path != "/signup" || u.Query().Get("subscription") != string(ps[0].ID) || u.Query().Get("from") != "marketplace" {
			t.Errorf("sent to %s", loc)
		}
		if code, again := e.register(t, "tok-old"); code != http.StatusSeeOther || again != loc {
			t.Errorf("registering again: %d %s, want %s", code, again, loc)
		}
		if code, _ := e.register(t, "tok-new"); code != http.StatusSeeOther {
			t.Fatalf("register a new-model buyer: %d", code)
		}
		ps = e.pending(t)
		if len(ps) != 2 {
			t.Fatalf("after registering twice and a second buyer: %d pending", len(ps))
		}
		for _, p := range ps {
			if p.CustomerIdentifier == "" && (p.CustomerAWSAccountID != "123456789012" || p.LicenseArn == "") {
				t.Errorf("new-model buyer held as %+v", p)
			}
		}
		code, loc = e.register(t, "tok-linked")
		if code != http.StatusSeeOther || mustURL(t, loc).Query().Get("tenant") != string(A) {
			t.Errorf("a linked buyer: %d %s", code, loc)
		}
		if n := len(e.pending(t)); n != 2 {
			t.Errorf("a linked buyer was held as pending: %d", n)
		}
		// AWS busy: 503 with Retry-After, nothing stored.
		e.metered.Fail(fakeaws.OpResolveCustomer, fakeaws.Failure{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded", Times: 1})
		e.metered.AddCustomer("tok-busy", fakeaws.MeteringCustomer{CustomerIdentifier: "cust-busy", ProductCode: "prod"})
		if code, _ := e.register(t, "tok-busy"); code != http.StatusServiceUnavailable {
			t.Errorf("throttled: %d", code)
		}
		if n := len(e.pending(t)); n != 2 {
			t.Errorf("a throttled registration stored: %d pending", n)
		}
	})
}

// The fulfilment URL is open to anyone: past its rate, AWS is not asked
// (the store plays no part: SQLite only).
func TestRegisterRate(t *testing.T) {
	e := newEnv(t, testenv.Backends()[0], func(o *marketplace.Options) { o.RegisterRate, o.RegisterBurst = 0.001, 2 })
	for i, want := range []int{http.StatusBadRequest, http.StatusBadRequest, http.StatusTooManyRequests} {
		if code, _ := e.register(t, "forged"); code != want {
			t.Errorf("registration %d: %d, want %d", i+1, code, want)
		}
	}
	if n := len(e.metered.Requests()); n != 2 {
		t.Errorf("AWS was asked %d times, want 2", n)
	}
}

const topic = "arn:aws:sns:us-east-1:" + marketplace.DefaultTopicAccount + ":aws-mp-subscription-notification-prod"

func message(action, customer, product string) string {
	b, _ := json.Marshal(map[string]string{"action": action, "customer-identifier": customer, "product-code": product, "offer-identifier": "offer-1"})
	return string(b)
}

// The subscription notifications on both stores: only SNS-signed messages
// of AWS Marketplace's topics are taken in; unsubscribe-success and
// subscribe-success move the buyer's tenant (and no other), and the gate
// refuses and admits it at once; a late subscribe-success older than the
// tenant's end does not bring it back; a replayed old message and a
// product that is not the topic's are refused; a buyer not yet linked
// loses its pending subscription when it leaves.
func TestNotifications(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b)
		ctx := context.Background()
		A := e.newTenant(t, "A", "cust-A", "prod")
		B := e.newTenant(t, "B", "cust-B", "prod")

		// Subscribing the endpoint: AWS Marketplace's topic only.
		if code := e.post(t, e.sns.SubscriptionConfirmation(topic, "2")); code != http.StatusOK {
			t.Fatalf("confirmation: %d", code)
		}
		foreign := "arn:aws:sns:us-east-1:999999999999:aws-mp-subscription-notification-prod"
		if code := e.post(t, e.sns.SubscriptionConfirmation(foreign, "2")); code != http.StatusForbidden {
			t.Errorf("confirmation of another account's topic: %d", code)
		}
		if got := e.sns.Confirmed(); len(got) != 1 || got[0] != topic {
			t.Errorf("confirmed %v", got)
		}

		// Refused, and nothing moves.
		forged := e.sns.Sign(fakeaws.SNSMessage{Type: "Notification", MessageId: "m-1", TopicArn: topic,
			Message: message("unsubscribe-success", "cust-A", "prod"), Timestamp: time.Now().UTC().Format(time.RFC3339)}, "2")
		forged.Message = message("unsubscribe-success", "cust-B", "prod")
		stale := e.sns.Sign(fakeaws.SNSMessage{Type: "Notification", MessageId: "m-2", TopicArn: topic,
			Message: message("unsubscribe-success", "cust-A", "prod"), Timestamp: time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)}, "2")
		for name, c := range map[string]struct {
			body []byte
			want int
		}{
			"forged":          {e.sns.Marshal(forged), http.StatusForbidden},
			"another account": {e.sns.Notification(foreign, "", message("unsubscribe-success", "cust-A", "prod"), "2"), http.StatusForbidden},
			"another product": {e.sns.Notification(topic, "", message("unsubscribe-success", "cust-A", "other"), "2"), http.StatusBadRequest},
			"stale":           {e.sns.Marshal(stale), http.StatusBadRequest},
			"not Marketplace": {e.sns.Notification(topic, "", `{"notificationType":"Received"}`, "1"), http.StatusBadRequest},
		} {
			if code := e.post(t, c.body); code != c.want {
				t.Errorf("%s: %d, want %d", name, code, c.want)
			}
		}
		if e.lifecycle(t, A) != tenant.LifecycleACTIVE || e.lifecycle(t, B) != tenant.LifecycleACTIVE {
			t.Fatal("a refused message moved a tenant")
		}

		// unsubscribe-pending changes nothing; unsubscribe-success ends A alone.
		if code := e.post(t, e.sns.Notification(topic, "", message("unsubscribe-pending", "cust-A", "prod"), "2")); code != http.StatusOK || e.lifecycle(t, A) != tenant.LifecycleACTIVE {
			t.Fatalf("unsubscribe-pending: %d, %s", code, e.lifecycle(t, A))
		}
		before := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		for range 2 { // SNS may deliver twice
			if code := e.post(t, e.sns.Notification(topic, "", message("unsubscribe-success", "cust-A", "prod"), "1")); code != http.StatusOK {
				t.Fatalf("unsubscribe-success: %d", code)
			}
		}
		if e.lifecycle(t, A) != tenant.LifecycleUNSUBSCRIBED || e.lifecycle(t, B) != tenant.LifecycleACTIVE {
			t.Fatalf("after unsubscribe-success: A %s, B %s", e.lifecycle(t, A), e.lifecycle(t, B))
		}
		if err := e.gate.Admit(ctx, A); !errors.Is(err, tenants.ErrUnsubscribed) {
			t.Errorf("the gate admits unsubscribed A: %v", err)
		}
		if err := e.gate.Admit(ctx, B); err != nil {
			t.Errorf("the gate refuses B: %v", err)
		}

		// A subscribe-success sent before A's end, delivered late: ignored.
		late := e.sns.Sign(fakeaws.SNSMessage{Type: "Notification", MessageId: "m-3", TopicArn: topic,
			Message: message("subscribe-success", "cust-A", "prod"), Timestamp: before}, "2")
		if code := e.post(t, e.sns.Marshal(late)); code != http.StatusOK || e.lifecycle(t, A) != tenant.LifecycleUNSUBSCRIBED {
			t.Fatalf("a late subscribe-success: %d, %s", code, e.lifecycle(t, A))
		}
		time.Sleep(10 * time.Millisecond) // the next message is sent after A's end
		if code := e.post(t, e.sns.Notification(topic, "", message("subscribe-success", "cust-A", "prod"), "2")); code != http.StatusOK {
			t.Fatalf("subscribe-success: %d", code)
		}
		if e.lifecycle(t, A) != tenant.LifecycleACTIVE {
			t.Fatalf("after subscribe-success A is %s", e.lifecycle(t, A))
		}
		if err := e.gate.Admit(ctx, A); err != nil {
			t.Errorf("the gate refuses resubscribed A: %v", err)
		}

		// A buyer of no tenant: its pending subscription goes when it fails.
		e.metered.AddCustomer("tok-p", fakeaws.MeteringCustomer{CustomerIdentifier: "cust-P", ProductCode: "prod"})
		if code, _ := e.register(t, "tok-p"); code != http.StatusSeeOther || len(e.pending(t)) != 1 {
			t.Fatalf("register: %d, %d pending", code, len(e.pending(t)))
		}
		if code := e.post(t, e.sns.Notification(topic, "", message("subscribe-fail", "cust-P", "prod"), "2")); code != http.StatusOK || len(e.pending(t)) != 0 {
			t.Fatalf("subscribe-fail of a pending buyer: %d, %d pending", code, len(e.pending(t)))
		}
		if e.lifecycle(t, A) != tenant.LifecycleACTIVE || e.lifecycle(t, B) != tenant.LifecycleACTIVE {
			t.Fatal("another buyer's notification moved a tenant")
		}
	})
}
