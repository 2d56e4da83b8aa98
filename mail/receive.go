package mail

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	connecttypes "github.com/aws/aws-sdk-go-v2/service/connect/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"switchboard/apierror"
	"switchboard/connectaws"
	"switchboard/ent"
	"switchboard/ent/email"
	"switchboard/ent/emailaddress"
	"switchboard/ent/predicate"
	"switchboard/gid"
	"switchboard/viewer"
)

// ReferenceName is the name of the task reference that carries the Email's
// ID in the Amazon Connect task of an inbound email.
const ReferenceName = "email"

// errSeen stops the parse of a message that is already recorded.
var errSeen = errors.New("mail: message already recorded")

// errTooLarge reports a message past Options.MaxMessageBytes.
var errTooLarge = errors.New("mail: message too large")

// Receive takes in the raw message that SES stored at bucket/key, the
// content bucket of inst: it copies the attachments to the attachments
// bucket, records the Email (INBOUND), and routes it: when a recipient is
// one of the tenant's email addresses with a contact flow, an Amazon Connect
// task is started on that flow, referring to the Email (state ROUTED);
// otherwise the Email stays RECEIVED. A message that cannot be parsed is
// recorded as FAILED (with what its header gave) and not routed; that is
// not an error.
//
// Receive is idempotent on the message ID (the Message-ID header, else the
// object key): a message already recorded is not copied or recorded again,
// and only routed if it was not yet. ctx carries a viewer of inst's tenant,
// or none (Receive then acts as the tenant's system).
func (s *Service) Receive(ctx context.Context, inst *ent.Instance, bucket, key string) (*ent.Email, error) {
	return s.receive(ctx, inst, bucket, key, nil)
}

// receive is Receive, trying the envelope recipients (from the SES
// notification) first when routing.
func (s *Service) receive(ctx context.Context, inst *ent.Instance, bucket, key string, envelope []string) (*ent.Email, error) {
	if inst == nil {
		return nil, apierror.New(apierror.BadUserInput, "no instance")
	}
	switch v := viewer.FromContext(ctx); {
	case v == nil:
		ctx = systemContext(ctx, inst.TenantID)
	case v.TenantID != inst.TenantID:
		return nil, apierror.New(apierror.Forbidden, "the instance belongs to another tenant")
	}
	content, attachments := s.BucketNames(inst.TenantID, inst.Alias)
	if bucket != content {
		return nil, apierror.New(apierror.BadUserInput, "%s is not the instance's content bucket", bucket)
	}
	if key == "" || len(key) > 1024 {
		return nil, apierror.New(apierror.BadUserInput, "invalid object key")
	}
	c, err := s.s3Client(inst)
	if err != nil {
		return nil, err
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		var noKey *s3types.NoSuchKey
		if errors.As(err, &noKey) {
			return nil, apierror.Wrap(apierror.NotFound, err, "the message is not in the content bucket")
		}
		return nil, upstream(err, "Amazon S3 did not give the message")
	}
	defer out.Body.Close()

	db := s.dbClient(ctx)
	var (
		messageID string
		existing  *ent.Email
		buf       []byte
	)
	hooks := parseHooks{
		header: func(m *Message) error {
			messageID = recordID(m.MessageID, key)
			e, err := db.Email.Query().Where(email.MessageID(messageID)).Only(ctx)
			switch {
			case err == nil:
				existing = e
				return errSeen
			case ent.IsNotFound(err):
				return nil
			}
			return err
		},
		attachment: func(n int, info AttachmentInfo, r io.Reader) error {
			if buf == nil {
				buf = make([]byte, s.partSize)
			}
			_, err := upload(ctx, c, attachments, attachmentKey(messageID, n, info.FileName),
				info.ContentType, contentDisposition(info.FileName), r, buf)
			if err != nil {
				return upstream(err, "Amazon S3 did not store an attachment")
			}
			return nil
		},
	}
	msg, err := parse(&limitReader{r: out.Body, n: s.maxMessage}, hooks, s.maxBodyBytes)
	state := email.StateRECEIVED
	switch {
	case errors.Is(err, errSeen):
		return s.route(ctx, inst, existing, envelope)
	case errors.Is(err, ErrMalformed), errors.Is(err, errTooLarge):
		s.log.WarnContext(ctx, "mail: malformed inbound message", "tenant", inst.TenantID, "key", key, "err", err)
		state = email.StateFAILED
	case err != nil:
		if _, ok := errors.AsType[*apierror.Error](err); ok {
			return nil, err
		}
		return nil, upstream(err, "the message could not be read from Amazon S3")
	}
	if messageID == "" {
		messageID = recordID(msg.MessageID, key)
	}
	e, err := s.record(ctx, db, msg, messageID, key, state)
	if err != nil {
		return nil, err
	}
	return s.route(ctx, inst, e, envelope)
}

// limitReader reads at most n bytes, then fails with errTooLarge.
type limitReader struct {
	r io.Reader
	n int64
}

func (l *limitReader) Read(b []byte) (int, error) {
	if l.n < 0 {
		return 0, errTooLarge
	}
	if int64(len(b)) > l.n+1 {
		b = b[:l.n+1]
	}
	n, err := l.r.Read(b)
	l.n -= int64(n)
	if l.n < 0 {
		return n, errTooLarge
	}
	return n, err
}

// recordID is the message ID an inbound Email is recorded under: the
// Message-ID, or, for a message without one, its object key.
func recordID(headerID, key string) string {
	if headerID != "" {
		return headerID
	}
	id := "s3:" + key
	if len(id) > 900 {
		sum := sha256.Sum256([]byte(key))
		id = "s3:" + hex.EncodeToString(sum[:])
	}
	return id
}

// record creates the inbound Email, or returns the one a concurrent
// delivery of the same message created.
func (s *Service) record(ctx context.Context, db *ent.Client, msg *Message, messageID, key string, state email.State) (*ent.Email, error) {
	date := msg.Date
	if date.IsZero() {
		date = s.now()
	}
	to := msg.To
	if to == nil {
		to = []string{}
	}
	e, err := db.Email.Create().
		SetDirection(email.DirectionINBOUND).
		SetFrom(msg.From).
		SetTo(to).
		SetCc(msg.Cc).
		SetSubject(msg.Subject).
		SetDate(date.UTC()).
		SetMessageID(messageID).
		SetObjectKey(key).
		SetState(state).
		Save(ctx)
	if ent.IsConstraintError(err) {
		return db.Email.Query().Where(email.MessageID(messageID)).Only(ctx)
	}
	return e, err
}

// route starts the Connect task of a RECEIVED inbound Email whose recipient
// is one of the tenant's addresses with a contact flow, and marks it ROUTED.
func (s *Service) route(ctx context.Context, inst *ent.Instance, e *ent.Email, envelope []string) (*ent.Email, error) {
	if e.State != email.StateRECEIVED || e.Direction != email.DirectionINBOUND {
		return e, nil
	}
	db := s.dbClient(ctx)
	rule, err := s.rule(ctx, db, append(append(append([]string{}, envelope...), e.To...), e.Cc...))
	if err != nil {
		return nil, err
	}
	if rule == nil {
		s.log.InfoContext(ctx, "mail: no email address routes the message", "tenant", e.TenantID, "email", e.ID)
		return e, nil
	}
	instanceID, err := connectaws.InstanceID(inst.InstanceArn)
	if err != nil {
		return nil, apierror.Wrap(apierror.BadUserInput, err, "the Amazon Connect instance's ARN cannot be used")
	}
	c, err := s.connectClient(inst)
	if err != nil {
		return nil, err
	}
	_, err = c.StartTaskContact(ctx, &connect.StartTaskContactInput{
		InstanceId:    aws.String(instanceID),
		ContactFlowId: aws.String(rule.ContactFlowID),
		Name:          aws.String(taskName(e)),
		Description:   aws.String(taskDescription(e, rule)),
		References: map[string]connecttypes.Reference{
			ReferenceName: {Type: connecttypes.ReferenceTypeString, Value: aws.String(string(e.ID))},
		},
		Attributes: map[string]string{
			"emailId":      string(e.ID),
			"emailFrom":    e.From,
			"emailAddress": rule.Address,
		},
		ClientToken: aws.String(clientToken(e.TenantID, e.MessageID)),
	})
	if err != nil {
		return nil, upstream(err, "Amazon Connect did not start a task for the email")
	}
	return e.Update().SetState(email.StateROUTED).Save(ctx)
}

// rule returns the tenant's email address that routes mail to the first of
// recipients it matches (without regard to case) and that has a contact
// flow, or nil.
func (s *Service) rule(ctx context.Context, db *ent.Client, recipients []string) (*ent.EmailAddress, error) {
	var preds []predicate.EmailAddress
	seen := map[string]bool{}
	var order []string
	for _, r := range recipients {
		r = strings.ToLower(strings.TrimSpace(r))
		if r == "" || seen[r] || len(order) >= 100 {
			continue
		}
		seen[r] = true
		order = append(order, r)
		preds = append(preds, emailaddress.AddressEqualFold(r))
	}
	if len(preds) == 0 {
		return nil, nil
	}
	addrs, err := db.EmailAddress.Query().Where(emailaddress.Or(preds...), emailaddress.ContactFlowIDNEQ("")).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range order {
		for _, a := range addrs {
			if strings.EqualFold(a.Address, r) {
				return a, nil
			}
		}
	}
	return nil, nil
}

// taskName is the name of an email's task: its subject, within Connect's
// 512 characters.
func taskName(e *ent.Email) string {
	name := e.Subject
	if name == "" {
		name = "Email from " + e.From
	}
	return truncateRunes(name, 512)
}

// taskDescription tells the agent what the email is, within Connect's 4,096
// characters; the body stays in the tenant's bucket.
func taskDescription(e *ent.Email, rule *ent.EmailAddress) string {
	d := "Email from " + e.From + " to " + rule.Address
	if e.Subject != "" {
		d += ": " + e.Subject
	}
	return truncateRunes(d, 4096)
}

func truncateRunes(s string, max int) string {
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max])
}

// clientToken is the idempotency token of an email's task: the same for
// every delivery of the message.
func clientToken(tenant gid.ID, messageID string) string {
	sum := sha256.Sum256([]byte(string(tenant) + "\x00" + messageID))
	return hex.EncodeToString(sum[:])
}
