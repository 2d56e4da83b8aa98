package connectaws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	cptypes "github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
)

// The standard search keys of a Customer Profiles domain that switchboard
// searches on.
const (
	ProfileKeyPhone = "_phone" // any of a profile's phone numbers, E.164
	ProfileKeyEmail = "_email" // any of its email addresses
	ProfileKeyID    = "_profileId"
)

// CustomerProfile is a customer's profile in an instance's Customer
// Profiles domain: the standard fields the agent desktop shows, nil where
// the profile has none. PhoneNumber is the profile's phone number, or,
// when it has none, its mobile, home or business number; EmailAddress
// likewise its email address, or its personal or business one.
type CustomerProfile struct {
	ProfileID                                                     string
	FirstName, LastName, EmailAddress, PhoneNumber, AccountNumber *string
}

// ProfileFields are the standard fields of a profile to write: nil leaves
// one out (on UpdateProfile: as it is); on UpdateProfile "" removes one.
type ProfileFields struct {
	FirstName, LastName, EmailAddress, PhoneNumber, AccountNumber *string
}

// SearchProfiles returns, oldest first as Customer Profiles answers, at
// most limit (1 or more) profiles of the domain whose key (one of the
// ProfileKey constants) has the value.
func (c *Clients) SearchProfiles(ctx context.Context, inst Instance, domain, key, value string, limit int) ([]CustomerProfile, error) {
	if limit < 1 {
		return nil, fmt.Errorf("connectaws: SearchProfiles of %d profiles", limit)
	}
	cp, err := c.Profiles(inst)
	if err != nil {
		return nil, err
	}
	in := &customerprofiles.SearchProfilesInput{
		DomainName: aws.String(domain), KeyName: aws.String(key), Values: []string{value},
		MaxResults: aws.Int32(int32(min(limit, 100))),
	}
	out := []CustomerProfile{}
	for pages := 0; ; pages++ {
		if pages == maxPages {
			return nil, fmt.Errorf("connectaws: SearchProfiles gave more than %d pages", maxPages)
		}
		page, err := cp.SearchProfiles(ctx, in)
		if err != nil {
			return nil, upstream("Customer Profiles", "SearchProfiles", err)
		}
		for _, p := range page.Items {
			if len(out) == limit {
				return out, nil
			}
			out = append(out, customerProfile(p))
		}
		if len(out) == limit || aws.ToString(page.NextToken) == "" {
			return out, nil
		}
		in.NextToken = page.NextToken
	}
}

// customerProfile is the SDK's profile in switchboard's terms.
func customerProfile(p cptypes.Profile) CustomerProfile {
	return CustomerProfile{
		ProfileID:     aws.ToString(p.ProfileId),
		FirstName:     first(p.FirstName),
		LastName:      first(p.LastName),
		EmailAddress:  first(p.EmailAddress, p.PersonalEmailAddress, p.BusinessEmailAddress),
		PhoneNumber:   first(p.PhoneNumber, p.MobilePhoneNumber, p.HomePhoneNumber, p.BusinessPhoneNumber),
		AccountNumber: first(p.AccountNumber),
	}
}

// first is the first of vs that is neither nil nor empty; nil when none.
func first(vs ...*string) *string {
	for _, v := range vs {
		if aws.ToString(v) != "" {
			s := *v
			return &s
		}
	}
	return nil
}

// CreateProfile creates a profile with the fields in the domain and
// returns its ID.
func (c *Clients) CreateProfile(ctx context.Context, inst Instance, domain string, f ProfileFields) (string, error) {
	cp, err := c.Profiles(inst)
	if err != nil {
		return "", err
	}
	out, err := cp.CreateProfile(ctx, &customerprofiles.CreateProfileInput{
		DomainName: aws.String(domain),
		FirstName:  f.FirstName, LastName: f.LastName, EmailAddress: f.EmailAddress,
		PhoneNumber: f.PhoneNumber, AccountNumber: f.AccountNumber,
	})
	if err != nil {
		return "", upstream("Customer Profiles", "CreateProfile", err)
	}
	return aws.ToString(out.ProfileId), nil
}

// UpdateProfile writes the fields of the domain's profile: a nil field is
// left as it is, an empty one removed. A profile the domain lacks is an
// *UpstreamError with Code ResourceNotFoundException.
func (c *Clients) UpdateProfile(ctx context.Context, inst Instance, domain, profileID string, f ProfileFields) error {
	cp, err := c.Profiles(inst)
	if err != nil {
		return err
	}
	_, err = cp.UpdateProfile(ctx, &customerprofiles.UpdateProfileInput{
		DomainName: aws.String(domain), ProfileId: aws.String(profileID),
		FirstName: f.FirstName, LastName: f.LastName, EmailAddress: f.EmailAddress,
		PhoneNumber: f.PhoneNumber, AccountNumber: f.AccountNumber,
	})
	return upstream("Customer Profiles", "UpdateProfile", err)
}
