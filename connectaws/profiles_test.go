package connectaws_test

import (
	"context"
	"encoding/json"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"switchboard/connectaws"
	"switchboard/internal/fakeaws"
)

// newProfilesEnv is newEnv with a fake Customer Profiles that trusts its
// STS.
func newProfilesEnv(t *testing.T) (*env, *fakeaws.Profiles) {
	t.Helper()
	cp := fakeaws.NewProfiles(t)
	e := newEnv(t, func(o *connectaws.Options) { o.ProfilesEndpoint = cp.URL; o.RetryMaxAttempts = 1 })
	cp.TrustSTS(e.sts)
	return e, cp
}

// SearchProfiles, through the tenant's role: a profile's phone number or
// email address stands in for a missing standard one; the limit is kept
// across pages; each tenant reaches only the domain in its own account,
// though both are named alike.
func TestSearchProfiles(t *testing.T) {
	ctx := context.Background()
	e, cp := newProfilesEnv(t)
	const domain = "amazon-connect-desk"
	for range 3 {
		cp.AddProfile("111111111111", domain, fakeaws.Profile{FirstName: "Sam", PhoneNumber: "+442079460000"})
	}
	jo := cp.AddProfile("111111111111", domain, fakeaws.Profile{FirstName: "Jo", LastName: "Bloggs",
		HomePhoneNumber: "+442079460001", BusinessEmailAddress: "jo@bloggs.example", AccountNumber: "J-1"})
	cp.AddProfile("222222222222", domain, fakeaws.Profile{FirstName: "Theirs", PhoneNumber: "+442079460000"})

	got, err := e.clients.SearchProfiles(ctx, tenantA, domain, connectaws.ProfileKeyPhone, "+442079460001", 20)
	if err != nil || len(got) != 1 {
		t.Fatalf("by phone: %+v %v", got, err)
	}
	p := got[0]
	if p.ProfileID != jo || aws.ToString(p.FirstName) != "Jo" || aws.ToString(p.LastName) != "Bloggs" ||
		aws.ToString(p.PhoneNumber) != "+442079460001" || aws.ToString(p.EmailAddress) != "jo@bloggs.example" || aws.ToString(p.AccountNumber) != "J-1" {
		t.Errorf("profile %+v", p)
	}
	if got, err := e.clients.SearchProfiles(ctx, tenantA, domain, connectaws.ProfileKeyEmail, "jo@bloggs.example", 20); err != nil || len(got) != 1 || got[0].ProfileID != jo {
		t.Errorf("by email: %+v %v", got, err)
	}
	sams, err := e.clients.SearchProfiles(ctx, tenantA, domain, connectaws.ProfileKeyPhone, "+442079460000", 2)
	if err != nil || len(sams) != 2 || sams[0].LastName != nil || sams[0].EmailAddress != nil {
		t.Errorf("limited to 2: %+v %v", sams, err)
	}
	var keys []string
	for _, r := range cp.RequestsFor(fakeaws.OpSearchProfiles) {
		var body struct{ KeyName string }
		_ = json.Unmarshal(r.Body, &body)
		keys = append(keys, body.KeyName)
		if r.Account != "111111111111" {
			t.Errorf("tenant A's search reached account %s", r.Account)
		}
	}
	if len(keys) != 3 || keys[0] != "_phone" || keys[1] != "_email" {
		t.Errorf("searches %v", keys)
	}
	theirs, err := e.clients.SearchProfiles(ctx, tenantB, domain, connectaws.ProfileKeyPhone, "+442079460000", 20)
	if err != nil || len(theirs) != 1 || aws.ToString(theirs[0].FirstName) != "Theirs" {
		t.Errorf("tenant B's search: %+v %v", theirs, err)
	}

	cp.Fail(fakeaws.OpSearchProfiles, fakeaws.Failure{Status: 500, Code: "InternalServerException", Message: "down", Times: 1})
	_, err = e.clients.SearchProfiles(ctx, tenantA, domain, connectaws.ProfileKeyPhone, "+442079460000", 20)
	if ue := upstreamError(t, err); ue.Service != "Customer Profiles" || ue.Operation != "SearchProfiles" || ue.Code != "InternalServerException" || ue.StatusCode != 500 {
		t.Errorf("upstream %+v", ue)
	}
	if _, err := e.clients.SearchProfiles(ctx, tenantA, domain, connectaws.ProfileKeyPhone, "+442079460000", 0); err == nil {
		t.Error("a limit of 0 was accepted")
	}
}

// CreateProfile and UpdateProfile: the fields given are written, nil ones
// left as they are, empty ones removed; a profile of another account's
// domain is ResourceNotFoundException and unchanged.
func TestCreateAndUpdateProfile(t *testing.T) {
	ctx := context.Background()
	e, cp := newProfilesEnv(t)
	const domain = "amazon-connect-desk"
	cp.AddDomain("111111111111", domain)
	id, err := e.clients.CreateProfile(ctx, tenantA, domain, connectaws.ProfileFields{
		FirstName: aws.String("Kim"), LastName: aws.String("Lee"), PhoneNumber: aws.String("+61298765432"), AccountNumber: aws.String("K-9"),
	})
	if err != nil || len(id) != 32 {
		t.Fatalf("create: %q %v", id, err)
	}
	if got, _ := cp.Profile("111111111111", domain, id); got != (fakeaws.Profile{ProfileID: id, FirstName: "Kim", LastName: "Lee", PhoneNumber: "+61298765432", AccountNumber: "K-9"}) {
		t.Errorf("created %+v", got)
	}
	err = e.clients.UpdateProfile(ctx, tenantA, domain, id, connectaws.ProfileFields{EmailAddress: aws.String("kim@example.com"), AccountNumber: aws.String("")})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := cp.Profile("111111111111", domain, id); got != (fakeaws.Profile{ProfileID: id, FirstName: "Kim", LastName: "Lee", PhoneNumber: "+61298765432", EmailAddress: "kim@example.com"}) {
		t.Errorf("updated %+v", got)
	}
	var sent map[string]any
	reqs := cp.RequestsFor(fakeaws.OpUpdateProfile)
	if err := json.Unmarshal(reqs[len(reqs)-1].Body, &sent); err != nil || sent["ProfileId"] != id || sent["FirstName"] != nil || sent["AccountNumber"] != "" {
		t.Errorf("UpdateProfile's body %v", sent)
	}

	cp.AddDomain("222222222222", domain)
	err = e.clients.UpdateProfile(ctx, tenantB, domain, id, connectaws.ProfileFields{FirstName: aws.String("Mallory")})
	if ue := upstreamError(t, err); ue.Code != "ResourceNotFoundException" || ue.Operation != "UpdateProfile" {
		t.Errorf("another account's profile: %+v", ue)
	}
	if got, _ := cp.Profile("111111111111", domain, id); got.FirstName != "Kim" {
		t.Errorf("tenant B changed tenant A's profile: %+v", got)
	}
	_, err = e.clients.CreateProfile(ctx, tenantA, "amazon-connect-none", connectaws.ProfileFields{FirstName: aws.String("X")})
	if ue := upstreamError(t, err); ue.Code != "ResourceNotFoundException" || ue.Operation != "CreateProfile" {
		t.Errorf("a missing domain: %+v", ue)
	}
}

// The profiles module's actions are granted only with it, on the
// instance's domain alone.
func TestPolicyGrantsProfilesWithTheModule(t *testing.T) {
	scope := connectaws.Scope{Account: "123456789012", Region: "ap-southeast-2", InstanceAlias: "desk",
		InstanceARN: "arn:aws:connect:ap-southeast-2:123456789012:instance/x"}
	domainStatement := func(modules []string) connectaws.PolicyStatement {
		t.Helper()
		doc, err := connectaws.Policy(scope, modules)
		if err != nil {
			t.Fatal(err)
		}
		for _, st := range doc.Statement {
			if st.Sid == "ProfilesDomain" {
				return st
			}
		}
		t.Fatalf("no ProfilesDomain statement in %+v", doc)
		return connectaws.PolicyStatement{}
	}
	base, with := domainStatement(nil), domainStatement([]string{connectaws.ModuleProfiles})
	if slices.Contains(base.Action, "profile:SearchProfiles") || slices.Contains(base.Action, "profile:UpdateProfile") {
		t.Errorf("the base build reads profiles: %v", base.Action)
	}
	for _, a := range []string{"profile:SearchProfiles", "profile:CreateProfile", "profile:UpdateProfile", "profile:GetDomain"} {
		if !slices.Contains(with.Action, a) {
			t.Errorf("with the profiles module, %s is missing: %v", a, with.Action)
		}
	}
	if !slices.Equal(with.Resource, []string{"arn:aws:profile:ap-southeast-2:123456789012:domains/amazon-connect-desk"}) {
		t.Errorf("resources %v", with.Resource)
	}
}
