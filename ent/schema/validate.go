package schema

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"switchboard/contactpoint"
	"switchboard/viewer"
)

// bedrockModelID is a Bedrock model ID (anthropic.claude-3-haiku-20240307-v1:0),
// an inference profile's (apac.amazon.nova-lite-v1:0), or the ARN of
// either.
var bedrockModelID = regexp.MustCompile(`^(arn:aws[a-z-]*:bedrock:[a-z0-9-]+:[0-9]{0,12}:[a-z-]+/)?[A-Za-z0-9][A-Za-z0-9._:-]{0,200}$`)

// awsRegion is an AWS Region's name.
var awsRegion = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$`)

// awsAccountID is an AWS account ID: twelve digits.
var awsAccountID = regexp.MustCompile(`^[0-9]{12}$`)

// The field validators shared by several entities: each says what the
// value must be, and ent names the field in the error a client sees.

// notBlank refuses a value of spaces only.
func notBlank(s string) error {
	if strings.TrimSpace(s) == "" {
		return errors.New("must not be blank")
	}
	return nil
}

// emailAddress accepts one bare email address.
func emailAddress(s string) error {
	if _, err := contactpoint.NormaliseEmail(s); err != nil {
		return errors.New("must be an email address")
	}
	return nil
}

// internationalPhone accepts a phone number written with its country code
// (+61 2 9876 5432): a tenant's own number has no region to be read in.
func internationalPhone(s string) error {
	if _, err := contactpoint.NormalisePhone(s, "ZZ"); err != nil {
		return errors.New("must be a phone number with its country code, such as +61 2 9876 5432")
	}
	return nil
}

// phoneRegion accepts an ISO 3166 region that has phone numbers ("AU").
func phoneRegion(s string) error {
	if !supportedRegions[s] {
		return errors.New("must be an ISO 3166 region code in capitals, such as AU")
	}
	return nil
}

// supportedRegions are the regions phonenumbers knows.
var supportedRegions = phonenumbers.GetSupportedRegions()

// httpsURL accepts an absolute https URL with a host and no credentials.
func httpsURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Hostname() == "" || u.User != nil || u.Opaque != "" {
		return errors.New("must be an https:// URL with a host")
	}
	return nil
}

// desktopRoles checks a module's roles: those of a tenant's people, each
// once.
func desktopRoles(roles []viewer.Role) error {
	seen := map[viewer.Role]bool{}
	for _, r := range roles {
		switch r {
		case viewer.RoleAgent, viewer.RoleSupervisor, viewer.RoleAdmin:
		default:
			return fmt.Errorf("%q is not a role of a tenant's people (AGENT, SUPERVISOR, ADMIN)", r)
		}
		if seen[r] {
			return fmt.Errorf("%s is listed twice", r)
		}
		seen[r] = true
	}
	return nil
}
