package mail_test

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/jhillyerd/enmime"

	"switchboard/connectaws"
	"switchboard/ent/email"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
	"switchboard/mail"
)

func TestSend(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		report := randomBytes(100_000, 7)
		sent, err := e.svc.Send(e.a.agent, mail.Outgoing{
			From:    e.a.address.ID,
			To:      []string{"Renée Customer <customer@example.net>"},
			Cc:      []string{"partner@example.org"},
			Bcc:     []string{"audit@acme.example"},
			Subject: "Your order A-1001 – update",
			Text:    "Your order ships today.",
			HTML:    `<p>Your order <b>ships</b> today.</p><script>alert(1)</script><a href="javascript:x()">x</a>`,
			Attachments: []mail.Attachment{
				{FileName: "report.bin", ContentType: "application/octet-stream", Body: bytes.NewReader(report)},
				{FileName: "notes.txt", ContentType: "text/plain", Body: strings.NewReader("Shipped with DHL.\r\n")},
			},
		})
		if err != nil {
			t.Fatal(err)
		}

		// SES got the raw message, through the address's identity, with
		// tenant A's role.
		out := e.ses.Sent()
		if len(out) != 1 {
			t.Fatalf("SES sent %d emails", len(out))
		}
		s := out[0]
		if s.FromEmailAddressIdentityArn != e.a.address.SesIdentityArn || s.FromEmailAddress != "support@acme.example" {
			t.Errorf("sent from %q through %q", s.FromEmailAddress, s.FromEmailAddressIdentityArn)
		}
		if strings.Join(s.To, ",") != "customer@example.net" || strings.Join(s.Cc, ",") != "partner@example.org" ||
			strings.Join(s.Bcc, ",") != "audit@acme.example" {
			t.Errorf("destination %v %v %v", s.To, s.Cc, s.Bcc)
		}
		if s.Region != "eu-west-2" {
			t.Errorf("SES called in %q, want the identity's region", s.Region)
		}
		if creds, ok := e.sts.Lookup(s.AccessKeyID); !ok || creds.RoleARN != e.a.role {
			t.Errorf("SES called with %s, not tenant A's role", s.AccessKeyID)
		}
		env, err := enmime.ReadEnvelope(bytes.NewReader(s.Raw))
		if err != nil {
			t.Fatal(err)
		}
		if env.GetHeader("Subject") != "Your order A-1001 – update" || env.GetHeader("Bcc") != "" ||
			!strings.Contains(env.GetHeader("From"), "support@acme.example") || env.GetHeader("Message-Id") == "" {
			t.Errorf("headers: subject %q bcc %q from %q", env.GetHeader("Subject"), env.GetHeader("Bcc"), env.GetHeader("From"))
		}
		if strings.TrimSpace(env.Text) != "Your order ships today." {
			t.Errorf("text %q", env.Text)
		}
		if strings.Contains(env.HTML, "script") || strings.Contains(env.HTML, "javascript:") || !strings.Contains(env.HTML, "<b>ships</b>") {
			t.Errorf("HTML not sanitised: %q", env.HTML)
		}
		if len(env.Attachments) != 2 || !bytes.Equal(env.Attachments[0].Content, report) ||
			env.Attachments[1].FileName != "notes.txt" {
			t.Fatalf("MIME attachments: %d", len(env.Attachments))
		}

		// The Email is recorded, SENT, with the content's key.
		if sent.Direction != email.DirectionOUTBOUND || sent.State != email.StateSENT || sent.From != "support@acme.example" ||
			strings.Join(sent.To, ",") != "customer@example.net" || strings.Join(sent.Cc, ",") != "partner@example.org" ||
			sent.MessageID != s.MessageID || sent.ObjectKey != "outbound/"+s.MessageID+".eml" || sent.TenantID != e.a.id {
			t.Errorf("recorded %+v", sent)
		}

		// The raw message is in the content bucket, the attachments in
		// theirs, every object with SSE-S3.
		obj, ok := e.s3.Object(e.a.content, sent.ObjectKey)
		if !ok || !bytes.Equal(obj.Body, s.Raw) || obj.Metadata["X-Amz-Server-Side-Encryption"] != "AES256" {
			t.Errorf("content object: %v, %d bytes, %v", ok, len(obj.Body), obj.Metadata)
		}
		keys := e.s3.Keys(e.a.attachments)
		if want := []string{s.MessageID + "/1-report.bin", s.MessageID + "/2-notes.txt"}; strings.Join(keys, " ") != strings.Join(want, " ") {
			t.Fatalf("attachment keys %v, want %v", keys, want)
		}
		if obj, _ := e.s3.Object(e.a.attachments, keys[0]); !bytes.Equal(obj.Body, report) ||
			obj.Metadata["X-Amz-Server-Side-Encryption"] != "AES256" || obj.Metadata["Content-Type"] != "application/octet-stream" {
			t.Errorf("attachment object: %d bytes, %v", len(obj.Body), obj.Metadata)
		}
		for _, w := range e.s3.Writes() {
			if w.Bucket == e.b.content || w.Bucket == e.b.attachments {
				if creds, _ := e.sts.Lookup(w.AccessKeyID); creds.RoleARN != e.b.role {
					t.Errorf("write to %s with another role", w.Bucket)
				}
			}
		}

		// The agent reads it back: bodies and short-lived download links.
		text, html, atts, err := e.svc.Body(e.a.agent, sent)
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(text) != "Your order ships today." || !strings.Contains(html, "<b>ships</b>") {
			t.Errorf("body %q %q", text, html)
		}
		if len(atts) != 2 || atts[0].FileName != "report.bin" || atts[0].Size != int64(len(report)) || atts[1].ContentType != "text/plain" {
			t.Fatalf("attachments %+v", atts)
		}
		checkDownload(t, atts[0], report)

		// In one request, the body is read from S3 once however often asked.
		gets := func() (n int) {
			for _, r := range e.s3.Requests() {
				if r.Method == http.MethodGet && r.Bucket == e.a.content {
					n++
				}
			}
			return n
		}
		before := gets()
		ctx := mail.WithBodyCache(e.a.agent)
		for range 3 {
			if text2, _, atts2, err := e.svc.Body(ctx, sent); err != nil || text2 != text || len(atts2) != 2 {
				t.Fatalf("cached body: %v", err)
			}
		}
		if n := gets() - before; n != 1 {
			t.Errorf("the content was read %d times in one request", n)
		}
	})
}

// checkDownload fetches an attachment's presigned URL and compares.
func checkDownload(t *testing.T, a mail.AttachmentInfo, want []byte) {
	t.Helper()
	u := mustURL(t, a.DownloadURL)
	q := u.Query()
	expires, err := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || expires <= 0 || expires > 900 {
		t.Errorf("download URL expires in %q seconds", q.Get("X-Amz-Expires"))
	}
	if q.Get("X-Amz-Signature") == "" || !strings.HasPrefix(q.Get("X-Amz-Credential"), "ASIA") {
		t.Errorf("download URL not presigned with the tenant's role: %s", a.DownloadURL)
	}
	resp, err := http.Get(a.DownloadURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, want) {
		t.Errorf("download: HTTP %d, %d bytes, want %d", resp.StatusCode, len(got), len(want))
	}
}

func TestSendRefused(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		writes := len(e.s3.Writes())
		e.ses.Fail(fakeaws.Failure{Status: 400, Code: "MessageRejected", Message: "Email address is not verified."})
		_, err := e.svc.Send(e.a.agent, mail.Outgoing{
			FromAddress: "SUPPORT@acme.example",
			To:          []string{"customer@example.net"},
			Subject:     "Hello",
			Text:        "Hi",
			Attachments: []mail.Attachment{{FileName: "a.txt", Body: strings.NewReader("a")}},
		})
		if code(err) != "UPSTREAM" || !strings.Contains(err.Error(), "MessageRejected") {
			t.Fatalf("refused send: %v (%s)", err, code(err))
		}
		if n := len(e.emails(t, e.a)); n != 0 {
			t.Errorf("%d emails recorded", n)
		}
		if w := e.s3.Writes(); len(w) != writes {
			t.Errorf("objects written after SES refused: %+v", w[writes:])
		}
		if keys := e.s3.Keys(e.a.content); len(keys) != 0 {
			t.Errorf("content bucket holds %v", keys)
		}
	})
}

// A send that SES fails for the moment is retried by the SDK, and the
// streamed message arrives whole and correctly signed on the second attempt.
func TestSendRetried(t *testing.T) {
	e := newEnv(t, testenv.Backends()[0], nil)
	e.ses.Fail(fakeaws.Failure{Status: 503, Code: "ServiceUnavailable", Message: "try again", Times: 1})
	body := strings.Repeat("The recording, as promised. ", 5000)
	sent, err := e.svc.Send(e.a.agent, mail.Outgoing{
		From: e.a.address.ID, To: []string{"customer@example.net"}, Subject: "Retried", Text: "Attached.",
		Attachments: []mail.Attachment{{FileName: "notes.txt", ContentType: "text/plain", Body: strings.NewReader(body)}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := e.ses.Sent()
	if len(got) != 1 || got[0].MessageID != sent.MessageID {
		t.Fatalf("SES accepted %d messages, want 1 (%+v)", len(got), got)
	}
	env, err := enmime.ReadEnvelope(bytes.NewReader(got[0].Raw))
	if err != nil {
		t.Fatal(err)
	}
	if len(env.Attachments) != 1 || string(env.Attachments[0].Content) != body {
		t.Fatalf("the attachment did not arrive whole: %d attachments", len(env.Attachments))
	}
}

func TestSendInvalid(t *testing.T) {
	e := newEnv(t, testenv.Backends()[0], nil)
	ok := mail.Outgoing{From: e.a.address.ID, To: []string{"customer@example.net"}, Subject: "Hi", Text: "Hi"}
	cases := []struct {
		name string
		edit func(*mail.Outgoing)
		code string
	}{
		{"no recipient", func(o *mail.Outgoing) { o.To = nil }, "BAD_USER_INPUT"},
		{"bad address", func(o *mail.Outgoing) { o.Cc = []string{"not an address"} }, "BAD_USER_INPUT"},
		{"header injection", func(o *mail.Outgoing) { o.To = []string{"a@b.example\r\nBcc: x@y.example"} }, "BAD_USER_INPUT"},
		{"subject injection", func(o *mail.Outgoing) { o.Subject = "Hi\r\nBcc: x@y.example" }, "BAD_USER_INPUT"},
		{"no from", func(o *mail.Outgoing) { o.From = "" }, "BAD_USER_INPUT"},
		{"another tenant's address", func(o *mail.Outgoing) { o.From = e.b.address.ID }, "NOT_FOUND"},
		{"another tenant's address by name", func(o *mail.Outgoing) { o.From, o.FromAddress = "", "help@globex.example" }, "NOT_FOUND"},
		{"attachment without a name", func(o *mail.Outgoing) {
			o.Attachments = []mail.Attachment{{Body: strings.NewReader("x")}}
		}, "BAD_USER_INPUT"},
		{"too many recipients", func(o *mail.Outgoing) {
			for i := range 51 {
				o.Bcc = append(o.Bcc, "r"+strconv.Itoa(i)+"@example.net")
			}
		}, "BAD_USER_INPUT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := ok
			c.edit(&in)
			if _, err := e.svc.Send(e.a.agent, in); string(code(err)) != c.code {
				t.Errorf("got %v (%s), want %s", err, code(err), c.code)
			}
		})
	}
	if len(e.ses.Sent()) != 0 || len(e.emails(t, e.a)) != 0 {
		t.Error("an invalid email was sent or recorded")
	}

	// Too large: a message past MaxMessageBytes is refused before SES.
	small := newEnv(t, testenv.Backends()[0], func(o *mail.Options, _ *connectaws.Options) { o.MaxMessageBytes = 64 << 10 })
	in := mail.Outgoing{From: small.a.address.ID, To: []string{"customer@example.net"}, Subject: "Big",
		Attachments: []mail.Attachment{{FileName: "big.bin", Body: bytes.NewReader(randomBytes(100_000, 3))}}}
	if _, err := small.svc.Send(small.a.agent, in); code(err) != "BAD_USER_INPUT" {
		t.Errorf("oversized email: %v", err)
	}
	if len(small.ses.Sent()) != 0 {
		t.Error("oversized email sent")
	}
}
