package fakeaws

import (
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// stsNamespace is the XML namespace of STS responses.
const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// STS is a local AWS Security Token Service serving AssumeRole over the STS
// Query protocol (form-encoded POST, XML response). It issues credentials
// only for the roles a test allowed, and only when the request carries the
// external ID the test configured for that role; anything else is refused
// with 403 AccessDenied, as STS does when a role's trust policy does not
// match.
type STS struct {
	// URL is the endpoint to give the SDK client (o.BaseEndpoint).
	URL string

	t        testing.TB
	failures failures

	mu        sync.Mutex
	roles     map[string]*stsRole // by role ARN
	expiry    time.Duration
	caller    *aws.Credentials
	calls     []AssumeRoleCall
	issued    map[string]IssuedCredentials // by access key ID
	issuedSeq int
}

type stsRole struct {
	index      int
	externalID string
}

// AssumeRoleCall is one AssumeRole request the fake received.
type AssumeRoleCall struct {
	RoleARN         string
	ExternalID      string
	RoleSessionName string
	DurationSeconds int    // 0 when the request did not say
	CallerKeyID     string // the access key that signed the request
	Region          string // the region in the request's signature scope
	IssuedKeyID     string // the access key issued; empty when refused
	ErrorCode       string // the error returned, if any
}

// IssuedCredentials is a set of temporary credentials the fake issued.
type IssuedCredentials struct {
	RoleARN         string
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Expires         time.Time
}

// NewSTS starts a fake STS for the duration of t.
func NewSTS(t testing.TB) *STS {
	t.Helper()
	s := &STS{t: t, roles: map[string]*stsRole{}, issued: map[string]IssuedCredentials{}}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// AllowRole lets callers assume roleARN when they present externalID.
func (s *STS) AllowRole(roleARN, externalID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.roles[roleARN]; ok {
		r.externalID = externalID
		return
	}
	s.roles[roleARN] = &stsRole{index: len(s.roles) + 1, externalID: externalID}
}

// SetExpiry makes issued credentials expire d after issue, whatever duration
// the request asked for; 0 restores the default (the requested
// DurationSeconds, or one hour).
func (s *STS) SetExpiry(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expiry = d
}

// TrustCaller makes the fake verify each request's signature against creds,
// the platform's own credentials, and refuse any other signer.
func (s *STS) TrustCaller(creds aws.Credentials) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.caller = &creds
}

// Fail makes AssumeRole requests fail with f (see Failure.Times).
func (s *STS) Fail(f Failure) { s.failures.add("AssumeRole", f) }

// ClearFailures removes every queued failure.
func (s *STS) ClearFailures() { s.failures.clear() }

// Calls returns every AssumeRole request received so far, in order.
func (s *STS) Calls() []AssumeRoleCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]AssumeRoleCall(nil), s.calls...)
}

// CallCount returns how many AssumeRole requests named roleARN; with an
// empty roleARN, how many were received in all.
func (s *STS) CallCount(roleARN string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if roleARN == "" || c.RoleARN == roleARN {
			n++
		}
	}
	return n
}

// Issued returns the credentials issued for roleARN, oldest first.
func (s *STS) Issued(roleARN string) []IssuedCredentials {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []IssuedCredentials
	for _, c := range s.calls {
		if c.RoleARN == roleARN && c.IssuedKeyID != "" {
			out = append(out, s.issued[c.IssuedKeyID])
		}
	}
	return out
}

// Lookup returns the credentials issued under accessKeyID.
func (s *STS) Lookup(accessKeyID string) (IssuedCredentials, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.issued[accessKeyID]
	return c, ok
}

func (s *STS) serve(w http.ResponseWriter, r *http.Request) {
	requestID := newUUID()
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		stsError(w, requestID, http.StatusBadRequest, "Sender", "InvalidRequest", "unreadable body")
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/" {
		stsError(w, requestID, http.StatusNotFound, "Sender", "InvalidAction", "the fake serves only POST /")
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		stsError(w, requestID, http.StatusBadRequest, "Sender", "MalformedQueryString", err.Error())
		return
	}
	if form.Get("Action") != "AssumeRole" || form.Get("Version") != "2011-06-15" {
		s.t.Errorf("fakeaws.STS: unsupported action %q version %q", form.Get("Action"), form.Get("Version"))
		stsError(w, requestID, http.StatusBadRequest, "Sender", "InvalidAction",
			fmt.Sprintf("Could not find operation %s for version %s", form.Get("Action"), form.Get("Version")))
		return
	}

	call := AssumeRoleCall{
		RoleARN:         form.Get("RoleArn"),
		ExternalID:      form.Get("ExternalId"),
		RoleSessionName: form.Get("RoleSessionName"),
	}
	if d := form.Get("DurationSeconds"); d != "" {
		call.DurationSeconds, _ = strconv.Atoi(d)
	}
	status, code, message := s.assumeRole(r, body, &call)
	if code != "" {
		stsError(w, requestID, status, "Sender", code, message)
		return
	}
	s.mu.Lock()
	creds := s.issued[call.IssuedKeyID]
	s.mu.Unlock()

	roleName := call.RoleARN[strings.LastIndex(call.RoleARN, "/")+1:]
	account := arnAccount(call.RoleARN)
	resp := assumeRoleResponse{
		XMLNS: stsNamespace,
		Result: assumeRoleResult{
			AssumedRoleUser: assumedRoleUser{
				Arn:           fmt.Sprintf("arn:aws:sts::%s:assumed-role/%s/%s", account, roleName, call.RoleSessionName),
				AssumedRoleID: "AROAFAKE" + strings.ToUpper(randomHex(6)) + ":" + call.RoleSessionName,
			},
			Credentials: stsCredentials{
				AccessKeyID:     creds.AccessKeyID,
				SecretAccessKey: creds.SecretAccessKey,
				SessionToken:    creds.SessionToken,
				Expiration:      creds.Expires.UTC().Format("2006-01-02T15:04:05.000Z"),
			},
		},
		RequestID: requestID,
	}
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.WriteHeader(http.StatusOK)
	_ = xml.NewEncoder(w).Encode(resp)
}

// assumeRole decides call and records it; it returns the error to send, if any.
func (s *STS) assumeRole(r *http.Request, body []byte, call *AssumeRoleCall) (status int, code, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() {
		call.ErrorCode = code
		s.calls = append(s.calls, *call)
	}()

	sig, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token"
	}
	call.CallerKeyID, call.Region = sig.AccessKeyID, sig.Region
	if sig.Service != "sts" {
		return http.StatusForbidden, "SignatureDoesNotMatch", "Credential should be scoped to correct service: 'sts'."
	}
	if s.caller != nil {
		if sig.AccessKeyID != s.caller.AccessKeyID {
			return http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid."
		}
		if err := verifySignature(r, body, sig, *s.caller); err != nil {
			return http.StatusForbidden, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."
		}
	}
	if f, ok := s.failures.next("AssumeRole"); ok {
		return f.Status, f.Code, f.Message
	}
	if call.RoleARN == "" || call.RoleSessionName == "" {
		return http.StatusBadRequest, "ValidationError", "RoleArn and RoleSessionName are required"
	}
	if call.DurationSeconds != 0 && (call.DurationSeconds < 900 || call.DurationSeconds > 43200) {
		return http.StatusBadRequest, "ValidationError",
			"1 validation error detected: Value at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200"
	}
	role, ok := s.roles[call.RoleARN]
	if !ok || role.externalID != call.ExternalID {
		// STS says the same whether the role is unknown or its trust
		// policy's external ID condition failed.
		return http.StatusForbidden, "AccessDenied",
			"User: arn:aws:iam::000000000000:user/platform is not authorized to perform: sts:AssumeRole on resource: " + call.RoleARN
	}

	lifetime := s.expiry
	if lifetime == 0 {
		lifetime = time.Hour
		if call.DurationSeconds != 0 {
			lifetime = time.Duration(call.DurationSeconds) * time.Second
		}
	}
	s.issuedSeq++
	creds := IssuedCredentials{
		RoleARN: call.RoleARN,
		// 20 characters, like a real key ID: the role's number and a serial.
		AccessKeyID:     fmt.Sprintf("ASIA%04dFAKE%08d", role.index, s.issuedSeq),
		SecretAccessKey: randomHex(20),
		SessionToken:    "FakeSessionToken/" + randomHex(32),
		Expires:         time.Now().Add(lifetime),
	}
	s.issued[creds.AccessKeyID] = creds
	call.IssuedKeyID = creds.AccessKeyID
	return http.StatusOK, "", ""
}

// arnAccount returns the account field of an ARN, or twelve zeros.
func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[4] != "" {
		return parts[4]
	}
	return "000000000000"
}

type assumeRoleResponse struct {
	XMLName   xml.Name         `xml:"AssumeRoleResponse"`
	XMLNS     string           `xml:"xmlns,attr"`
	Result    assumeRoleResult `xml:"AssumeRoleResult"`
	RequestID string           `xml:"ResponseMetadata>RequestId"`
}

type assumeRoleResult struct {
	AssumedRoleUser assumedRoleUser `xml:"AssumedRoleUser"`
	Credentials     stsCredentials  `xml:"Credentials"`
}

type assumedRoleUser struct {
	Arn           string `xml:"Arn"`
	AssumedRoleID string `xml:"AssumedRoleId"`
}

type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type stsErrorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	XMLNS     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

// stsError writes an error in the Query protocol's XML error format.
func stsError(w http.ResponseWriter, requestID string, status int, typ, code, message string) {
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.WriteHeader(status)
	_ = xml.NewEncoder(w).Encode(stsErrorResponse{
		XMLNS: stsNamespace, Type: typ, Code: code, Message: message, RequestID: requestID,
	})
}

// awsCredentials returns c as the SDK's credentials.
func awsCredentials(c IssuedCredentials) aws.Credentials {
	return aws.Credentials{
		AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken,
		CanExpire: true, Expires: c.Expires,
	}
}
