// Package profiles is the agent desktop's screen pop: the customer
// profiles of the instance's Customer Profiles domain that match a caller's
// phone number or email address, and creating and correcting them. The
// profiles stay in the tenant's account, reached through its role: nothing
// of them is stored here.
package profiles

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"unicode/utf8"

	"switchboard/apierror"
	"switchboard/connectaws"
	"switchboard/contactpoint"
	"switchboard/ent"
	"switchboard/ent/schema"
	"switchboard/instances"
)

// Module is the instance module that turns customer profiles on.
const Module = connectaws.ModuleProfiles

// MaxResults is the most profiles a search returns: a screen pop shows a
// few, and a number shared by more is no one customer's.
const MaxResults = 20

// MaxField is the most characters of a profile's field, Customer Profiles'
// bound.
const MaxField = 255

// Service finds, creates and updates customer profiles. It is safe for
// concurrent use.
type Service struct {
	aws *connectaws.Clients
}

// New returns a Service reaching tenants' accounts through aws.
func New(aws *connectaws.Clients) *Service { return &Service{aws: aws} }

// Input is a profile's fields as an agent writes them. On create, nil and
// empty fields are left out; on update, nil ones are left as they are and
// empty ones removed.
type Input struct {
	FirstName, LastName, EmailAddress, PhoneNumber, AccountNumber *string
}

// target is where a tenant's profiles are: its instance, its domain, and
// the region national phone numbers are read in.
type target struct {
	inst   connectaws.Instance
	domain string
	region string
}

// target returns the viewer's tenant's target, when profiles may be used:
// an instance with the profiles module and a known alias, on a server that
// reaches AWS. Everyone in the tenant may.
func (s *Service) target(ctx context.Context, c *ent.Client) (target, error) {
	inst, err := instances.Get(schema.ReadInstance(ctx), c)
	if err != nil {
		return target{}, err
	}
	if !instances.HasModule(inst, Module) {
		return target{}, apierror.New(apierror.Forbidden, "customer profiles are off: an admin turns them on with the profiles module")
	}
	if inst.Alias == "" {
		return target{}, apierror.New(apierror.Conflict, "the instance's alias is not known, nor so its Customer Profiles domain: an admin runs verifyInstance, which records it")
	}
	if s == nil || s.aws == nil {
		return target{}, instances.NoAWS()
	}
	t, err := c.Tenant.Get(ctx, inst.TenantID)
	if err != nil {
		return target{}, err
	}
	return target{inst: connectaws.InstanceOf(inst), domain: connectaws.ProfilesDomain(inst.Alias), region: t.DefaultRegion}, nil
}

// Search returns the profiles whose phone number (any of them; E.164 once
// normalised, a national number read in the tenant's default region) or
// email address (any of them) is the one given, at most MaxResults. Exactly
// one of phoneNumber and email must be given.
func (s *Service) Search(ctx context.Context, c *ent.Client, phoneNumber, email *string) ([]*connectaws.CustomerProfile, error) {
	phone, mail := strings.TrimSpace(deref(phoneNumber)), strings.TrimSpace(deref(email))
	if (phone == "") == (mail == "") {
		return nil, apierror.New(apierror.BadUserInput, "give exactly one of phoneNumber and email")
	}
	t, err := s.target(ctx, c)
	if err != nil {
		return nil, err
	}
	key, value := connectaws.ProfileKeyEmail, ""
	if phone != "" {
		key = connectaws.ProfileKeyPhone
		value, err = contactpoint.NormalisePhone(phone, t.region)
	} else {
		value, err = normaliseEmail(mail)
	}
	if err != nil {
		return nil, err
	}
	list, err := s.aws.SearchProfiles(ctx, t.inst, t.domain, key, value, MaxResults)
	if err != nil {
		return nil, upstream(err, t.domain, "Customer Profiles did not search the profiles")
	}
	out := make([]*connectaws.CustomerProfile, len(list))
	for i := range list {
		out[i] = &list[i]
	}
	return out, nil
}

// Create creates a profile with the fields given (at least one) and
// returns it.
func (s *Service) Create(ctx context.Context, c *ent.Client, in Input) (*connectaws.CustomerProfile, error) {
	t, err := s.target(ctx, c)
	if err != nil {
		return nil, err
	}
	f, err := fields(in, t.region, false)
	if err != nil {
		return nil, err
	}
	id, err := s.aws.CreateProfile(ctx, t.inst, t.domain, f)
	if err != nil {
		return nil, upstream(err, t.domain, "Customer Profiles did not create the profile")
	}
	return &connectaws.CustomerProfile{ProfileID: id, FirstName: f.FirstName, LastName: f.LastName,
		EmailAddress: f.EmailAddress, PhoneNumber: f.PhoneNumber, AccountNumber: f.AccountNumber}, nil
}

// profileID is the shape of Customer Profiles' profile IDs.
var profileID = regexp.MustCompile(`^[a-f0-9]{32}$`)

// Update writes the fields given of the domain's profile — a nil field is
// left as it is, an empty one removed; at least one must be given — and
// returns the profile as it is then. A profile the domain lacks, another
// tenant's among them (its domain is in another account), is NOT_FOUND.
func (s *Service) Update(ctx context.Context, c *ent.Client, id string, in Input) (*connectaws.CustomerProfile, error) {
	t, err := s.target(ctx, c)
	if err != nil {
		return nil, err
	}
	f, err := fields(in, t.region, true)
	if err != nil {
		return nil, err
	}
	if !profileID.MatchString(id) {
		return nil, notFound()
	}
	if err := s.aws.UpdateProfile(ctx, t.inst, t.domain, id, f); err != nil {
		if connectaws.IsNotFound(err) {
			return nil, apierror.Wrap(apierror.NotFound, err, "no customer profile has that ID")
		}
		return nil, upstream(err, t.domain, "Customer Profiles did not update the profile")
	}
	list, err := s.aws.SearchProfiles(ctx, t.inst, t.domain, connectaws.ProfileKeyID, id, 1)
	if err != nil {
		return nil, upstream(err, t.domain, "the profile was updated, but Customer Profiles did not read it back")
	}
	if len(list) == 0 {
		return nil, notFound()
	}
	return &list[0], nil
}

func notFound() error { return apierror.New(apierror.NotFound, "no customer profile has that ID") }

// fields checks and normalises in: every field at most MaxField
// characters, an email address a bare address (in lower case), a phone
// number in E.164 (a national one read in region). On create (update
// false) empty fields are left out, and one at least must remain; on
// update empty fields are kept (to be removed), and one at least must be
// given.
func fields(in Input, region string, update bool) (connectaws.ProfileFields, error) {
	var out connectaws.ProfileFields
	given := false
	for _, f := range []struct {
		name      string
		in        *string
		out       **string
		normalise func(string) (string, error)
	}{
		{"firstName", in.FirstName, &out.FirstName, nil},
		{"lastName", in.LastName, &out.LastName, nil},
		{"emailAddress", in.EmailAddress, &out.EmailAddress, normaliseEmail},
		{"phoneNumber", in.PhoneNumber, &out.PhoneNumber, func(s string) (string, error) { return contactpoint.NormalisePhone(s, region) }},
		{"accountNumber", in.AccountNumber, &out.AccountNumber, nil},
	} {
		if f.in == nil {
			continue
		}
		v := strings.TrimSpace(*f.in)
		if v == "" && !update {
			continue
		}
		if v != "" && f.normalise != nil {
			var err error
			if v, err = f.normalise(v); err != nil {
				return connectaws.ProfileFields{}, err
			}
		}
		if utf8.RuneCountInString(v) > MaxField {
			return connectaws.ProfileFields{}, apierror.New(apierror.BadUserInput, "%s is longer than %d characters", f.name, MaxField)
		}
		*f.out, given = &v, true
	}
	if !given {
		if update {
			return out, apierror.New(apierror.BadUserInput, "give at least one field to change")
		}
		return out, apierror.New(apierror.BadUserInput, "give at least one of the profile's fields")
	}
	return out, nil
}

// normaliseEmail is contactpoint's, of an address no longer than
// MaxField.
func normaliseEmail(s string) (string, error) {
	if utf8.RuneCountInString(s) > MaxField {
		return "", apierror.New(apierror.BadUserInput, "an email address is at most %d characters", MaxField)
	}
	return contactpoint.NormaliseEmail(s)
}

// upstream is an error of reaching AWS as the client sees it: UPSTREAM,
// naming the fix when the domain does not exist.
func upstream(err error, domain, message string) error {
	switch {
	case errors.Is(err, connectaws.ErrInvalidInstance):
		return apierror.Wrap(apierror.BadUserInput, err, "the Amazon Connect instance's settings cannot be used")
	case connectaws.IsNotFound(err):
		return apierror.Wrap(apierror.Upstream, err, "the Customer Profiles domain %s is not in the tenant's account: an admin runs verifyInstance, which creates it", domain)
	}
	return apierror.Wrap(apierror.Upstream, err, "%s", message)
}

// code is the AWS error code of err, "" when it is none of AWS's.
func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
