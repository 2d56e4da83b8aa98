package fakeaws

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The SES v1 (classic) operations the fake SESv1 serves.
const (
	OpVerifyEmailIdentity               = "VerifyEmailIdentity"
	OpGetIdentityVerificationAttributes = "GetIdentityVerificationAttributes"
	OpCreateReceiptRuleSet              = "CreateReceiptRuleSet"
	OpDescribeReceiptRuleSet            = "DescribeReceiptRuleSet"
	OpCreateReceiptRule                 = "CreateReceiptRule"
	OpUpdateReceiptRule                 = "UpdateReceiptRule"
	OpSetActiveReceiptRuleSet           = "SetActiveReceiptRuleSet"
	OpDescribeActiveReceiptRuleSet      = "DescribeActiveReceiptRuleSet"
)

const sesv1Namespace = "http://ses.amazonaws.com/doc/2010-12-01/"

// SESv1 is a local Amazon SES (API v1, "classic") speaking the AWS query
// protocol: POST / with a form-encoded Action=...&Version=2010-12-01 body,
// answered in XML. It serves
//
//	VerifyEmailIdentity, GetIdentityVerificationAttributes,
//	CreateReceiptRuleSet, DescribeReceiptRuleSet, CreateReceiptRule,
//	UpdateReceiptRule, SetActiveReceiptRuleSet, DescribeActiveReceiptRuleSet
//
// with SES's errors (400 AlreadyExists, RuleSetDoesNotExist,
// RuleDoesNotExist, InvalidParameterValue). Receipt rules may carry S3
// actions only. With TrustSTS it accepts only requests signed with
// unexpired credentials the fake STS issued, and verifies each signature.
// Queue errors with Fail, e.g. Fail(OpCreateReceiptRule, Failure{Status:
// 400, Code: "LimitExceeded"}).
type SESv1 struct {
	// URL is the endpoint to give the SDK client (o.BaseEndpoint).
	URL string

	t        testing.TB
	failures failures

	mu         sync.Mutex
	identities map[string]string // identity → verification status
	verified   map[string]bool   // marked with Verify before being asked to verify
	ruleSets   map[string]*sesv1RuleSet
	active     string
	creates    int
	updates    int
	requests   []Request
	sts        *STS
}

// ReceiptRule is one receipt rule of a rule set in the fake SESv1.
type ReceiptRule struct {
	Name        string
	Enabled     bool
	Recipients  []string
	S3Bucket    string // the first S3 action's BucketName
	S3Prefix    string // its ObjectKeyPrefix
	TopicARN    string // its TopicArn
	ScanEnabled bool
	TlsPolicy   string // Optional (the default) or Require
}

type sesv1RuleSet struct {
	name    string
	created time.Time
	rules   []ReceiptRule
}

// NewSESv1 starts a fake SES v1 for the duration of t.
func NewSESv1(t testing.TB) *SESv1 {
	t.Helper()
	s := &SESv1{t: t, identities: map[string]string{}, verified: map[string]bool{},
		ruleSets: map[string]*sesv1RuleSet{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// TrustSTS makes the fake accept only requests signed with unexpired
// credentials that sts issued, and verify each signature.
func (s *SESv1) TrustSTS(sts *STS) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sts = sts
}

// Fail makes requests to op (e.g. OpCreateReceiptRule) fail with f.
// Failures queue up: the first is used until its Times run out.
func (s *SESv1) Fail(op string, f Failure) { s.failures.add(op, f) }

// ClearFailures removes every queued failure.
func (s *SESv1) ClearFailures() { s.failures.clear() }

// Verify marks email as verified: its status becomes Success now if SES
// was already asked to verify it, or as soon as it is.
func (s *SESv1) Verify(email string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.verified[email] = true
	if _, ok := s.identities[email]; ok {
		s.identities[email] = "Success"
	}
}

// AddVerified makes identity (an address or a domain) one the account
// verified earlier: known to SES, with status Success.
func (s *SESv1) AddVerified(identity string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.identities[identity] = "Success"
}

// Identities returns each identity SES was asked to verify and its
// verification status.
func (s *SESv1) Identities() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]string, len(s.identities))
	for k, v := range s.identities {
		out[k] = v
	}
	return out
}

// RuleSets returns the names of the receipt rule sets, sorted.
func (s *SESv1) RuleSets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.ruleSets))
	for n := range s.ruleSets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Rules returns the rules of ruleSet, in order; nil for an unknown set.
func (s *SESv1) Rules(ruleSet string) []ReceiptRule {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs, ok := s.ruleSets[ruleSet]
	if !ok {
		return nil
	}
	out := make([]ReceiptRule, len(rs.rules))
	for i, r := range rs.rules {
		r.Recipients = slices.Clone(r.Recipients)
		out[i] = r
	}
	return out
}

// ActiveRuleSet returns the name of the active rule set, or "" for none.
func (s *SESv1) ActiveRuleSet() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// Creates returns how many CreateReceiptRuleSet and CreateReceiptRule
// calls succeeded.
func (s *SESv1) Creates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creates
}

// Updates returns how many UpdateReceiptRule calls succeeded.
func (s *SESv1) Updates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.updates
}

// Requests returns every request received so far, in order.
func (s *SESv1) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

type sesv1Error struct {
	status  int
	code    string
	message string
}

func sesv1Invalid(format string, args ...any) *sesv1Error {
	return &sesv1Error{http.StatusBadRequest, "InvalidParameterValue", fmt.Sprintf(format, args...)}
}

type sesv1ErrorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	XMLNS     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

func (s *SESv1) serve(w http.ResponseWriter, r *http.Request) {
	requestID := newUUID()
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.Header().Set("Content-Type", "text/xml")
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body,
		SessionToken: r.Header.Get("X-Amz-Security-Token")}
	form := r.URL.Query()
	if err == nil && r.Method == http.MethodPost {
		form, err = url.ParseQuery(string(body))
	}
	op := form.Get("Action")

	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() { s.requests = append(s.requests, rec) }()

	handlers := map[string]func(url.Values) (any, *sesv1Error){
		OpVerifyEmailIdentity:               s.verifyEmailIdentity,
		OpGetIdentityVerificationAttributes: s.getIdentityVerificationAttributes,
		OpCreateReceiptRuleSet:              s.createReceiptRuleSet,
		OpDescribeReceiptRuleSet:            s.describeReceiptRuleSet,
		OpCreateReceiptRule:                 s.createReceiptRule,
		OpUpdateReceiptRule:                 s.updateReceiptRule,
		OpSetActiveReceiptRuleSet:           s.setActiveReceiptRuleSet,
		OpDescribeActiveReceiptRuleSet:      s.describeActiveReceiptRuleSet,
	}
	handler := handlers[op]
	if handler != nil {
		rec.Operation = op
	}

	var out any
	var serr *sesv1Error
	switch {
	case err != nil:
		serr = &sesv1Error{http.StatusBadRequest, "MalformedQueryString", "unreadable body"}
	case handler == nil:
		s.t.Errorf("fakeaws.SESv1: no operation serves Action=%q", op)
		serr = &sesv1Error{http.StatusBadRequest, "InvalidAction", fmt.Sprintf("Could not find operation %s for version 2010-12-01", op)}
	case form.Get("Version") != "2010-12-01":
		serr = &sesv1Error{http.StatusBadRequest, "NoSuchVersion", fmt.Sprintf("Version %q is not valid", form.Get("Version"))}
	default:
		serr = s.authenticate(r, body, &rec)
	}
	if serr == nil {
		if f, ok := s.failures.next(op); ok {
			serr = &sesv1Error{f.Status, f.Code, f.Message}
		}
	}
	if serr == nil {
		out, serr = handler(form)
	}
	if serr != nil {
		rec.Status, rec.ErrorCode = serr.status, serr.code
		typ := "Sender"
		if serr.status >= 500 {
			typ = "Receiver"
		}
		w.WriteHeader(serr.status)
		_ = xml.NewEncoder(w).Encode(sesv1ErrorResponse{XMLNS: sesv1Namespace, Type: typ,
			Code: serr.code, Message: serr.message, RequestID: requestID})
		return
	}
	rec.Status = http.StatusOK
	w.WriteHeader(http.StatusOK)
	if out == nil {
		out = struct{}{}
	}
	fmt.Fprintf(w, `<%sResponse xmlns="%s">`, op, sesv1Namespace)
	_ = xml.NewEncoder(w).EncodeElement(out, xml.StartElement{Name: xml.Name{Local: op + "Result"}})
	fmt.Fprintf(w, `<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`, requestID, op)
}

// authenticate checks r's signature, as configured; s.mu must be held.
func (s *SESv1) authenticate(r *http.Request, body []byte, rec *Request) *sesv1Error {
	_, err := authenticateQuery(r, body, rec, "ses", s.sts)
	return err
}

// authenticateQuery checks the SigV4 signature of a query-protocol request
// for service: with sts, only unexpired credentials it issued, each
// signature verified. It returns the credentials (zero without sts) and
// records the access key and region in rec.
func authenticateQuery(r *http.Request, body []byte, rec *Request, service string, sts *STS) (IssuedCredentials, *sesv1Error) {
	sig, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return IssuedCredentials{}, &sesv1Error{http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token"}
	}
	rec.AccessKeyID, rec.Region = sig.AccessKeyID, sig.Region
	if sig.Service != service {
		return IssuedCredentials{}, &sesv1Error{http.StatusForbidden, "SignatureDoesNotMatch", "Credential should be scoped to correct service: '" + service + "'."}
	}
	if sts == nil {
		return IssuedCredentials{}, nil
	}
	creds, ok := sts.Lookup(sig.AccessKeyID)
	if !ok {
		return IssuedCredentials{}, &sesv1Error{http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid."}
	}
	if !time.Now().Before(creds.Expires) {
		return IssuedCredentials{}, &sesv1Error{http.StatusForbidden, "ExpiredToken", "The security token included in the request is expired"}
	}
	if err := verifySignature(r, body, sig, awsCredentials(creds)); err != nil {
		return IssuedCredentials{}, &sesv1Error{http.StatusForbidden, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided."}
	}
	return creds, nil
}

// sesv1Members returns the values of prefix.member.1, prefix.member.2, ...
func sesv1Members(form url.Values, prefix string) []string {
	var out []string
	for i := 1; ; i++ {
		k := prefix + ".member." + strconv.Itoa(i)
		if !form.Has(k) {
			return out
		}
		out = append(out, form.Get(k))
	}
}

// verifyEmailIdentity serves VerifyEmailIdentity; s.mu must be held.
func (s *SESv1) verifyEmailIdentity(form url.Values) (any, *sesv1Error) {
	email := form.Get("EmailAddress")
	if at := strings.LastIndex(email, "@"); at <= 0 || at == len(email)-1 {
		return nil, sesv1Invalid("Invalid email address <%s>.", email)
	}
	switch {
	case s.verified[email]:
		s.identities[email] = "Success"
	case s.identities[email] != "Success":
		s.identities[email] = "Pending"
	}
	return nil, nil
}

type sesv1VerificationEntry struct {
	Key   string `xml:"key"`
	Value struct {
		VerificationStatus string
	} `xml:"value"`
}

// getIdentityVerificationAttributes serves
// GetIdentityVerificationAttributes; s.mu must be held.
func (s *SESv1) getIdentityVerificationAttributes(form url.Values) (any, *sesv1Error) {
	var out struct {
		Entries []sesv1VerificationEntry `xml:"VerificationAttributes>entry"`
	}
	for _, id := range sesv1Members(form, "Identities") {
		status, ok := s.identities[id]
		if !ok {
			continue // SES omits identities it was never asked to verify
		}
		e := sesv1VerificationEntry{Key: id}
		e.Value.VerificationStatus = status
		out.Entries = append(out.Entries, e)
	}
	return out, nil
}

func (s *SESv1) ruleSet(name string) (*sesv1RuleSet, *sesv1Error) {
	rs, ok := s.ruleSets[name]
	if !ok {
		return nil, &sesv1Error{http.StatusBadRequest, "RuleSetDoesNotExist", fmt.Sprintf("Rule set does not exist: %s", name)}
	}
	return rs, nil
}

// createReceiptRuleSet serves CreateReceiptRuleSet; s.mu must be held.
func (s *SESv1) createReceiptRuleSet(form url.Values) (any, *sesv1Error) {
	name := form.Get("RuleSetName")
	if name == "" {
		return nil, sesv1Invalid("RuleSetName is required")
	}
	if _, ok := s.ruleSets[name]; ok {
		return nil, &sesv1Error{http.StatusBadRequest, "AlreadyExists", fmt.Sprintf("Rule set already exists: %s", name)}
	}
	s.ruleSets[name] = &sesv1RuleSet{name: name, created: time.Now().UTC()}
	s.creates++
	return nil, nil
}

// parseRule reads the Rule.* fields of a CreateReceiptRule or
// UpdateReceiptRule request.
func parseRule(form url.Values) (ReceiptRule, *sesv1Error) {
	rule := ReceiptRule{
		Name:        form.Get("Rule.Name"),
		Enabled:     form.Get("Rule.Enabled") == "true",
		Recipients:  sesv1Members(form, "Rule.Recipients"),
		ScanEnabled: form.Get("Rule.ScanEnabled") == "true",
		TlsPolicy:   form.Get("Rule.TlsPolicy"),
	}
	if rule.Name == "" {
		return rule, sesv1Invalid("Rule.Name is required")
	}
	if len(rule.Recipients) > 100 {
		return rule, &sesv1Error{http.StatusBadRequest, "LimitExceeded", "A rule may have at most 100 recipients"}
	}
	switch rule.TlsPolicy {
	case "":
		rule.TlsPolicy = "Optional"
	case "Optional", "Require":
	default:
		return rule, sesv1Invalid("Invalid TlsPolicy: %s", rule.TlsPolicy)
	}
	for i := 1; ; i++ {
		p := "Rule.Actions.member." + strconv.Itoa(i) + "."
		found := false
		for k := range form {
			if strings.HasPrefix(k, p) {
				found = true
				if !strings.HasPrefix(k, p+"S3Action.") {
					return rule, sesv1Invalid("the fake serves S3 actions only, not %s", k)
				}
			}
		}
		if !found {
			break
		}
		bucket := form.Get(p + "S3Action.BucketName")
		if bucket == "" {
			return rule, sesv1Invalid("S3Action.BucketName is required")
		}
		if rule.S3Bucket == "" {
			rule.S3Bucket = bucket
			rule.S3Prefix = form.Get(p + "S3Action.ObjectKeyPrefix")
			rule.TopicARN = form.Get(p + "S3Action.TopicArn")
		}
	}
	return rule, nil
}

// createReceiptRule serves CreateReceiptRule; s.mu must be held.
func (s *SESv1) createReceiptRule(form url.Values) (any, *sesv1Error) {
	rs, serr := s.ruleSet(form.Get("RuleSetName"))
	if serr != nil {
		return nil, serr
	}
	rule, serr := parseRule(form)
	if serr != nil {
		return nil, serr
	}
	for _, r := range rs.rules {
		if r.Name == rule.Name {
			return nil, &sesv1Error{http.StatusBadRequest, "AlreadyExists", fmt.Sprintf("Rule already exists: %s", rule.Name)}
		}
	}
	at := len(rs.rules)
	if after := form.Get("After"); after != "" {
		i := slices.IndexFunc(rs.rules, func(r ReceiptRule) bool { return r.Name == after })
		if i < 0 {
			return nil, &sesv1Error{http.StatusBadRequest, "RuleDoesNotExist", fmt.Sprintf("Rule does not exist: %s", after)}
		}
		at = i + 1
	}
	rs.rules = slices.Insert(rs.rules, at, rule)
	s.creates++
	return nil, nil
}

// updateReceiptRule serves UpdateReceiptRule; s.mu must be held.
func (s *SESv1) updateReceiptRule(form url.Values) (any, *sesv1Error) {
	rs, serr := s.ruleSet(form.Get("RuleSetName"))
	if serr != nil {
		return nil, serr
	}
	rule, serr := parseRule(form)
	if serr != nil {
		return nil, serr
	}
	i := slices.IndexFunc(rs.rules, func(r ReceiptRule) bool { return r.Name == rule.Name })
	if i < 0 {
		return nil, &sesv1Error{http.StatusBadRequest, "RuleDoesNotExist", fmt.Sprintf("Rule does not exist: %s", rule.Name)}
	}
	rs.rules[i] = rule
	s.updates++
	return nil, nil
}

type sesv1Metadata struct {
	Name             string
	CreatedTimestamp string
}

type sesv1S3Action struct {
	BucketName      string
	ObjectKeyPrefix string `xml:",omitempty"`
	TopicArn        string `xml:",omitempty"`
}

type sesv1Action struct {
	S3Action sesv1S3Action
}

type sesv1Rule struct {
	Name        string
	Enabled     bool
	Recipients  []string      `xml:"Recipients>member,omitempty"`
	Actions     []sesv1Action `xml:"Actions>member,omitempty"`
	ScanEnabled bool
	TlsPolicy   string
}

type sesv1RuleSetResult struct {
	Metadata *sesv1Metadata `xml:",omitempty"`
	Rules    []sesv1Rule    `xml:"Rules>member,omitempty"`
}

func (rs *sesv1RuleSet) result() sesv1RuleSetResult {
	out := sesv1RuleSetResult{Metadata: &sesv1Metadata{Name: rs.name,
		CreatedTimestamp: rs.created.Format("2006-01-02T15:04:05.000Z")}}
	for _, r := range rs.rules {
		x := sesv1Rule{Name: r.Name, Enabled: r.Enabled, Recipients: r.Recipients,
			ScanEnabled: r.ScanEnabled, TlsPolicy: r.TlsPolicy}
		if r.S3Bucket != "" {
			x.Actions = []sesv1Action{{sesv1S3Action{r.S3Bucket, r.S3Prefix, r.TopicARN}}}
		}
		out.Rules = append(out.Rules, x)
	}
	return out
}

// describeReceiptRuleSet serves DescribeReceiptRuleSet; s.mu must be held.
func (s *SESv1) describeReceiptRuleSet(form url.Values) (any, *sesv1Error) {
	rs, serr := s.ruleSet(form.Get("RuleSetName"))
	if serr != nil {
		return nil, serr
	}
	return rs.result(), nil
}

// setActiveReceiptRuleSet serves SetActiveReceiptRuleSet; no RuleSetName
// deactivates every set. s.mu must be held.
func (s *SESv1) setActiveReceiptRuleSet(form url.Values) (any, *sesv1Error) {
	name := form.Get("RuleSetName")
	if name != "" {
		if _, serr := s.ruleSet(name); serr != nil {
			return nil, serr
		}
	}
	s.active = name
	return nil, nil
}

// describeActiveReceiptRuleSet serves DescribeActiveReceiptRuleSet; s.mu
// must be held.
func (s *SESv1) describeActiveReceiptRuleSet(url.Values) (any, *sesv1Error) {
	rs, ok := s.ruleSets[s.active]
	if !ok {
		return nil, nil
	}
	return rs.result(), nil
}

// AddRuleSet makes a rule set with rules directly, and makes it active,
// as the account's own setup outside switchboard would.
func (s *SESv1) AddRuleSet(name string, rules ...ReceiptRule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rs := &sesv1RuleSet{name: name, created: time.Now().UTC()}
	for _, r := range rules {
		if r.TlsPolicy == "" {
			r.TlsPolicy = "Optional"
		}
		rs.rules = append(rs.rules, r)
	}
	s.ruleSets[name] = rs
	s.active = name
}
