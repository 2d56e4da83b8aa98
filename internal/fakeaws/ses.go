package fakeaws

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// OpSendEmail is the SESv2 operation the fake SES serves.
const OpSendEmail = "SendEmail"

// SES is a local Amazon SES (API v2) serving SendEmail over REST-JSON:
//
//	SendEmail  POST /v2/email/outbound-emails
//
// It accepts raw content only (Content.Raw.Data, which the SDK
// base64-encodes), answers a fresh MessageId, and records what it was asked
// to send. Errors carry the X-Amzn-ErrorType header and a {"message": ...}
// body, as SES's do; queue them with Fail, e.g. Failure{Status: 400, Code:
// "MessageRejected"}.
type SES struct {
	// URL is the endpoint to give the SDK client (o.BaseEndpoint).
	URL string

	t        testing.TB
	failures failures

	mu       sync.Mutex
	sent     []SentEmail
	requests []Request
	sts      *STS
}

// SentEmail is one SendEmail request the fake accepted.
type SentEmail struct {
	MessageID                   string
	FromEmailAddress            string
	FromEmailAddressIdentityArn string
	To, Cc, Bcc                 []string // the Destination
	Raw                         []byte   // the MIME message, decoded
	AccessKeyID                 string
	Region                      string
}

// NewSES starts a fake SES for the duration of t.
func NewSES(t testing.TB) *SES {
	t.Helper()
	s := &SES{t: t}
	srv := httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// TrustSTS makes the fake accept only requests signed with unexpired
// credentials that sts issued, and verify each signature.
func (s *SES) TrustSTS(sts *STS) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sts = sts
}

// Fail makes SendEmail requests fail with f. Failures queue up: the first
// is used until its Times run out.
func (s *SES) Fail(f Failure) { s.failures.add(OpSendEmail, f) }

// ClearFailures removes every queued failure.
func (s *SES) ClearFailures() { s.failures.clear() }

// Sent returns the emails accepted so far, in order.
func (s *SES) Sent() []SentEmail {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.sent)
}

// Requests returns every request received so far, in order.
func (s *SES) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

type sesError struct {
	status  int
	code    string
	message string
}

func (s *SES) serve(w http.ResponseWriter, r *http.Request) {
	requestID := newUUID()
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.Header().Set("Content-Type", "application/json")
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<20))
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body,
		SessionToken: r.Header.Get("X-Amz-Security-Token")}
	if r.Method == http.MethodPost && r.URL.Path == "/v2/email/outbound-emails" {
		rec.Operation = OpSendEmail
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	defer func() { s.requests = append(s.requests, rec) }()

	var out any
	var serr *sesError
	switch {
	case err != nil:
		serr = &sesError{http.StatusBadRequest, "BadRequestException", "unreadable body"}
	case rec.Operation == "":
		s.t.Errorf("fakeaws.SES: no operation serves %s %s", r.Method, r.URL.Path)
		serr = &sesError{http.StatusNotFound, "NotFoundException", "no such operation"}
	default:
		serr = s.authenticate(r, body, &rec)
	}
	if serr == nil {
		if f, ok := s.failures.next(OpSendEmail); ok {
			serr = &sesError{f.Status, f.Code, f.Message}
		}
	}
	if serr == nil {
		out, serr = s.sendEmail(body, &rec)
	}
	if serr != nil {
		rec.Status, rec.ErrorCode = serr.status, serr.code
		w.Header().Set("X-Amzn-Errortype", serr.code)
		w.WriteHeader(serr.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": serr.message})
		return
	}
	rec.Status = http.StatusOK
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(out)
}

// authenticate checks r's signature, as configured; s.mu must be held.
func (s *SES) authenticate(r *http.Request, body []byte, rec *Request) *sesError {
	sig, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return &sesError{http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	rec.AccessKeyID, rec.Region = sig.AccessKeyID, sig.Region
	if sig.Service != "ses" {
		return &sesError{http.StatusForbidden, "InvalidSignatureException", "Credential should be scoped to correct service: 'ses'."}
	}
	if s.sts == nil {
		return nil
	}
	creds, ok := s.sts.Lookup(sig.AccessKeyID)
	if !ok {
		return &sesError{http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid."}
	}
	if !time.Now().Before(creds.Expires) {
		return &sesError{http.StatusForbidden, "ExpiredTokenException", "The security token included in the request is expired"}
	}
	if err := verifySignature(r, body, sig, awsCredentials(creds)); err != nil {
		return &sesError{http.StatusForbidden, "InvalidSignatureException",
			"The request signature we calculated does not match the signature you provided."}
	}
	return nil
}

// sendEmail serves SendEmail; s.mu must be held.
func (s *SES) sendEmail(body []byte, rec *Request) (any, *sesError) {
	var in struct {
		FromEmailAddress            string
		FromEmailAddressIdentityArn string
		Destination                 *struct{ ToAddresses, CcAddresses, BccAddresses []string }
		Content                     struct {
			Raw *struct{ Data []byte } // base64 in JSON
		}
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, &sesError{http.StatusBadRequest, "BadRequestException", "malformed body"}
	}
	if in.Content.Raw == nil || len(in.Content.Raw.Data) == 0 {
		return nil, &sesError{http.StatusBadRequest, "BadRequestException", "the fake serves raw content only"}
	}
	if len(in.Content.Raw.Data) > 40<<20 {
		return nil, &sesError{http.StatusBadRequest, "MessageRejected", "Message length is more than 40 MB"}
	}
	sent := SentEmail{
		MessageID:                   "0100" + randomHex(8) + "-" + newUUID() + "-000000",
		FromEmailAddress:            in.FromEmailAddress,
		FromEmailAddressIdentityArn: in.FromEmailAddressIdentityArn,
		Raw:                         in.Content.Raw.Data,
		AccessKeyID:                 rec.AccessKeyID,
		Region:                      rec.Region,
	}
	if d := in.Destination; d != nil {
		sent.To, sent.Cc, sent.Bcc = d.ToAddresses, d.CcAddresses, d.BccAddresses
	}
	s.sent = append(s.sent, sent)
	return struct{ MessageId string }{sent.MessageID}, nil
}
