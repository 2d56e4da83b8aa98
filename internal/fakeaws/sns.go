package fakeaws

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// SNS is a local Amazon SNS as an HTTPS subscriber meets it, and as the
// SNS API (at APIURL) serves CreateTopic, GetTopicAttributes,
// SetTopicAttributes, Subscribe and ListSubscriptionsByTopic. It signs
// messages the way SNS does (SignatureVersion 1, SHA1withRSA, or 2,
// SHA256withRSA, over the message's canonical string), serves its signing
// certificate over TLS at SigningCertURL, and records the subscription
// confirmations that visit SubscribeURL. The key and the certificate are
// made afresh for each fake; the TLS server has httptest's certificate,
// which Client trusts.
type SNS struct {
	// URL is the HTTPS base of the fake (the certificate and SubscribeURL).
	URL string

	srv     *httptest.Server
	key     *rsa.PrivateKey
	certPEM []byte
	certURL string

	// APIURL is the endpoint of the fake's SNS API (CreateTopic, Subscribe,
	// ...) to give the SDK client (o.BaseEndpoint); see snsapi.go.
	APIURL string

	t        testing.TB
	failures failures

	mu          sync.Mutex
	confirmed   []string // topic ARNs confirmed
	certGets    int
	topics      map[string]*SNSTopic
	apiWrites   int
	apiRequests []Request
	deliveries  []SNSDelivery
	sts         *STS
}

// SNSMessage is an SNS message as delivered to an HTTPS endpoint.
type SNSMessage struct {
	Type             string
	MessageId        string
	Token            string `json:",omitempty"`
	TopicArn         string
	Subject          string `json:",omitempty"`
	Message          string
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string
	SubscribeURL     string `json:",omitempty"`
	UnsubscribeURL   string `json:",omitempty"`
}

// NewSNS starts a fake SNS for the duration of t.
func NewSNS(t testing.TB) *SNS {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	s := &SNS{t: t, key: key, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		topics: map[string]*SNSTopic{}}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.srv.Close)
	api := httptest.NewServer(http.HandlerFunc(s.serveAPI))
	t.Cleanup(api.Close)
	s.APIURL = api.URL
	s.URL = s.srv.URL
	s.certURL = s.URL + "/SimpleNotificationService-" + randomHex(16) + ".pem"
	return s
}

// Client returns an HTTP client that trusts the fake's TLS certificate.
func (s *SNS) Client() *http.Client { return s.srv.Client() }

// CertURL is the SigningCertURL of the fake's messages.
func (s *SNS) CertURL() string { return s.certURL }

// CertFetches returns how often the signing certificate was fetched.
func (s *SNS) CertFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.certGets
}

// Confirmed returns the topics whose subscription was confirmed through
// SubscribeURL, in order.
func (s *SNS) Confirmed() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.confirmed)
}

// Notification returns a signed Notification of topicARN, as JSON.
// signatureVersion is "1" or "2".
func (s *SNS) Notification(topicARN, subject, message, signatureVersion string) []byte {
	m := SNSMessage{
		Type: "Notification", MessageId: newUUID(), TopicArn: topicARN, Subject: subject, Message: message,
		Timestamp:      time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		UnsubscribeURL: s.URL + "/?Action=Unsubscribe&SubscriptionArn=" + url.QueryEscape(topicARN+":"+newUUID()),
	}
	return s.Marshal(s.Sign(m, signatureVersion))
}

// SubscriptionConfirmation returns a signed SubscriptionConfirmation of
// topicARN, as JSON.
func (s *SNS) SubscriptionConfirmation(topicARN, signatureVersion string) []byte {
	return s.subscriptionConfirmation(topicARN, randomHex(32), signatureVersion)
}

func (s *SNS) subscriptionConfirmation(topicARN, token, signatureVersion string) []byte {
	m := SNSMessage{
		Type: "SubscriptionConfirmation", MessageId: newUUID(), Token: token, TopicArn: topicARN,
		Message:   "You have chosen to subscribe to the topic " + topicARN + ".\nTo confirm the subscription, visit the SubscribeURL included in this message.",
		Timestamp: time.Now().UTC().Format("2006-01-02T15:04:05.000Z"),
		SubscribeURL: s.URL + "/?Action=ConfirmSubscription&TopicArn=" + url.QueryEscape(topicARN) +
			"&Token=" + token,
	}
	return s.Marshal(s.Sign(m, signatureVersion))
}

// Sign sets m's SignatureVersion, SigningCertURL and Signature.
func (s *SNS) Sign(m SNSMessage, signatureVersion string) SNSMessage {
	m.SignatureVersion = signatureVersion
	m.SigningCertURL = s.certURL
	var digest []byte
	var hash crypto.Hash
	switch signatureVersion {
	case "1":
		sum := sha1.Sum([]byte(snsStringToSign(m)))
		digest, hash = sum[:], crypto.SHA1
	default:
		sum := sha256.Sum256([]byte(snsStringToSign(m)))
		digest, hash = sum[:], crypto.SHA256
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, hash, digest)
	if err != nil {
		panic(err)
	}
	m.Signature = base64.StdEncoding.EncodeToString(sig)
	return m
}

// Marshal returns m as the JSON body SNS posts.
func (s *SNS) Marshal(m SNSMessage) []byte {
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// snsStringToSign is the canonical string SNS signs: the message's fields,
// in this order, each as "Name\nvalue\n", Subject only when present.
func snsStringToSign(m SNSMessage) string {
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k + "\n" + v + "\n") }
	add("Message", m.Message)
	add("MessageId", m.MessageId)
	if m.Type == "Notification" {
		if m.Subject != "" {
			add("Subject", m.Subject)
		}
	} else {
		add("SubscribeURL", m.SubscribeURL)
	}
	add("Timestamp", m.Timestamp)
	if m.Type != "Notification" {
		add("Token", m.Token)
	}
	add("TopicArn", m.TopicArn)
	add("Type", m.Type)
	return b.String()
}

func (s *SNS) serve(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && s.URL+r.URL.Path == s.certURL:
		s.mu.Lock()
		s.certGets++
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-pem-file")
		_, _ = w.Write(s.certPEM)
	case r.Method == http.MethodGet && r.URL.Path == "/" && r.URL.Query().Get("Action") == "ConfirmSubscription":
		s.mu.Lock()
		s.confirmed = append(s.confirmed, r.URL.Query().Get("TopicArn"))
		s.confirm(r.URL.Query().Get("TopicArn"), r.URL.Query().Get("Token"))
		s.mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		_, _ = w.Write([]byte(`<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/">` +
			`<ConfirmSubscriptionResult><SubscriptionArn>` + r.URL.Query().Get("TopicArn") + `:` + newUUID() +
			`</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>`))
	default:
		http.NotFound(w, r)
	}
}

// SESReceipt describes an email SES received and stored with an S3 action,
// for ReceiptNotification.
type SESReceipt struct {
	MessageID  string // SES's message ID (the object key's last part)
	Bucket     string
	ObjectKey  string
	TopicARN   string
	Source     string   // the envelope sender
	Recipients []string // the envelope recipients
	From, To   []string // commonHeaders
	Subject    string
}

// ReceiptNotification returns the JSON that SES publishes to SNS for a
// receipt rule's S3 action (notificationType "Received").
func ReceiptNotification(r SESReceipt) string {
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	pass := map[string]string{"status": "PASS"}
	n := map[string]any{
		"notificationType": "Received",
		"receipt": map[string]any{
			"timestamp": now, "processingTimeMillis": 420, "recipients": r.Recipients,
			"spamVerdict": pass, "virusVerdict": pass, "spfVerdict": pass, "dkimVerdict": pass, "dmarcVerdict": pass,
			"action": map[string]string{
				"type": "S3", "topicArn": r.TopicARN, "bucketName": r.Bucket, "objectKey": r.ObjectKey,
			},
		},
		"mail": map[string]any{
			"timestamp": now, "source": r.Source, "messageId": r.MessageID, "destination": r.Recipients,
			"headersTruncated": false,
			"headers":          []map[string]string{{"name": "Subject", "value": r.Subject}},
			"commonHeaders": map[string]any{
				"returnPath": r.Source, "from": r.From, "to": r.To, "subject": r.Subject,
				"messageId": "<" + r.MessageID + "@example.com>",
			},
		},
	}
	b, err := json.Marshal(n)
	if err != nil {
		panic(err)
	}
	return string(b)
}
