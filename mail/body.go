package mail

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/ent/schema"
	"switchboard/gid"
	"switchboard/instances"
)

// Body reads an email's content from the tenant's content bucket: the text
// and the HTML (sanitised with bluemonday's UGC policy), and its
// attachments with presigned download URLs that expire within 15 minutes.
// The Email is read again under the viewer in ctx, so another tenant's
// email is NOT_FOUND whatever the caller holds. An email whose content is
// not stored is NOT_FOUND too. For a message that cannot be parsed whole
// (a FAILED one), Body returns what could be read.
//
// Within a context from WithBodyCache, each email is read once however
// often Body is asked (GraphQL resolves bodyText, bodyHtml and attachments
// separately).
func (s *Service) Body(ctx context.Context, e *ent.Email) (text, html string, attachments []AttachmentInfo, err error) {
	if e == nil {
		return "", "", nil, apierror.New(apierror.NotFound, "email not found")
	}
	cache, _ := ctx.Value(bodyCacheKey{}).(*bodyCache)
	if cache == nil {
		return s.body(ctx, e)
	}
	cache.mu.Lock()
	entry, ok := cache.entries[e.ID]
	if !ok {
		entry = &bodyEntry{}
		cache.entries[e.ID] = entry
	}
	cache.mu.Unlock()
	entry.once.Do(func() { entry.text, entry.html, entry.attachments, entry.err = s.body(ctx, e) })
	return entry.text, entry.html, slices.Clone(entry.attachments), entry.err
}

// bodyCacheKey is the context key of a bodyCache.
type bodyCacheKey struct{}

// bodyCache holds the bodies read during one request.
type bodyCache struct {
	mu      sync.Mutex
	entries map[gid.ID]*bodyEntry
}

type bodyEntry struct {
	once        sync.Once
	text, html  string
	attachments []AttachmentInfo
	err         error
}

// WithBodyCache returns ctx with a cache of the email bodies Body reads, for
// the span of one request (one viewer).
func WithBodyCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, bodyCacheKey{}, &bodyCache{entries: map[gid.ID]*bodyEntry{}})
}

// body is Body without the cache.
func (s *Service) body(ctx context.Context, e *ent.Email) (text, html string, attachments []AttachmentInfo, err error) {
	db := s.dbClient(ctx)
	e, err = db.Email.Get(ctx, e.ID)
	if ent.IsNotFound(err) {
		return "", "", nil, apierror.Wrap(apierror.NotFound, err, "email not found")
	}
	if err != nil {
		return "", "", nil, err
	}
	if e.ObjectKey == "" {
		return "", "", nil, apierror.New(apierror.NotFound, "the email's content is not stored")
	}
	// Issue 9 (perms): read on the viewer's behalf, which the Instance policy allows only under schema.ReadInstance.
	inst, err := instances.Find(schema.ReadInstance(ctx), db)
	if err != nil {
		return "", "", nil, err
	}
	if inst == nil {
		return "", "", nil, apierror.New(apierror.NotFound, "the tenant has no Amazon Connect instance")
	}
	c, err := s.s3Client(inst)
	if err != nil {
		return "", "", nil, err
	}
	content, attachmentsBucket := s.BucketNames(inst.TenantID, inst.Alias)
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(content), Key: aws.String(e.ObjectKey)})
	if err != nil {
		var noKey *s3types.NoSuchKey
		if errors.As(err, &noKey) {
			return "", "", nil, apierror.Wrap(apierror.NotFound, err, "the email's content is no longer stored")
		}
		return "", "", nil, upstream(err, "Amazon S3 did not give the email's content")
	}
	defer out.Body.Close()
	msg, err := parse(&limitReader{r: out.Body, n: s.maxMessage}, parseHooks{}, s.maxBodyBytes)
	if err != nil && !errors.Is(err, ErrMalformed) && !errors.Is(err, errTooLarge) {
		return "", "", nil, upstream(err, "the email's content could not be read from Amazon S3")
	}

	presign := s3.NewPresignClient(c, func(o *s3.PresignOptions) { o.Expires = s.urlExpiry })
	for i, a := range msg.Attachments {
		req, err := presign.PresignGetObject(ctx, &s3.GetObjectInput{
			Bucket:                     aws.String(attachmentsBucket),
			Key:                        aws.String(attachmentKey(e.MessageID, i+1, a.FileName)),
			ResponseContentDisposition: aws.String(contentDisposition(a.FileName)),
			ResponseContentType:        aws.String(a.ContentType),
		})
		if err != nil {
			return "", "", nil, upstream(err, "the attachment's download link could not be made")
		}
		a.DownloadURL = req.URL
		attachments = append(attachments, a)
	}
	return msg.Text, s.policy.Sanitize(msg.HTML), attachments, nil
}
