package server_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"switchboard/auth"
	"switchboard/awssns"
	"switchboard/cmd/switchboard/wire"
	"switchboard/connectaws"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
	"switchboard/marketplace"
)

// A buyer's way in, through the whole server on both stores: AWS
// Marketplace posts the buyer's browser to /marketplace/register, which
// holds the buyer as pending and sends it to the sign-up page; an operator
// sees it in pendingSubscriptions (a tenant's admin may not) and links it
// to tenant A, which then carries the buyer; Marketplace's unsubscribe-
// success on /aws/sns/marketplace then ends A, whose people are refused,
// and not B.
func TestMarketplaceSubscription(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		platform := aws.Credentials{AccessKeyID: "AKIAPLATFORM", SecretAccessKey: "platform-secret"}
		metering := fakeaws.NewMetering(t)
		metering.TrustCaller(platform)
		metering.AddCustomer("tok-1", fakeaws.MeteringCustomer{CustomerIdentifier: "cust-1", ProductCode: "prod-1"})
		sns := fakeaws.NewSNS(t)
		snsURL, _ := url.Parse(sns.URL)
		s := testenv.NewServer(t, b, func(c *wire.Config) {
			c.AWS = &wire.AWS{Options: connectaws.Options{
				BaseCredentials:  credentials.StaticCredentialsProvider{Value: platform},
				MeteringEndpoint: metering.URL,
				RetryMaxAttempts: 1,
			}}
			c.Marketplace = wire.Marketplace{SignupURL: "/signup", SNS: awssns.Options{
				AllowURL:   func(u *url.URL) bool { return u.Host == snsURL.Host },
				HTTPClient: sns.Client(),
			}}
		})
		op := s.OperatorToken(t)
		A, B := s.NewTenant(t, "Alpha Ltd"), s.NewTenant(t, "Beta Ltd")
		_, agentA := s.NewAgent(t, A, "Ann", "ann@alpha.example", auth.RoleAgent)
		_, agentB := s.NewAgent(t, B, "Bob", "bob@beta.example", auth.RoleAgent)

		noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := noRedirect.PostForm(s.URL+marketplace.RegisterPath, url.Values{"x-amzn-marketplace-token": {"tok-1"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Path != "/signup" {
			t.Fatalf("register: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		pendingID := loc.Query().Get("subscription")

		const pending = `{ pendingSubscriptions { id customerIdentifier customerAwsAccountId productCode licenseArn registeredAt } }`
		if r := s.Do(t, A.AdminToken, pending, nil); r.Code() != "FORBIDDEN" {
			t.Fatalf("A's admin lists pending subscriptions: %+v", r)
		}
		var p struct {
			PendingSubscriptions []struct{ ID, CustomerIdentifier, ProductCode string } `json:"pendingSubscriptions"`
		}
		s.MustDo(t, op, pending, nil, &p)
		if len(p.PendingSubscriptions) != 1 || p.PendingSubscriptions[0].ID != pendingID || p.PendingSubscriptions[0].CustomerIdentifier != "cust-1" {
			t.Fatalf("pending: %+v (sent to %s)", p, loc)
		}
		link := `mutation($id: ID!, $tenantId: ID!) { linkSubscription(id: $id, tenantId: $tenantId) { id marketplaceCustomerId } }`
		if r := s.Do(t, A.AdminToken, link, map[string]any{"id": pendingID, "tenantId": A.ID}); r.Code() != "FORBIDDEN" {
			t.Fatalf("A's admin links: %+v", r)
		}
		var l struct {
			LinkSubscription struct{ ID, MarketplaceCustomerID string } `json:"linkSubscription"`
		}
		s.MustDo(t, op, link, map[string]any{"id": pendingID, "tenantId": A.ID}, &l)
		if l.LinkSubscription.ID != A.ID || l.LinkSubscription.MarketplaceCustomerID != "cust-1" {
			t.Fatalf("linked: %+v", l)
		}

		msg, _ := json.Marshal(map[string]string{"action": "unsubscribe-success", "customer-identifier": "cust-1", "product-code": "prod-1"})
		topic := "arn:aws:sns:us-east-1:" + marketplace.DefaultTopicAccount + ":aws-mp-subscription-notification-prod-1"
		resp, err = http.Post(s.URL+marketplace.SNSPath, "text/plain", strings.NewReader(string(sns.Notification(topic, "", string(msg), "2"))))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("notification: %d", resp.StatusCode)
		}
		r := s.Do(t, agentA, `{ viewer { email } }`, nil)
		if r.Code() != "FORBIDDEN" || r.Errors[0].Extensions["reason"] != "TENANT_UNSUBSCRIBED" {
			t.Fatalf("A's agent after unsubscribe-success: %+v", r)
		}
		s.MustDo(t, agentB, `{ viewer { email } }`, nil, nil)
	})
}
