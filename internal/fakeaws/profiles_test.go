package fakeaws_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	cptypes "github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"

	"switchboard/internal/fakeaws"
)

func TestProfilesDomainsAndIntegrations(t *testing.T) {
	ctx := context.Background()
	st := fakeaws.NewSTS(t)
	f := fakeaws.NewProfiles(t)
	f.TrustSTS(st)
	client := func(c aws.CredentialsProvider) *customerprofiles.Client {
		return customerprofiles.New(customerprofiles.Options{Region: "eu-west-2", Credentials: c,
			BaseEndpoint: aws.String(f.URL), RetryMaxAttempts: 1})
	}
	c := client(roleCredentials(t, st))
	const domain = "amazon-connect-acme"
	const instance = "arn:aws:connect:eu-west-2:111111111111:instance/0a1b2c3d-0000-4000-8000-000000000001"

	_, err := c.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String(domain)})
	if nf := (*cptypes.ResourceNotFoundException)(nil); !errors.As(err, &nf) {
		t.Fatalf("missing domain: %v", err)
	}
	created, err := c.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(domain), DefaultExpirationDays: aws.Int32(366)})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String(domain)})
	if err != nil || aws.ToString(got.DomainName) != domain || aws.ToInt32(got.DefaultExpirationDays) != 366 ||
		got.CreatedAt == nil || !got.CreatedAt.Equal(aws.ToTime(created.CreatedAt)) {
		t.Fatalf("get domain: %+v %v", got, err)
	}
	_, err = c.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(domain), DefaultExpirationDays: aws.Int32(366)})
	if br := (*cptypes.BadRequestException)(nil); !errors.As(err, &br) {
		t.Errorf("second create: %v", err)
	}
	_, err = c.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String("bad name!"), DefaultExpirationDays: aws.Int32(366)})
	if br := (*cptypes.BadRequestException)(nil); !errors.As(err, &br) {
		t.Errorf("bad name: %v", err)
	}

	put, err := c.PutIntegration(ctx, &customerprofiles.PutIntegrationInput{DomainName: aws.String(domain),
		Uri: aws.String(instance), ObjectTypeName: aws.String("CTR")})
	if err != nil || aws.ToString(put.Uri) != instance || aws.ToString(put.ObjectTypeName) != "CTR" {
		t.Fatalf("put integration: %+v %v", put, err)
	}
	_, err = c.PutIntegration(ctx, &customerprofiles.PutIntegrationInput{DomainName: aws.String("amazon-connect-none"),
		Uri: aws.String(instance), ObjectTypeName: aws.String("CTR")})
	if nf := (*cptypes.ResourceNotFoundException)(nil); !errors.As(err, &nf) {
		t.Errorf("integration into a missing domain: %v", err)
	}
	f.Integrate("console-made", instance)
	list, err := c.ListAccountIntegrations(ctx, &customerprofiles.ListAccountIntegrationsInput{Uri: aws.String(instance),
		IncludeHidden: aws.Bool(true), MaxResults: aws.Int32(100)})
	if err != nil || len(list.Items) != 2 || aws.ToString(list.Items[0].DomainName) != domain ||
		aws.ToString(list.Items[1].DomainName) != "console-made" || aws.ToString(list.Items[0].ObjectTypeName) != "CTR" {
		t.Fatalf("list integrations: %+v %v", list, err)
	}
	if d := f.Integrations(instance); !slices.Equal(d, []string{domain, "console-made"}) {
		t.Errorf("Integrations %v", d)
	}
	if d := f.Domains("111111111111"); !slices.Equal(d, []string{domain, "console-made"}) {
		t.Errorf("Domains %v", d)
	}
	if f.Creates() != 1 || f.Puts() != 1 {
		t.Errorf("creates %d, puts %d", f.Creates(), f.Puts())
	}

	f.Fail(fakeaws.OpGetDomain, fakeaws.Failure{Status: 429, Code: "ThrottlingException", Message: "slow down", Times: 1})
	if _, err := c.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String(domain)}); apiCode(err) != "ThrottlingException" {
		t.Errorf("queued failure: %v", err)
	}
	stranger := client(credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: "AKIASTRANGER", SecretAccessKey: "x"}})
	_, err = stranger.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String(domain)})
	if ad := (*cptypes.AccessDeniedException)(nil); !errors.As(err, &ad) {
		t.Errorf("a stranger: %v", err)
	}
}

// profilesClient is a Customer Profiles client of the fake signing with
// the role's credentials issued by st (account 111111111111).
func profilesClient(t *testing.T, st *fakeaws.STS, f *fakeaws.Profiles) *customerprofiles.Client {
	return customerprofiles.New(customerprofiles.Options{Region: "eu-west-2", Credentials: roleCredentials(t, st),
		BaseEndpoint: aws.String(f.URL), RetryMaxAttempts: 1})
}

// SearchProfiles, CreateProfile and UpdateProfile through the real SDK:
// search keys match the profile's fields exactly, page by page; a created
// profile is found; an update changes the fields sent, removes those sent
// empty and keeps the others; Customer Profiles' checks answer 400 or 404.
func TestProfilesSearchCreateUpdate(t *testing.T) {
	ctx := context.Background()
	st := fakeaws.NewSTS(t)
	f := fakeaws.NewProfiles(t)
	f.TrustSTS(st)
	c := profilesClient(t, st, f)
	const account, domain = "111111111111", "amazon-connect-acme"
	jo := f.AddProfile(account, domain, fakeaws.Profile{FirstName: "Jo", LastName: "Bloggs", MobilePhoneNumber: "+61298765432", EmailAddress: "jo@example.com"})
	sam := f.AddProfile(account, domain, fakeaws.Profile{FirstName: "Sam", PhoneNumber: "+61298765432", AccountNumber: "A-1"})
	f.AddProfile(account, domain, fakeaws.Profile{FirstName: "Other", PhoneNumber: "+61200000000"})
	f.AddProfile("222222222222", domain, fakeaws.Profile{FirstName: "Elsewhere", PhoneNumber: "+61298765432"})
	if len(jo) != 32 || jo == sam {
		t.Fatalf("profile IDs %q %q", jo, sam)
	}

	search := func(key, value string, max int32, token *string) (*customerprofiles.SearchProfilesOutput, error) {
		in := &customerprofiles.SearchProfilesInput{DomainName: aws.String(domain), KeyName: aws.String(key), Values: []string{value}, NextToken: token}
		if max > 0 {
			in.MaxResults = aws.Int32(max)
		}
		return c.SearchProfiles(ctx, in)
	}
	out, err := search("_phone", "+61298765432", 0, nil)
	if err != nil || len(out.Items) != 2 || aws.ToString(out.Items[0].ProfileId) != jo || aws.ToString(out.Items[1].FirstName) != "Sam" ||
		aws.ToString(out.Items[0].MobilePhoneNumber) != "+61298765432" || out.NextToken != nil {
		t.Fatalf("by phone: %+v %v", out, err)
	}
	page1, err := search("_phone", "+61298765432", 1, nil)
	if err != nil || len(page1.Items) != 1 || aws.ToString(page1.Items[0].ProfileId) != jo || page1.NextToken == nil {
		t.Fatalf("page 1: %+v %v", page1, err)
	}
	page2, err := search("_phone", "+61298765432", 1, page1.NextToken)
	if err != nil || len(page2.Items) != 1 || aws.ToString(page2.Items[0].ProfileId) != sam || page2.NextToken != nil {
		t.Fatalf("page 2: %+v %v", page2, err)
	}
	for key, value := range map[string]string{"_email": "jo@example.com", "_profileId": jo} {
		if out, err := search(key, value, 0, nil); err != nil || len(out.Items) != 1 || aws.ToString(out.Items[0].ProfileId) != jo {
			t.Errorf("by %s: %+v %v", key, out, err)
		}
	}
	if out, err := search("_account", "A-1", 0, nil); err != nil || len(out.Items) != 1 || aws.ToString(out.Items[0].ProfileId) != sam {
		t.Errorf("by account: %+v %v", out, err)
	}
	if out, err := search("_email", "JO@example.com", 0, nil); err != nil || len(out.Items) != 0 {
		t.Errorf("matching is exact: %+v %v", out, err)
	}
	for name, bad := range map[string]func() error{
		"unknown key": func() error { _, err := search("_shoeSize", "9", 0, nil); return err },
		"max 101":     func() error { _, err := search("_phone", "+61298765432", 101, nil); return err },
		"long value":  func() error { _, err := search("_email", strings.Repeat("x", 256), 0, nil); return err },
		"bad token":   func() error { _, err := search("_phone", "+61298765432", 0, aws.String("nope")); return err },
	} {
		if br := (*cptypes.BadRequestException)(nil); !errors.As(bad(), &br) {
			t.Errorf("%s: not a BadRequestException", name)
		}
	}
	_, err = c.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String("amazon-connect-none"), KeyName: aws.String("_phone"), Values: []string{"+61298765432"}})
	if nf := (*cptypes.ResourceNotFoundException)(nil); !errors.As(err, &nf) {
		t.Errorf("a missing domain: %v", err)
	}

	made, err := c.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: aws.String(domain),
		FirstName: aws.String("Kim"), PhoneNumber: aws.String("+61311112222"), AccountNumber: aws.String("K-9")})
	if err != nil || len(aws.ToString(made.ProfileId)) != 32 {
		t.Fatalf("create: %+v %v", made, err)
	}
	kim := aws.ToString(made.ProfileId)
	if out, err := search("_phone", "+61311112222", 0, nil); err != nil || len(out.Items) != 1 || aws.ToString(out.Items[0].ProfileId) != kim {
		t.Errorf("the created profile: %+v %v", out, err)
	}
	_, err = c.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: aws.String(domain), FirstName: aws.String(strings.Repeat("k", 256))})
	if br := (*cptypes.BadRequestException)(nil); !errors.As(err, &br) {
		t.Errorf("a 256-character name: %v", err)
	}
	_, err = c.CreateProfile(ctx, &customerprofiles.CreateProfileInput{DomainName: aws.String(domain), FirstName: aws.String("")})
	if br := (*cptypes.BadRequestException)(nil); !errors.As(err, &br) {
		t.Errorf("an empty name on create: %v", err)
	}

	_, err = c.UpdateProfile(ctx, &customerprofiles.UpdateProfileInput{DomainName: aws.String(domain), ProfileId: aws.String(kim),
		LastName: aws.String("Lee"), AccountNumber: aws.String("")})
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := f.Profile(account, domain, kim); !ok || got != (fakeaws.Profile{ProfileID: kim, FirstName: "Kim", LastName: "Lee", PhoneNumber: "+61311112222"}) {
		t.Errorf("after the update: %+v", got)
	}
	_, err = c.UpdateProfile(ctx, &customerprofiles.UpdateProfileInput{DomainName: aws.String(domain), ProfileId: aws.String(strings.Repeat("0", 32)), FirstName: aws.String("X")})
	if nf := (*cptypes.ResourceNotFoundException)(nil); !errors.As(err, &nf) {
		t.Errorf("an unknown profile: %v", err)
	}
	_, err = c.UpdateProfile(ctx, &customerprofiles.UpdateProfileInput{DomainName: aws.String(domain), ProfileId: aws.String("not-an-id"), FirstName: aws.String("X")})
	if br := (*cptypes.BadRequestException)(nil); !errors.As(err, &br) {
		t.Errorf("a malformed profile ID: %v", err)
	}
	if got := f.ProfilesIn("222222222222", domain); len(got) != 1 || got[0].FirstName != "Elsewhere" {
		t.Errorf("the other account's domain: %+v", got)
	}
	if n := len(f.ProfilesIn(account, domain)); n != 4 {
		t.Errorf("%d profiles in the domain", n)
	}
	for _, r := range f.RequestsFor(fakeaws.OpSearchProfiles) {
		if r.Account != account || r.Domain == "" || r.AccessKeyID == "" {
			t.Errorf("recorded %+v", r)
		}
	}
	if n := len(f.RequestsFor(fakeaws.OpUpdateProfile)); n != 3 {
		t.Errorf("%d UpdateProfile requests recorded", n)
	}
}

// Domains are per account: the same name in two accounts is two domains,
// and a request reaches only its own account's.
func TestProfilesDomainsArePerAccount(t *testing.T) {
	ctx := context.Background()
	st := fakeaws.NewSTS(t)
	f := fakeaws.NewProfiles(t)
	f.TrustSTS(st)
	c := profilesClient(t, st, f) // account 111111111111
	const domain = "amazon-connect-desk"
	theirs := f.AddProfile("222222222222", domain, fakeaws.Profile{FirstName: "Theirs", PhoneNumber: "+15550100"})
	if _, err := c.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String(domain)}); apiCode(err) != "ResourceNotFoundException" {
		t.Fatalf("another account's domain: %v", err)
	}
	if _, err := c.CreateDomain(ctx, &customerprofiles.CreateDomainInput{DomainName: aws.String(domain), DefaultExpirationDays: aws.Int32(366)}); err != nil {
		t.Fatalf("the same name in this account: %v", err)
	}
	out, err := c.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String(domain), KeyName: aws.String("_profileId"), Values: []string{theirs}})
	if err != nil || len(out.Items) != 0 {
		t.Errorf("searching for another account's profile: %+v %v", out, err)
	}
	_, err = c.UpdateProfile(ctx, &customerprofiles.UpdateProfileInput{DomainName: aws.String(domain), ProfileId: aws.String(theirs), FirstName: aws.String("Mine")})
	if apiCode(err) != "ResourceNotFoundException" {
		t.Errorf("updating another account's profile: %v", err)
	}
	if got, _ := f.Profile("222222222222", domain, theirs); got.FirstName != "Theirs" {
		t.Errorf("the other account's profile changed: %+v", got)
	}
	if d := f.Domains("111111111111"); !slices.Equal(d, []string{domain}) {
		t.Errorf("Domains %v", d)
	}
	f.Fail(fakeaws.OpSearchProfiles, fakeaws.Failure{Status: 500, Code: "InternalServerException", Message: "down", Times: 1})
	if _, err := c.SearchProfiles(ctx, &customerprofiles.SearchProfilesInput{DomainName: aws.String(domain), KeyName: aws.String("_phone"), Values: []string{"+15550100"}}); apiCode(err) != "InternalServerException" {
		t.Errorf("queued failure: %v", err)
	}
}
