package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	sestypes "github.com/aws/aws-sdk-go-v2/service/sesv2/types"
	"github.com/jhillyerd/enmime"

	"switchboard/apierror"
	"switchboard/connectaws/arn"
	"switchboard/ent"
	"switchboard/ent/email"
	"switchboard/ent/emailaddress"
	"switchboard/gid"
	"switchboard/viewer"
)

// Limits of Send.
const (
	maxRecipients     = 50 // SES's limit per message
	maxOutAttachments = 50
)

// Outgoing is an email to send.
type Outgoing struct {
	// From is the ID of the tenant's EmailAddress to send from; or, when
	// empty, FromAddress is its address.
	From        gid.ID
	FromAddress string
	// To, Cc and Bcc are addresses ("a@example.com" or
	// "Name <a@example.com>"); at least one in all, at most 50.
	To, Cc, Bcc []string
	Subject     string
	// Text and HTML are the bodies, either or both. HTML is sanitised
	// (bluemonday's UGC policy) before it is sent.
	Text, HTML  string
	Attachments []Attachment
	// InReplyTo, when set, is the Email this one answers: its Message-ID
	// goes into In-Reply-To and References.
	InReplyTo gid.ID
}

// Attachment is a file to send. Body is read once, while the message is
// built.
type Attachment struct {
	FileName, ContentType string
	Body                  io.Reader
	// Size is Body's length when known (a GraphQL upload's is), 0 when not:
	// with it Send sizes the message's buffer once instead of growing it.
	Size int64
}

// Send sends an email from one of the tenant's addresses through the SES
// identity of that address, as the viewer in ctx (an agent or above of the
// tenant). The message is built as MIME and sent raw; once SES accepts it,
// the raw message goes to the content bucket (outbound/<SES message
// ID>.eml), its attachments to the attachments bucket, and the Email is
// recorded (OUTBOUND, SENT; Bcc is not recorded).
//
// Invalid input is BAD_USER_INPUT, an unknown From NOT_FOUND; when SES
// refuses, the error is UPSTREAM and nothing is stored or recorded. Once
// SES has sent the email, failing to store a copy is logged and does not
// fail Send; the Email is then recorded without an object key.
func (s *Service) Send(ctx context.Context, in Outgoing) (*ent.Email, error) {
	v := viewer.FromContext(ctx)
	if !v.InTenant(viewer.RoleAgent) {
		return nil, apierror.New(apierror.Forbidden, "only a tenant's people send email")
	}
	db := s.dbClient(ctx)
	from, err := s.sender(ctx, db, in)
	if err != nil {
		return nil, err
	}
	to, err := parseRecipients("To", in.To)
	if err != nil {
		return nil, err
	}
	cc, err := parseRecipients("Cc", in.Cc)
	if err != nil {
		return nil, err
	}
	bcc, err := parseRecipients("Bcc", in.Bcc)
	if err != nil {
		return nil, err
	}
	switch n := len(to) + len(cc) + len(bcc); {
	case n == 0:
		return nil, apierror.New(apierror.BadUserInput, "an email needs a recipient")
	case n > maxRecipients:
		return nil, apierror.New(apierror.BadUserInput, "an email has at most %d recipients", maxRecipients)
	}
	if strings.ContainsAny(in.Subject, "\r\n") || len(in.Subject) > 998 {
		return nil, apierror.New(apierror.BadUserInput, "the subject must be one line of at most 998 bytes")
	}
	if len(in.Attachments) > maxOutAttachments {
		return nil, apierror.New(apierror.BadUserInput, "an email has at most %d attachments", maxOutAttachments)
	}
	inst, err := s.tenantInstance(ctx)
	if err != nil {
		return nil, err
	}

	raw, err := s.build(ctx, db, in, from, to, cc, bcc)
	if err != nil {
		return nil, err
	}
	ses, err := s.sesClient(inst, identityRegion(from.SesIdentityArn))
	if err != nil {
		return nil, err
	}
	out, err := ses.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress:            aws.String(from.Address),
		FromEmailAddressIdentityArn: aws.String(from.SesIdentityArn),
		Destination: &sestypes.Destination{
			ToAddresses: addressList(to), CcAddresses: addressList(cc), BccAddresses: addressList(bcc),
		},
		Content: &sestypes.EmailContent{Raw: &sestypes.RawMessage{Data: rawPlaceholder}},
	}, streamRawMessage(raw)) // the message itself, streamed (rawbody.go)
	if err != nil {
		return nil, upstream(err, "Amazon SES did not send the email")
	}
	messageID := aws.ToString(out.MessageId)
	if messageID == "" {
		messageID = string(gid.New("EO"))
	}

	key := s.storeOutbound(ctx, inst, messageID, raw)
	create := db.Email.Create().
		SetDirection(email.DirectionOUTBOUND).
		SetFrom(from.Address).
		SetTo(addressList(to)).
		SetCc(addressList(cc)).
		SetSubject(in.Subject).
		SetDate(s.now().UTC()).
		SetMessageID(messageID).
		SetState(email.StateSENT)
	if key != "" {
		create.SetObjectKey(key)
	}
	e, err := create.Save(ctx)
	if err != nil {
		s.log.ErrorContext(ctx, "mail: email sent but not recorded", "tenant", v.TenantID, "sesMessageId", messageID, "err", err)
		return nil, err
	}
	return e, nil
}

// sender returns the tenant's address to send from.
func (s *Service) sender(ctx context.Context, db *ent.Client, in Outgoing) (*ent.EmailAddress, error) {
	q := db.EmailAddress.Query()
	switch {
	case in.From != "":
		q = q.Where(emailaddress.ID(in.From))
	case in.FromAddress != "":
		q = q.Where(emailaddress.AddressEqualFold(strings.TrimSpace(in.FromAddress)))
	default:
		return nil, apierror.New(apierror.BadUserInput, "say which address the email is from")
	}
	from, err := q.First(ctx)
	if ent.IsNotFound(err) {
		return nil, apierror.New(apierror.NotFound, "the tenant has no such email address")
	}
	if err != nil {
		return nil, err
	}
	if from.SesIdentityArn == "" {
		return nil, apierror.New(apierror.BadUserInput, "the address %s has no SES identity", from.Address)
	}
	return from, nil
}

// parseRecipients reads a list of addresses.
func parseRecipients(field string, list []string) ([]*mail.Address, error) {
	var out []*mail.Address
	seen := map[string]bool{}
	for _, s := range list {
		if strings.ContainsAny(s, "\r\n") {
			return nil, apierror.New(apierror.BadUserInput, "%s: %q is not an email address", field, s)
		}
		a, err := mail.ParseAddress(s)
		if err != nil || len(a.Address) > 320 {
			return nil, apierror.New(apierror.BadUserInput, "%s: %q is not an email address", field, s)
		}
		if k := strings.ToLower(a.Address); !seen[k] {
			seen[k] = true
			out = append(out, a)
		}
	}
	return out, nil
}

func addressList(as []*mail.Address) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.Address
	}
	return out
}

// build makes the MIME message: enmime's builder, attachments streamed into
// its encoder, the whole bounded by Options.MaxMessageBytes.
func (s *Service) build(ctx context.Context, db *ent.Client, in Outgoing, from *ent.EmailAddress, to, cc, bcc []*mail.Address) ([]byte, error) {
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	b := enmime.Builder().
		From(from.DisplayName, from.Address).
		Subject(in.Subject).
		Date(s.now()).
		Header("Message-Id", fmt.Sprintf("<%s@%s>", strings.ToLower(string(gid.New("em"))), domain))
	for _, a := range to {
		b = b.To(a.Name, a.Address)
	}
	for _, a := range cc {
		b = b.CC(a.Name, a.Address)
	}
	for _, a := range bcc {
		b = b.BCC(a.Name, a.Address)
	}
	if in.Text != "" {
		b = b.Text([]byte(strings.ToValidUTF8(in.Text, "\uFFFD")))
	}
	if in.HTML != "" {
		b = b.HTML([]byte(s.policy.Sanitize(in.HTML)))
	}
	if in.InReplyTo != "" {
		orig, err := db.Email.Get(ctx, in.InReplyTo)
		if ent.IsNotFound(err) {
			return nil, apierror.New(apierror.NotFound, "the email answered is not found")
		}
		if err != nil {
			return nil, err
		}
		if id := orig.MessageID; strings.Contains(id, "@") && !strings.ContainsAny(id, "\r\n<> ") {
			b = b.Header("In-Reply-To", "<"+id+">").Header("References", "<"+id+">")
		}
	}
	decoded := &budget{left: s.maxMessage}
	for i, a := range in.Attachments {
		name := fileName(a.FileName)
		if name == "" {
			return nil, apierror.New(apierror.BadUserInput, "attachment %d has no file name", i+1)
		}
		ctype := a.ContentType
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		mt, _, err := mime.ParseMediaType(ctype)
		if err != nil || strings.HasPrefix(mt, "multipart/") {
			return nil, apierror.New(apierror.BadUserInput, "attachment %s: %q is not a content type", name, ctype)
		}
		if a.Body == nil {
			return nil, apierror.New(apierror.BadUserInput, "attachment %s has no content", name)
		}
		b = b.AddAttachmentWithReader(&budgetReader{r: a.Body, b: decoded}, mt, name)
	}
	root, err := b.Build()
	if err != nil {
		return nil, apierror.Wrap(apierror.BadUserInput, err, "the email cannot be built")
	}
	var buf bytes.Buffer
	buf.Grow(int(min(encodedSize(in), s.maxMessage)))
	err = root.Encode(&budgetWriter{w: &buf, b: &budget{left: s.maxMessage}})
	switch {
	case errors.Is(err, errTooLarge):
		return nil, apierror.New(apierror.BadUserInput, "the email is larger than %d MB", s.maxMessage>>20)
	case err != nil:
		return nil, apierror.Wrap(apierror.BadUserInput, err, "an attachment could not be read")
	}
	return buf.Bytes(), nil
}

// encodedSize estimates the size of in's MIME message from what is known:
// base64 takes 4/3 and a line break every 76 characters; text and HTML may
// take up to 3/2 quoted-printable, plus headers.
func encodedSize(in Outgoing) int64 {
	n := int64(16<<10) + int64(len(in.Text)+len(in.HTML))*3/2
	for _, a := range in.Attachments {
		n += 1<<10 + a.Size*4/3 + a.Size/57*2 + 4
	}
	return n
}

// budget is a number of bytes left.
type budget struct{ left int64 }

// budgetReader reads while the budget lasts (attachments, decoded).
type budgetReader struct {
	r io.Reader
	b *budget
}

func (r *budgetReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.b.left -= int64(n)
	if r.b.left < 0 {
		return n, errTooLarge
	}
	return n, err
}

// budgetWriter writes while the budget lasts (the message, encoded).
type budgetWriter struct {
	w io.Writer
	b *budget
}

func (w *budgetWriter) Write(p []byte) (int, error) {
	w.b.left -= int64(len(p))
	if w.b.left < 0 {
		return 0, errTooLarge
	}
	return w.w.Write(p)
}

// storeOutbound puts a sent message into the content bucket and its
// attachments into the attachments bucket, and returns the message's key;
// "" when it could not be stored (logged: the email is sent regardless).
func (s *Service) storeOutbound(ctx context.Context, inst *ent.Instance, messageID string, raw []byte) string {
	c, err := s.s3Client(inst)
	if err != nil {
		s.log.ErrorContext(ctx, "mail: sent email not stored", "tenant", inst.TenantID, "sesMessageId", messageID, "err", err)
		return ""
	}
	content, attachments := s.BucketNames(inst.TenantID, inst.Alias)
	key := outboundKey(messageID)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{
		Bucket:               aws.String(content),
		Key:                  aws.String(key),
		Body:                 bytes.NewReader(raw),
		ContentLength:        aws.Int64(int64(len(raw))),
		ContentType:          aws.String("message/rfc822"),
		ServerSideEncryption: s3types.ServerSideEncryptionAes256,
	})
	if err != nil {
		s.log.ErrorContext(ctx, "mail: sent email not stored", "tenant", inst.TenantID, "sesMessageId", messageID, "err", err)
		return ""
	}
	var buf []byte
	_, err = parse(bytes.NewReader(raw), parseHooks{attachment: func(n int, info AttachmentInfo, r io.Reader) error {
		if buf == nil {
			buf = make([]byte, s.partSize)
		}
		_, err := upload(ctx, c, attachments, attachmentKey(messageID, n, info.FileName),
			info.ContentType, contentDisposition(info.FileName), r, buf)
		return err
	}}, 0)
	if err != nil {
		s.log.ErrorContext(ctx, "mail: attachments of a sent email not stored", "tenant", inst.TenantID, "sesMessageId", messageID, "err", err)
	}
	return key
}

// identityRegion returns the region of an SES identity's ARN, or "" (the
// instance's region) when it names none.
func identityRegion(identityARN string) string {
	a, err := arn.Parse(identityARN)
	if err != nil {
		return ""
	}
	return a.Region
}
