package server_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"switchboard/auth"
	"switchboard/cmd/switchboard/wire"
	"switchboard/connectaws"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
	"switchboard/resolvers"
)

// txGuard stands between the server and the fake AWS endpoints and looks,
// while each AWS request is in flight, at the transactions open for the
// GraphQL operation that made it.
type txGuard struct {
	t       *testing.T
	counter func() *testenv.StatementCounter

	mu        sync.Mutex
	mutation  string   // the mutation being made
	requests  int      // AWS requests made for it
	violation []string // what was open while AWS was asked
}

// proxy returns the URL of a proxy to target that checks each request.
func (g *txGuard) proxy(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		g.t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.check(r)
		rp.ServeHTTP(w, r)
	}))
	g.t.Cleanup(srv.Close)
	return srv.URL
}

// check records a violation when a transaction of the operation is open:
// for a mutation that calls AWS, any; for one whose service opens its own
// transactions, the request's (begun outside every field's resolver).
func (g *txGuard) check(r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requests++
	mode, _ := resolvers.MutationTransaction(g.mutation)
	for _, ctx := range g.counter().OpenTransactions() {
		if !graphql.HasOperationContext(ctx) {
			continue // not the operation's: the store's own work
		}
		requestTx := graphql.GetFieldContext(ctx) == nil
		if mode == resolvers.OwnTransaction && !requestTx {
			continue
		}
		g.violation = append(g.violation, fmt.Sprintf("%s: %s %s with a transaction open (the request's: %v; classified %v)",
			g.mutation, r.Method, r.URL, requestTx, mode))
	}
}

// during runs f as mutation and fails t if AWS was asked for nothing or
// while a transaction was open.
func (g *txGuard) during(t *testing.T, mutation string, f func()) {
	t.Helper()
	g.mu.Lock()
	g.mutation, g.requests, g.violation = mutation, 0, nil
	g.mu.Unlock()
	f()
	g.mu.Lock()
	defer g.mu.Unlock()
	if mode, _ := resolvers.MutationTransaction(mutation); mode == resolvers.InRequestTransaction {
		t.Errorf("%s calls AWS but is classified to run in the request's transaction", mutation)
	}
	if g.requests == 0 {
		t.Errorf("%s made no AWS request", mutation)
	}
	for _, v := range g.violation {
		t.Error(v)
	}
}

// TestNoTransactionWhileAWSAnswers drives every mutation that calls AWS,
// with the real SDK against the fakes behind a proxy that fails the test
// when a transaction of the operation is open while an AWS request is in
// flight.
func TestNoTransactionWhileAWSAnswers(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		var s *testenv.Server
		g := &txGuard{t: t, counter: func() *testenv.StatementCounter { return s.Counter }}
		platform := aws.Credentials{AccessKeyID: "AKIAPLATFORM", SecretAccessKey: "platform-secret"}
		sts, fc, s3, ses, cp := fakeaws.NewSTS(t), fakeaws.NewConnect(t), fakeaws.NewS3(t), fakeaws.NewSES(t), fakeaws.NewProfiles(t)
		sts.TrustCaller(platform)
		sts.AllowRole(roleARN, externalID)
		for _, trust := range []func(*fakeaws.STS){fc.TrustSTS, s3.TrustSTS, ses.TrustSTS, cp.TrustSTS} {
			trust(sts)
		}
		fc.AddInstance(instanceID)
		fc.SetAgentStatuses(instanceID,
			fakeaws.AgentStatus{ID: "cs-available", Name: "Available", Type: "ROUTABLE"},
			fakeaws.AgentStatus{ID: "cs-offline", Name: "Offline", Type: "OFFLINE"})
		fc.AddUsers(instanceID, "user-alex")
		s = testenv.NewServer(t, b, func(c *wire.Config) {
			c.AWS = &wire.AWS{Options: connectaws.Options{
				BaseCredentials: credentials.StaticCredentialsProvider{Value: platform},
				STSEndpoint:     g.proxy(sts.URL), ConnectEndpoint: g.proxy(fc.URL),
				S3Endpoint: g.proxy(s3.URL), SESEndpoint: g.proxy(ses.URL), ProfilesEndpoint: g.proxy(cp.URL), RetryMaxAttempts: 1,
			}}
		})
		mailer := s.App.Mail()
		a := s.NewTenant(t, "Acme")
		alex, alexTok := s.NewAgent(t, a, "Alex", "alex@acme.example", auth.RoleAgent)
		content, attachments := mailer.BucketNames(mustID(a.ID), "acme-support")
		s3.SetOwner(content, roleARN)
		s3.SetOwner(attachments, roleARN)

		g.during(t, "configureInstance", func() {
			s.MustDo(t, a.AdminToken, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`, map[string]any{"in": map[string]any{
				"instanceArn": instanceARN, "alias": "acme-support", "region": "ap-southeast-2", "roleArn": roleARN,
				"externalId": externalID, "chatContactFlowId": "flow-chat", "modules": []string{"email", "profiles"},
			}}, nil)
		})
		if !s3.BucketExists(content) {
			t.Fatal("configureInstance made no content bucket")
		}
		var imported struct {
			ImportAgentStatuses []struct{ ID, Name string } `json:"importAgentStatuses"`
		}
		g.during(t, "importAgentStatuses", func() {
			s.MustDo(t, a.AdminToken, `mutation { importAgentStatuses { id name } }`, nil, &imported)
		})
		if len(imported.ImportAgentStatuses) != 2 {
			t.Fatalf("imported %+v", imported)
		}
		s.MustDo(t, a.AdminToken, `mutation($id: ID!) { updateAgent(id: $id, input: {connectUserID: "user-alex"}) { id } }`, map[string]any{"id": alex}, nil)
		g.during(t, "setAgentStatus", func() {
			s.MustDo(t, alexTok, `mutation($in: SetAgentStatusInput!) { setAgentStatus(input: $in) { id } }`,
				map[string]any{"in": map[string]any{"statusId": imported.ImportAgentStatuses[0].ID}}, nil)
		})
		var started struct{ StartConversation struct{ ID string } }
		g.during(t, "startConversation", func() {
			s.MustDo(t, alexTok, testenv.ContractOperation(t, "StartConversation"), map[string]any{"input": map[string]any{
				"channel": "SMS", "externalId": "+61412345678", "participant": "Jordan",
			}}, &started)
		})
		g.during(t, "endConversation", func() {
			s.MustDo(t, alexTok, testenv.ContractOperation(t, "EndConversation"), map[string]any{"id": started.StartConversation.ID}, nil)
		})
		var addr struct {
			CreateEmailAddress struct{ ID string } `json:"createEmailAddress"`
		}
		s.MustDo(t, a.AdminToken, `mutation($in: CreateEmailAddressInput!) { createEmailAddress(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"address": "support@acme.example", "sesIdentityArn": "arn:aws:ses:ap-southeast-2:123456789012:identity/acme.example",
		}}, &addr)
		g.during(t, "sendEmail", func() {
			if r := sendEmail(t, s, alexTok, addr.CreateEmailAddress.ID, "report.txt", "the attached report"); len(r.Errors) > 0 {
				t.Fatalf("sendEmail: %+v", r.Errors)
			}
		})
		fc.SetUsers(instanceID, fakeaws.User{ID: "user-alex", Username: "alex", FirstName: "Alex", Email: "alex@acme.example"},
			fakeaws.User{ID: "user-new", Username: "new", Email: "new@acme.example"})
		var users struct {
			ImportConnectUsers struct{ Created, Linked []struct{ ID string } } `json:"importConnectUsers"`
		}
		g.during(t, "importConnectUsers", func() {
			s.MustDo(t, a.AdminToken, `mutation { importConnectUsers { created { id } linked { id } } }`, nil, &users)
		})
		if len(users.ImportConnectUsers.Created) != 1 {
			t.Fatalf("imported %+v", users)
		}
		cp.AddDomain("123456789012", "amazon-connect-acme-support")
		var profile struct {
			CreateCustomerProfile struct{ ProfileID string } `json:"createCustomerProfile"`
		}
		g.during(t, "createCustomerProfile", func() {
			s.MustDo(t, alexTok, testenv.ContractOperation(t, "CreateCustomerProfile"), map[string]any{"input": map[string]any{"firstName": "Jordan"}}, &profile)
		})
		g.during(t, "updateCustomerProfile", func() {
			s.MustDo(t, alexTok, testenv.ContractOperation(t, "UpdateCustomerProfile"), map[string]any{
				"profileId": profile.CreateCustomerProfile.ProfileID, "input": map[string]any{"lastName": "Lee"}}, nil)
		})
		fc.AddLiveContact(instanceID, "c-1", "")
		s.MustDo(t, alexTok, testenv.ContractOperation(t, "RecordInteraction"), map[string]any{"input": map[string]any{
			"contactId": "c-1", "channel": "VOICE", "connectionType": "INBOUND", "startedAt": time.Now()}}, nil)
		g.during(t, "setContactRecording", func() {
			s.MustDo(t, alexTok, testenv.ContractOperation(t, "SetContactRecording"), map[string]any{"contactId": "c-1", "state": "SUSPENDED"}, nil)
		})
		g.during(t, "updateContactAttributes", func() {
			s.MustDo(t, alexTok, testenv.ContractOperation(t, "UpdateContactAttributes"), map[string]any{"contactId": "c-1",
				"attributes": []any{map[string]any{"key": "reason", "value": "card"}}}, nil)
		})
	})
}
