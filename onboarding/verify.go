package onboarding

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"switchboard/connectaws"
	"switchboard/connectaws/arn"
	"switchboard/ent"
	"switchboard/ent/emailaddress"
	"switchboard/instances"
	"switchboard/livestatus"
	"switchboard/mail"
)

// The outcomes of a check.
const (
	Passed  = "PASSED"
	Fixed   = "FIXED"
	Failed  = "FAILED"
	Skipped = "SKIPPED"
)

// Check is one step of verifyInstance.
type Check struct{ Name, Status, Message string }

// Verification is verifyInstance's answer: ready when no check failed.
type Verification struct {
	Ready  bool
	Checks []Check
}

// Verifier checks a tenant's instance and fixes what switchboard may.
type Verifier struct {
	AWS *connectaws.Clients
	// Origins are the desktop's origins (-allowed-origins): the https ones
	// are approved on the instance.
	Origins []string
	Status  *livestatus.Service
	// Mail sets up email receiving; Endpoint is where SNS delivers the
	// notifications of received mail (this server's /aws/sns/email, by
	// its public URL). Without either, receiving is not checked.
	Mail     *mail.Service
	Endpoint string
}

// Verify runs the checks in order: the role can be assumed; the instance
// exists and is active; its Customer Profiles domain is
// amazon-connect-<alias> (created and integrated when there is none); the
// desktop's origins are approved; with the email module, SES has verified
// each email address's identity and stores the mail it receives for them
// in the content bucket, notifying this server; the agent statuses are
// imported. Each is
// PASSED, FIXED, FAILED (saying what the admin must do) or SKIPPED (an
// earlier one failed); a second run changes nothing the first set up.
// Admins only (reading the instance is theirs). No transaction is open
// while AWS answers.
func (v *Verifier) Verify(ctx context.Context, c *ent.Client) (Verification, error) {
	inst, err := instances.Get(ctx, c)
	if err != nil {
		return Verification{}, err
	}
	if v == nil || v.AWS == nil {
		return Verification{}, instances.NoAWS()
	}
	target := connectaws.InstanceOf(inst)
	var out Verification
	add := func(name, status, format string, args ...any) {
		out.Checks = append(out.Checks, Check{Name: name, Status: status, Message: fmt.Sprintf(format, args...)})
	}
	skipRest := func(names ...string) {
		for _, n := range names {
			add(n, Skipped, "skipped: an earlier check failed")
		}
	}
	rest := []string{"instance", "profiles-domain", "approved-origins", "agent-statuses"}

	creds, err := v.AWS.Credentials(target)
	if err == nil {
		_, err = creds.Retrieve(ctx)
	}
	if err != nil {
		add("role", Failed, "switchboard cannot assume %s with the instance's external ID: check the role's trust policy names switchboard's account and the external ID (%v)", inst.RoleArn, err)
		skipRest(rest...)
		return out, nil
	}
	add("role", Passed, "switchboard assumes %s", inst.RoleArn)

	info, err := v.AWS.DescribeInstance(ctx, target)
	switch {
	case err != nil:
		add("instance", Failed, "Amazon Connect did not describe the instance %s: check the ARN and that the role allows connect:DescribeInstance (%v)", inst.InstanceArn, err)
		skipRest(rest[1:]...)
		return out, nil
	case info.Status != "ACTIVE":
		add("instance", Failed, "the instance is %s, not ACTIVE: wait for it to be created, or create it again", info.Status)
		skipRest(rest[1:]...)
		return out, nil
	case inst.Alias != info.Alias:
		if err := inst.Update().SetAlias(info.Alias).Exec(ctx); err != nil {
			return Verification{}, err
		}
		inst.Alias = info.Alias
		add("instance", Fixed, "the instance %q is active; its alias is now recorded", info.Alias)
	default:
		add("instance", Passed, "the instance %q is active", info.Alias)
	}

	want := connectaws.ProfilesDomain(info.Alias)
	domains, err := v.AWS.ProfilesDomainsOf(ctx, target)
	switch {
	case err != nil:
		add("profiles-domain", Failed, "Customer Profiles did not list the instance's domains: the role needs profile:ListAccountIntegrations (%v)", err)
	case slices.Contains(domains, want):
		add("profiles-domain", Passed, "the instance is integrated with the Customer Profiles domain %s", want)
	case len(domains) > 0:
		add("profiles-domain", Failed, "the instance is integrated with the Customer Profiles domain %s, but Amazon Connect reaches only one named %s: in the Amazon Connect console, under Customer profiles, remove the integration with %s, then run verifyInstance again, which creates and integrates %s",
			strings.Join(domains, ", "), want, strings.Join(domains, ", "), want)
	default:
		created, err := v.AWS.EnsureProfilesDomain(ctx, target, want)
		if err == nil {
			err = v.AWS.IntegrateProfilesDomain(ctx, target, want)
		}
		switch {
		case err != nil:
			add("profiles-domain", Failed, "switchboard could not create and integrate the domain %s: the role needs profile:GetDomain, profile:CreateDomain and profile:PutIntegration on it (%v)", want, err)
		case created:
			add("profiles-domain", Fixed, "created the Customer Profiles domain %s and integrated it with the instance", want)
		default:
			add("profiles-domain", Fixed, "integrated the existing Customer Profiles domain %s with the instance", want)
		}
	}

	var origins []string
	for _, o := range v.Origins {
		if strings.HasPrefix(o, "https://") {
			origins = append(origins, strings.TrimSuffix(o, "/"))
		}
	}
	if len(origins) == 0 {
		add("approved-origins", Skipped, "no https origin is configured (-allowed-origins) to approve")
	} else if approved, err := v.AWS.ApprovedOrigins(ctx, target); err != nil {
		add("approved-origins", Failed, "Amazon Connect did not list the approved origins: the role needs connect:ListApprovedOrigins (%v)", err)
	} else {
		var added []string
		var failed error
		for _, o := range origins {
			if slices.Contains(approved, o) {
				continue
			}
			if err := v.AWS.ApproveOrigin(ctx, target, o); err != nil {
				failed = err
				break
			}
			added = append(added, o)
		}
		switch {
		case failed != nil:
			add("approved-origins", Failed, "Amazon Connect did not approve an origin: the role needs connect:AssociateApprovedOrigin (%v)", failed)
		case len(added) > 0:
			add("approved-origins", Fixed, "approved %s", strings.Join(added, ", "))
		default:
			add("approved-origins", Passed, "the desktop's origins are approved")
		}
	}

	if mail.Enabled(inst) {
		byRegion, err := v.emailIdentities(ctx, c, target, add)
		if err != nil {
			return Verification{}, err
		}
		v.emailReceiving(ctx, inst, byRegion, add)
	}

	if v.Status == nil {
		add("agent-statuses", Skipped, "this server does not import agent statuses")
	} else if statuses, err := v.Status.ImportStatuses(ctx, c); err != nil {
		add("agent-statuses", Failed, "the agent statuses were not imported: the role needs connect:ListAgentStatuses (%v)", err)
	} else {
		add("agent-statuses", Passed, "%d agent statuses match the instance's", len(statuses))
	}

	out.Ready = !slices.ContainsFunc(out.Checks, func(c Check) bool { return c.Status == Failed })
	return out, nil
}

// emailIdentities checks that SES has verified the identity of each of the
// tenant's email addresses, asking SES to verify an address it does not
// know (it mails the address a link to confirm), and records on each
// address what SES said. It returns the addresses by their identity's
// region; the error is the store's.
func (v *Verifier) emailIdentities(ctx context.Context, c *ent.Client, target connectaws.Instance, add func(name, status, format string, args ...any)) (map[string][]string, error) {
	const name = "email-identities"
	addrs, err := c.EmailAddress.Query().Order(emailaddress.ByAddress()).All(ctx)
	if err != nil {
		return nil, err
	}
	if len(addrs) == 0 {
		add(name, Skipped, "the tenant has no email address yet")
		return nil, nil
	}
	recipients := map[string][]string{}
	byRegion := map[string][]string{}
	identityOf := map[string]string{} // address → its identity
	regionOf := map[string]string{}
	for _, a := range addrs {
		id, err := arn.ParseSESIdentity(a.SesIdentityArn)
		if err != nil {
			continue // the schema checks it; none lands here
		}
		identity := strings.TrimPrefix(id.Resource, "identity/")
		identityOf[a.Address], regionOf[a.Address] = identity, id.Region
		recipients[id.Region] = append(recipients[id.Region], a.Address)
		if !slices.Contains(byRegion[id.Region], identity) {
			byRegion[id.Region] = append(byRegion[id.Region], identity)
		}
	}
	statuses := map[string]string{}
	for region, ids := range byRegion {
		got, err := v.AWS.IdentityStatuses(ctx, target, region, ids)
		if err != nil {
			add(name, Failed, "SES did not say whether the identities are verified: the role needs ses:GetIdentityVerificationAttributes (%v)", err)
			return recipients, nil
		}
		for id, st := range got {
			statuses[region+"/"+id] = st
		}
	}
	var waiting, sent, domains []string
	for _, a := range addrs {
		identity, region := identityOf[a.Address], regionOf[a.Address]
		st := statuses[region+"/"+identity]
		switch {
		case st == "Success":
		case st == "" && strings.Contains(identity, "@"):
			if err := v.AWS.VerifyEmailIdentity(ctx, target, region, identity); err != nil {
				add(name, Failed, "SES did not start verifying %s: the role needs ses:VerifyEmailIdentity (%v)", identity, err)
				return recipients, nil
			}
			sent = append(sent, identity)
			st = "Pending"
		case st == "":
			domains = append(domains, identity)
		default:
			waiting = append(waiting, identity+" ("+st+")")
		}
		if err := recordVerification(ctx, a, st); err != nil {
			return nil, err
		}
	}
	switch {
	case len(sent)+len(waiting)+len(domains) == 0:
		add(name, Passed, "SES has verified every email address's identity")
	default:
		var parts []string
		if len(sent) > 0 {
			parts = append(parts, "SES sent a verification message to "+strings.Join(sent, ", ")+": open its link")
		}
		if len(waiting) > 0 {
			parts = append(parts, "confirm the verification of "+strings.Join(waiting, ", "))
		}
		if len(domains) > 0 {
			parts = append(parts, "verify the domain "+strings.Join(domains, ", ")+" in SES (its DNS records)")
		}
		add(name, Failed, "%s; then run verifyInstance again", strings.Join(parts, "; "))
	}
	return recipients, nil
}

// sesStatuses maps SES's verification statuses to the stored ones.
var sesStatuses = map[string]emailaddress.VerificationStatus{
	"":                 emailaddress.VerificationStatusNOT_STARTED, // SES was never asked
	"NotStarted":       emailaddress.VerificationStatusNOT_STARTED,
	"Pending":          emailaddress.VerificationStatusPENDING,
	"Success":          emailaddress.VerificationStatusSUCCESS,
	"Failed":           emailaddress.VerificationStatusFAILED,
	"TemporaryFailure": emailaddress.VerificationStatusTEMPORARY_FAILURE,
}

// recordVerification stores what SES said of a's identity.
func recordVerification(ctx context.Context, a *ent.EmailAddress, sesStatus string) error {
	st, ok := sesStatuses[sesStatus]
	if !ok {
		st = emailaddress.VerificationStatusNOT_STARTED
	}
	return a.Update().SetVerificationStatus(st).SetVerificationCheckedAt(time.Now().UTC()).Exec(ctx)
}

// emailReceiving sets up, in each region of the tenant's SES identities,
// the receipt rule that stores inbound mail in the content bucket and
// notifies this server through SNS (mail.Service.EnsureReceiving).
func (v *Verifier) emailReceiving(ctx context.Context, inst *ent.Instance, byRegion map[string][]string, add func(name, status, format string, args ...any)) {
	const name = "email-receiving"
	switch {
	case len(byRegion) == 0:
		add(name, Skipped, "the tenant has no email address yet")
		return
	case v.Mail == nil || v.Endpoint == "":
		add(name, Failed, "this server has no public URL for SNS to deliver received mail to: the platform's operators must set -public-url")
		return
	}
	regions := make([]string, 0, len(byRegion))
	for r := range byRegion {
		regions = append(regions, r)
	}
	slices.Sort(regions)
	var changes, pending, theirs []string
	for _, region := range regions {
		recipients := byRegion[region]
		if len(recipients) > connectaws.MaxRuleRecipients {
			add(name, Failed, "%d addresses receive mail in %s, more than the %d one SES receipt rule takes: remove some, or ask for a rule per domain",
				len(recipients), region, connectaws.MaxRuleRecipients)
			return
		}
		got, err := v.Mail.EnsureReceiving(ctx, inst, region, recipients, v.Endpoint)
		if err != nil {
			add(name, Failed, "email receiving in %s is not set up: the role needs the SES receipt rule, SNS topic and S3 bucket policy permissions iamPolicy lists (%v)", region, err)
			return
		}
		changes = append(changes, got.Changes...)
		if got.Subscription == connectaws.SubscriptionPending {
			pending = append(pending, region)
		}
		if got.Rule.InTheirRuleSet() {
			theirs = append(theirs, got.Rule.RuleSet+" ("+region+")")
		}
	}
	note := ""
	if len(theirs) > 0 {
		note = "; the rule " + connectaws.ReceiptRuleName + " is in the account's own active rule set " + strings.Join(theirs, ", ") +
			": a rule before it that stops processing keeps mail from switchboard"
	}
	switch {
	case len(pending) > 0:
		add(name, Failed, "SNS has not confirmed the subscription of %s in %s: check that AWS reaches this server there, then run verifyInstance again%s",
			v.Endpoint, strings.Join(pending, ", "), note)
	case len(changes) > 0:
		add(name, Fixed, "%s%s", strings.Join(changes, "; "), note)
	default:
		add(name, Passed, "SES stores the mail of %s in the content bucket and notifies switchboard%s", strings.Join(regions, ", "), note)
	}
}
