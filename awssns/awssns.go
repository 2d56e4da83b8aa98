// Package awssns authenticates what Amazon SNS posts to an HTTPS
// subscriber: it reads the message, checks its signature against the
// signing certificate SNS names (fetched from SNS's own hosts only, and
// cached), and confirms subscriptions by visiting their SubscribeURL. The
// email and Marketplace endpoints both take their messages through it.
package awssns

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Options configures how SNS messages are authenticated. The zero value
// is production's.
type Options struct {
	// AllowURL reports whether a SigningCertURL or SubscribeURL may be
	// fetched. The scheme must be https whatever it says. Nil: only SNS's
	// own hosts, sns.<region>.amazonaws.com (or .amazonaws.com.cn), on the
	// default port.
	AllowURL func(*url.URL) bool
	// HTTPClient fetches signing certificates and visits SubscribeURLs;
	// nil: a client with a 10 s timeout.
	HTTPClient *http.Client
}

// snsHostRE matches SNS's own hosts.
var snsHostRE = regexp.MustCompile(`^sns\.[a-z]{2}(-[a-z]+)+-[0-9]{1,2}\.amazonaws\.com(\.cn)?$`)

// allowSNSHost is the production AllowURL.
func allowSNSHost(u *url.URL) bool {
	return u.Port() == "" && u.User == nil && snsHostRE.MatchString(u.Hostname())
}

// MaxBody bounds what an SNS endpoint reads: SNS messages are at most
// 256 KiB, plus the envelope.
const MaxBody = 1 << 20

// Limits of the certificate cache.
const (
	maxCertBytes  = 64 << 10
	maxCertCached = 32
)

// Message is an SNS message as posted to an HTTPS subscriber.
type Message struct {
	Type             string
	MessageID        string `json:"MessageId"`
	Token            string
	TopicArn         string
	Subject          *string
	Message          string
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string
	SubscribeURL     string
}

// stringToSign is the canonical form SNS signs: each field as
// "Name\nvalue\n", in this order, for a notification Message, MessageId,
// Subject (when there is one), Timestamp, TopicArn and Type; for a
// (un)subscription confirmation Message, MessageId, SubscribeURL,
// Timestamp, Token, TopicArn and Type.
func (m *Message) stringToSign() (string, error) {
	var b strings.Builder
	add := func(k, v string) {
		b.WriteString(k)
		b.WriteByte('\n')
		b.WriteString(v)
		b.WriteByte('\n')
	}
	switch m.Type {
	case "Notification":
		add("Message", m.Message)
		add("MessageId", m.MessageID)
		if m.Subject != nil {
			add("Subject", *m.Subject)
		}
		add("Timestamp", m.Timestamp)
		add("TopicArn", m.TopicArn)
		add("Type", m.Type)
	case "SubscriptionConfirmation", "UnsubscribeConfirmation":
		add("Message", m.Message)
		add("MessageId", m.MessageID)
		add("SubscribeURL", m.SubscribeURL)
		add("Timestamp", m.Timestamp)
		add("Token", m.Token)
		add("TopicArn", m.TopicArn)
		add("Type", m.Type)
	default:
		return "", fmt.Errorf("unknown message type %q", m.Type)
	}
	return b.String(), nil
}

// Verifier checks SNS message signatures, caching the certificates.
type Verifier struct {
	allow  func(*url.URL) bool
	client *http.Client
	now    func() time.Time

	mu    sync.Mutex
	certs map[string]*x509.Certificate
}

// NewVerifier returns the verifier of o, which judges certificates'
// validity at now (time.Now when nil).
func NewVerifier(o Options, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	v := &Verifier{allow: o.AllowURL, client: o.HTTPClient, now: now, certs: map[string]*x509.Certificate{}}
	if v.allow == nil {
		v.allow = allowSNSHost
	}
	if v.client == nil {
		v.client = &http.Client{Timeout: 10 * time.Second}
	}
	return v
}

// ErrForeignURL is CheckURL's (and Confirm's) answer for a URL that is not
// one of SNS's.
var ErrForeignURL = errors.New("not one of SNS's URLs")

// CheckURL parses raw and accepts it only as an HTTPS URL that the
// options allow.
func (v *Verifier) CheckURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "https" || u.Host == "" || !v.allow(u) {
		return nil, fmt.Errorf("%w: %q", ErrForeignURL, raw)
	}
	return u, nil
}

// Verify checks m's signature with the certificate at its SigningCertURL.
func (v *Verifier) Verify(ctx context.Context, m *Message) error {
	var hash crypto.Hash
	switch m.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	default:
		return fmt.Errorf("unknown signature version %q", m.SignatureVersion)
	}
	u, err := v.CheckURL(m.SigningCertURL)
	if err != nil {
		return err
	}
	if !strings.HasSuffix(u.Path, ".pem") {
		return fmt.Errorf("%q is not a certificate URL", m.SigningCertURL)
	}
	signed, err := m.stringToSign()
	if err != nil {
		return err
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	cert, err := v.cert(ctx, u)
	if err != nil {
		return err
	}
	key, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return errors.New("the signing certificate has no RSA key")
	}
	var digest []byte
	if hash == crypto.SHA1 {
		sum := sha1.Sum([]byte(signed))
		digest = sum[:]
	} else {
		sum := sha256.Sum256([]byte(signed))
		digest = sum[:]
	}
	if err := rsa.VerifyPKCS1v15(key, hash, digest, sig); err != nil {
		return errors.New("the signature does not match")
	}
	return nil
}

// cert returns the certificate at u, fetched once and then cached while
// it is valid.
func (v *Verifier) cert(ctx context.Context, u *url.URL) (*x509.Certificate, error) {
	now := v.now()
	key := u.String()
	v.mu.Lock()
	cert, ok := v.certs[key]
	v.mu.Unlock()
	if ok && now.Before(cert.NotAfter) {
		return cert, nil
	}

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, key, nil)
	if err != nil {
		return nil, err
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetching the signing certificate: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetching the signing certificate: HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxCertBytes))
	if err != nil {
		return nil, fmt.Errorf("fetching the signing certificate: %w", err)
	}
	block, _ := pem.Decode(body)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("the signing certificate is not a PEM certificate")
	}
	cert, err = x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("the signing certificate: %w", err)
	}
	if now.Before(cert.NotBefore) || !now.Before(cert.NotAfter) {
		return nil, errors.New("the signing certificate is not valid now")
	}
	v.mu.Lock()
	if len(v.certs) >= maxCertCached {
		clear(v.certs)
	}
	v.certs[key] = cert
	v.mu.Unlock()
	return cert, nil
}

// ReadError is a message ReadMessage refused, with the HTTP status to
// answer.
type ReadError struct {
	Status int
	Err    error
}

func (e *ReadError) Error() string { return e.Err.Error() }
func (e *ReadError) Unwrap() error { return e.Err }

// ReadMessage reads the SNS message r posts and checks its signature. A
// refused one is a *ReadError: 400 unreadable, 413 too large, 403 not
// signed by SNS.
func (v *Verifier) ReadMessage(r *http.Request) (*Message, error) {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return nil, &ReadError{http.StatusBadRequest, fmt.Errorf("unreadable body: %w", err)}
	}
	if len(body) > MaxBody {
		return nil, &ReadError{http.StatusRequestEntityTooLarge, errors.New("too large")}
	}
	var m Message
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, &ReadError{http.StatusBadRequest, errors.New("not an SNS message")}
	}
	if err := v.Verify(r.Context(), &m); err != nil {
		return &m, &ReadError{http.StatusForbidden, fmt.Errorf("invalid signature: %w", err)}
	}
	return &m, nil
}

// Confirm confirms the subscription m asks for by visiting its
// SubscribeURL, which must be one of SNS's.
func (v *Verifier) Confirm(ctx context.Context, m *Message) error {
	u, err := v.CheckURL(m.SubscribeURL)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return fmt.Errorf("confirming the subscription: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("confirming the subscription: HTTP %d", resp.StatusCode)
	}
	return nil
}
