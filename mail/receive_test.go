package mail_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"switchboard/awssns"
	"switchboard/ent"
	"switchboard/ent/email"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
	"switchboard/mail"
)

func TestInbound(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		key := e.deliver(e.a, "ses0001", inboundMessage("order-1001@example.net", "support@acme.example"))
		if rec := e.post(t, e.notification(e.a, e.a.content, key, "support@acme.example")); rec.Code != http.StatusOK {
			t.Fatalf("notification: HTTP %d %s", rec.Code, rec.Body)
		}

		// The Email record: metadata only.
		emails := e.emails(t, e.a)
		if len(emails) != 1 {
			t.Fatalf("%d emails recorded", len(emails))
		}
		got := emails[0]
		wantDate := time.Date(2026, 11, 23, 8, 15, 0, 0, time.UTC)
		if got.Direction != email.DirectionINBOUND || got.From != "customer@example.net" ||
			!slices.Equal(got.To, []string{"support@acme.example"}) || !slices.Equal(got.Cc, []string{"partner@example.org"}) ||
			got.Subject != "Where is my order? – A-1001" || !got.Date.Equal(wantDate) ||
			got.MessageID != "order-1001@example.net" || got.ObjectKey != key || got.State != email.StateROUTED {
			t.Errorf("recorded %+v", got)
		}

		// The attachments, decoded, in their bucket, with SSE-S3.
		keys := e.s3.Keys(e.a.attachments)
		if len(keys) != 2 || keys[0] != "order-1001@example.net/1-invoice.pdf" ||
			!strings.HasPrefix(keys[1], "order-1001@example.net/2-orders__.csv-") {
			t.Fatalf("attachment keys %v", keys)
		}
		for i, want := range [][]byte{invoicePDF, ordersCSV} {
			obj, _ := e.s3.Object(e.a.attachments, keys[i])
			if string(obj.Body) != string(want) || obj.Metadata["X-Amz-Server-Side-Encryption"] != "AES256" {
				t.Errorf("attachment %s: %d bytes, %v", keys[i], len(obj.Body), obj.Metadata)
			}
		}
		if obj, _ := e.s3.Object(e.a.attachments, keys[0]); obj.Metadata["Content-Type"] != "application/pdf" ||
			!strings.Contains(obj.Metadata["Content-Disposition"], "invoice.pdf") {
			t.Errorf("attachment metadata %v", obj.Metadata)
		}

		// The Connect task on the address's flow, referring to the Email.
		tasks := e.tasks(t)
		if len(tasks) != 1 {
			t.Fatalf("%d tasks started", len(tasks))
		}
		task := tasks[0]
		if task.InstanceId != e.a.instanceID || task.ContactFlowId != "flow-acme-support" || task.Status != http.StatusOK ||
			task.References["email"] != (fakeaws.Reference{Type: "STRING", Value: string(got.ID)}) ||
			task.Name != got.Subject || task.ClientToken == "" || task.Attributes["emailId"] != string(got.ID) {
			t.Errorf("task %+v", task)
		}

		// Read back: decoded bodies, sanitised HTML, download links.
		text, html, atts, err := e.svc.Body(e.a.agent, got)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(text, "Merci, Renée") {
			t.Errorf("text %q", text)
		}
		if strings.Contains(html, "script") || strings.Contains(html, "onclick") || !strings.Contains(html, "<b>A-1001</b>") {
			t.Errorf("HTML %q", html)
		}
		if len(atts) != 2 || atts[0].FileName != "invoice.pdf" || atts[0].Size != int64(len(invoicePDF)) ||
			atts[1].FileName != "orders €.csv" || atts[1].ContentType != "text/csv" {
			t.Fatalf("attachments %+v", atts)
		}
		checkDownload(t, atts[0], invoicePDF)
		checkDownload(t, atts[1], ordersCSV)

		// The same notification again (SNS delivers at least once): nothing
		// new is copied, recorded or routed.
		writes, requests := len(e.s3.Writes()), len(e.connect.Requests())
		if rec := e.post(t, e.notification(e.a, e.a.content, key, "support@acme.example")); rec.Code != http.StatusOK {
			t.Fatalf("second notification: HTTP %d", rec.Code)
		}
		again, err := e.svc.Receive(context.Background(), e.a.inst, e.a.content, key)
		if err != nil || again.ID != got.ID {
			t.Fatalf("Receive again: %v, %v", again, err)
		}
		if n := len(e.emails(t, e.a)); n != 1 {
			t.Errorf("%d emails after duplicates", n)
		}
		if len(e.s3.Writes()) != writes || len(e.connect.Requests()) != requests {
			t.Errorf("duplicates wrote %d objects, made %d Connect calls",
				len(e.s3.Writes())-writes, len(e.connect.Requests())-requests)
		}
		if n := len(e.emails(t, e.b)); n != 0 {
			t.Errorf("tenant B sees %d emails", n)
		}
	})
}

func TestInboundRetriedAfterConnectFails(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		key := e.deliver(e.a, "ses0002", inboundMessage("retry@example.net", "support@acme.example"))
		e.connect.Fail(fakeaws.OpStartTaskContact, fakeaws.Failure{Status: 500, Code: "InternalServiceException", Message: "boom", Times: 2})
		if rec := e.post(t, e.notification(e.a, e.a.content, key, "support@acme.example")); rec.Code != http.StatusBadGateway {
			t.Fatalf("notification while Connect fails: HTTP %d, want 502 for SNS to retry", rec.Code)
		}
		if emails := e.emails(t, e.a); len(emails) != 1 || emails[0].State != email.StateRECEIVED {
			t.Fatalf("after the failure: %v", emails)
		}
		writes := len(e.s3.Writes())
		if rec := e.post(t, e.notification(e.a, e.a.content, key, "support@acme.example")); rec.Code != http.StatusOK {
			t.Fatalf("retry: HTTP %d", rec.Code)
		}
		if emails := e.emails(t, e.a); len(emails) != 1 || emails[0].State != email.StateROUTED {
			t.Errorf("after the retry: %v", emails)
		}
		if len(e.s3.Writes()) != writes {
			t.Error("the retry copied the attachments again")
		}
		tasks := e.tasks(t)
		if len(tasks) != 3 || tasks[0].ClientToken != tasks[2].ClientToken {
			t.Errorf("task requests %+v: want two failures and one success with one client token", tasks)
		}
	})
}

func TestInboundUnrouted(t *testing.T) {
	e := newEnv(t, testenv.Backends()[0], nil)
	key := e.deliver(e.a, "ses0003", inboundMessage("nobody@example.net", "sales@acme.example"))
	if rec := e.post(t, e.notification(e.a, e.a.content, key, "sales@acme.example")); rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d", rec.Code)
	}
	if emails := e.emails(t, e.a); len(emails) != 1 || emails[0].State != email.StateRECEIVED {
		t.Errorf("recorded %v", emails)
	}
	if len(e.tasks(t)) != 0 {
		t.Error("a task was started without a matching address")
	}
	// Matching is without regard to case, envelope recipients first.
	key = e.deliver(e.a, "ses0004", inboundMessage("bcc@example.net", "someone@example.org"))
	if rec := e.post(t, e.notification(e.a, e.a.content, key, "Support@ACME.example")); rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d", rec.Code)
	}
	if tasks := e.tasks(t); len(tasks) != 1 || tasks[0].ContactFlowId != "flow-acme-support" {
		t.Errorf("tasks %+v", tasks)
	}
}

func TestInboundMalformed(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		broken := []byte("From: Someone <someone@example.net>\r\nTo: support@acme.example\r\n" +
			"Subject: Broken\r\nMessage-ID: <broken@example.net>\r\nContent-Type: multipart/mixed\r\n\r\nno boundary here\r\n")
		garbage := []byte("\x00\x01\x02 not a message at all \xff\xfe")
		for i, raw := range [][]byte{broken, garbage} {
			key := e.deliver(e.a, "bad"+string(rune('0'+i)), raw)
			for range 2 { // and again: still one record
				if rec := e.post(t, e.notification(e.a, e.a.content, key, "support@acme.example")); rec.Code != http.StatusOK {
					t.Fatalf("malformed message %d: HTTP %d %s", i, rec.Code, rec.Body)
				}
			}
		}
		emails := e.emails(t, e.a)
		if len(emails) != 2 {
			t.Fatalf("%d emails recorded", len(emails))
		}
		for _, m := range emails {
			if m.State != email.StateFAILED || m.Direction != email.DirectionINBOUND {
				t.Errorf("recorded %+v", m)
			}
		}
		if m := emails[0]; m.Subject != "Broken" || m.From != "someone@example.net" || m.MessageID != "broken@example.net" {
			t.Errorf("best effort header: %+v", m)
		}
		if emails[1].MessageID != "s3:inbound/bad1" {
			t.Errorf("message without an ID recorded as %q", emails[1].MessageID)
		}
		if len(e.tasks(t)) != 0 {
			t.Error("a malformed message was routed")
		}
		// Its body reads as far as it goes.
		if _, _, _, err := e.svc.Body(e.a.agent, emails[0]); err != nil {
			t.Errorf("Body of a malformed message: %v", err)
		}
	})
}

func TestInboundBadSignature(t *testing.T) {
	e := newEnv(t, testenv.Backends()[0], nil)
	key := e.deliver(e.a, "ses0005", inboundMessage("forged@example.net", "support@acme.example"))
	signed := e.notification(e.a, e.a.content, key, "support@acme.example")

	var m fakeaws.SNSMessage
	if err := json.Unmarshal(signed, &m); err != nil {
		t.Fatal(err)
	}
	tampered := m
	tampered.Message = strings.Replace(m.Message, "support@acme.example", "ceo@acme.example", 1)
	noSig := m
	noSig.Signature = ""
	badVersion := m
	badVersion.SignatureVersion = "3"
	plainHTTP := m
	plainHTTP.SigningCertURL = strings.Replace(m.SigningCertURL, "https://", "http://", 1)
	otherPath := e.sns.Sign(m, "2")
	otherPath.SigningCertURL = e.sns.URL + "/?Action=ConfirmSubscription"
	for name, msg := range map[string]fakeaws.SNSMessage{
		"tampered": tampered, "unsigned": noSig, "unknown version": badVersion,
		"plain HTTP certificate": plainHTTP, "not a certificate": otherPath,
	} {
		if rec := e.post(t, e.sns.Marshal(msg)); rec.Code != http.StatusForbidden {
			t.Errorf("%s: HTTP %d, want 403", name, rec.Code)
		}
	}
	if rec := e.post(t, []byte("{not json")); rec.Code != http.StatusBadRequest {
		t.Errorf("not JSON: HTTP %d", rec.Code)
	}

	// In production only SNS's own hosts serve certificates: the fake's
	// is never fetched.
	fetches := e.sns.CertFetches()
	prod, err := mail.New(mail.Options{Client: e.client, AWS: testAWS(t), SNS: awssns.Options{HTTPClient: e.sns.Client()}})
	if err != nil {
		t.Fatal(err)
	}
	rec := postTo(t, prod, signed)
	if rec.Code != http.StatusForbidden || e.sns.CertFetches() != fetches {
		t.Errorf("certificate from a host that is not SNS's: HTTP %d, fetched %d times", rec.Code, e.sns.CertFetches()-fetches)
	}

	if n := len(e.emails(t, e.a)); n != 0 {
		t.Errorf("%d emails recorded from refused messages", n)
	}
	for _, r := range e.s3.Requests() {
		if r.Method == http.MethodGet && r.Bucket == e.a.content {
			t.Errorf("refused message read %s", r.Key)
		}
	}

	// The genuine message, signed with version 1 as well as 2, passes.
	if rec := e.post(t, e.sns.Marshal(e.sns.Sign(m, "1"))); rec.Code != http.StatusOK {
		t.Errorf("SignatureVersion 1: HTTP %d %s", rec.Code, rec.Body)
	}
}

func TestInboundCrossTenant(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		e := newEnv(t, b, nil)
		key := e.deliver(e.a, "ses0006", inboundMessage("private@example.net", "support@acme.example"))
		if rec := e.post(t, e.notification(e.a, e.a.content, key, "support@acme.example")); rec.Code != http.StatusOK {
			t.Fatalf("HTTP %d", rec.Code)
		}
		emailA := e.emails(t, e.a)[0]

		// Tenant B reaches neither the record nor its body or attachments.
		if _, _, _, err := e.svc.Body(e.b.agent, emailA); code(err) != "NOT_FOUND" {
			t.Errorf("B reading A's body: %v", err)
		}
		if _, err := e.client.Email.Get(e.b.agent, emailA.ID); !ent.IsNotFound(err) {
			t.Errorf("B getting A's email: %v", err)
		}
		if _, err := e.svc.Send(e.b.agent, mail.Outgoing{From: e.b.address.ID, To: []string{"x@example.net"},
			Subject: "Re", Text: "x", InReplyTo: emailA.ID}); code(err) != "NOT_FOUND" {
			t.Errorf("B replying to A's email: %v", err)
		}
		if _, err := e.svc.Receive(e.b.agent, e.a.inst, e.a.content, key); code(err) != "FORBIDDEN" {
			t.Errorf("B receiving into A's instance: %v", err)
		}

		// A notification from B's topic naming A's bucket, and one from A's
		// topic naming B's, write nothing anywhere.
		key2 := e.deliver(e.a, "ses0007", inboundMessage("planted@example.net", "support@acme.example"))
		e.deliver(e.b, "ses0008", inboundMessage("planted-b@example.net", "help@globex.example"))
		s3Before := len(e.s3.Requests())
		for name, body := range map[string][]byte{
			"B's topic, A's bucket":  e.notification(e.b, e.a.content, key2, "support@acme.example"),
			"A's topic, B's bucket":  e.notification(e.a, e.b.content, "inbound/ses0008", "help@globex.example"),
			"A's attachments bucket": e.notification(e.a, e.a.attachments, key2, "support@acme.example"),
		} {
			if rec := e.post(t, body); rec.Code != http.StatusForbidden && rec.Code != http.StatusNotFound {
				t.Errorf("%s: HTTP %d", name, rec.Code)
			}
		}
		if rec := e.post(t, e.notification(e.a, "neon-emails-unknown", key2)); rec.Code != http.StatusNotFound {
			t.Errorf("unknown bucket: HTTP %d", rec.Code)
		}
		if n := len(e.emails(t, e.b)); n != 0 {
			t.Errorf("tenant B has %d emails", n)
		}
		if n := len(e.emails(t, e.a)); n != 1 {
			t.Errorf("tenant A has %d emails", n)
		}
		if len(e.s3.Requests()) != s3Before {
			t.Errorf("refused notifications reached S3: %+v", e.s3.Requests()[s3Before:])
		}
		// Every request to a tenant's bucket was signed with that tenant's
		// role (the fake refuses others: none was refused).
		for _, r := range e.s3.Requests() {
			if r.Status == http.StatusForbidden {
				t.Errorf("S3 refused %s %s/%s", r.Method, r.Bucket, r.Key)
			}
		}
	})
}

func TestSubscriptionConfirmation(t *testing.T) {
	e := newEnv(t, testenv.Backends()[0], nil)
	if rec := e.post(t, e.sns.SubscriptionConfirmation(e.a.topic, "1")); rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d %s", rec.Code, rec.Body)
	}
	stranger := "arn:aws:sns:eu-west-2:999999999999:anything"
	if rec := e.post(t, e.sns.SubscriptionConfirmation(stranger, "2")); rec.Code != http.StatusForbidden {
		t.Errorf("a stranger's topic: HTTP %d", rec.Code)
	}
	if got := e.sns.Confirmed(); !slices.Equal(got, []string{e.a.topic}) {
		t.Errorf("confirmed %v", got)
	}
	// A SubscribeURL elsewhere than SNS is never visited.
	var m fakeaws.SNSMessage
	_ = json.Unmarshal(e.sns.SubscriptionConfirmation(e.b.topic, "2"), &m)
	m.SubscribeURL = "https://evil.example/?" + url.Values{"TopicArn": {e.b.topic}}.Encode()
	if rec := e.post(t, e.sns.Marshal(e.sns.Sign(m, "2"))); rec.Code != http.StatusForbidden {
		t.Errorf("SubscribeURL elsewhere: HTTP %d", rec.Code)
	}
}
