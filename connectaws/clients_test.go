package connectaws_test

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"

	"switchboard/connectaws"
	"switchboard/internal/fakeaws"
)

// The platform's own credentials: the only ones that may call STS, and
// never ones that may call a tenant's Connect.
var platform = aws.Credentials{AccessKeyID: "AKIAPLATFORM00000001", SecretAccessKey: "platform-secret-key"}

// Two tenants, each with an instance in its own account and region.
var (
	tenantA = connectaws.Instance{
		InstanceARN: "arn:aws:connect:eu-west-2:111111111111:instance/aaaaaaaa-0000-4000-8000-000000000001",
		RoleARN:     "arn:aws:iam::111111111111:role/SwitchboardAccess",
		ExternalID:  "external-id-of-tenant-a",
	}
	tenantB = connectaws.Instance{
		InstanceARN: "arn:aws:connect:us-east-1:222222222222:instance/bbbbbbbb-0000-4000-8000-000000000002",
		Region:      "us-east-1",
		RoleARN:     "arn:aws:iam::222222222222:role/service-role/SwitchboardAccess",
		ExternalID:  "external-id-of-tenant-b",
	}
)

const (
	instanceA = "aaaaaaaa-0000-4000-8000-000000000001"
	instanceB = "bbbbbbbb-0000-4000-8000-000000000002"
	agentA    = "a1a1a1a1-0000-4000-8000-00000000000a"
	agentB    = "b2b2b2b2-0000-4000-8000-00000000000b"
)

// env is a fake AWS (STS and Connect) and Clients pointed at it.
type env struct {
	sts     *fakeaws.STS
	connect *fakeaws.Connect
	clients *connectaws.Clients
}

// newEnv starts the fakes with both tenants' roles, instances, agents and
// statuses, and Clients using them; edit adjusts the options.
func newEnv(t *testing.T, edit func(*connectaws.Options)) *env {
	t.Helper()
	e := &env{sts: fakeaws.NewSTS(t), connect: fakeaws.NewConnect(t)}
	e.sts.TrustCaller(platform)
	e.sts.AllowRole(tenantA.RoleARN, tenantA.ExternalID)
	e.sts.AllowRole(tenantB.RoleARN, tenantB.ExternalID)
	e.connect.TrustSTS(e.sts)
	statuses := []fakeaws.AgentStatus{
		{ID: "available", Name: "Available", Type: "ROUTABLE", DisplayOrder: 1},
		{ID: "break", Name: "Break", Type: "CUSTOM", DisplayOrder: 2},
		{ID: "offline", Name: "Offline", Type: "OFFLINE", DisplayOrder: 3},
	}
	e.connect.SetAgentStatuses(instanceA, statuses...)
	e.connect.SetAgentStatuses(instanceB, statuses...)
	e.connect.AddUsers(instanceA, agentA)
	e.connect.AddUsers(instanceB, agentB)

	opts := connectaws.Options{
		BaseCredentials:  credentials.StaticCredentialsProvider{Value: platform},
		STSEndpoint:      e.sts.URL,
		ConnectEndpoint:  e.connect.URL,
		RetryMaxAttempts: 3,
		RetryMaxBackoff:  10 * time.Millisecond,
	}
	if edit != nil {
		edit(&opts)
	}
	var err error
	e.clients, err = connectaws.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// upstreamError asserts err is an upstream error and returns its details.
func upstreamError(t *testing.T, err error) *connectaws.UpstreamError {
	t.Helper()
	if !errors.Is(err, connectaws.ErrUpstream) {
		t.Fatalf("error %v does not match ErrUpstream", err)
	}
	ue, ok := errors.AsType[*connectaws.UpstreamError](err)
	if !ok {
		t.Fatalf("error %v is not an *UpstreamError", err)
	}
	return ue
}

func TestPutUserStatusSignsWithTheAssumedRole(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()

	if err := e.clients.PutUserStatus(ctx, tenantA, agentA, "break"); err != nil {
		t.Fatal(err)
	}

	calls := e.sts.Calls()
	if len(calls) != 1 {
		t.Fatalf("AssumeRole calls = %d, want 1", len(calls))
	}
	c := calls[0]
	if c.RoleARN != tenantA.RoleARN || c.ExternalID != tenantA.ExternalID || c.RoleSessionName != "switchboard" ||
		c.CallerKeyID != platform.AccessKeyID || c.Region != "eu-west-2" || c.DurationSeconds != 3600 || c.IssuedKeyID == "" {
		t.Fatalf("AssumeRole call = %+v", c)
	}
	issued, _ := e.sts.Lookup(c.IssuedKeyID)

	reqs := e.connect.Requests()
	if len(reqs) != 1 {
		t.Fatalf("Connect requests = %d, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Operation != fakeaws.OpPutUserStatus || r.Method != "PUT" || r.Path != "/users/"+instanceA+"/"+agentA+"/status" {
		t.Fatalf("request = %s %s (%s)", r.Method, r.Path, r.Operation)
	}
	var body map[string]string
	if err := json.Unmarshal(r.Body, &body); err != nil || len(body) != 1 || body["AgentStatusId"] != "break" {
		t.Fatalf("body = %s (%v)", r.Body, err)
	}
	if r.AccessKeyID != issued.AccessKeyID || r.AccessKeyID == platform.AccessKeyID || !strings.HasPrefix(r.AccessKeyID, "ASIA") {
		t.Fatalf("signed with %q, want the assumed role's %q", r.AccessKeyID, issued.AccessKeyID)
	}
	if r.SessionToken != issued.SessionToken {
		t.Fatal("request does not carry the assumed role's session token")
	}
	if r.Region != "eu-west-2" || r.Status != 200 {
		t.Fatalf("region %q, status %d", r.Region, r.Status)
	}
	if got, _ := e.connect.UserStatus(instanceA, agentA); got != "break" {
		t.Fatalf("agent's status = %q, want break", got)
	}
}

func TestCredentialsAreCachedAcrossCalls(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()

	for range 5 {
		if err := e.clients.PutUserStatus(ctx, tenantA, agentA, "available"); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := e.clients.ListAgentStatuses(ctx, tenantA)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := e.sts.CallCount(""); n != 1 {
		t.Fatalf("AssumeRole calls = %d for 25 Connect calls, want 1", n)
	}
	keys := map[string]bool{}
	for _, r := range e.connect.Requests() {
		keys[r.AccessKeyID] = true
	}
	if len(keys) != 1 {
		t.Fatalf("requests signed with %d keys, want 1", len(keys))
	}
}

func TestCredentialsAreRenewedBeforeTheyExpire(t *testing.T) {
	// Credentials live 2 s and are renewed 1 s before they expire.
	e := newEnv(t, func(o *connectaws.Options) { o.ExpiryWindow = time.Second })
	e.sts.SetExpiry(2 * time.Second)
	ctx := context.Background()

	put := func() {
		t.Helper()
		if err := e.clients.PutUserStatus(ctx, tenantA, agentA, "available"); err != nil {
			t.Fatal(err)
		}
	}
	put()
	put()
	if n := e.sts.CallCount(tenantA.RoleARN); n != 1 {
		t.Fatalf("AssumeRole calls = %d before renewal, want 1", n)
	}
	time.Sleep(1300 * time.Millisecond)
	put()
	put()
	if n := e.sts.CallCount(tenantA.RoleARN); n != 2 {
		t.Fatalf("AssumeRole calls = %d after the renewal point, want 2", n)
	}
	issued := e.sts.Issued(tenantA.RoleARN)
	reqs := e.connect.RequestsFor(fakeaws.OpPutUserStatus)
	want := []string{issued[0].AccessKeyID, issued[0].AccessKeyID, issued[1].AccessKeyID, issued[1].AccessKeyID}
	for i, r := range reqs {
		if r.AccessKeyID != want[i] {
			t.Errorf("request %d signed with %s, want %s", i, r.AccessKeyID, want[i])
		}
	}
}

func TestWrongExternalIDIsRefusedUpstream(t *testing.T) {
	e := newEnv(t, nil)
	inst := tenantA
	inst.ExternalID = "not-the-tenants-external-id"

	err := e.clients.PutUserStatus(context.Background(), inst, agentA, "available")
	ue := upstreamError(t, err)
	if ue.Service != "STS" || ue.Operation != "AssumeRole" || ue.Code != "AccessDenied" || ue.StatusCode != 403 {
		t.Fatalf("error = %+v", ue)
	}
	if msg := err.Error(); strings.Contains(msg, inst.ExternalID) || strings.Contains(msg, platform.SecretAccessKey) {
		t.Fatalf("error text leaks a secret: %s", msg)
	}
	if n := len(e.connect.Requests()); n != 0 {
		t.Fatalf("Connect got %d requests without credentials", n)
	}
}

func TestConnectErrorsAreUpstream(t *testing.T) {
	cases := []struct {
		name    string
		failure *fakeaws.Failure // nil: the fake's own answer
		userID  string
		status  string
		code    string
		http    int
	}{
		{name: "unknown user", userID: "no-such-user", status: "available", code: "ResourceNotFoundException", http: 404},
		{name: "unknown status", userID: agentA, status: "no-such-status", code: "ResourceNotFoundException", http: 404},
		{name: "invalid request", userID: agentA, status: "available", code: "InvalidRequestException", http: 400,
			failure: &fakeaws.Failure{Status: 400, Code: "InvalidRequestException", Message: "bad"}},
		{name: "access denied", userID: agentA, status: "available", code: "AccessDeniedException", http: 403,
			failure: &fakeaws.Failure{Status: 403, Code: "AccessDeniedException", Message: "role lacks connect:PutUserStatus"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			if tc.failure != nil {
				e.connect.Fail(fakeaws.OpPutUserStatus, *tc.failure)
			}
			err := e.clients.PutUserStatus(context.Background(), tenantA, tc.userID, tc.status)
			ue := upstreamError(t, err)
			if ue.Service != "Connect" || ue.Operation != "PutUserStatus" || ue.Code != tc.code || ue.StatusCode != tc.http || ue.Throttled {
				t.Fatalf("error = %+v", ue)
			}
			if ue.RequestID == "" || !strings.Contains(err.Error(), tc.code) {
				t.Fatalf("error text %q lacks the code or request ID", err)
			}
			if n := len(e.connect.Requests()); n != 1 {
				t.Fatalf("%d attempts for a client error, want 1", n)
			}
		})
	}
}

func TestThrottlingIsRetriedThenUpstream(t *testing.T) {
	for _, code := range []string{"TooManyRequestsException", "ThrottlingException"} {
		t.Run(code, func(t *testing.T) {
			e := newEnv(t, nil)
			e.connect.Fail(fakeaws.OpPutUserStatus, fakeaws.Failure{Status: 429, Code: code, Message: "Rate exceeded"})
			start := time.Now()
			err := e.clients.PutUserStatus(context.Background(), tenantA, agentA, "available")
			ue := upstreamError(t, err)
			if ue.Code != code || ue.StatusCode != 429 || !ue.Throttled {
				t.Fatalf("error = %+v", ue)
			}
			if n := len(e.connect.Requests()); n != 3 {
				t.Fatalf("attempts = %d, want RetryMaxAttempts (3)", n)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("took %v despite RetryMaxBackoff", d)
			}
		})
	}

	t.Run("recovers", func(t *testing.T) {
		e := newEnv(t, nil)
		e.connect.Fail(fakeaws.OpPutUserStatus, fakeaws.Failure{Status: 429, Code: "TooManyRequestsException", Times: 2})
		if err := e.clients.PutUserStatus(context.Background(), tenantA, agentA, "break"); err != nil {
			t.Fatal(err)
		}
		if n := len(e.connect.Requests()); n != 3 {
			t.Fatalf("attempts = %d, want 3", n)
		}
		if got, _ := e.connect.UserStatus(instanceA, agentA); got != "break" {
			t.Fatalf("status = %q", got)
		}
	})
}

func TestListAgentStatusesFollowsPages(t *testing.T) {
	e := newEnv(t, nil)
	var statuses []fakeaws.AgentStatus
	types := []string{"ROUTABLE", "CUSTOM", "CUSTOM", "CUSTOM", "CUSTOM", "CUSTOM", "OFFLINE"}
	for i, typ := range types {
		statuses = append(statuses, fakeaws.AgentStatus{
			ID: "status-" + string(rune('a'+i)), Name: "Status " + string(rune('A'+i)), Type: typ, DisplayOrder: i + 1,
		})
	}
	e.connect.SetAgentStatuses(instanceA, statuses...)
	e.connect.SetPageSize(3)

	got, err := e.clients.ListAgentStatuses(context.Background(), tenantA)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(statuses) {
		t.Fatalf("got %d statuses, want %d", len(got), len(statuses))
	}
	for i, s := range got {
		w := statuses[i]
		if s.ID != w.ID || s.Name != w.Name || string(s.Type) != w.Type ||
			s.ARN != "arn:aws:connect:us-east-1:000000000000:instance/"+instanceA+"/agent-state/"+w.ID {
			t.Errorf("status %d = %+v, want %+v", i, s, w)
		}
	}
	reqs := e.connect.RequestsFor(fakeaws.OpListAgentStatuses)
	if len(reqs) != 3 {
		t.Fatalf("pages requested = %d, want 3", len(reqs))
	}
	wantTokens := []string{"", "page-after-3", "page-after-6"}
	for i, r := range reqs {
		if r.Method != "GET" || r.Path != "/agent-status/"+instanceA || r.Query.Get("nextToken") != wantTokens[i] {
			t.Errorf("page %d: %s %s?%s", i, r.Method, r.Path, r.Query.Encode())
		}
	}
	if got[0].Type != connectaws.AgentStatusRoutable || got[6].Type != connectaws.AgentStatusOffline {
		t.Fatalf("types = %s, %s", got[0].Type, got[6].Type)
	}
}

func TestListAgentStatusesErrors(t *testing.T) {
	e := newEnv(t, nil)
	e.connect.SetPageSize(1)
	e.connect.Fail(fakeaws.OpListAgentStatuses, fakeaws.Failure{Status: 500, Code: "InternalServiceException", Message: "boom", Times: 1})
	// A failed first attempt is retried by the SDK.
	got, err := e.clients.ListAgentStatuses(context.Background(), tenantA)
	if err != nil || len(got) != 3 {
		t.Fatalf("got %d statuses, err %v", len(got), err)
	}

	unknown := tenantA
	unknown.InstanceARN = "arn:aws:connect:eu-west-2:111111111111:instance/cccccccc-0000-4000-8000-000000000003"
	_, err = e.clients.ListAgentStatuses(context.Background(), unknown)
	if ue := upstreamError(t, err); ue.Code != "ResourceNotFoundException" || ue.Operation != "ListAgentStatuses" {
		t.Fatalf("error = %+v", ue)
	}
}

func TestTenantsNeverShareCredentials(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()

	for range 3 {
		if err := e.clients.PutUserStatus(ctx, tenantA, agentA, "available"); err != nil {
			t.Fatal(err)
		}
		if err := e.clients.PutUserStatus(ctx, tenantB, agentB, "break"); err != nil {
			t.Fatal(err)
		}
	}
	if e.sts.CallCount(tenantA.RoleARN) != 1 || e.sts.CallCount(tenantB.RoleARN) != 1 {
		t.Fatalf("AssumeRole calls: A %d, B %d; want 1 each", e.sts.CallCount(tenantA.RoleARN), e.sts.CallCount(tenantB.RoleARN))
	}
	for _, r := range e.connect.Requests() {
		issued, ok := e.sts.Lookup(r.AccessKeyID)
		if !ok {
			t.Fatalf("request signed with unknown key %s", r.AccessKeyID)
		}
		wantRole, wantRegion := tenantA.RoleARN, "eu-west-2"
		if strings.Contains(r.Path, instanceB) {
			wantRole, wantRegion = tenantB.RoleARN, "us-east-1"
		}
		if issued.RoleARN != wantRole || r.Region != wantRegion {
			t.Errorf("%s signed by %s's credentials in %s", r.Path, issued.RoleARN, r.Region)
		}
	}

	// A tenant naming another tenant's role without its external ID gets
	// nothing, even though that role's credentials are cached.
	impostor := tenantA
	impostor.ExternalID = tenantB.ExternalID
	err := e.clients.PutUserStatus(ctx, impostor, agentA, "available")
	if ue := upstreamError(t, err); ue.Code != "AccessDenied" {
		t.Fatalf("impostor got %+v", ue)
	}
	if n := e.sts.CallCount(tenantA.RoleARN); n != 2 {
		t.Fatalf("impostor's AssumeRole calls = %d, want a call of its own", n-1)
	}
}

func TestCredentialsProviderAndForget(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	p, err := e.clients.Credentials(tenantA)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := p.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if issued := e.sts.Issued(tenantA.RoleARN); len(issued) != 1 || creds.AccessKeyID != issued[0].AccessKeyID || !creds.CanExpire {
		t.Fatalf("credentials %s, issued %+v", creds.AccessKeyID, issued)
	}
	if err := e.clients.PutUserStatus(ctx, tenantA, agentA, "available"); err != nil {
		t.Fatal(err)
	}
	if n := e.sts.CallCount(""); n != 1 {
		t.Fatalf("AssumeRole calls = %d, want 1 (shared with Credentials)", n)
	}
	e.clients.Forget(tenantA)
	if err := e.clients.PutUserStatus(ctx, tenantA, agentA, "available"); err != nil {
		t.Fatal(err)
	}
	if n := e.sts.CallCount(""); n != 2 {
		t.Fatalf("AssumeRole calls = %d after Forget, want 2", n)
	}
}

func TestInvalidInstances(t *testing.T) {
	e := newEnv(t, nil)
	bad := map[string]connectaws.Instance{
		"not an ARN":      {InstanceARN: "aaaaaaaa", RoleARN: tenantA.RoleARN, ExternalID: "x"},
		"not connect":     {InstanceARN: "arn:aws:s3:eu-west-2:111111111111:instance/abc", RoleARN: tenantA.RoleARN, ExternalID: "x"},
		"agent ARN":       {InstanceARN: "arn:aws:connect:eu-west-2:111111111111:instance/abc/agent/def", RoleARN: tenantA.RoleARN, ExternalID: "x"},
		"bad region":      {InstanceARN: "arn:aws:connect:evil.example:111111111111:instance/abc", RoleARN: tenantA.RoleARN, ExternalID: "x"},
		"region mismatch": {InstanceARN: tenantA.InstanceARN, Region: "us-east-1", RoleARN: tenantA.RoleARN, ExternalID: "x"},
		"no role":         {InstanceARN: tenantA.InstanceARN, ExternalID: "x"},
		"user not role":   {InstanceARN: tenantA.InstanceARN, RoleARN: "arn:aws:iam::111111111111:user/bob", ExternalID: "x"},
		"no external ID":  {InstanceARN: tenantA.InstanceARN, RoleARN: tenantA.RoleARN},
	}
	for name, inst := range bad {
		err := e.clients.PutUserStatus(context.Background(), inst, agentA, "available")
		if !errors.Is(err, connectaws.ErrInvalidInstance) || errors.Is(err, connectaws.ErrUpstream) {
			t.Errorf("%s: error %v", name, err)
		}
	}
	if err := e.clients.PutUserStatus(context.Background(), tenantA, "", "available"); err == nil || errors.Is(err, connectaws.ErrUpstream) {
		t.Errorf("empty user ID: error %v", err)
	}
	if n := e.sts.CallCount("") + len(e.connect.Requests()); n != 0 {
		t.Fatalf("%d requests sent for invalid input", n)
	}
}

func TestCancelledCallIsNotUpstream(t *testing.T) {
	e := newEnv(t, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := e.clients.PutUserStatus(ctx, tenantA, agentA, "available")
	if !errors.Is(err, context.Canceled) || errors.Is(err, connectaws.ErrUpstream) {
		t.Fatalf("error %v", err)
	}
}

func TestUnreachableAWSIsUpstream(t *testing.T) {
	e := newEnv(t, func(o *connectaws.Options) {
		o.ConnectEndpoint = "http://127.0.0.1:1" // nothing listens there
		o.RetryMaxAttempts = 1
	})
	err := e.clients.PutUserStatus(context.Background(), tenantA, agentA, "available")
	if ue := upstreamError(t, err); ue.Code != "" || ue.Service != "Connect" || ue.StatusCode != 0 {
		t.Fatalf("error = %+v", ue)
	}
}

func TestNewValidatesOptions(t *testing.T) {
	base := credentials.StaticCredentialsProvider{Value: platform}
	for name, o := range map[string]connectaws.Options{
		"session name":    {BaseCredentials: base, SessionName: "no spaces allowed"},
		"short duration":  {BaseCredentials: base, SessionDuration: time.Minute},
		"window too long": {BaseCredentials: base, ExpiryWindow: 2 * time.Hour},
	} {
		if _, err := connectaws.New(context.Background(), o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestInstanceAndAgentARNs(t *testing.T) {
	id, err := connectaws.InstanceID(tenantA.InstanceARN)
	if err != nil || id != instanceA {
		t.Fatalf("InstanceID = %q, %v", id, err)
	}
	user, err := connectaws.UserIDFromAgentARN("arn:aws:connect:eu-west-2:111111111111:instance/" + instanceA + "/agent/" + agentA)
	if err != nil || user != agentA {
		t.Fatalf("UserIDFromAgentARN = %q, %v", user, err)
	}
	for _, arn := range []string{
		"", "arn:aws:connect:eu-west-2:111111111111:instance/" + instanceA,
		"arn:aws:connect:eu-west-2:111111111111:instance/" + instanceA + "/queue/" + agentA,
		"arn:aws:connect:eu-west-2:111111111111:instance/" + instanceA + "/agent/",
		"arn:aws:connect:eu-west-2:111111111111:instance/" + instanceA + "/agent/" + agentA + "/extra",
	} {
		if _, err := connectaws.UserIDFromAgentARN(arn); !errors.Is(err, connectaws.ErrMalformed) {
			t.Errorf("UserIDFromAgentARN(%q): error %v", arn, err)
		}
	}
	if _, err := connectaws.InstanceID("arn:aws:connect:eu-west-2:111111111111:instance/"); err == nil {
		t.Error("InstanceID accepted an empty ID")
	}
}

func TestDefaultCredentialChain(t *testing.T) {
	// Without BaseCredentials, the platform's credentials come from the
	// SDK's default chain: here, the environment.
	t.Setenv("AWS_ACCESS_KEY_ID", platform.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", platform.SecretAccessKey)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	e := newEnv(t, func(o *connectaws.Options) { o.BaseCredentials = nil })

	if err := e.clients.PutUserStatus(context.Background(), tenantA, agentA, "available"); err != nil {
		t.Fatal(err)
	}
	if calls := e.sts.Calls(); len(calls) != 1 || calls[0].CallerKeyID != platform.AccessKeyID {
		t.Fatalf("AssumeRole calls = %+v", calls)
	}
}

// TestS3AndSESClients: the S3 and SES clients Clients makes for a tenant
// sign with that tenant's role, reach the configured endpoints (S3
// path-style), are made once per tenant (and SES region), and are refused
// for an unusable instance.
func TestS3AndSESClients(t *testing.T) {
	s3fake, sesFake := fakeaws.NewS3(t), fakeaws.NewSES(t)
	e := newEnv(t, func(o *connectaws.Options) { o.S3Endpoint, o.SESEndpoint = s3fake.URL, sesFake.URL })
	s3fake.TrustSTS(e.sts)
	sesFake.TrustSTS(e.sts)
	s3fake.SetOwner("bucket-a", tenantA.RoleARN)
	s3fake.SetOwner("bucket-b", tenantB.RoleARN)
	ctx := context.Background()

	for _, c := range []struct {
		name          string
		inst          connectaws.Instance
		own, other    string
		region, sesTo string
	}{
		{"A", tenantA, "bucket-a", "bucket-b", "eu-west-2", "us-west-2"},
		{"B", tenantB, "bucket-b", "bucket-a", "us-east-1", ""},
	} {
		s3c, err := e.clients.S3(c.inst)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := e.clients.S3(c.inst); again != s3c {
			t.Errorf("%s: a second S3 client", c.name)
		}
		if s3c.Options().Region != c.region || !s3c.Options().UsePathStyle {
			t.Errorf("%s: S3 region %q, path-style %v", c.name, s3c.Options().Region, s3c.Options().UsePathStyle)
		}
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(c.own)}); err != nil {
			t.Errorf("%s: creating its own bucket: %v", c.name, err)
		}
		if _, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(c.other)}); err == nil {
			t.Errorf("%s: reached the other tenant's bucket", c.name)
		}

		ses, err := e.clients.SES(c.inst, c.sesTo)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := e.clients.SES(c.inst, c.sesTo); again != ses {
			t.Errorf("%s: a second SES client", c.name)
		}
		want := c.sesTo
		if want == "" {
			want = c.region
		}
		if ses.Options().Region != want {
			t.Errorf("%s: SES region %q, want %q", c.name, ses.Options().Region, want)
		}
		_, err = ses.SendEmail(ctx, &sesv2.SendEmailInput{
			FromEmailAddress: aws.String("a@example.com"),
			Destination:      &sestypes.Destination{ToAddresses: []string{"b@example.com"}},
			Content:          &sestypes.EmailContent{Raw: &sestypes.RawMessage{Data: []byte("Subject: x\r\n\r\nx\r\n")}},
		})
		if err != nil {
			t.Errorf("%s: SendEmail: %v", c.name, err)
		}
	}
	sent := sesFake.Sent()
	if len(sent) != 2 || sent[0].Region != "us-west-2" || sent[1].Region != "us-east-1" {
		t.Fatalf("sent %+v", sent)
	}
	for i, role := range []string{tenantA.RoleARN, tenantB.RoleARN} {
		if issued, ok := e.sts.Lookup(sent[i].AccessKeyID); !ok || issued.RoleARN != role {
			t.Errorf("email %d signed by %+v, want %s", i, issued, role)
		}
	}
	owner := map[string]string{"bucket-a": tenantA.RoleARN, "bucket-b": tenantB.RoleARN}
	requests := s3fake.Requests()
	if len(requests) != 4 {
		t.Errorf("%d S3 requests, want 4", len(requests))
	}
	for _, r := range requests {
		issued, ok := e.sts.Lookup(r.AccessKeyID)
		if !ok || issued.RoleARN != owner[r.Bucket] && r.Status != 403 {
			t.Errorf("S3 request %+v signed by %+v", r, issued)
		}
	}

	// The Connect client is the one Clients' own calls use.
	if c1, err := e.clients.Connect(tenantA); err != nil || c1.Options().Region != "eu-west-2" {
		t.Errorf("Connect client %v, %v", c1, err)
	}

	bad := tenantA
	bad.ExternalID = ""
	if _, err := e.clients.S3(bad); !errors.Is(err, connectaws.ErrInvalidInstance) {
		t.Errorf("S3 for an unusable instance: %v", err)
	}
	if _, err := e.clients.SES(bad, ""); !errors.Is(err, connectaws.ErrInvalidInstance) {
		t.Errorf("SES for an unusable instance: %v", err)
	}
	if _, err := e.clients.Connect(bad); !errors.Is(err, connectaws.ErrInvalidInstance) {
		t.Errorf("Connect for an unusable instance: %v", err)
	}
}
