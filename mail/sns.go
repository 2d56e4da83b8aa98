package mail

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

	"switchboard/apierror"
	"switchboard/apierror/classify"
	"switchboard/connectaws/arn"
	"switchboard/ent"
	"switchboard/instances"
)

// SNSOptions configures how SNS messages are authenticated. The zero value
// is production's.
type SNSOptions struct {
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

// Limits of the SNS endpoint.
const (
	maxSNSBody    = 1 << 20 // SNS messages are at most 256 KiB, plus the envelope
	maxCertBytes  = 64 << 10
	maxCertCached = 32
)

// snsMessage is an SNS message as posted to an HTTPS subscriber.
type snsMessage struct {
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
func (m *snsMessage) stringToSign() (string, error) {
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

// snsVerifier checks SNS message signatures, caching the certificates.
type snsVerifier struct {
	allow  func(*url.URL) bool
	client *http.Client
	now    func() time.Time

	mu    sync.Mutex
	certs map[string]*x509.Certificate
}

func newSNSVerifier(o SNSOptions, now func() time.Time) *snsVerifier {
	v := &snsVerifier{allow: o.AllowURL, client: o.HTTPClient, now: now, certs: map[string]*x509.Certificate{}}
	if v.allow == nil {
		v.allow = allowSNSHost
	}
	if v.client == nil {
		v.client = &http.Client{Timeout: 10 * time.Second}
	}
	return v
}

// checkURL parses raw and accepts it only as an HTTPS URL that the
// options allow.
func (v *snsVerifier) checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "https" || u.Host == "" || !v.allow(u) {
		return nil, fmt.Errorf("%q is not one of SNS's URLs", raw)
	}
	return u, nil
}

// verify checks m's signature with the certificate at its SigningCertURL.
func (v *snsVerifier) verify(ctx context.Context, m *snsMessage) error {
	var hash crypto.Hash
	switch m.SignatureVersion {
	case "1":
		hash = crypto.SHA1
	case "2":
		hash = crypto.SHA256
	default:
		return fmt.Errorf("unknown signature version %q", m.SignatureVersion)
	}
	u, err := v.checkURL(m.SigningCertURL)
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
func (v *snsVerifier) cert(ctx context.Context, u *url.URL) (*x509.Certificate, error) {
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

// sesNotification is what SES publishes about an email it received.
type sesNotification struct {
	NotificationType string `json:"notificationType"`
	Receipt          struct {
		Recipients []string `json:"recipients"`
		Action     struct {
			Type       string `json:"type"`
			BucketName string `json:"bucketName"`
			ObjectKey  string `json:"objectKey"`
			TopicArn   string `json:"topicArn"`
		} `json:"action"`
	} `json:"receipt"`
	Mail struct {
		MessageID string `json:"messageId"`
	} `json:"mail"`
}

// SNSHandler serves the HTTPS endpoint that an SNS topic of a tenant's
// account delivers SES receipt notifications to. Every message must carry
// a valid SNS signature (403 otherwise). A SubscriptionConfirmation is
// confirmed, by visiting its SubscribeURL, when the topic's account is the
// account of an instance with the email module. A Notification of a
// received email, stored by an S3 action in a content bucket, is handed to
// Receive as the tenant that owns the bucket, provided the topic is in that
// tenant's account.
//
// Processing runs under ctx (the server's lifetime), not the request's, and
// is bounded by Options.ProcessTimeout, so that SNS giving up on a slow
// answer does not cut it short; a retry then finds the work done. Answers:
// 200 done (also for a malformed message, recorded as FAILED, and for
// notifications that are not about a received email), 4xx for what a retry
// cannot mend, 5xx for what it may (S3 or Connect failing): SNS retries
// those.
func (s *Service) SNSHandler(ctx context.Context) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, maxSNSBody+1))
		if err != nil {
			http.Error(w, "unreadable body", http.StatusBadRequest)
			return
		}
		if len(body) > maxSNSBody {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		var m snsMessage
		if err := json.Unmarshal(body, &m); err != nil {
			http.Error(w, "not an SNS message", http.StatusBadRequest)
			return
		}
		if err := s.sns.verify(r.Context(), &m); err != nil {
			s.log.WarnContext(r.Context(), "mail: SNS message refused", "topic", m.TopicArn, "type", m.Type, "err", err)
			http.Error(w, "invalid signature", http.StatusForbidden)
			return
		}
		switch m.Type {
		case "SubscriptionConfirmation":
			s.confirmSubscription(r.Context(), w, &m)
		case "UnsubscribeConfirmation":
			s.log.InfoContext(r.Context(), "mail: SNS subscription ended", "topic", m.TopicArn)
			w.WriteHeader(http.StatusOK)
		case "Notification":
			s.notification(ctx, w, r, &m)
		default:
			http.Error(w, "unknown message type", http.StatusBadRequest)
		}
	})
}

// confirmSubscription confirms a subscription to a topic of a tenant's
// account.
func (s *Service) confirmSubscription(ctx context.Context, w http.ResponseWriter, m *snsMessage) {
	account := arnAccount(m.TopicArn, "sns")
	known, err := s.accountHasEmail(ctx, account)
	if err != nil {
		s.log.ErrorContext(ctx, "mail: looking up the topic's account", "topic", m.TopicArn, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	if !known {
		s.log.WarnContext(ctx, "mail: subscription of a topic of no tenant refused", "topic", m.TopicArn)
		http.Error(w, "unknown topic", http.StatusForbidden)
		return
	}
	u, err := s.sns.checkURL(m.SubscribeURL)
	if err != nil {
		s.log.WarnContext(ctx, "mail: subscription refused", "topic", m.TopicArn, "err", err)
		http.Error(w, "invalid SubscribeURL", http.StatusForbidden)
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		http.Error(w, "invalid SubscribeURL", http.StatusBadRequest)
		return
	}
	resp, err := s.sns.client.Do(req)
	if err != nil {
		s.log.ErrorContext(ctx, "mail: confirming the subscription", "topic", m.TopicArn, "err", err)
		http.Error(w, "could not confirm", http.StatusBadGateway)
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.log.ErrorContext(ctx, "mail: confirming the subscription", "topic", m.TopicArn, "status", resp.StatusCode)
		http.Error(w, "could not confirm", http.StatusBadGateway)
		return
	}
	s.log.InfoContext(ctx, "mail: SNS subscription confirmed", "topic", m.TopicArn)
	w.WriteHeader(http.StatusOK)
}

// notification takes in the email an SES notification announces.
func (s *Service) notification(base context.Context, w http.ResponseWriter, r *http.Request, m *snsMessage) {
	ctx := r.Context()
	var n sesNotification
	if err := json.Unmarshal([]byte(m.Message), &n); err != nil {
		s.log.WarnContext(ctx, "mail: SNS notification is not from SES", "topic", m.TopicArn)
		http.Error(w, "not an SES notification", http.StatusBadRequest)
		return
	}
	a := n.Receipt.Action
	if n.NotificationType != "Received" || a.Type != "S3" || a.BucketName == "" || a.ObjectKey == "" {
		s.log.InfoContext(ctx, "mail: SES notification ignored", "topic", m.TopicArn,
			"notificationType", n.NotificationType, "action", a.Type)
		w.WriteHeader(http.StatusOK)
		return
	}
	inst, err := s.instanceForBucket(ctx, a.BucketName)
	if err != nil {
		s.log.WarnContext(ctx, "mail: notification for no tenant's bucket", "topic", m.TopicArn, "bucket", a.BucketName, "err", err)
		http.Error(w, "unknown bucket", http.StatusNotFound)
		return
	}
	if account := arnAccount(m.TopicArn, "sns"); account == "" || account != arnAccount(inst.InstanceArn, "connect") ||
		(a.TopicArn != "" && a.TopicArn != m.TopicArn) {
		s.log.WarnContext(ctx, "mail: notification from a topic outside the bucket's tenant refused",
			"topic", m.TopicArn, "bucket", a.BucketName, "tenant", inst.TenantID)
		http.Error(w, "topic and bucket belong to different accounts", http.StatusForbidden)
		return
	}

	select {
	case s.sem <- struct{}{}:
		defer func() { <-s.sem }()
	case <-ctx.Done():
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	}
	pctx, cancel := context.WithTimeout(systemContext(base, inst.TenantID), s.processTimeout)
	defer cancel()
	e, err := s.receive(pctx, inst, a.BucketName, a.ObjectKey, n.Receipt.Recipients)
	if err != nil {
		code, _ := classify.Of(err)
		status := http.StatusBadGateway
		switch code {
		case apierror.NotFound:
			status = http.StatusNotFound
		case apierror.BadUserInput, apierror.Forbidden:
			status = http.StatusBadRequest
		case apierror.Internal:
			status = http.StatusInternalServerError
		}
		s.log.ErrorContext(ctx, "mail: inbound email not taken in", "tenant", inst.TenantID,
			"bucket", a.BucketName, "key", a.ObjectKey, "status", status, "err", err)
		http.Error(w, http.StatusText(status), status)
		return
	}
	s.log.InfoContext(ctx, "mail: inbound email taken in", "tenant", inst.TenantID, "email", e.ID, "state", e.State)
	w.WriteHeader(http.StatusOK)
}

// instanceForBucket finds the instance, with the email module, whose
// content bucket is bucket. It reads across tenants: the bucket name is all
// a notification says.
func (s *Service) instanceForBucket(ctx context.Context, bucket string) (*ent.Instance, error) {
	tenant, ok := s.tenantOfBucket(bucket)
	if !ok {
		return nil, errors.New("not a content bucket's name")
	}
	inst, err := instances.ForTenant(ctx, s.client, tenant)
	if err != nil {
		return nil, err
	}
	if content, _ := s.BucketNames(inst.TenantID, inst.Alias); content != bucket || !Enabled(inst) {
		return nil, errors.New("not the tenant's content bucket")
	}
	return inst, nil
}

// accountHasEmail reports whether an instance with the email module is in
// the AWS account. It reads across tenants.
func (s *Service) accountHasEmail(ctx context.Context, account string) (bool, error) {
	if account == "" {
		return false, nil
	}
	insts, err := instances.InAccount(ctx, s.client, account)
	if err != nil {
		return false, err
	}
	for _, inst := range insts {
		if Enabled(inst) {
			return true, nil
		}
	}
	return false, nil
}

// arnAccount returns the account of an ARN of service, or "".
func arnAccount(s, service string) string {
	a, err := arn.Parse(s)
	if err != nil || a.Service != service {
		return ""
	}
	return a.Account
}
