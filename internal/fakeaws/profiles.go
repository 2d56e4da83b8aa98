package fakeaws

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// The Customer Profiles operations the fake serves.
const (
	OpGetDomain               = "GetDomain"
	OpCreateDomain            = "CreateDomain"
	OpPutIntegration          = "PutIntegration"
	OpListAccountIntegrations = "ListAccountIntegrations"
)

// Profiles is a local Amazon Connect Customer Profiles serving, over
// REST-JSON,
//
//	GetDomain                GET  /domains/{DomainName}
//	CreateDomain             POST /domains/{DomainName}
//	PutIntegration           PUT  /domains/{DomainName}/integrations
//	ListAccountIntegrations  POST /integrations
//
// with Customer Profiles' checks: a domain name of 1 to 64 letters, digits,
// '_' or '-' (400 BadRequestException), DefaultExpirationDays from 1 to
// 1098, no second domain of one name (400), integrations only into a
// domain that exists (404 ResourceNotFoundException). With TrustSTS it
// accepts only requests signed with credentials the fake STS issued. Errors
// carry X-Amzn-ErrorType and a {"Message": ...} body.
type Profiles struct {
	// URL is the endpoint to give the SDK client (o.BaseEndpoint).
	URL string

	t        testing.TB
	failures failures
	mu       sync.Mutex
	domains  map[string]*profileDomain
	creates  int
	puts     int
	sts      *STS
}

type profileDomain struct {
	name             string
	expirationDays   int
	created, updated time.Time
	integrations     map[string]*profileIntegration // by Uri
}

type profileIntegration struct {
	uri, objectTypeName string
	created, updated    time.Time
}

// NewProfiles starts a fake Customer Profiles for the duration of t.
func NewProfiles(t testing.TB) *Profiles {
	t.Helper()
	p := &Profiles{t: t, domains: map[string]*profileDomain{}}
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

// AddDomain creates a domain, with 366 days of expiration, as if it had
// been made before the test.
func (p *Profiles) AddDomain(name string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.addDomain(name, 366)
}

// Integrate binds the Connect instance to domain with the CTR object type,
// as the Connect console does, creating the domain if it does not exist.
func (p *Profiles) Integrate(domain, instanceARN string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.domains[domain]
	if d == nil {
		d = p.addDomain(domain, 366)
	}
	p.integrate(d, instanceARN, "CTR")
}

// Domains returns the names of the domains, sorted.
func (p *Profiles) Domains() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Sorted(maps.Keys(p.domains))
}

// Integrations returns the names of the domains integrated with the
// Connect instance, sorted.
func (p *Profiles) Integrations(instanceARN string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var names []string
	for name, d := range p.domains {
		if d.integrations[instanceARN] != nil {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
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

// addDomain makes a domain; p.mu must be held.
func (p *Profiles) addDomain(name string, expirationDays int) *profileDomain {
	now := time.Now()
	d := &profileDomain{name: name, expirationDays: expirationDays, created: now, updated: now,
		integrations: map[string]*profileIntegration{}}
	p.domains[name] = d
	return d
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
	fail := func(e *profilesError) {
		w.Header().Set("X-Amzn-Errortype", e.code)
		w.WriteHeader(e.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"Message": e.message})
	}
	op, domain := profilesRoute(r)
	switch {
	case err != nil:
		fail(&profilesError{http.StatusBadRequest, "BadRequestException", "unreadable body"})
		return
	case op == "":
		p.t.Errorf("fakeaws.Profiles: no operation serves %s %s", r.Method, r.URL.Path)
		fail(&profilesError{http.StatusNotFound, "ResourceNotFoundException", "no such operation"})
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	e := p.authenticate(r, body)
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
			out, e = p.getDomain(domain)
		case OpCreateDomain:
			out, e = p.createDomain(domain, body)
		case OpPutIntegration:
			out, e = p.putIntegration(domain, body)
		case OpListAccountIntegrations:
			out, e = p.listAccountIntegrations(body)
		}
	}
	if e != nil {
		fail(e)
		return
	}
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
	}
	return "", ""
}

// authenticate checks r's signature, as configured; p.mu must be held.
func (p *Profiles) authenticate(r *http.Request, body []byte) *profilesError {
	sig, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return &profilesError{http.StatusForbidden, "AccessDeniedException", "Missing Authentication Token"}
	}
	if sig.Service != "profile" {
		return &profilesError{http.StatusForbidden, "AccessDeniedException", "Credential should be scoped to correct service: 'profile'."}
	}
	if p.sts == nil {
		return nil
	}
	creds, ok := p.sts.Lookup(sig.AccessKeyID)
	if !ok || !time.Now().Before(creds.Expires) {
		return &profilesError{http.StatusForbidden, "AccessDeniedException", "The security token included in the request is invalid."}
	}
	if err := verifySignature(r, body, sig, awsCredentials(creds)); err != nil {
		return &profilesError{http.StatusForbidden, "AccessDeniedException", "The request signature we calculated does not match the signature you provided."}
	}
	return nil
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
func (p *Profiles) getDomain(domain string) (any, *profilesError) {
	d := p.domains[domain]
	if d == nil {
		return nil, profilesNotFound(domain)
	}
	return d.wire(), nil
}

// createDomain serves CreateDomain; p.mu must be held.
func (p *Profiles) createDomain(domain string, body []byte) (any, *profilesError) {
	var in struct{ DefaultExpirationDays *int }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &profilesError{http.StatusBadRequest, "BadRequestException", "malformed body"}
	}
	if in.DefaultExpirationDays == nil || *in.DefaultExpirationDays < 1 || *in.DefaultExpirationDays > 1098 {
		return nil, &profilesError{http.StatusBadRequest, "BadRequestException", "DefaultExpirationDays must be 1 to 1098"}
	}
	if p.domains[domain] != nil {
		return nil, &profilesError{http.StatusBadRequest, "BadRequestException", "Domain " + domain + " already exists"}
	}
	p.creates++
	return p.addDomain(domain, *in.DefaultExpirationDays).wire(), nil
}

// putIntegration serves PutIntegration; p.mu must be held.
func (p *Profiles) putIntegration(domain string, body []byte) (any, *profilesError) {
	var in struct{ Uri, ObjectTypeName string }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &profilesError{http.StatusBadRequest, "BadRequestException", "malformed body"}
	}
	d := p.domains[domain]
	switch {
	case d == nil:
		return nil, profilesNotFound(domain)
	case in.Uri == "" || in.ObjectTypeName == "":
		return nil, &profilesError{http.StatusBadRequest, "BadRequestException", "the fake needs Uri and ObjectTypeName"}
	}
	p.puts++
	return p.integrate(d, in.Uri, in.ObjectTypeName).wire(domain), nil
}

// listAccountIntegrations serves ListAccountIntegrations, in one page;
// p.mu must be held.
func (p *Profiles) listAccountIntegrations(body []byte) (any, *profilesError) {
	var in struct{ Uri string }
	if err := json.Unmarshal(body, &in); err != nil || in.Uri == "" {
		return nil, &profilesError{http.StatusBadRequest, "BadRequestException", "Uri is required"}
	}
	items := []any{}
	for _, name := range slices.Sorted(maps.Keys(p.domains)) {
		if it := p.domains[name].integrations[in.Uri]; it != nil {
			items = append(items, it.wire(name))
		}
	}
	return map[string]any{"Items": items}, nil
}
