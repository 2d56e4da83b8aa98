package fakeaws

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// The Customer Profiles operations the fake serves.
const (
	OpGetDomain               = "GetDomain"
	OpCreateDomain            = "CreateDomain"
	OpPutIntegration          = "PutIntegration"
	OpListAccountIntegrations = "ListAccountIntegrations"
	OpSearchProfiles          = "SearchProfiles"
	OpCreateProfile           = "CreateProfile"
	OpUpdateProfile           = "UpdateProfile"
)

// UntrustedAccount is the account that owns the domains of requests to a
// Profiles fake without TrustSTS, which cannot tell whose they are.
const UntrustedAccount = "000000000000"

// Profiles is a local Amazon Connect Customer Profiles serving, over
// REST-JSON,
//
//	GetDomain                GET  /domains/{DomainName}
//	CreateDomain             POST /domains/{DomainName}
//	PutIntegration           PUT  /domains/{DomainName}/integrations
//	ListAccountIntegrations  POST /integrations
//	SearchProfiles           POST /domains/{DomainName}/profiles/search
//	CreateProfile            POST /domains/{DomainName}/profiles
//	UpdateProfile            PUT  /domains/{DomainName}/profiles
//
// with Customer Profiles' checks: a domain name of 1 to 64 letters, digits,
// '_' or '-' (400 BadRequestException), DefaultExpirationDays from 1 to
// 1098, no second domain of one name (400), integrations and profiles only
// in a domain that exists (404 ResourceNotFoundException); a search on a
// key the domain knows (_phone, _email, _account, _profileId), 1 to 100
// results a page (20 when not said), values of 1 to 255 characters,
// matched exactly; a profile's fields of at most 255 characters (at least
// 1 on CreateProfile; "" removes one on UpdateProfile, a field left out is
// kept); UpdateProfile of a profile ID the domain lacks is 404.
//
// Domains belong to an AWS account, as in AWS: two accounts may each have
// a domain of one name. With TrustSTS the fake accepts only requests signed
// with credentials the fake STS issued, and a request reaches the domains
// of the account of the role they were issued for; without it, those of
// UntrustedAccount. Errors carry X-Amzn-ErrorType and a {"Message": ...}
// body.
type Profiles struct {
	// URL is the endpoint to give the SDK client (o.BaseEndpoint).
	URL string

	t        testing.TB
	failures failures
	mu       sync.Mutex
	domains  map[domainKey]*profileDomain
	creates  int
	puts     int
	sts      *STS
	requests []ProfilesRequest
	seq      int // orders profiles by creation
}

// domainKey names a domain in its account.
type domainKey struct{ account, name string }

type profileDomain struct {
	name             string
	expirationDays   int
	created, updated time.Time
	integrations     map[string]*profileIntegration // by Uri
	profiles         map[string]*storedProfile      // by profile ID
}

// Profile is a customer profile in the fake: the standard profile's string
// fields, by their names on the wire ("" for one the profile lacks).
type Profile struct {
	ProfileID                                                            string
	FirstName, MiddleName, LastName, BusinessName                        string
	AccountNumber, AdditionalInformation                                 string
	EmailAddress, PersonalEmailAddress, BusinessEmailAddress             string
	PhoneNumber, MobilePhoneNumber, HomePhoneNumber, BusinessPhoneNumber string
}

type storedProfile struct {
	Profile
	seq int
}

// fields are p's fields by their names on the wire, ProfileId left out.
func (p *Profile) fields() map[string]*string {
	return map[string]*string{
		"FirstName": &p.FirstName, "MiddleName": &p.MiddleName, "LastName": &p.LastName, "BusinessName": &p.BusinessName,
		"AccountNumber": &p.AccountNumber, "AdditionalInformation": &p.AdditionalInformation,
		"EmailAddress": &p.EmailAddress, "PersonalEmailAddress": &p.PersonalEmailAddress, "BusinessEmailAddress": &p.BusinessEmailAddress,
		"PhoneNumber": &p.PhoneNumber, "MobilePhoneNumber": &p.MobilePhoneNumber, "HomePhoneNumber": &p.HomePhoneNumber,
		"BusinessPhoneNumber": &p.BusinessPhoneNumber,
	}
}

// searchKeys are the standard keys the fake's domains know, each with the
// fields it matches.
var searchKeys = map[string]func(p *Profile) []string{
	"_phone": func(p *Profile) []string {
		return []string{p.PhoneNumber, p.MobilePhoneNumber, p.HomePhoneNumber, p.BusinessPhoneNumber}
	},
	"_email": func(p *Profile) []string {
		return []string{p.EmailAddress, p.PersonalEmailAddress, p.BusinessEmailAddress}
	},
	"_account":   func(p *Profile) []string { return []string{p.AccountNumber} },
	"_profileId": func(p *Profile) []string { return []string{p.ProfileID} },
}

// ProfilesRequest is one request the fake Customer Profiles received.
type ProfilesRequest struct {
	Operation   string // e.g. OpSearchProfiles; empty for an unknown route
	Domain      string // the domain in the path, if any
	Account     string // whose domains it reached (UntrustedAccount without TrustSTS)
	AccessKeyID string // from the SigV4 Authorization header
	Body        []byte
	Status      int    // the HTTP status the fake answered
	ErrorCode   string // the error code the fake answered, if any
}

type profileIntegration struct {
	uri, objectTypeName string
	created, updated    time.Time
}

// NewProfiles starts a fake Customer Profiles for the duration of t.
func NewProfiles(t testing.TB) *Profiles {
	t.Helper()
	p := &Profiles{t: t, domains: map[domainKey]*profileDomain{}}
	srv := httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(srv.Close)
	p.URL = srv.URL
	return p
}

// TrustSTS makes the fake accept only requests signed with unexpired
// credentials that sts issued, and verify each signature.
func (p *Profiles) TrustSTS(sts *STS) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sts = sts
}

// Fail queues failures of the operation, one of the Op constants.
func (p *Profiles) Fail(operation string, f Failure) { p.failures.add(operation, f) }

// AddDomain creates a domain in the account, with 366 days of
// expiration, as if it had been made before the test.
func (p *Profiles) AddDomain(account, name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.domains[domainKey{account, name}] == nil {
		p.addDomain(account, name, 366)
	}
}

// Integrate binds the Connect instance to domain, in the instance's
// account, with the CTR object type, as the Connect console does, creating
// the domain if it does not exist.
func (p *Profiles) Integrate(domain, instanceARN string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	account := arnAccount(instanceARN)
	d := p.domains[domainKey{account, domain}]
	if d == nil {
		d = p.addDomain(account, domain, 366)
	}
	p.integrate(d, instanceARN, "CTR")
}

// Domains returns the names of the account's domains, sorted.
func (p *Profiles) Domains(account string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var names []string
	for k := range p.domains {
		if k.account == account {
			names = append(names, k.name)
		}
	}
	slices.Sort(names)
	return names
}

// Integrations returns the names of the domains integrated with the
// Connect instance, in its account, sorted.
func (p *Profiles) Integrations(instanceARN string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	account := arnAccount(instanceARN)
	var names []string
	for k, d := range p.domains {
		if k.account == account && d.integrations[instanceARN] != nil {
			names = append(names, k.name)
		}
	}
	slices.Sort(names)
	return names
}

// AddProfile puts a profile into the account's domain (created if it does
// not exist), as if it had been made before the test, and returns its ID:
// pr.ProfileID, or a new one when that is empty.
func (p *Profiles) AddProfile(account, domain string, pr Profile) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.domains[domainKey{account, domain}]
	if d == nil {
		d = p.addDomain(account, domain, 366)
	}
	return p.addProfile(d, pr)
}

// Profile returns a profile of the account's domain.
func (p *Profiles) Profile(account, domain, profileID string) (Profile, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if d := p.domains[domainKey{account, domain}]; d != nil {
		if sp := d.profiles[profileID]; sp != nil {
			return sp.Profile, true
		}
	}
	return Profile{}, false
}

// ProfilesIn returns the profiles of the account's domain, oldest first.
func (p *Profiles) ProfilesIn(account, domain string) []Profile {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.domains[domainKey{account, domain}]
	if d == nil {
		return nil
	}
	return d.sorted()
}

// Requests returns every request received so far, in order.
func (p *Profiles) Requests() []ProfilesRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.requests)
}

// RequestsFor returns the requests received for operation, in order.
func (p *Profiles) RequestsFor(operation string) []ProfilesRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []ProfilesRequest
	for _, r := range p.requests {
		if r.Operation == operation {
			out = append(out, r)
		}
	}
	return out
}

// Creates returns how many CreateDomain requests succeeded.
func (p *Profiles) Creates() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.creates
}

// Puts returns how many PutIntegration requests succeeded.
func (p *Profiles) Puts() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.puts
}

// addDomain makes a domain in the account; p.mu must be held.
func (p *Profiles) addDomain(account, name string, expirationDays int) *profileDomain {
	now := time.Now()
	d := &profileDomain{name: name, expirationDays: expirationDays, created: now, updated: now,
		integrations: map[string]*profileIntegration{}, profiles: map[string]*storedProfile{}}
	p.domains[domainKey{account, name}] = d
	return d
}

// addProfile puts pr into d, with a new ID when it has none, and returns
// its ID; p.mu must be held.
func (p *Profiles) addProfile(d *profileDomain, pr Profile) string {
	if pr.ProfileID == "" {
		pr.ProfileID = randomHex(16)
	}
	p.seq++
	d.profiles[pr.ProfileID] = &storedProfile{Profile: pr, seq: p.seq}
	return pr.ProfileID
}

// sorted returns d's profiles, oldest first.
func (d *profileDomain) sorted() []Profile {
	list := make([]*storedProfile, 0, len(d.profiles))
	for _, sp := range d.profiles {
		list = append(list, sp)
	}
	slices.SortFunc(list, func(a, b *storedProfile) int { return a.seq - b.seq })
	out := make([]Profile, len(list))
	for i, sp := range list {
		out[i] = sp.Profile
	}
	return out
}

// integrate puts an integration into d; p.mu must be held.
func (p *Profiles) integrate(d *profileDomain, uri, objectTypeName string) *profileIntegration {
	now := time.Now()
	in := d.integrations[uri]
	if in == nil {
		in = &profileIntegration{uri: uri, created: now}
		d.integrations[uri] = in
	}
	in.objectTypeName, in.updated = objectTypeName, now
	return in
}

var profileDomainName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

type profilesError struct {
	status        int
	code, message string
}

func (p *Profiles) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	w.Header().Set("X-Amzn-Requestid", newUUID())
	w.Header().Set("Content-Type", "application/json")
	op, domain := profilesRoute(r)
	rec := ProfilesRequest{Operation: op, Domain: domain, Body: body}
	if sig, err := ParseAuthorization(r.Header.Get("Authorization")); err == nil {
		rec.AccessKeyID = sig.AccessKeyID
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fail := func(e *profilesError) {
		rec.Status, rec.ErrorCode = e.status, e.code
		p.requests = append(p.requests, rec)
		w.Header().Set("X-Amzn-Errortype", e.code)
		w.WriteHeader(e.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"Message": e.message})
	}
	switch {
	case err != nil:
		fail(&profilesError{http.StatusBadRequest, "BadRequestException", "unreadable body"})
		return
	case op == "":
		p.t.Errorf("fakeaws.Profiles: no operation serves %s %s", r.Method, r.URL.Path)
		fail(&profilesError{http.StatusNotFound, "ResourceNotFoundException", "no such operation"})
		return
	}
	account, e := p.authenticate(r, body)
	rec.Account = account
	if e == nil {
		if f, ok := p.failures.next(op); ok {
			e = &profilesError{f.Status, f.Code, f.Message}
		}
	}
	if e == nil && op != OpListAccountIntegrations && !profileDomainName.MatchString(domain) {
		e = &profilesError{http.StatusBadRequest, "BadRequestException",
			"1 validation error detected: Value '" + domain + "' at 'domainName' failed to satisfy constraint: " +
				"Member must satisfy regular expression pattern: ^[a-zA-Z0-9_-]+$"}
	}
	var out any
	if e == nil {
		switch op {
		case OpGetDomain:
			out, e = p.getDomain(account, domain)
		case OpCreateDomain:
			out, e = p.createDomain(account, domain, body)
		case OpPutIntegration:
			out, e = p.putIntegration(account, domain, body)
		case OpListAccountIntegrations:
			out, e = p.listAccountIntegrations(account, body)
		case OpSearchProfiles:
			out, e = p.searchProfiles(account, domain, r.URL.Query(), body)
		case OpCreateProfile:
			out, e = p.createProfile(account, domain, body)
		case OpUpdateProfile:
			out, e = p.updateProfile(account, domain, body)
		}
	}
	if e != nil {
		fail(e)
		return
	}
	rec.Status = http.StatusOK
	p.requests = append(p.requests, rec)
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(out)
}

// profilesRoute names the operation r asks for and the domain in its path.
func profilesRoute(r *http.Request) (op, domain string) {
	seg := strings.Split(strings.TrimPrefix(r.URL.EscapedPath(), "/"), "/")
	if len(seg) >= 2 && seg[0] == "domains" {
		d, err := url.PathUnescape(seg[1])
		if err != nil {
			return "", ""
		}
		domain = d
	}
	switch {
	case len(seg) == 1 && seg[0] == "integrations" && r.Method == http.MethodPost:
		return OpListAccountIntegrations, ""
	case len(seg) == 2 && seg[0] == "domains" && r.Method == http.MethodGet:
		return OpGetDomain, domain
	case len(seg) == 2 && seg[0] == "domains" && r.Method == http.MethodPost:
		return OpCreateDomain, domain
	case len(seg) == 3 && seg[0] == "domains" && seg[2] == "integrations" && r.Method == http.MethodPut:
		return OpPutIntegration, domain
	case len(seg) == 3 && seg[0] == "domains" && seg[2] == "profiles" && r.Method == http.MethodPost:
		return OpCreateProfile, domain
	case len(seg) == 3 && seg[0] == "domains" && seg[2] == "profiles" && r.Method == http.MethodPut:
		return OpUpdateProfile, domain
	case len(seg) == 4 && seg[0] == "domains" && seg[2] == "profiles" && seg[3] == "search" && r.Method == http.MethodPost:
		return OpSearchProfiles, domain
	}
	return "", ""
}

// authenticate checks r's signature, as configured, and returns the
// account whose domains it reaches; p.mu must be held.
func (p *Profiles) authenticate(r *http.Request, body []byte) (string, *profilesError) {
	sig, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return "", &profilesError{http.StatusForbidden, "AccessDeniedException", "Missing Authentication Token"}
	}
	if sig.Service != "profile" {
		return "", &profilesError{http.StatusForbidden, "AccessDeniedException", "Credential should be scoped to correct service: 'profile'."}
	}
	if p.sts == nil {
		return UntrustedAccount, nil
	}
	creds, ok := p.sts.Lookup(sig.AccessKeyID)
	if !ok || !time.Now().Before(creds.Expires) {
		return "", &profilesError{http.StatusForbidden, "AccessDeniedException", "The security token included in the request is invalid."}
	}
	if err := verifySignature(r, body, sig, awsCredentials(creds)); err != nil {
		return "", &profilesError{http.StatusForbidden, "AccessDeniedException", "The request signature we calculated does not match the signature you provided."}
	}
	return arnAccount(creds.RoleARN), nil
}

func (d *profileDomain) wire() any {
	return map[string]any{"DomainName": d.name, "DefaultExpirationDays": d.expirationDays,
		"CreatedAt": d.created.Unix(), "LastUpdatedAt": d.updated.Unix()}
}

func (in *profileIntegration) wire(domain string) any {
	return map[string]any{"DomainName": domain, "Uri": in.uri, "ObjectTypeName": in.objectTypeName,
		"CreatedAt": in.created.Unix(), "LastUpdatedAt": in.updated.Unix()}
}

func profilesNotFound(domain string) *profilesError {
	return &profilesError{http.StatusNotFound, "ResourceNotFoundException",
		"Domain " + domain + " does not exist, or access was denied"}
}

// getDomain serves GetDomain; p.mu must be held.
func (p *Profiles) getDomain(account, domain string) (any, *profilesError) {
	d := p.domains[domainKey{account, domain}]
	if d == nil {
		return nil, profilesNotFound(domain)
	}
	return d.wire(), nil
}

// createDomain serves CreateDomain; p.mu must be held.
func (p *Profiles) createDomain(account, domain string, body []byte) (any, *profilesError) {
	var in struct{ DefaultExpirationDays *int }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &profilesError{http.StatusBadRequest, "BadRequestException", "malformed body"}
	}
	if in.DefaultExpirationDays == nil || *in.DefaultExpirationDays < 1 || *in.DefaultExpirationDays > 1098 {
		return nil, &profilesError{http.StatusBadRequest, "BadRequestException", "DefaultExpirationDays must be 1 to 1098"}
	}
	if p.domains[domainKey{account, domain}] != nil {
		return nil, &profilesError{http.StatusBadRequest, "BadRequestException", "Domain " + domain + " already exists"}
	}
	p.creates++
	return p.addDomain(account, domain, *in.DefaultExpirationDays).wire(), nil
}

// putIntegration serves PutIntegration; p.mu must be held.
func (p *Profiles) putIntegration(account, domain string, body []byte) (any, *profilesError) {
	var in struct{ Uri, ObjectTypeName string }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &profilesError{http.StatusBadRequest, "BadRequestException", "malformed body"}
	}
	d := p.domains[domainKey{account, domain}]
	switch {
	case d == nil:
		return nil, profilesNotFound(domain)
	case in.Uri == "" || in.ObjectTypeName == "":
		return nil, &profilesError{http.StatusBadRequest, "BadRequestException", "the fake needs Uri and ObjectTypeName"}
	}
	p.puts++
	return p.integrate(d, in.Uri, in.ObjectTypeName).wire(domain), nil
}

// listAccountIntegrations serves ListAccountIntegrations, the caller's
// account's, in one page; p.mu must be held.
func (p *Profiles) listAccountIntegrations(account string, body []byte) (any, *profilesError) {
	var in struct{ Uri string }
	if err := json.Unmarshal(body, &in); err != nil || in.Uri == "" {
		return nil, &profilesError{http.StatusBadRequest, "BadRequestException", "Uri is required"}
	}
	items := []any{}
	for _, name := range p.domainNames(account) {
		if it := p.domains[domainKey{account, name}].integrations[in.Uri]; it != nil {
			items = append(items, it.wire(name))
		}
	}
	return map[string]any{"Items": items}, nil
}

// domainNames are the account's domains' names, sorted; p.mu must be held.
func (p *Profiles) domainNames(account string) []string {
	var names []string
	for k := range p.domains {
		if k.account == account {
			names = append(names, k.name)
		}
	}
	slices.Sort(names)
	return names
}

func badRequest(message string) *profilesError {
	return &profilesError{http.StatusBadRequest, "BadRequestException", message}
}

func (pr *Profile) wire() map[string]any {
	out := map[string]any{"ProfileId": pr.ProfileID}
	for name, f := range pr.fields() {
		if *f != "" {
			out[name] = *f
		}
	}
	return out
}

// searchProfiles serves SearchProfiles, on one key; p.mu must be held.
func (p *Profiles) searchProfiles(account, domain string, q url.Values, body []byte) (any, *profilesError) {
	var in struct {
		KeyName              string
		Values               []string
		AdditionalSearchKeys []json.RawMessage
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, badRequest("malformed body")
	}
	d := p.domains[domainKey{account, domain}]
	if d == nil {
		return nil, profilesNotFound(domain)
	}
	match := searchKeys[in.KeyName]
	switch {
	case in.KeyName == "":
		return nil, badRequest("KeyName is required")
	case match == nil:
		return nil, badRequest("the domain has no search key " + in.KeyName)
	case len(in.Values) == 0:
		return nil, badRequest("Values is required")
	case len(in.AdditionalSearchKeys) > 0:
		return nil, badRequest("the fake does not serve AdditionalSearchKeys")
	}
	for _, v := range in.Values {
		if n := utf8.RuneCountInString(v); n < 1 || n > 255 {
			return nil, badRequest("each of Values must be 1 to 255 characters")
		}
	}
	limit := 20
	if s := q.Get("max-results"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			return nil, badRequest("max-results must be 1 to 100")
		}
		limit = n
	}
	start := 0
	if tok := q.Get("next-token"); tok != "" {
		n, err := strconv.Atoi(strings.TrimPrefix(tok, "page-"))
		if err != nil || !strings.HasPrefix(tok, "page-") || n < 0 {
			return nil, badRequest("invalid next token")
		}
		start = n
	}
	var found []Profile
	for _, pr := range d.sorted() {
		if slices.ContainsFunc(match(&pr), func(f string) bool { return f != "" && slices.Contains(in.Values, f) }) {
			found = append(found, pr)
		}
	}
	items := []any{}
	for i := start; i < len(found) && i < start+limit; i++ {
		it := found[i].wire()
		it["FoundByItems"] = []any{map[string]any{"KeyName": in.KeyName, "Values": in.Values}}
		items = append(items, it)
	}
	out := map[string]any{"Items": items}
	if start+limit < len(found) {
		out["NextToken"] = "page-" + strconv.Itoa(start+limit)
	}
	return out, nil
}

// profileFields reads the profile's string fields from a CreateProfile or
// UpdateProfile body, each as sent (fields it does not know are left out),
// and checks their lengths: min to 255 characters.
func profileFields(body []byte, min int) (map[string]string, *profilesError) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, badRequest("malformed body")
	}
	known := (&Profile{}).fields()
	out := map[string]string{}
	for name, v := range raw {
		if known[name] == nil {
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, badRequest(name + " must be a string")
		}
		if n := utf8.RuneCountInString(s); n < min || n > 255 {
			return nil, badRequest("1 validation error detected: Value at '" + name + "' failed to satisfy constraint: Member must have length between " +
				strconv.Itoa(min) + " and 255")
		}
		out[name] = s
	}
	return out, nil
}

// createProfile serves CreateProfile; p.mu must be held.
func (p *Profiles) createProfile(account, domain string, body []byte) (any, *profilesError) {
	fields, e := profileFields(body, 1)
	if e != nil {
		return nil, e
	}
	d := p.domains[domainKey{account, domain}]
	if d == nil {
		return nil, profilesNotFound(domain)
	}
	var pr Profile
	set := pr.fields()
	for name, v := range fields {
		*set[name] = v
	}
	return map[string]any{"ProfileId": p.addProfile(d, pr)}, nil
}

var profileID = regexp.MustCompile(`^[a-f0-9]{32}$`)

// updateProfile serves UpdateProfile; p.mu must be held.
func (p *Profiles) updateProfile(account, domain string, body []byte) (any, *profilesError) {
	var in struct{ ProfileId string }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, badRequest("malformed body")
	}
	if !profileID.MatchString(in.ProfileId) {
		return nil, badRequest("1 validation error detected: Value at 'profileId' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-f0-9]{32}")
	}
	fields, e := profileFields(body, 0)
	if e != nil {
		return nil, e
	}
	d := p.domains[domainKey{account, domain}]
	if d == nil {
		return nil, profilesNotFound(domain)
	}
	sp := d.profiles[in.ProfileId]
	if sp == nil {
		return nil, &profilesError{http.StatusNotFound, "ResourceNotFoundException", "Profile " + in.ProfileId + " does not exist"}
	}
	set := sp.fields()
	for name, v := range fields {
		*set[name] = v
	}
	return map[string]any{"ProfileId": in.ProfileId}, nil
}
