package fakeaws_test

import (
	"context"
	"errors"
	"slices"
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
	if d := f.Domains(); !slices.Equal(d, []string{domain, "console-made"}) {
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
