package mail

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/jhillyerd/enmime"
	"github.com/jhillyerd/enmime/mediatype"
	"golang.org/x/text/encoding/htmlindex"
)

// Limits of Parse. A message past one of them is malformed.
const (
	maxHeaderBytes = 1 << 20 // the top-level header block
	maxDepth       = 20      // multipart nesting
	maxParts       = 1000
	maxAttachments = 100
	maxAddresses   = 100 // per address header kept
	maxBodyBytes   = 2 << 20
	partSize       = 8 << 20 // the S3 upload buffer; S3's minimum part is 5 MiB
)

// ErrMalformed reports a message that is not MIME Parse can read: no
// header, a header block past 1 MiB, a broken multipart structure or
// transfer encoding, nesting past 20 levels, more than 1,000 parts or 100
// attachments.
var ErrMalformed = errors.New("mail: malformed message")

// Message is what Parse read from a message.
type Message struct {
	From     string // the first From address, "" when none could be read
	FromName string
	To, Cc   []string // addresses, at most 100 each
	Subject  string
	// Date is the Date header; zero when absent or unreadable.
	Date time.Time
	// MessageID is the Message-ID without its angle brackets; "" when absent.
	MessageID string
	// Text and HTML are the bodies decoded to UTF-8, each cut at 2 MiB:
	// every text/plain and text/html part that is not an attachment, in
	// order. HTML is as sent, not sanitised.
	Text, HTML string
	// Attachments are the other leaf parts, in order, with their sizes.
	Attachments []AttachmentInfo
}

// AttachmentInfo describes an attachment.
type AttachmentInfo struct {
	FileName    string
	ContentType string // the media type, lower-case, without parameters
	Size        int64  // decoded
	// DownloadURL is a presigned GET of the stored attachment (Body only).
	DownloadURL string
}

// AttachmentFunc takes an attachment's decoded content as Parse reads it.
// n counts attachments from 1; info.Size is not known yet. Whatever the
// function leaves unread is skipped. An error stops Parse, which returns it.
type AttachmentFunc func(n int, info AttachmentInfo, content io.Reader) error

// Parse reads a MIME message from r, streaming: each attachment's content
// is decoded straight from r into onAttachment (which may be nil), so no
// attachment is held in memory. It returns what it read even with an error;
// an error that is the message's fault matches ErrMalformed, and r's own
// read errors and onAttachment's are returned as they are.
func Parse(r io.Reader, onAttachment AttachmentFunc) (*Message, error) {
	return parse(r, parseHooks{attachment: onAttachment}, maxBodyBytes)
}

// parseHooks are called as parse goes.
type parseHooks struct {
	// header is called once the header block is read; its error stops
	// parse, which returns it.
	header     func(*Message) error
	attachment AttachmentFunc
}

// parser is one run of parse.
type parser struct {
	hooks   parseHooks
	msg     *Message
	maxBody int
	parts   int
	// contentErr is the first error an attachment's reader met: the
	// message's fault (a broken part or encoding) unless src failed.
	contentErr error
}

// hookError carries a hook's error through the walk unchanged.
type hookError struct{ err error }

func (e hookError) Error() string { return e.err.Error() }

// sourceReader remembers the first error its reader returned.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(b []byte) (int, error) {
	n, err := s.r.Read(b)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

func parse(r io.Reader, hooks parseHooks, maxBody int) (*Message, error) {
	src := &sourceReader{r: r}
	p := &parser{hooks: hooks, msg: &Message{}, maxBody: maxBody}
	err := p.run(bufio.NewReaderSize(src, 32<<10))
	var he hookError
	switch {
	case err == nil:
		return p.msg, nil
	case src.err != nil:
		return p.msg, src.err
	case p.contentErr != nil:
		return p.msg, fmt.Errorf("%w: %v", ErrMalformed, p.contentErr)
	case errors.As(err, &he):
		return p.msg, he.err
	}
	return p.msg, fmt.Errorf("%w: %v", ErrMalformed, err)
}

func (p *parser) run(br *bufio.Reader) error {
	block, err := readHeaderBlock(br)
	if err != nil {
		return err
	}
	h, err := enmime.ReadHeader(bufio.NewReader(bytes.NewReader(block)), discardErrors{})
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if len(h) == 0 {
		return errors.New("no header fields")
	}
	p.envelope(h)
	if p.hooks.header != nil {
		if err := p.hooks.header(p.msg); err != nil {
			return hookError{err}
		}
	}
	return p.walk(h, br, 0)
}

// discardErrors ignores what enmime's header reader tolerates.
type discardErrors struct{}

func (discardErrors) AddError(string, string, ...any)   {}
func (discardErrors) AddWarning(string, string, ...any) {}

// readHeaderBlock reads the header block, up to and with the empty line
// that ends it (or to the end of a message without a body).
func readHeaderBlock(br *bufio.Reader) ([]byte, error) {
	var buf bytes.Buffer
	lineStart := true
	for {
		line, err := br.ReadSlice('\n')
		if buf.Len()+len(line) > maxHeaderBytes {
			return nil, errors.New("header block too long")
		}
		buf.Write(line)
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			lineStart = false
			continue
		case err == io.EOF:
			return buf.Bytes(), nil
		case err != nil:
			return nil, err
		}
		if lineStart && (len(line) == 1 || (len(line) == 2 && line[0] == '\r')) {
			return buf.Bytes(), nil
		}
		lineStart = true
	}
}

// envelope reads the message's addresses, subject, date and ID.
func (p *parser) envelope(h textproto.MIMEHeader) {
	m := p.msg
	if from := addresses(h.Values("From")); len(from) > 0 {
		m.From, m.FromName = from[0].Address, from[0].Name
	}
	for _, a := range addresses(h.Values("To")) {
		m.To = append(m.To, a.Address)
	}
	for _, a := range addresses(h.Values("Cc")) {
		m.Cc = append(m.Cc, a.Address)
	}
	m.Subject = headerText(h.Get("Subject"), 998)
	if d, err := mail.ParseDate(strings.TrimSpace(h.Get("Date"))); err == nil {
		m.Date = d
	}
	m.MessageID = messageID(h.Get("Message-Id"))
}

// addrSpecRE finds addresses in a header enmime could not parse.
var addrSpecRE = regexp.MustCompile(`[^\s<>,;:"()\[\]]+@[^\s<>,;:"()\[\]]+`)

// addresses reads address headers tolerantly: enmime's parser, then, for a
// header it refuses, whatever looks like an address in it.
func addresses(values []string) []*mail.Address {
	var out []*mail.Address
	for _, v := range values {
		list, err := enmime.ParseAddressList(v)
		if err != nil {
			list = nil
			for _, a := range addrSpecRE.FindAllString(v, maxAddresses) {
				list = append(list, &mail.Address{Address: a})
			}
		}
		for _, a := range list {
			addr := cleanText(a.Address, 320)
			if addr == "" || !strings.Contains(addr, "@") || len(out) >= maxAddresses {
				continue
			}
			out = append(out, &mail.Address{Name: cleanText(a.Name, 200), Address: addr})
		}
	}
	return out
}

// messageID returns the Message-ID's id, without angle brackets.
func messageID(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			v = v[i+1 : i+j]
		}
	}
	return cleanText(strings.Trim(v, "<> \t"), 900)
}

// wordDecoder decodes RFC 2047 encoded words in any charset x/text knows.
var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, input io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(input), nil
}}

// headerText decodes a header's encoded words and cleans the result.
func headerText(v string, max int) string {
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		v = d
	}
	return cleanText(v, max)
}

// cleanText makes s valid UTF-8 on one line, without control characters,
// trimmed, at most max bytes (cut at a rune boundary).
func cleanText(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\r' || r == '\n':
			return ' '
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8RuneStart(s[cut]) {
			cut--
		}
		s = strings.TrimSpace(s[:cut])
	}
	return s
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// mediaType parses a Content-Type (valid matching mediaTypeRE) or a
// Content-Disposition (dispositionRE) tolerantly; the type comes back
// lower-case, "" when unreadable or invalid.
func mediaType(v string, valid *regexp.Regexp) (string, map[string]string) {
	if strings.TrimSpace(v) == "" {
		return "", nil
	}
	t, params, _, err := mediatype.Parse(v)
	if err != nil {
		return "", nil
	}
	t = strings.ToLower(t)
	if !valid.MatchString(t) {
		return "", nil
	}
	return t, params
}

// mediaTypeRE and dispositionRE match what a part's type and disposition
// may be (RFC 6838's restricted names), so that neither carries anything
// into an HTTP header that does not belong there.
var (
	mediaTypeRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$`)
	dispositionRE = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$`)
)

// walk goes through a part: a multipart's children in order, or a leaf.
func (p *parser) walk(h textproto.MIMEHeader, body io.Reader, depth int) error {
	p.parts++
	if p.parts > maxParts {
		return errors.New("too many parts")
	}
	mtype, params := mediaType(h.Get("Content-Type"), mediaTypeRE)
	if mtype == "" {
		mtype = "text/plain"
	}
	if !strings.HasPrefix(mtype, "multipart/") {
		return p.leaf(h, mtype, params, body)
	}
	if depth >= maxDepth {
		return errors.New("multipart nested too deep")
	}
	boundary := params["boundary"]
	if boundary == "" {
		return errors.New("multipart without a boundary")
	}
	mr := multipart.NewReader(body, boundary)
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := p.walk(part.Header, part, depth+1); err != nil {
			return err
		}
	}
}

// leaf reads a leaf part: a body or an attachment.
func (p *parser) leaf(h textproto.MIMEHeader, mtype string, params map[string]string, body io.Reader) error {
	disposition, dparams := mediaType(h.Get("Content-Disposition"), dispositionRE)
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	name = fileName(headerText(name, 1024))
	if (mtype == "text/plain" || mtype == "text/html") && disposition != "attachment" && name == "" {
		return p.body(h, mtype, body)
	}
	return p.attachment(mtype, name, h.Get("Content-Transfer-Encoding"), body)
}

// body decodes a text or HTML body (to maxBody bytes) with enmime, which
// knows charsets and tolerates broken transfer encodings.
func (p *parser) body(h textproto.MIMEHeader, mtype string, r io.Reader) error {
	have := len(p.msg.Text)
	if mtype == "text/html" {
		have = len(p.msg.HTML)
	}
	room := p.maxBody - have
	raw, err := io.ReadAll(io.LimitReader(r, int64(max(room, 0))*2)) // encoded text is at most twice as long, roughly
	if err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	if room <= 0 || len(raw) == 0 {
		return nil
	}
	ctype := h.Get("Content-Type")
	if strings.TrimSpace(ctype) == "" {
		ctype = mtype
	}
	var part bytes.Buffer
	part.WriteString("Content-Type: " + ctype + "\r\n")
	if cte := h.Get("Content-Transfer-Encoding"); cte != "" {
		part.WriteString("Content-Transfer-Encoding: " + cte + "\r\n")
	}
	part.WriteString("\r\n")
	part.Write(raw)
	text := strings.ToValidUTF8(string(raw), "\uFFFD")
	if env, err := enmime.ReadEnvelope(&part); err == nil {
		text = env.Text
		if mtype == "text/html" {
			text = env.HTML
		}
	}
	if len(text) > room {
		text = strings.ToValidUTF8(text[:room], "")
	}
	if mtype == "text/html" {
		p.msg.HTML = join(p.msg.HTML, text)
	} else {
		p.msg.Text = join(p.msg.Text, text)
	}
	return nil
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + "\n" + b
}

// attachment hands an attachment's decoded content to the hook and records
// its size.
func (p *parser) attachment(mtype, name, cte string, r io.Reader) error {
	n := len(p.msg.Attachments) + 1
	if n > maxAttachments {
		return errors.New("too many attachments")
	}
	if name == "" {
		name = fmt.Sprintf("attachment-%d%s", n, extension(mtype))
	}
	info := AttachmentInfo{FileName: name, ContentType: mtype}
	content := &contentReader{r: decoder(cte, r), p: p}
	if p.hooks.attachment != nil {
		if err := p.hooks.attachment(n, info, content); err != nil {
			return hookError{err}
		}
	}
	if _, err := io.Copy(io.Discard, content); err != nil {
		return err
	}
	info.Size = content.n
	p.msg.Attachments = append(p.msg.Attachments, info)
	return nil
}

// contentReader counts an attachment's bytes and remembers its error.
type contentReader struct {
	r io.Reader
	p *parser
	n int64
}

func (c *contentReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.p.contentErr == nil {
		c.p.contentErr = err
	}
	return n, err
}

// decoder undoes a part's Content-Transfer-Encoding.
func decoder(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &base64Filter{r: r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// base64Filter passes only base64's alphabet and padding, so that line
// breaks and stray characters do not trouble the decoder, and ends the data
// at the first character after its padding.
type base64Filter struct {
	r      io.Reader
	padded bool
	done   bool
}

func (f *base64Filter) Read(b []byte) (int, error) {
	for !f.done {
		n, err := f.r.Read(b)
		w := 0
		for _, c := range b[:n] {
			switch {
			case f.done:
			case c == '=':
				f.padded = true
				b[w] = c
				w++
			case !isBase64(c):
			case f.padded:
				f.done = true
			default:
				b[w] = c
				w++
			}
		}
		if w > 0 || err != nil {
			return w, err
		}
	}
	return 0, io.EOF
}

func isBase64(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

// fileName reduces an attachment's name to its last path element, on one
// line, at most 255 bytes.
func fileName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = cleanText(s, 255)
	if s == "." || s == ".." {
		return ""
	}
	return s
}

// extension names the kind of an attachment that has no name.
func extension(mtype string) string {
	switch mtype {
	case "message/rfc822":
		return ".eml"
	case "text/plain":
		return ".txt"
	case "text/html":
		return ".html"
	case "text/calendar":
		return ".ics"
	case "image/png":
		return ".png"
	case "image/jpeg":
		return ".jpg"
	case "image/gif":
		return ".gif"
	case "application/pdf":
		return ".pdf"
	}
	return ".bin"
}
