package mail_test

import (
	"bytes"
	"errors"
	"io"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"switchboard/mail"
)

// parseSeeds are messages of many shapes, for the fuzz target and tests.
var parseSeeds = map[string]string{
	"simple": "From: a@example.net\r\nTo: b@example.org\r\nSubject: Hi\r\n\r\nHello\r\n",
	"lf only": "From: a@example.net\nTo: b@example.org\nSubject: Hi\nContent-Type: multipart/mixed; boundary=x\n\n--x\n" +
		"Content-Type: text/plain\n\nHello\n--x\nContent-Type: image/png\nContent-Transfer-Encoding: base64\n\niVBORw0KGgo=\n--x--\n",
	"no body":   "From: a@example.net\r\nSubject: Only a header",
	"no header": "\r\nJust a body\r\n",
	"empty":     "",
	"nested": "From: a@example.net\r\nContent-Type: multipart/mixed; boundary=\"a\"\r\n\r\n--a\r\n" +
		"Content-Type: multipart/related; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: multipart/alternative; boundary=\"c\"\r\n\r\n" +
		"--c\r\nContent-Type: text/plain\r\n\r\ntext\r\n--c\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--c--\r\n" +
		"--b\r\nContent-Type: image/gif\r\nContent-ID: <logo>\r\nContent-Transfer-Encoding: base64\r\n\r\nR0lGODlhAQABAAAAACw=\r\n--b--\r\n" +
		"--a\r\nContent-Type: message/rfc822\r\n\r\nFrom: x@example.com\r\nSubject: forwarded\r\n\r\nold\r\n--a--\r\n",
	"base64 junk": "From: a@example.net\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\n" +
		"Content-Type: application/octet-stream; name=\"x.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		"SGVs bG8g*\r\nd29y bGQ=\r\n--z--\r\n",
	"broken base64": "From: a@example.net\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\n" +
		"Content-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nSGVsbG8\r\n--z--\r\n",
	"unterminated": "From: a@example.net\r\nContent-Type: multipart/mixed; boundary=z\r\n\r\n--z\r\nContent-Type: text/plain\r\n\r\nnever ends",
	"encoded words": "From: =?ISO-2022-JP?B?GyRCJTUlQyUrITwbKEI=?= <jp@example.jp>\r\n" +
		"Subject: =?windows-1252?Q?Caf=E9_=80?= and =?UTF-8?B?8J+Ygg==?=\r\nContent-Type: text/plain; charset=windows-1252\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n\r\nCaf=E9 =80\r\n",
	"bad addresses": "From: <<<@>>>, \"unterminated\r\nTo: a@b, c d e f@g.example; ;;\r\nDate: yesterday\r\nMessage-ID: no brackets\r\n\r\nx",
	"mangled content type": "From: a@example.net\r\nContent-Type: multipart/mixed; boundary=q; boundary=q\r\n\r\n--q\r\n" +
		"Content-Type: application/x-thing; name=a/b/c.txt; name=dup\r\nContent-Disposition: attachment; filename*=UTF-8''%E2%82%AC.txt\r\n\r\nx\r\n--q--\r\n",
}

func TestParse(t *testing.T) {
	check := func(name string, f func(t *testing.T, m *mail.Message, err error, sizes []int64)) {
		t.Run(name, func(t *testing.T) {
			var sizes []int64
			m, err := mail.Parse(strings.NewReader(parseSeeds[name]), func(n int, info mail.AttachmentInfo, r io.Reader) error {
				k, _ := io.Copy(io.Discard, r)
				sizes = append(sizes, k)
				return nil
			})
			f(t, m, err, sizes)
		})
	}
	check("simple", func(t *testing.T, m *mail.Message, err error, _ []int64) {
		if err != nil || m.From != "a@example.net" || m.Subject != "Hi" || strings.TrimSpace(m.Text) != "Hello" {
			t.Errorf("%+v %v", m, err)
		}
	})
	check("lf only", func(t *testing.T, m *mail.Message, err error, sizes []int64) {
		if err != nil || strings.TrimSpace(m.Text) != "Hello" || len(m.Attachments) != 1 || m.Attachments[0].FileName != "attachment-1.png" ||
			m.Attachments[0].Size != 8 || sizes[0] != 8 {
			t.Errorf("%+v %v", m, err)
		}
	})
	check("no body", func(t *testing.T, m *mail.Message, err error, _ []int64) {
		if err != nil || m.Subject != "Only a header" {
			t.Errorf("%+v %v", m, err)
		}
	})
	check("no header", func(t *testing.T, _ *mail.Message, err error, _ []int64) {
		if !errors.Is(err, mail.ErrMalformed) {
			t.Errorf("got %v", err)
		}
	})
	check("nested", func(t *testing.T, m *mail.Message, err error, _ []int64) {
		if err != nil || strings.TrimSpace(m.Text) != "text" || strings.TrimSpace(m.HTML) != "<p>html</p>" || len(m.Attachments) != 2 ||
			m.Attachments[0].ContentType != "image/gif" || m.Attachments[1].FileName != "attachment-2.eml" {
			t.Errorf("%+v %v", m, err)
		}
	})
	check("base64 junk", func(t *testing.T, m *mail.Message, err error, _ []int64) {
		if err != nil || len(m.Attachments) != 1 || m.Attachments[0].Size != len64("Hello world") || m.Attachments[0].FileName != "x.bin" {
			t.Errorf("%+v %v", m, err)
		}
	})
	check("broken base64", func(t *testing.T, m *mail.Message, err error, _ []int64) {
		if !errors.Is(err, mail.ErrMalformed) || m.From != "a@example.net" {
			t.Errorf("%+v %v", m, err)
		}
	})
	check("unterminated", func(t *testing.T, m *mail.Message, err error, _ []int64) {
		if !errors.Is(err, mail.ErrMalformed) {
			t.Errorf("%+v %v", m, err)
		}
	})
	check("encoded words", func(t *testing.T, m *mail.Message, err error, _ []int64) {
		if err != nil || m.Subject != "Café € and 😂" || m.FromName != "サッカー" || strings.TrimSpace(m.Text) != "Café €" {
			t.Errorf("%q %q %q %v", m.Subject, m.FromName, m.Text, err)
		}
	})
	check("bad addresses", func(t *testing.T, m *mail.Message, err error, _ []int64) {
		if err != nil || !m.Date.IsZero() || m.MessageID != "no brackets" {
			t.Errorf("%+v %v", m, err)
		}
	})
	check("mangled content type", func(t *testing.T, m *mail.Message, err error, _ []int64) {
		if err != nil || len(m.Attachments) != 1 || m.Attachments[0].FileName != "€.txt" {
			t.Errorf("%+v %v", m, err)
		}
	})

	// Limits: too many attachments, too deep, too long a header.
	var many strings.Builder
	many.WriteString("From: a@example.net\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n")
	for range 101 {
		many.WriteString("--m\r\nContent-Type: application/octet-stream\r\n\r\nx\r\n")
	}
	many.WriteString("--m--\r\n")
	deep := "From: a@example.net\r\n" + strings.Repeat("Content-Type: multipart/mixed; boundary=d\r\n\r\n--d\r\n", 30)
	long := "From: a@example.net\r\nX-Long: " + strings.Repeat("x", 2<<20) + "\r\n\r\nbody"
	for name, raw := range map[string]string{"many attachments": many.String(), "deep": deep, "long header": long} {
		if _, err := mail.Parse(strings.NewReader(raw), nil); !errors.Is(err, mail.ErrMalformed) {
			t.Errorf("%s: %v", name, err)
		}
	}

	// A reader's own failure is not the message's fault.
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader(parseSeeds["nested"][:200]), errReader{boom})
	if _, err := mail.Parse(r, nil); !errors.Is(err, boom) || errors.Is(err, mail.ErrMalformed) {
		t.Errorf("reader failure: %v", err)
	}
	// Neither is the attachment function's.
	_, err := mail.Parse(strings.NewReader(parseSeeds["nested"]), func(int, mail.AttachmentInfo, io.Reader) error { return boom })
	if !errors.Is(err, boom) || errors.Is(err, mail.ErrMalformed) {
		t.Errorf("attachment function failure: %v", err)
	}
}

// contentTypeRE is what an attachment's content type may be.
var contentTypeRE = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$`)

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

func len64(s string) int64 { return int64(len(s)) }

// FuzzParseInbound feeds Parse, the entry point of inbound MIME, arbitrary
// bytes: it must never panic, must fail only with ErrMalformed (the reader
// never fails), and what it returns must be clean.
func FuzzParseInbound(f *testing.F) {
	for _, s := range parseSeeds {
		f.Add([]byte(s))
	}
	f.Add(inboundMessage("seed@example.net", "support@acme.example"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var streamed []int64
		m, err := mail.Parse(bytes.NewReader(raw), func(n int, info mail.AttachmentInfo, r io.Reader) error {
			if n != len(streamed)+1 {
				t.Fatalf("attachment %d after %d", n, len(streamed))
			}
			k, _ := io.Copy(io.Discard, io.LimitReader(r, int64(n)*7)) // read some, leave the rest
			streamed = append(streamed, k)
			return nil
		})
		if m == nil {
			t.Fatal("no message")
		}
		if err != nil && !errors.Is(err, mail.ErrMalformed) {
			t.Fatalf("error %v is not ErrMalformed", err)
		}
		for _, s := range append([]string{m.From, m.FromName, m.Subject, m.MessageID}, append(m.To, m.Cc...)...) {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n\x00") {
				t.Fatalf("unclean header value %q", s)
			}
		}
		if len(m.Attachments) > 100 || len(m.To) > 100 || len(m.Cc) > 100 || len(m.Subject) > 998 {
			t.Fatalf("limits passed: %d attachments, %d to, %d cc, subject %d", len(m.Attachments), len(m.To), len(m.Cc), len(m.Subject))
		}
		if len(m.Text) > 2<<20 || len(m.HTML) > 2<<20 {
			t.Fatalf("body past 2 MiB: %d, %d", len(m.Text), len(m.HTML))
		}
		for i, a := range m.Attachments {
			if a.FileName == "" || !contentTypeRE.MatchString(a.ContentType) || strings.ContainsAny(a.FileName, "/\\\r\n") || a.Size < streamed[i] {
				t.Fatalf("attachment %+v", a)
			}
		}
	})
}
