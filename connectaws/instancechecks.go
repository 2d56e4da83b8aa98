package connectaws

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	cptypes "github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
	"github.com/aws/aws-sdk-go-v2/service/ses"
)

// InstanceInfo is what DescribeInstance says of an instance.
type InstanceInfo struct {
	Alias, Status string
}

// DescribeInstance reads the instance's alias and state.
func (c *Clients) DescribeInstance(ctx context.Context, inst Instance) (InstanceInfo, error) {
	t, r, err := c.tenant(inst)
	if err != nil {
		return InstanceInfo{}, err
	}
	out, err := t.connect.DescribeInstance(ctx, &connect.DescribeInstanceInput{InstanceId: aws.String(r.id)})
	if err != nil {
		return InstanceInfo{}, upstream("Connect", "DescribeInstance", err)
	}
	if out.Instance == nil {
		return InstanceInfo{}, errors.New("connectaws: DescribeInstance answered no instance")
	}
	return InstanceInfo{Alias: aws.ToString(out.Instance.InstanceAlias), Status: string(out.Instance.InstanceStatus)}, nil
}

// ApprovedOrigins lists the instance's approved origins.
func (c *Clients) ApprovedOrigins(ctx context.Context, inst Instance) ([]string, error) {
	t, r, err := c.tenant(inst)
	if err != nil {
		return nil, err
	}
	var out []string
	p := connect.NewListApprovedOriginsPaginator(t.connect, &connect.ListApprovedOriginsInput{InstanceId: aws.String(r.id)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, upstream("Connect", "ListApprovedOrigins", err)
		}
		out = append(out, page.Origins...)
	}
	return out, nil
}

// ApproveOrigin adds an approved origin to the instance.
func (c *Clients) ApproveOrigin(ctx context.Context, inst Instance, origin string) error {
	t, r, err := c.tenant(inst)
	if err != nil {
		return err
	}
	_, err = t.connect.AssociateApprovedOrigin(ctx, &connect.AssociateApprovedOriginInput{InstanceId: aws.String(r.id), Origin: aws.String(origin)})
	return upstream("Connect", "AssociateApprovedOrigin", err)
}

// ProfilesDomainsOf lists the Customer Profiles domains integrated with
// the instance (by its ARN).
func (c *Clients) ProfilesDomainsOf(ctx context.Context, inst Instance) ([]string, error) {
	cp, err := c.Profiles(inst)
	if err != nil {
		return nil, err
	}
	var out []string
	in := &customerprofiles.ListAccountIntegrationsInput{Uri: aws.String(inst.InstanceARN)}
	for {
		page, err := cp.ListAccountIntegrations(ctx, in)
		if err != nil {
			return nil, upstream("Customer Profiles", "ListAccountIntegrations", err)
		}
		for _, it := range page.Items {
			out = append(out, aws.ToString(it.DomainName))
		}
		if aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

// DefaultProfileExpirationDays is how long a domain switchboard creates
// keeps profile data (Connect's console offers the same default).
const DefaultProfileExpirationDays = 366

// EnsureProfilesDomain creates the domain when it does not exist and
// reports whether it did.
func (c *Clients) EnsureProfilesDomain(ctx context.Context, inst Instance, domain string) (created bool, err error) {
	cp, err := c.Profiles(inst)
	if err != nil {
		return false, err
	}
	_, err = cp.GetDomain(ctx, &customerprofiles.GetDomainInput{DomainName: aws.String(domain)})
	if _, ok := errors.AsType[*cptypes.ResourceNotFoundException](err); !ok {
		return false, upstream("Customer Profiles", "GetDomain", err)
	}
	_, err = cp.CreateDomain(ctx, &customerprofiles.CreateDomainInput{
		DomainName: aws.String(domain), DefaultExpirationDays: aws.Int32(DefaultProfileExpirationDays),
	})
	if err != nil {
		return false, upstream("Customer Profiles", "CreateDomain", err)
	}
	return true, nil
}

// IntegrateProfilesDomain integrates the domain with the instance (its
// contact records, as Connect's console does).
func (c *Clients) IntegrateProfilesDomain(ctx context.Context, inst Instance, domain string) error {
	cp, err := c.Profiles(inst)
	if err != nil {
		return err
	}
	_, err = cp.PutIntegration(ctx, &customerprofiles.PutIntegrationInput{
		DomainName: aws.String(domain), Uri: aws.String(inst.InstanceARN), ObjectTypeName: aws.String("CTR"),
	})
	return upstream("Customer Profiles", "PutIntegration", err)
}

// IdentityStatuses returns the SES verification status (Success, Pending,
// Failed, TemporaryFailure, NotStarted) of each identity SES knows, in
// region; an identity SES does not know is absent.
func (c *Clients) IdentityStatuses(ctx context.Context, inst Instance, region string, identities []string) (map[string]string, error) {
	cl, err := c.SESClassic(inst, region)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for len(identities) > 0 {
		batch := identities[:min(100, len(identities))] // SES takes 100 a call
		identities = identities[len(batch):]
		res, err := cl.GetIdentityVerificationAttributes(ctx, &ses.GetIdentityVerificationAttributesInput{Identities: batch})
		if err != nil {
			return nil, upstream("SES", "GetIdentityVerificationAttributes", err)
		}
		for id, a := range res.VerificationAttributes {
			out[id] = string(a.VerificationStatus)
		}
	}
	return out, nil
}

// VerifyEmailIdentity asks SES to verify an email address: SES sends it a
// message with a link to confirm.
func (c *Clients) VerifyEmailIdentity(ctx context.Context, inst Instance, region, address string) error {
	cl, err := c.SESClassic(inst, region)
	if err != nil {
		return err
	}
	_, err = cl.VerifyEmailIdentity(ctx, &ses.VerifyEmailIdentityInput{EmailAddress: aws.String(address)})
	return upstream("SES", "VerifyEmailIdentity", err)
}
