package templates_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"switchboard/templates"
)

func TestRender(t *testing.T) {
	cases := []struct {
		name       string
		body       string
		rich       bool
		vars       map[string]string
		text, html string
		unknown    string
	}{
		{"plain placeholders", "Hi {{name}}, ref {{ order.id }}.", false,
			map[string]string{"name": "Ann", "order.id": "A-1"}, "Hi Ann, ref A-1.", "Hi Ann, ref A-1.", ""},
		{"unknown rendered empty and reported", "Hi {{customer.firstName}} {{x}}{{x}}!", false,
			nil, "Hi  !", "Hi  !", "customer.firstName,x"},
		{"values escaped in rich text", "<p>Hello {{name}}</p>", true,
			map[string]string{"name": `<script>alert(1)</script> & "Bob"`}, `Hello <script>alert(1)</script> & "Bob"`,
			"<p>Hello &lt;script&gt;alert(1)&lt;/script&gt; &amp; &#34;Bob&#34;</p>", ""},
		{"sms keeps values as they are", "Code: {{code}} <b>", false,
			map[string]string{"code": "<42>"}, "Code: <42> <b>", "Code: &lt;42&gt; &lt;b&gt;", ""},
		{"a value cannot make a javascript link", `<a href="{{url}}">go</a>`, true,
			map[string]string{"url": "javascript:alert(1)"}, "go", "go", ""},
		{"a web link stays", `<p>See <a href="https://help.example/{{page}}">help</a></p>`, true,
			map[string]string{"page": "faq"}, "See help", `<p>See <a href="https://help.example/faq" rel="nofollow noopener" target="_blank">help</a></p>`, ""},
		{"paragraphs and lists become lines", "<p>One</p><p>Two<br>Three</p><ul><li>a</li><li>b</li></ul>", true,
			nil, "One\nTwo\nThree\n- a\n- b", "<p>One</p><p>Two<br>Three</p><ul><li>a</li><li>b</li></ul>", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := templates.Render(c.body, c.rich, c.vars)
			if r.Text != c.text || r.HTML != c.html || strings.Join(r.Unknown, ",") != c.unknown {
				t.Fatalf("got text %q html %q unknown %v", r.Text, r.HTML, r.Unknown)
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	for _, in := range []string{
		`<script>alert(1)</script><p>x</p>`,
		`<p onclick="alert(1)">x</p>`,
		`<a href="javascript:alert(1)">x</a>`,
		`<a href="JaVaScRiPt:alert(1)">x</a>`,
		`<img src=x onerror=alert(1)>`,
		`<iframe src="https://evil.example"></iframe>`,
		`<p style="background:url(javascript:alert(1))">x</p>`,
		`<svg><script>alert(1)</script></svg>`,
	} {
		out := strings.ToLower(templates.Sanitize(in))
		for _, bad := range []string{"<script", "onclick", "onerror", "javascript:", "<iframe", "<img", "style=", "<svg"} {
			if strings.Contains(out, bad) {
				t.Errorf("Sanitize(%q) = %q keeps %q", in, out, bad)
			}
		}
	}
}

func TestSegments(t *testing.T) {
	emoji := "😀" // two UTF-16 code units
	cases := []struct {
		name string
		text string
		want int
	}{
		{"empty", "", 0},
		{"GSM 160", strings.Repeat("a", 160), 1},
		{"GSM 161", strings.Repeat("a", 161), 2},
		{"GSM 153x2", strings.Repeat("a", 306), 2},
		{"GSM 153x2+1", strings.Repeat("a", 307), 3},
		{"extension chars count two: 80 euros", strings.Repeat("€", 80), 1},
		{"extension chars count two: 80 euros and one", strings.Repeat("€", 80) + "a", 2},
		{"GSM accents are GSM", strings.Repeat("é", 160), 1},
		{"UCS-2 70", strings.Repeat("ą", 70), 1},
		{"UCS-2 71", strings.Repeat("ą", 71), 2},
		{"UCS-2 67x2", strings.Repeat("ą", 134), 2},
		{"UCS-2 67x2+1", strings.Repeat("ą", 135), 3},
		{"emoji 35 fit one part", strings.Repeat(emoji, 35), 1},
		{"emoji 35 and one unit more", strings.Repeat(emoji, 35) + "a", 2},
		{"one emoji makes the message UCS-2", strings.Repeat("a", 69) + emoji, 2},
	}
	for _, c := range cases {
		if got := templates.Segments(c.text); got != c.want {
			t.Errorf("%s (%d runes): %d parts, want %d", c.name, utf8.RuneCountInString(c.text), got, c.want)
		}
	}
}

var onHandler = regexp.MustCompile(`<[^>]*\son[a-z]+=`)

func FuzzRender(f *testing.F) {
	f.Add("<p>Hi {{name}}</p><script>x</script>", "<b>&", true)
	f.Add("Code {{ a.b }} {{", "€😀", false)
	f.Fuzz(func(t *testing.T, body, value string, rich bool) {
		r := templates.Render(body, rich, map[string]string{"name": value, "a.b": value})
		if rich {
			low := strings.ToLower(r.HTML)
			if strings.Contains(low, "<script") || strings.Contains(low, `href="javascript`) || onHandler.MatchString(low) {
				t.Fatalf("unsafe HTML %q from %q / %q", r.HTML, body, value)
			}
		}
		if r.SMSSegments < 0 || (r.Text != "" && r.SMSSegments == 0) {
			t.Fatalf("segments %d for %q", r.SMSSegments, r.Text)
		}
	})
}
