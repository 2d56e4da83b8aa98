package server_test

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"switchboard/auth"
	"switchboard/awssns"
	"switchboard/cmd/switchboard/wire"
	"switchboard/connectaws"
	"switchboard/integrations"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
	"switchboard/mail"
	"switchboard/sealed"
)

// serverWithAWS is a test server whose AWS clients sign with the
// platform's credentials and assume tenants' roles through the returned
// local STS; edit points the other services at their fakes.
func serverWithAWS(t *testing.T, b testenv.Backend, edit func(*wire.Config)) (*testenv.Server, *fakeaws.STS) {
	t.Helper()
	platform := aws.Credentials{AccessKeyID: "AKIAPLATFORM", SecretAccessKey: "platform-secret"}
	sts := fakeaws.NewSTS(t)
	sts.TrustCaller(platform)
	s := testenv.NewServer(t, b, func(c *wire.Config) {
		c.AWS = &wire.AWS{Options: connectaws.Options{
			BaseCredentials: credentials.StaticCredentialsProvider{Value: platform}, STSEndpoint: sts.URL, RetryMaxAttempts: 1,
		}}
		edit(c)
	})
	return s, sts
}

// The console's people on both stores: admins add, list and remove them;
// an email twice is CONFLICT, an agent's role or a bad email
// BAD_USER_INPUT; supervisors may not list them; another tenant's admin
// reaches none; a supervisor's first sign-in lists them with the time, an
// agent's does not.
func TestAdminUsers(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		A, B := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
		create := testenv.ContractOperation(t, "CreateAdminUser")
		var made struct {
			CreateAdminUser struct{ ID, Email, Role string } `json:"createAdminUser"`
		}
		s.MustDo(t, A.AdminToken, create, map[string]any{"input": map[string]any{"email": "Pat@Acme.Example", "name": "Pat", "organisation": "Acme Ops", "role": "SUPERVISOR"}}, &made)
		if made.CreateAdminUser.Email != "pat@acme.example" || made.CreateAdminUser.Role != "SUPERVISOR" {
			t.Errorf("created %+v", made)
		}
		for name, in := range map[string]map[string]any{
			"twice":     {"email": "pat@acme.example", "name": "Pat again", "role": "ADMIN"},
			"an agent":  {"email": "al@acme.example", "name": "Al", "role": "AGENT"},
			"bad email": {"email": "not an address", "name": "X", "role": "ADMIN"},
			"no name":   {"email": "x@acme.example", "name": "", "role": "ADMIN"},
		} {
			want := "BAD_USER_INPUT"
			if name == "twice" {
				want = "CONFLICT"
			}
			if r := s.Do(t, A.AdminToken, create, map[string]any{"input": in}); r.Code() != want {
				t.Errorf("%s: %+v, want %s", name, r, want)
			}
		}
		// A supervisor signs in (any request): listed, with the time.
		supTok := s.Token(t, auth.Claims{Email: "sam@acme.example", Name: "Sam Super", Tenant: A.ID, Role: auth.RoleSupervisor})
		agentTok := s.Token(t, auth.Claims{Email: "al@acme.example", Name: "Al Agent", Tenant: A.ID, Role: auth.RoleAgent})
		s.MustDo(t, supTok, `{ viewer { email } }`, nil, nil)
		s.MustDo(t, agentTok, `{ viewer { email } }`, nil, nil)
		list := testenv.ContractOperation(t, "AdminUsers")
		var users struct {
			AdminUsers []struct {
				ID, Email, Name, Role string
				LastSignInAt          *time.Time
			} `json:"adminUsers"`
		}
		s.MustDo(t, A.AdminToken, list, nil, &users)
		byEmail := map[string]int{}
		for i, u := range users.AdminUsers {
			byEmail[u.Email] = i
		}
		if i, ok := byEmail["sam@acme.example"]; !ok || users.AdminUsers[i].LastSignInAt == nil || users.AdminUsers[i].Name != "Sam Super" {
			t.Errorf("the supervisor's sign-in is not listed: %+v", users)
		}
		if _, ok := byEmail["al@acme.example"]; ok {
			t.Errorf("an agent is listed: %+v", users)
		}
		if _, ok := byEmail["pat@acme.example"]; !ok {
			t.Errorf("the added supervisor is not listed: %+v", users)
		}
		if r := s.Do(t, supTok, list, nil); r.Code() != "FORBIDDEN" {
			t.Errorf("a supervisor lists the console's people: %+v", r)
		}
		var bUsers struct {
			AdminUsers []struct{ Email string } `json:"adminUsers"`
		}
		s.MustDo(t, B.AdminToken, list, nil, &bUsers)
		for _, u := range bUsers.AdminUsers {
			if u.Email != "admin@bolt.example" && u.Email != "" && u.Email[len(u.Email)-len("acme.example"):] == "acme.example" {
				t.Errorf("B sees A's %s", u.Email)
			}
		}
		del := testenv.ContractOperation(t, "DeleteAdminUser")
		if r := s.Do(t, B.AdminToken, del, map[string]any{"id": made.CreateAdminUser.ID}); r.Code() != "NOT_FOUND" {
			t.Errorf("B removes A's person: %+v", r)
		}
		s.MustDo(t, A.AdminToken, del, map[string]any{"id": made.CreateAdminUser.ID}, nil)
		s.MustDo(t, A.AdminToken, list, nil, &users)
		for _, u := range users.AdminUsers {
			if u.Email == "pat@acme.example" {
				t.Error("a removed person is still listed")
			}
		}
	})
}

// configureEmailBackups on both stores, with the real SDK against the local
// S3: versioning on both buckets and switchboard's lifecycle rule beside
// the tenant's own rule, which is kept; a second run changes nothing; bad
// keepDays and a supervisor are refused before S3 is asked; a tenant
// without the email module is CONFLICT.
func TestConfigureEmailBackups(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s3 := fakeaws.NewS3(t)
		s, sts := serverWithAWS(t, b, func(c *wire.Config) { c.AWS.S3Endpoint = s3.URL })
		s3.TrustSTS(sts)
		A, B := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
		_, sup := s.NewAgent(t, A, "Sam", "sam@acme.example", auth.RoleSupervisor)
		const account, region = "111111111111", "eu-west-2"
		role := "arn:aws:iam::" + account + ":role/SwitchboardAccess"
		sts.AllowRole(role, "ext-acme")
		content, attachments := s.App.Mail().BucketNames(mustID(A.ID), "acme-support")
		s3.SetOwner(content, role)
		s3.SetOwner(attachments, role)
		s.MustDo(t, A.AdminToken, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"instanceArn": "arn:aws:connect:" + region + ":" + account + ":instance/11111111-2222-3333-4444-555555555555",
			"alias":       "acme-support", "region": region, "roleArn": role, "externalId": "ext-acme", "modules": []string{"email"},
		}}, nil)
		theirs := fakeaws.LifecycleRule{ID: "tenant-archive", Status: "Enabled"}
		theirs.Filter = &struct {
			Prefix *string `xml:"Prefix"`
		}{Prefix: aws.String("archive/")}
		theirs.Expiration = &struct {
			Days int `xml:"Days"`
		}{Days: 400}
		s3.PutLifecycleRule(content, theirs)

		op := testenv.ContractOperation(t, "ConfigureEmailBackups")
		for _, days := range []int{0, -1, 3651} {
			if r := s.Do(t, A.AdminToken, op, map[string]any{"keepDays": days}); r.Code() != "BAD_USER_INPUT" {
				t.Errorf("keepDays %d: %+v", days, r)
			}
		}
		if r := s.Do(t, sup, op, map[string]any{"keepDays": 30}); r.Code() != "FORBIDDEN" {
			t.Errorf("a supervisor: %+v", r)
		}
		if r := s.Do(t, B.AdminToken, op, map[string]any{"keepDays": 30}); r.Code() != "BAD_USER_INPUT" {
			t.Errorf("B, with no instance: %+v", r)
		}
		if v := s3.Versioning(content); v != "" {
			t.Fatalf("refused runs reached S3: versioning %q", v)
		}
		var out struct {
			ConfigureEmailBackups struct {
				Buckets []struct {
					Name                            string
					Versioning                      bool
					NoncurrentVersionExpirationDays *int
				}
			} `json:"configureEmailBackups"`
		}
		for run := range 2 {
			s.MustDo(t, A.AdminToken, op, map[string]any{"keepDays": 30}, &out)
			got := out.ConfigureEmailBackups.Buckets
			if len(got) != 2 || got[0].Name != content || got[1].Name != attachments {
				t.Fatalf("run %d: %+v", run+1, got)
			}
			for _, bk := range got {
				if !bk.Versioning || bk.NoncurrentVersionExpirationDays == nil || *bk.NoncurrentVersionExpirationDays != 30 {
					t.Errorf("run %d: %s %+v", run+1, bk.Name, bk)
				}
			}
			rules := s3.Lifecycle(content)
			if len(rules) != 2 {
				t.Fatalf("run %d: content bucket rules %+v", run+1, rules)
			}
			for _, r := range rules {
				switch r.ID {
				case mail.BackupRuleID:
					if r.NoncurrentVersionExpiration == nil || r.NoncurrentVersionExpiration.NoncurrentDays != 30 ||
						r.AbortIncompleteMultipartUpload == nil || r.AbortIncompleteMultipartUpload.DaysAfterInitiation != 7 {
						t.Errorf("switchboard's rule: %+v", r)
					}
				case "tenant-archive":
					if r.Expiration == nil || r.Expiration.Days != 400 {
						t.Errorf("the tenant's rule changed: %+v", r)
					}
				default:
					t.Errorf("a rule %q", r.ID)
				}
			}
		}
		if v := s3.Versioning(attachments); v != "Enabled" {
			t.Errorf("attachments versioning %q", v)
		}
	})
}

// The Microsoft integration on both stores: credentials are checked with a
// client-credentials token request to the (local) authority before they
// are kept; the secret is sealed in the store and never in an answer;
// refused credentials and a supervisor change nothing (and a supervisor's
// never reach Entra ID); another tenant sees none of it; after a key
// rotation, reencrypt seals it again under the new key.
func TestMicrosoftIntegration(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		const tenantGUID, clientGUID, secret = "72f988bf-86f1-41af-91ab-2d7cd011db47", "11111111-2222-3333-4444-555555555555", "s3cr3t~Value.With-Chars"
		calls := 0
		authority := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls++
			_ = r.ParseForm()
			w.Header().Set("Content-Type", "application/json")
			if r.URL.Path != "/"+tenantGUID+"/oauth2/v2.0/token" || r.PostForm.Get("client_id") != clientGUID || r.PostForm.Get("client_secret") != secret {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, `{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided.","error_codes":[7000215]}`)
				return
			}
			_, _ = io.WriteString(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"eyJ0eXAi.test.token"}`)
		}))
		t.Cleanup(authority.Close)
		key := strings.Repeat("k", 40)
		s := testenv.NewServer(t, b, func(c *wire.Config) {
			c.EncryptionKeys = wire.EncryptionKeys{Current: key}
			c.MicrosoftAuthority = authority.URL
		})
		A, B := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
		_, sup := s.NewAgent(t, A, "Sam", "sam@acme.example", auth.RoleSupervisor)
		set := testenv.ContractOperation(t, "SetMicrosoftIntegration")
		get := testenv.ContractOperation(t, "MicrosoftIntegration")
		in := func(sec string) map[string]any {
			return map[string]any{"input": map[string]any{"directoryTenantId": tenantGUID, "clientId": clientGUID, "clientSecret": sec}}
		}
		if r := s.Do(t, sup, set, in(secret)); r.Code() != "FORBIDDEN" || calls != 0 {
			t.Fatalf("a supervisor: %+v (%d calls to Entra ID)", r, calls)
		}
		for name, v := range map[string]map[string]any{
			"wrong secret":  in("not-the-secret"),
			"not a GUID":    {"input": map[string]any{"directoryTenantId": tenantGUID, "clientId": "app", "clientSecret": secret}},
			"empty secret":  in(""),
			"common tenant": {"input": map[string]any{"directoryTenantId": "common", "clientId": clientGUID, "clientSecret": secret}},
		} {
			if r := s.Do(t, A.AdminToken, set, v); r.Code() != "BAD_USER_INPUT" {
				t.Errorf("%s: %+v", name, r)
			}
		}
		var status struct {
			MicrosoftIntegration struct {
				Configured bool
				ClientID   *string
			} `json:"microsoftIntegration"`
		}
		s.MustDo(t, A.AdminToken, get, nil, &status)
		if status.MicrosoftIntegration.Configured {
			t.Fatal("refused credentials were kept")
		}
		r := s.Do(t, A.AdminToken, set, in(secret))
		if len(r.Errors) > 0 || strings.Contains(string(r.Data), secret) {
			t.Fatalf("set: %+v %s", r.Errors, r.Data)
		}
		s.MustDo(t, A.AdminToken, get, nil, &status)
		if !status.MicrosoftIntegration.Configured || status.MicrosoftIntegration.ClientID == nil || *status.MicrosoftIntegration.ClientID != clientGUID {
			t.Fatalf("after set: %+v", status)
		}
		s.MustDo(t, B.AdminToken, get, nil, &status)
		if status.MicrosoftIntegration.Configured {
			t.Error("B sees A's integration")
		}
		if r := s.Do(t, sup, get, nil); r.Code() != "FORBIDDEN" {
			t.Errorf("a supervisor reads it: %+v", r)
		}
		var stored string
		if err := s.Store.DB.QueryRow(`SELECT client_secret_sealed FROM microsoft_integrations`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(stored, secret) || !strings.HasPrefix(stored, "v1.") {
			t.Fatalf("stored %q", stored)
		}

		// Rotation: the old key becomes a previous one; reencrypt reseals.
		old, _ := sealed.NewKeyring(key)
		rotated, _ := sealed.NewKeyring(strings.Repeat("n", 40), key)
		if !rotated.NeedsRotation(stored) {
			t.Fatal("a value of the old key does not need rotation")
		}
		if n, err := integrations.Reseal(context.Background(), s.Store.Client, rotated); err != nil || n != 1 {
			t.Fatalf("reseal: %d, %v", n, err)
		}
		var again string
		_ = s.Store.DB.QueryRow(`SELECT client_secret_sealed FROM microsoft_integrations`).Scan(&again)
		if rotated.NeedsRotation(again) || again == stored {
			t.Fatalf("resealed %q", again)
		}
		if !old.NeedsRotation(again) {
			t.Error("the resealed secret is still under the old key")
		}
		if n, err := integrations.Reseal(context.Background(), s.Store.Client, rotated); err != nil || n != 0 {
			t.Errorf("reseal again: %d, %v", n, err)
		}
	})
}

// costEstimate: the FAQ's worked example to the cent, a Sydney price, the
// reporting estimate for 300 seats near the FAQ's US$500, every line with
// its source; bad input is BAD_USER_INPUT.
func TestCostEstimate(t *testing.T) {
	s := testenv.NewServer(t, testenv.Backends()[0])
	A := s.NewTenant(t, "Acme")
	_, agent := s.NewAgent(t, A, "Ann", "ann@acme.example", auth.RoleAgent)
	op := testenv.ContractOperation(t, "CostEstimate")
	type line struct {
		Service, Description string
		MonthlyUsd           float64
	}
	var out struct {
		CostEstimate struct {
			MonthlyTotalUsd float64
			Lines           []line
		} `json:"costEstimate"`
	}
	monthly := func(service string) float64 {
		for _, l := range out.CostEstimate.Lines {
			if l.Service == "Amazon "+service && (service != "SES" || strings.HasPrefix(l.Description, "Emails sent and received")) {
				return l.MonthlyUsd
			}
		}
		return -1
	}
	faq := map[string]any{"emailsPerDay": 1000, "averageEmailKb": 100, "retentionMonths": 36}
	s.MustDo(t, agent, op, map[string]any{"input": faq}, &out)
	if got := monthly("S3"); got != 2.42 {
		t.Errorf("S3: %v, want the FAQ's 2.42 (%+v)", got, out)
	}
	if got := monthly("SES"); got != 3.10 {
		t.Errorf("SES: %v, want the FAQ's 3.10 (%+v)", got, out)
	}
	faq["region"] = "ap-southeast-2"
	s.MustDo(t, agent, op, map[string]any{"input": faq}, &out)
	if got := monthly("S3"); got != 2.63 {
		t.Errorf("S3 in Sydney: %v, want 2.63", got)
	}
	s.MustDo(t, agent, op, map[string]any{"input": map[string]any{"reportingSeats": 300}}, &out)
	if total := out.CostEstimate.MonthlyTotalUsd; total < 425 || total > 575 || len(out.CostEstimate.Lines) < 4 {
		t.Errorf("300 seats: %v in %d lines, want about the FAQ's 500", total, len(out.CostEstimate.Lines))
	}
	for _, bad := range []map[string]any{{"emailsPerDay": -1}, {"region": "mars-east-1"}, {"retentionMonths": 1000}} {
		if r := s.Do(t, agent, op, map[string]any{"input": bad}); r.Code() != "BAD_USER_INPUT" {
			t.Errorf("%v: %+v", bad, r)
		}
	}
}

// Reporting on both stores, with the real SDK against the local QuickSight
// through the tenant's role: an admin configures the dashboard (checked,
// and only with the reporting module), a supervisor gets an embed URL for
// the console's origin with a one-hour session, an agent may not, and
// another tenant has none.
func TestReporting(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		qs := fakeaws.NewQuickSight(t)
		s, sts := serverWithAWS(t, b, func(c *wire.Config) {
			c.AWS.QuickSightEndpoint = qs.URL
			c.AllowedOrigins = []string{"https://console.acme.example"}
		})
		qs.TrustSTS(sts)
		A, B := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
		_, sup := s.NewAgent(t, A, "Sam", "sam@acme.example", auth.RoleSupervisor)
		_, agent := s.NewAgent(t, A, "Ann", "ann@acme.example", auth.RoleAgent)
		const account, region = "111111111111", "ap-southeast-2"
		role := "arn:aws:iam::" + account + ":role/SwitchboardAccess"
		sts.AllowRole(role, "ext-acme")
		user := "arn:aws:quicksight:" + region + ":" + account + ":user/default/console"
		qs.AddUser(user)
		qs.AddDashboard(account, "contact-centre")
		configure := func(modules []string) {
			s.MustDo(t, A.AdminToken, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`, map[string]any{"in": map[string]any{
				"instanceArn": "arn:aws:connect:" + region + ":" + account + ":instance/11111111-2222-3333-4444-555555555555",
				"alias":       "acme", "region": region, "roleArn": role, "externalId": "ext-acme", "modules": modules,
			}}, nil)
		}
		configure([]string{})
		op := testenv.ContractOperation(t, "ConfigureReporting")
		good := map[string]any{"input": map[string]any{"awsAccountId": account, "dashboardId": "contact-centre", "userArn": user}}
		if r := s.Do(t, A.AdminToken, op, good); r.Code() != "CONFLICT" {
			t.Errorf("without the reporting module: %+v", r)
		}
		configure([]string{"reporting"})
		for name, in := range map[string]map[string]any{
			"account":           {"awsAccountId": "1234", "dashboardId": "contact-centre", "userArn": user},
			"dashboard":         {"awsAccountId": account, "dashboardId": "no spaces here", "userArn": user},
			"user":              {"awsAccountId": account, "dashboardId": "contact-centre", "userArn": "arn:aws:iam::111111111111:user/x"},
			"another account's": {"awsAccountId": "222222222222", "dashboardId": "contact-centre", "userArn": user},
		} {
			if r := s.Do(t, A.AdminToken, op, map[string]any{"input": in}); r.Code() != "BAD_USER_INPUT" {
				t.Errorf("%s: %+v", name, r)
			}
		}
		if r := s.Do(t, sup, op, good); r.Code() != "FORBIDDEN" {
			t.Errorf("a supervisor configures reporting: %+v", r)
		}
		s.MustDo(t, A.AdminToken, op, good, nil)

		embed := testenv.ContractOperation(t, "ReportingEmbedUrl")
		var out struct {
			ReportingEmbedURL struct {
				URL       string
				ExpiresAt time.Time
			} `json:"reportingEmbedUrl"`
		}
		s.MustDo(t, sup, embed, nil, &out)
		got := qs.Embeds()
		if len(got) != 1 || out.ReportingEmbedURL.URL != got[0].URL || got[0].DashboardID != "contact-centre" || got[0].UserARN != user ||
			got[0].SessionLifetimeInMinutes != 60 || len(got[0].AllowedDomains) != 1 || got[0].AllowedDomains[0] != "https://console.acme.example" || got[0].Region != region {
			t.Fatalf("embed: %+v, QuickSight made %+v", out, got)
		}
		if until := time.Until(out.ReportingEmbedURL.ExpiresAt); until <= 0 || until > 6*time.Minute {
			t.Errorf("expires in %v", until)
		}
		if r := s.Do(t, agent, embed, nil); r.Code() != "FORBIDDEN" {
			t.Errorf("an agent: %+v", r)
		}
		if r := s.Do(t, B.AdminToken, embed, nil); r.Code() != "BAD_USER_INPUT" {
			t.Errorf("B, with no instance: %+v", r)
		}
		if n := len(qs.Embeds()); n != 1 {
			t.Errorf("refused calls reached QuickSight: %d embeds", n)
		}
	})
}

// iamPolicy on both stores: an admin's policy is scoped to the tenant's
// own instance and account and grows with the modules enabled; a
// supervisor may not read it; a tenant with no instance is told to
// configure one.
func TestIAMPolicy(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		A, B := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
		_, sup := s.NewAgent(t, A, "Sam", "sam@acme.example", auth.RoleSupervisor)
		const arnA = "arn:aws:connect:ap-southeast-2:123456789012:instance/11111111-2222-3333-4444-555555555555"
		configure := func(modules []string) {
			s.MustDo(t, A.AdminToken, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`, map[string]any{"in": map[string]any{
				"instanceArn": arnA, "alias": "acme", "region": "ap-southeast-2",
				"roleArn": "arn:aws:iam::123456789012:role/SwitchboardAccess", "externalId": "ext-acme", "modules": modules,
			}}, nil)
		}
		op := testenv.ContractOperation(t, "IamPolicy")
		var out struct {
			IamPolicy struct {
				Document string
				Modules  []string
			} `json:"iamPolicy"`
		}
		if r := s.Do(t, B.AdminToken, op, nil); r.Code() != "BAD_USER_INPUT" {
			t.Errorf("no instance: %+v", r)
		}
		configure([]string{})
		s.MustDo(t, A.AdminToken, op, nil, &out)
		var doc connectaws.PolicyDocument
		if err := json.Unmarshal([]byte(out.IamPolicy.Document), &doc); err != nil {
			t.Fatal(err)
		}
		if len(out.IamPolicy.Modules) != 0 || len(doc.Statement) != 3 || doc.Statement[0].Resource[0] != arnA || !slices.Contains(doc.Statement[0].Action, "connect:PutUserStatus") {
			t.Fatalf("the base policy: %+v", out)
		}
		configure([]string{"reporting"})
		s.MustDo(t, A.AdminToken, op, nil, &out)
		if !slices.Equal(out.IamPolicy.Modules, []string{"reporting"}) || !strings.Contains(out.IamPolicy.Document, "quicksight:GenerateEmbedUrlForRegisteredUser") ||
			!strings.Contains(out.IamPolicy.Document, ":123456789012:dashboard/") {
			t.Errorf("with reporting: %+v", out)
		}
		if r := s.Do(t, sup, op, nil); r.Code() != "FORBIDDEN" {
			t.Errorf("a supervisor: %+v", r)
		}
	})
}

// verifyInstance on both stores, with the real SDK against the local STS,
// Connect and Customer Profiles: a fresh instance is fixed (the profiles
// domain created and integrated, the desktop's origin approved, the
// statuses imported) and a second run changes nothing; an instance
// integrated with a domain of another name fails with the fix named; a
// role that cannot be assumed fails and skips the rest; a supervisor may
// not run it.
func TestVerifyInstance(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		fc, profiles := fakeaws.NewConnect(t), fakeaws.NewProfiles(t)
		s, sts := serverWithAWS(t, b, func(c *wire.Config) {
			c.AWS.ConnectEndpoint, c.AWS.ProfilesEndpoint = fc.URL, profiles.URL
			c.AllowedOrigins = []string{"https://desk.acme.example", "http://localhost:5173"}
		})
		fc.TrustSTS(sts)
		profiles.TrustSTS(sts)
		const account, region = "111111111111", "ap-southeast-2"
		tenant := func(name, instanceID, alias string, allow bool) (testenv.Tenant, string) {
			tn := s.NewTenant(t, name)
			role := "arn:aws:iam::" + account + ":role/Switchboard" + name
			if allow {
				sts.AllowRole(role, "ext-"+alias)
			}
			fc.SetInstance(instanceID, alias, "ACTIVE")
			fc.SetAgentStatuses(instanceID,
				fakeaws.AgentStatus{ID: "cs-available", Name: "Available", Type: "ROUTABLE"},
				fakeaws.AgentStatus{ID: "cs-offline", Name: "Offline", Type: "OFFLINE"})
			arn := "arn:aws:connect:" + region + ":" + account + ":instance/" + instanceID
			s.MustDo(t, tn.AdminToken, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`, map[string]any{"in": map[string]any{
				"instanceArn": arn, "region": region, "roleArn": role, "externalId": "ext-" + alias,
			}}, nil)
			return tn, arn
		}
		A, arnA := tenant("Acme", "11111111-2222-3333-4444-555555555555", "acme", true)
		B, arnB := tenant("Bolt", "22222222-2222-3333-4444-555555555555", "bolt", true)
		C, _ := tenant("Cove", "33333333-2222-3333-4444-555555555555", "cove", false)
		profiles.Integrate("my-profiles", arnB)
		_, sup := s.NewAgent(t, A, "Sam", "sam@acme.example", auth.RoleSupervisor)

		op := testenv.ContractOperation(t, "VerifyInstance")
		type result struct {
			VerifyInstance struct {
				Ready  bool
				Checks []struct{ Name, Status, Message string }
			} `json:"verifyInstance"`
		}
		run := func(tn testenv.Tenant) (bool, map[string]string, map[string]string) {
			t.Helper()
			var out result
			s.MustDo(t, tn.AdminToken, op, nil, &out)
			status, msg := map[string]string{}, map[string]string{}
			for _, c := range out.VerifyInstance.Checks {
				status[c.Name], msg[c.Name] = c.Status, c.Message
			}
			return out.VerifyInstance.Ready, status, msg
		}
		ready, status, msg := run(A)
		want := map[string]string{"role": "PASSED", "instance": "FIXED", "profiles-domain": "FIXED", "approved-origins": "FIXED", "agent-statuses": "PASSED"}
		if !ready || !maps.Equal(status, want) {
			t.Fatalf("a fresh instance: ready %v, %v %v", ready, status, msg)
		}
		if got := profiles.Integrations(arnA); !slices.Equal(got, []string{"amazon-connect-acme"}) || profiles.Creates() != 1 || profiles.Puts() != 1 {
			t.Fatalf("profiles: %v, %d creates, %d puts", got, profiles.Creates(), profiles.Puts())
		}
		if got := fc.ApprovedOrigins("11111111-2222-3333-4444-555555555555"); !slices.Equal(got, []string{"https://desk.acme.example"}) {
			t.Errorf("approved origins %v", got)
		}
		ready, status, msg = run(A)
		for name, st := range status {
			if st != "PASSED" {
				t.Errorf("second run: %s %s (%s)", name, st, msg[name])
			}
		}
		if !ready || profiles.Creates() != 1 || profiles.Puts() != 1 || len(fc.ApprovedOrigins("11111111-2222-3333-4444-555555555555")) != 1 {
			t.Errorf("the second run changed something: %d creates, %d puts", profiles.Creates(), profiles.Puts())
		}

		ready, status, msg = run(B)
		if ready || status["profiles-domain"] != "FAILED" || !strings.Contains(msg["profiles-domain"], "my-profiles") ||
			!strings.Contains(msg["profiles-domain"], "amazon-connect-bolt") || profiles.Creates() != 1 {
			t.Errorf("another domain integrated: ready %v, %v %q", ready, status, msg["profiles-domain"])
		}

		ready, status, _ = run(C)
		if ready || status["role"] != "FAILED" || status["instance"] != "SKIPPED" || status["agent-statuses"] != "SKIPPED" {
			t.Errorf("a role that cannot be assumed: %v %v", ready, status)
		}
		if r := s.Do(t, sup, op, nil); r.Code() != "FORBIDDEN" {
			t.Errorf("a supervisor: %+v", r)
		}
	})
}

// verifyInstance with the email module, on both stores: SES's verification
// of each address's identity — a verified one passes; an address SES does
// not know is sent its confirmation link (once: a second run finds it
// pending); a domain SES does not know is named, to verify by DNS; the
// instance is not ready until they are verified.
func TestVerifyInstanceEmailIdentities(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		fc, profiles, s3, sesv1 := fakeaws.NewConnect(t), fakeaws.NewProfiles(t), fakeaws.NewS3(t), fakeaws.NewSESv1(t)
		s, sts := serverWithAWS(t, b, func(c *wire.Config) {
			c.AWS.ConnectEndpoint, c.AWS.ProfilesEndpoint, c.AWS.S3Endpoint, c.AWS.SESClassicEndpoint = fc.URL, profiles.URL, s3.URL, sesv1.URL
		})
		for _, f := range []interface{ TrustSTS(*fakeaws.STS) }{fc, profiles, s3, sesv1} {
			f.TrustSTS(sts)
		}
		const account, region, instanceID = "111111111111", "ap-southeast-2", "11111111-2222-3333-4444-555555555555"
		role := "arn:aws:iam::" + account + ":role/SwitchboardAccess"
		sts.AllowRole(role, "ext-acme")
		fc.SetInstance(instanceID, "acme", "ACTIVE")
		A := s.NewTenant(t, "Acme")
		content, attachments := s.App.Mail().BucketNames(mustID(A.ID), "acme")
		s3.SetOwner(content, role)
		s3.SetOwner(attachments, role)
		s.MustDo(t, A.AdminToken, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"instanceArn": "arn:aws:connect:" + region + ":" + account + ":instance/" + instanceID,
			"alias":       "acme", "region": region, "roleArn": role, "externalId": "ext-acme", "modules": []string{"email"},
		}}, nil)
		for addr, identity := range map[string]string{"support@acme.example": "support@acme.example", "sales@acme.example": "sales@acme.example", "info@acme.example": "acme.example"} {
			s.MustDo(t, A.AdminToken, `mutation($in: CreateEmailAddressInput!) { createEmailAddress(input: $in) { id } }`, map[string]any{"in": map[string]any{
				"address": addr, "sesIdentityArn": "arn:aws:ses:" + region + ":" + account + ":identity/" + identity,
			}}, nil)
		}
		sesv1.AddVerified("support@acme.example")
		op := testenv.ContractOperation(t, "VerifyInstance")
		check := func() (bool, string, string) {
			t.Helper()
			var out struct {
				VerifyInstance struct {
					Ready  bool
					Checks []struct{ Name, Status, Message string }
				} `json:"verifyInstance"`
			}
			s.MustDo(t, A.AdminToken, op, nil, &out)
			for _, c := range out.VerifyInstance.Checks {
				if c.Name == "email-identities" {
					return out.VerifyInstance.Ready, c.Status, c.Message
				}
			}
			t.Fatalf("no email-identities check in %+v", out)
			return false, "", ""
		}
		ready, status, msg := check()
		if ready || status != "FAILED" || !strings.Contains(msg, "sent a verification message to sales@acme.example") ||
			!strings.Contains(msg, "verify the domain acme.example") || strings.Contains(msg, "support@") {
			t.Fatalf("first run: %v %s %q", ready, status, msg)
		}
		if got := sesv1.Identities(); got["sales@acme.example"] != "Pending" {
			t.Fatalf("SES identities %v", got)
		}
		_, status, msg = check()
		if status != "FAILED" || strings.Contains(msg, "sent a verification message") || !strings.Contains(msg, "sales@acme.example (Pending)") {
			t.Errorf("second run: %s %q", status, msg)
		}
		sesv1.Verify("sales@acme.example")
		sesv1.AddVerified("acme.example")
		if _, status, msg = check(); status != "PASSED" {
			t.Errorf("all verified: %s %q", status, msg)
		}
	})
}

// receivingEnv is a server whose tenant A has the email module on an
// instance in account 111111111111 (ap-southeast-2), with the fakes of
// every service verifyInstance reaches, SNS included. With public, SNS
// reaches the server through its public URL (a front that forwards to
// it, since the server's own URL is known only once it runs).
type receivingEnv struct {
	s              *testenv.Server
	A, B           testenv.Tenant
	sesv1          *fakeaws.SESv1
	sns            *fakeaws.SNS
	s3             *fakeaws.S3
	sts            *fakeaws.STS
	content, topic string
	front          string
}

const receivingAccount, receivingRegion = "111111111111", "ap-southeast-2"

func newReceivingEnv(t *testing.T, b testenv.Backend, public bool, edits ...func(*wire.Config)) *receivingEnv {
	t.Helper()
	fc, profiles, s3, sesv1, sns := fakeaws.NewConnect(t), fakeaws.NewProfiles(t), fakeaws.NewS3(t), fakeaws.NewSESv1(t), fakeaws.NewSNS(t)
	var target atomic.Pointer[httputil.ReverseProxy]
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { target.Load().ServeHTTP(w, r) }))
	t.Cleanup(front.Close)
	snsURL, _ := url.Parse(sns.URL)
	s, sts := serverWithAWS(t, b, func(c *wire.Config) {
		c.AWS.ConnectEndpoint, c.AWS.ProfilesEndpoint, c.AWS.S3Endpoint, c.AWS.SESClassicEndpoint = fc.URL, profiles.URL, s3.URL, sesv1.URL
		c.AWS.SNSEndpoint = sns.APIURL
		if public {
			c.PublicURL = front.URL + "/"
		}
		c.EmailSNS = awssns.Options{AllowURL: func(u *url.URL) bool { return u.Host == snsURL.Host }, HTTPClient: sns.Client()}
		for _, edit := range edits {
			edit(c)
		}
	})
	backend, _ := url.Parse(s.URL)
	target.Store(httputil.NewSingleHostReverseProxy(backend))
	for _, f := range []interface{ TrustSTS(*fakeaws.STS) }{fc, profiles, s3, sesv1} {
		f.TrustSTS(sts)
	}
	sns.TrustSTSForAPI(sts)
	const instanceID = "11111111-2222-3333-4444-555555555555"
	role := "arn:aws:iam::" + receivingAccount + ":role/SwitchboardAccess"
	sts.AllowRole(role, "ext-acme")
	fc.SetInstance(instanceID, "acme", "ACTIVE")
	e := &receivingEnv{s: s, A: s.NewTenant(t, "Acme"), B: s.NewTenant(t, "Bolt"), sesv1: sesv1, sns: sns, s3: s3, sts: sts, front: front.URL,
		topic: "arn:aws:sns:" + receivingRegion + ":" + receivingAccount + ":switchboard-email"}
	var attachments string
	e.content, attachments = s.App.Mail().BucketNames(mustID(e.A.ID), "acme")
	s3.SetOwner(e.content, role)
	s3.SetOwner(attachments, role)
	s.MustDo(t, e.A.AdminToken, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"instanceArn": "arn:aws:connect:" + receivingRegion + ":" + receivingAccount + ":instance/" + instanceID,
		"alias":       "acme", "region": receivingRegion, "roleArn": role, "externalId": "ext-acme", "modules": []string{"email"},
	}}, nil)
	return e
}

// addAddress gives A an address whose SES identity is itself.
func (e *receivingEnv) addAddress(t *testing.T, addr string) {
	t.Helper()
	e.s.MustDo(t, e.A.AdminToken, `mutation($in: CreateEmailAddressInput!) { createEmailAddress(input: $in) { id } }`, map[string]any{"in": map[string]any{
		"address": addr, "sesIdentityArn": "arn:aws:ses:" + receivingRegion + ":" + receivingAccount + ":identity/" + addr,
	}}, nil)
}

// check runs verifyInstance as A's admin and returns its email-receiving
// check.
func (e *receivingEnv) check(t *testing.T) (string, string) {
	t.Helper()
	var out struct {
		VerifyInstance struct {
			Checks []struct{ Name, Status, Message string }
		} `json:"verifyInstance"`
	}
	e.s.MustDo(t, e.A.AdminToken, testenv.ContractOperation(t, "VerifyInstance"), nil, &out)
	for _, c := range out.VerifyInstance.Checks {
		if c.Name == "email-receiving" {
			return c.Status, c.Message
		}
	}
	t.Fatalf("no email-receiving check in %+v", out)
	return "", ""
}

// verifyInstance sets up email receiving, on both stores: the first run
// creates the SNS topic (SES may publish to it), the content bucket's
// statement for SES, the rule set (made active) and its rule for the
// tenant's addresses, and subscribes this server's /aws/sns/email, which
// confirms it; the second run changes nothing in AWS. A new address is
// added to the rule. Each address's verification state is readable, and
// another tenant's admin reads none of A's addresses.
func TestVerifyInstanceEmailReceiving(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newReceivingEnv(t, b, true)
		e.addAddress(t, "support@acme.example")
		e.sesv1.AddVerified("support@acme.example")

		status, msg := e.check(t)
		if status != "FIXED" || !strings.Contains(msg, "created the SNS topic "+e.topic) || !strings.Contains(msg, "created the receipt rule switchboard-inbound in switchboard") {
			t.Fatalf("first run: %s %q", status, msg)
		}
		if got := e.sesv1.ActiveRuleSet(); got != "switchboard" {
			t.Errorf("active rule set %q", got)
		}
		rules := e.sesv1.Rules("switchboard")
		if len(rules) != 1 || rules[0].S3Bucket != e.content || rules[0].S3Prefix != mail.InboundPrefix || rules[0].TopicARN != e.topic ||
			!slices.Equal(rules[0].Recipients, []string{"support@acme.example"}) || !rules[0].Enabled || !rules[0].ScanEnabled {
			t.Errorf("rules %+v", rules)
		}
		subs := e.sns.Topics()[e.topic].Subs
		if len(subs) != 1 || subs[0].Endpoint != e.front+"/aws/sns/email" || subs[0].ARN == "PendingConfirmation" {
			t.Errorf("the subscription is not confirmed: %+v (deliveries %+v)", subs, e.sns.Deliveries())
		}
		if p := e.sns.Topics()[e.topic].Attributes["Policy"]; !strings.Contains(p, `"ses.amazonaws.com"`) || !strings.Contains(p, `"AWS:SourceAccount":"`+receivingAccount+`"`) {
			t.Errorf("the topic's policy does not let the account's SES publish: %s", p)
		}
		if p := e.s3.BucketPolicy(e.content); !strings.Contains(p, `"ses.amazonaws.com"`) || !strings.Contains(p, e.content+"/inbound/*") {
			t.Errorf("the bucket's policy does not let SES store: %s", p)
		}

		// Again: nothing changes.
		creates, updates, snsWrites, policy := e.sesv1.Creates(), e.sesv1.Updates(), e.sns.APIWrites(), e.s3.BucketPolicy(e.content)
		if status, msg = e.check(t); status != "PASSED" {
			t.Errorf("second run: %s %q", status, msg)
		}
		if e.sesv1.Creates() != creates || e.sesv1.Updates() != updates || e.sns.APIWrites() != snsWrites || e.s3.BucketPolicy(e.content) != policy {
			t.Errorf("the second run changed AWS: creates %d→%d, updates %d→%d, SNS writes %d→%d",
				creates, e.sesv1.Creates(), updates, e.sesv1.Updates(), snsWrites, e.sns.APIWrites())
		}

		// A new address joins the rule, updated in place.
		e.addAddress(t, "sales@acme.example")
		if status, msg = e.check(t); status != "FIXED" || !strings.Contains(msg, "updated the receipt rule") {
			t.Errorf("with a new address: %s %q", status, msg)
		}
		if r := e.sesv1.Rules("switchboard"); len(r) != 1 || !slices.Equal(r[0].Recipients, []string{"sales@acme.example", "support@acme.example"}) {
			t.Errorf("rules %+v", r)
		}

		// Each address's verification state, as SES said.
		var addrs struct {
			EmailAddresses []struct {
				Address               string
				VerificationStatus    *string
				VerificationCheckedAt *time.Time
			} `json:"emailAddresses"`
		}
		e.s.MustDo(t, e.A.AdminToken, `{ emailAddresses { address verificationStatus verificationCheckedAt } }`, nil, &addrs)
		got := map[string]string{}
		for _, a := range addrs.EmailAddresses {
			if a.VerificationStatus == nil || a.VerificationCheckedAt == nil {
				t.Errorf("%s: no verification state", a.Address)
				continue
			}
			got[a.Address] = *a.VerificationStatus
		}
		if got["support@acme.example"] != "SUCCESS" || got["sales@acme.example"] != "PENDING" {
			t.Errorf("verification states %v", got)
		}
		var bAddrs struct {
			EmailAddresses []struct{ Address string } `json:"emailAddresses"`
		}
		e.s.MustDo(t, e.B.AdminToken, `{ emailAddresses { address } }`, nil, &bAddrs)
		if len(bAddrs.EmailAddresses) != 0 {
			t.Errorf("B reads A's addresses: %+v", bAddrs)
		}
		// The state is SES's to say: no mutation input sets it.
		r := e.s.Do(t, e.A.AdminToken, `mutation($in: CreateEmailAddressInput!) { createEmailAddress(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"address": "x@acme.example", "sesIdentityArn": "arn:aws:ses:" + receivingRegion + ":" + receivingAccount + ":identity/x@acme.example", "verificationStatus": "SUCCESS",
		}})
		if r.Code() == "" {
			t.Errorf("a verification state was taken from the input: %+v", r)
		}
	})
}

// An account that receives mail with its own active rule set keeps it:
// switchboard's rule goes into it, last, and no set of switchboard's is
// made or activated. Without a public URL the check fails, names the
// setting, and sets nothing up. A refusal of SES fails the check with the
// permissions named.
func TestVerifyInstanceEmailReceivingEdges(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		t.Run("no public URL", func(t *testing.T) {
			e := newReceivingEnv(t, b, false)
			e.addAddress(t, "support@acme.example")
			if status, msg := e.check(t); status != "FAILED" || !strings.Contains(msg, "-public-url") {
				t.Errorf("without a public URL: %s %q", status, msg)
			}
			if len(e.sns.Topics()) != 0 || len(e.sesv1.RuleSets()) != 0 {
				t.Errorf("set up without a public URL: topics %v, rule sets %v", e.sns.Topics(), e.sesv1.RuleSets())
			}
		})
		t.Run("their rule set", func(t *testing.T) {
			e := newReceivingEnv(t, b, true)
			e.addAddress(t, "support@acme.example")
			e.sesv1.AddRuleSet("theirs", fakeaws.ReceiptRule{Name: "archive", Enabled: true, Recipients: []string{"acme.example"}, S3Bucket: "acme-archive"})
			e.sesv1.Fail(fakeaws.OpCreateReceiptRule, fakeaws.Failure{Status: 400, Code: "LimitExceeded", Message: "too many rules", Times: 1})
			if status, msg := e.check(t); status != "FAILED" || !strings.Contains(msg, "LimitExceeded") || !strings.Contains(msg, "iamPolicy") {
				t.Errorf("SES refusing: %s %q", status, msg)
			}
			status, msg := e.check(t)
			if status != "FIXED" || !strings.Contains(msg, "created the receipt rule switchboard-inbound in theirs") || !strings.Contains(msg, "own active rule set theirs") {
				t.Errorf("their rule set: %s %q", status, msg)
			}
			if got := e.sesv1.ActiveRuleSet(); got != "theirs" || slices.Contains(e.sesv1.RuleSets(), "switchboard") {
				t.Errorf("active %q, sets %v", got, e.sesv1.RuleSets())
			}
			if r := e.sesv1.Rules("theirs"); len(r) != 2 || r[0].Name != "archive" || r[1].Name != "switchboard-inbound" {
				t.Errorf("their rules %+v", r)
			}
			if status, msg = e.check(t); status != "PASSED" {
				t.Errorf("second run: %s %q", status, msg)
			}
		})
	})
}
