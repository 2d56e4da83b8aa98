package mail_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"switchboard/apierror"
	"switchboard/apierror/classify"
	"switchboard/awssns"
	"switchboard/connectaws"
	"switchboard/ent"
	"switchboard/ent/email"
	"switchboard/gid"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
	"switchboard/mail"
	"switchboard/viewer"
)

// platform is switchboard's own AWS identity: it may only assume roles.
var platform = aws.Credentials{AccessKeyID: "AKIAPLATFORM00000001", SecretAccessKey: "platform-secret-key"}

// env is a store, fake AWS (STS, S3, SES, Connect, SNS) and the mail
// service over them, with two tenants, each with its instance in its own
// account and region, its buckets, and one routed address.
type env struct {
	client  *ent.Client
	sts     *fakeaws.STS
	s3      *fakeaws.S3
	ses     *fakeaws.SES
	connect *fakeaws.Connect
	sns     *fakeaws.SNS
	svc     *mail.Service
	a, b    *tenant
}

// tenant is one tenant of the env.
type tenant struct {
	id                   gid.ID
	inst                 *ent.Instance
	instanceID           string
	account              string
	role                 string
	topic                string
	address              *ent.EmailAddress
	admin, agent         context.Context
	content, attachments string
}

// newEnv builds an env on backend b; edit adjusts the service's options
// and those of the AWS clients it is given.
func newEnv(t *testing.T, b testenv.Backend, edit func(*mail.Options, *connectaws.Options)) *env {
	t.Helper()
	st := testenv.OpenStore(t, b.URL(t))
	e := &env{
		client:  st.Client,
		sts:     fakeaws.NewSTS(t),
		s3:      fakeaws.NewS3(t),
		ses:     fakeaws.NewSES(t),
		connect: fakeaws.NewConnect(t),
		sns:     fakeaws.NewSNS(t),
	}
	e.sts.TrustCaller(platform)
	e.connect.TrustSTS(e.sts)
	e.s3.TrustSTS(e.sts)
	e.ses.TrustSTS(e.sts)

	awsOpts := connectaws.Options{
		BaseCredentials:  credentials.StaticCredentialsProvider{Value: platform},
		STSEndpoint:      e.sts.URL,
		S3Endpoint:       e.s3.URL,
		SESEndpoint:      e.ses.URL,
		ConnectEndpoint:  e.connect.URL,
		RetryMaxAttempts: 2,
		RetryMaxBackoff:  5 * time.Millisecond,
	}
	snsHost := mustURL(t, e.sns.URL).Host
	opts := mail.Options{
		Client: st.Client,
		Logger: slog.New(slog.NewTextHandler(testLog{t}, nil)),
		SNS: awssns.Options{
			AllowURL:   func(u *url.URL) bool { return u.Host == snsHost },
			HTTPClient: e.sns.Client(),
		},
	}
	if edit != nil {
		edit(&opts, &awsOpts)
	}
	clients, err := connectaws.New(context.Background(), awsOpts)
	if err != nil {
		t.Fatal(err)
	}
	opts.AWS = clients
	e.svc, err = mail.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	e.a = e.newTenant(t, "Acme", "111111111111", "eu-west-2", "acme-support", "support@acme.example")
	e.b = e.newTenant(t, "Globex", "222222222222", "us-east-1", "globex", "help@globex.example")

	t.Cleanup(func() {
		for _, w := range e.s3.Writes() {
			if w.ServerSideEncryption != "AES256" {
				t.Errorf("%s %s/%s without SSE-S3 (x-amz-server-side-encryption %q)", w.Operation, w.Bucket, w.Key, w.ServerSideEncryption)
			}
		}
	})
	return e
}

// newTenant makes a tenant with an instance (email module on) in account
// and region, its buckets, and address routed to the flow "flow-<alias>".
func (e *env) newTenant(t *testing.T, name, account, region, alias, address string) *tenant {
	t.Helper()
	op := viewer.NewContext(context.Background(), &viewer.Viewer{Email: "op@switchboard", Role: viewer.RoleOperator})
	tn, err := e.client.Tenant.Create().SetName(name).Save(op)
	if err != nil {
		t.Fatal(err)
	}
	x := &tenant{
		id:         tn.ID,
		account:    account,
		instanceID: fmt.Sprintf("%08d-0000-4000-8000-%s", len(name), account),
		role:       "arn:aws:iam::" + account + ":role/SwitchboardAccess",
		topic:      "arn:aws:sns:" + region + ":" + account + ":inbound-email",
		admin:      viewer.NewContext(context.Background(), &viewer.Viewer{Email: "admin@" + alias, Role: viewer.RoleAdmin, TenantID: tn.ID}),
		agent:      viewer.NewContext(context.Background(), &viewer.Viewer{Email: "agent@" + alias, Role: viewer.RoleAgent, TenantID: tn.ID}),
	}
	externalID := "external-id-of-" + alias
	e.sts.AllowRole(x.role, externalID)
	x.inst, err = e.client.Instance.Create().
		SetInstanceArn("arn:aws:connect:" + region + ":" + account + ":instance/" + x.instanceID).
		SetAlias(alias).SetRegion(region).SetRoleArn(x.role).SetExternalID(externalID).
		SetModules([]string{"EMAIL"}).
		Save(x.admin)
	if err != nil {
		t.Fatal(err)
	}
	x.address, err = e.client.EmailAddress.Create().
		SetAddress(address).SetDisplayName(name + " Support").
		SetSesIdentityArn("arn:aws:ses:" + region + ":" + account + ":identity/" + address[strings.IndexByte(address, '@')+1:]).
		SetContactFlowID("flow-" + alias).
		Save(x.admin)
	if err != nil {
		t.Fatal(err)
	}
	e.connect.AddInstance(x.instanceID)
	x.content, x.attachments = e.svc.BucketNames(x.id, alias)
	e.s3.SetOwner(x.content, x.role)
	e.s3.SetOwner(x.attachments, x.role)
	if err := e.svc.EnsureBuckets(x.admin, x.inst); err != nil {
		t.Fatal(err)
	}
	return x
}

// deliver stores raw in x's content bucket as SES would, and returns the
// key.
func (e *env) deliver(x *tenant, sesID string, raw []byte) string {
	key := "inbound/" + sesID
	e.s3.PutObject(x.content, key, bytes.NewReader(raw), int64(len(raw)))
	return key
}

// notification is the signed SNS notification of x's topic announcing that
// SES stored a message at bucket/key.
func (e *env) notification(x *tenant, bucket, key string, recipients ...string) []byte {
	note := fakeaws.ReceiptNotification(fakeaws.SESReceipt{
		MessageID: key[strings.LastIndexByte(key, '/')+1:], Bucket: bucket, ObjectKey: key, TopicARN: x.topic,
		Source: "customer@example.net", Recipients: recipients, From: []string{"customer@example.net"},
		To: recipients, Subject: "Where is my order?",
	})
	return e.sns.Notification(x.topic, "Amazon SES Email Receipt Notification", note, "2")
}

// post delivers an SNS message to the service's endpoint.
func (e *env) post(t *testing.T, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	return postTo(t, e.svc, body)
}

// postTo delivers an SNS message to svc's endpoint.
func postTo(t *testing.T, svc *mail.Service, body []byte) *httptest.ResponseRecorder {
	t.Helper()
	h := svc.SNSHandler(context.Background())
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, "/aws/sns/email", bytes.NewReader(body))
	req.Header.Set("Content-Type", "text/plain; charset=UTF-8")
	req.Header.Set("X-Amz-Sns-Message-Type", "Notification")
	h.ServeHTTP(rec, req)
	return rec
}

// emails returns the Emails x's agent sees.
func (e *env) emails(t *testing.T, x *tenant) []*ent.Email {
	t.Helper()
	out, err := e.client.Email.Query().Order(ent.Asc(email.FieldCreatedAt)).All(x.agent)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// tasks returns the StartTaskContact requests the fake Connect served.
func (e *env) tasks(t *testing.T) []taskRequest {
	t.Helper()
	var out []taskRequest
	for _, r := range e.connect.RequestsFor(fakeaws.OpStartTaskContact) {
		var tr taskRequest
		if err := json.Unmarshal(r.Body, &tr); err != nil {
			t.Fatal(err)
		}
		tr.Status = r.Status
		out = append(out, tr)
	}
	return out
}

type taskRequest struct {
	InstanceId, ContactFlowId, Name, Description, ClientToken string
	References                                                map[string]fakeaws.Reference
	Attributes                                                map[string]string
	Status                                                    int
}

// testLog writes the service's log to the test's.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Helper()
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// code is the contract code of err.
func code(err error) apierror.Code {
	c, _ := classify.Of(err)
	return c
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// randomBytes returns n bytes from a seeded generator.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// wrap76 base64-encodes b in lines of 76 characters.
func wrap76(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	out.WriteString(s + "\r\n")
	return out.String()
}

// inboundAttachments are the two attachments of inboundMessage.
var (
	invoicePDF = randomBytes(150_000, 1)
	ordersCSV  = []byte("order,amount\r\nA-1001,19.99\r\nA-1002,5.00 \u20ac")
)

// inboundMessage is a customer's email to to: text and HTML alternatives
// and two attachments, a base64 PDF and a quoted-printable CSV with an
// encoded file name.
func inboundMessage(messageID, to string) []byte {
	return []byte("Return-Path: <customer@example.net>\r\n" +
		"Received: from mail.example.net by inbound-smtp.eu-west-1.amazonaws.com\r\n" +
		"From: =?UTF-8?Q?Ren=C3=A9e_Customer?= <customer@example.net>\r\n" +
		"To: Acme Support <" + to + ">\r\n" +
		"Cc: partner@example.org\r\n" +
		"Subject: =?UTF-8?B?V2hlcmUgaXMgbXkgb3JkZXI/IOKAkyBBLTEwMDE=?=\r\n" +
		"Date: Mon, 23 Nov 2026 09:15:00 +0100\r\n" +
		"Message-ID: <" + messageID + ">\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"outer\"\r\n" +
		"\r\n" +
		"This is a multi-part message in MIME format.\r\n" +
		"--outer\r\n" +
		"Content-Type: multipart/alternative; boundary=\"inner\"\r\n" +
		"\r\n" +
		"--inner\r\n" +
		"Content-Type: text/plain; charset=ISO-8859-1\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n" +
		"\r\n" +
		"Hello, my order A-1001 has not arrived. Merci, Ren=E9e\r\n" +
		"--inner\r\n" +
		"Content-Type: text/html; charset=UTF-8\r\n" +
		"\r\n" +
		"<p onclick=\"steal()\">Hello, my order <b>A-1001</b> has not arrived.</p><script>alert(1)</script>\r\n" +
		"--inner--\r\n" +
		"--outer\r\n" +
		"Content-Type: application/pdf; name=\"invoice.pdf\"\r\n" +
		"Content-Disposition: attachment; filename=\"invoice.pdf\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"\r\n" +
		wrap76(invoicePDF) +
		"--outer\r\n" +
		"Content-Type: text/csv; charset=UTF-8\r\n" +
		"Content-Disposition: attachment; filename*=UTF-8''orders%20%E2%82%AC.csv\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n" +
		"\r\n" +
		"order,amount\r\nA-1001,19.99\r\nA-1002,5.00 =E2=82=AC\r\n" +
		"--outer--\r\n")
}
