// Package templates renders the replies agents send over chat and SMS:
// placeholders filled in, rich text kept to a safe subset of HTML, and the
// SMS parts a text needs counted.
package templates

import (
	"html"
	"regexp"
	"slices"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	xhtml "golang.org/x/net/html"
)

// policy is the HTML a chat template may hold: text formatting, lists,
// links to web and mail addresses; no scripts, styles, event handlers,
// images or frames.
var policy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "strong", "b", "em", "i", "u", "s", "ul", "ol", "li", "blockquote", "code", "pre", "span")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto", "tel")
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}()

// Sanitize returns html kept to the policy's subset.
func Sanitize(s string) string { return policy.Sanitize(s) }

// placeholder matches {{name}} and {{customer.firstName}}, spaces allowed.
var placeholder = regexp.MustCompile(`\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}`)

// Rendered is a template with its placeholders filled in.
type Rendered struct {
	Text        string   // plain text
	HTML        string   // sanitised HTML (chat); the escaped text for SMS
	SMSSegments int      // SMS parts the text needs
	Unknown     []string // placeholders with no value, rendered empty
}

// Render fills the body's placeholders from vars. A rich (chat) body is
// HTML: values are escaped into it and the result sanitised again; a plain
// (SMS) body takes the values as they are.
func Render(body string, rich bool, vars map[string]string) Rendered {
	var unknown []string
	fill := func(escape bool) string {
		return placeholder.ReplaceAllStringFunc(body, func(m string) string {
			name := placeholder.FindStringSubmatch(m)[1]
			v, ok := vars[name]
			if !ok {
				if !slices.Contains(unknown, name) {
					unknown = append(unknown, name)
				}
				return ""
			}
			if escape {
				return html.EscapeString(v)
			}
			return v
		})
	}
	var r Rendered
	if rich {
		r.HTML = Sanitize(fill(true))
		r.Text = PlainText(r.HTML)
	} else {
		r.Text = fill(false)
		r.HTML = html.EscapeString(r.Text)
	}
	slices.Sort(unknown)
	r.Unknown = unknown
	r.SMSSegments = Segments(r.Text)
	return r
}

// PlainText returns the text of an HTML fragment: paragraphs and line
// breaks as new lines, list items on lines of their own, entities decoded.
func PlainText(fragment string) string {
	var b strings.Builder
	z := xhtml.NewTokenizer(strings.NewReader(fragment))
	newline := func() {
		if s := b.String(); s != "" && !strings.HasSuffix(s, "\n") {
			b.WriteByte('\n')
		}
	}
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			return strings.TrimSpace(b.String())
		case xhtml.TextToken:
			b.Write(z.Text())
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "br":
				b.WriteByte('\n')
			case "p", "li", "blockquote", "pre", "ul", "ol":
				newline()
				if string(name) == "li" {
					b.WriteString("- ")
				}
			}
		case xhtml.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "p", "li", "blockquote", "pre":
				newline()
			}
		}
	}
}
