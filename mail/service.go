package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go"
	"github.com/microcosm-cc/bluemonday"

	"switchboard/apierror"
	"switchboard/awssns"
	"switchboard/connectaws"
	"switchboard/ent"
	"switchboard/ent/schema"
	"switchboard/gid"
	"switchboard/instances"
	"switchboard/viewer"
)

// Defaults for Options.
const (
	DefaultBucketPrefix   = "neon-emails"
	DefaultURLExpiry      = 15 * time.Minute
	DefaultMaxMessage     = 40 << 20 // SES's limit for a message, sent or received
	DefaultProcessTimeout = 5 * time.Minute
	DefaultConcurrency    = 4
)

// ModuleEmail is the instance module that turns the email channel on
// (Instance.modules, compared without regard to case).
const ModuleEmail = "email"

// Options configures a Service.
type Options struct {
	// Client is the store.
	Client *ent.Client
	// AWS makes the S3, SES and Connect clients of each tenant's role,
	// with their endpoints, HTTP client and retries.
	AWS *connectaws.Clients
	// BucketPrefix starts every bucket name; DefaultBucketPrefix when
	// empty. At most 13 lower-case letters, digits and hyphens, starting
	// with a letter, so that the attachments bucket's name keeps the whole
	// tenant ID.
	BucketPrefix string
	// Now tells the time; time.Now when nil.
	Now func() time.Time
	// Logger logs what no caller sees (inbound mail); slog.Default when nil.
	Logger *slog.Logger
	// URLExpiry is how long attachment download URLs last; at most (and by
	// default) 15 minutes.
	URLExpiry time.Duration
	// MaxMessageBytes bounds a message, sent or received;
	// DefaultMaxMessage when zero.
	MaxMessageBytes int64
	// SNS configures how SNS messages are authenticated.
	SNS awssns.Options
	// Concurrency bounds how many inbound messages are processed at once;
	// DefaultConcurrency when zero.
	Concurrency int
	// ProcessTimeout bounds the processing of one inbound message;
	// DefaultProcessTimeout when zero.
	ProcessTimeout time.Duration
}

// Service sends, receives and reads tenants' email. It is safe for
// concurrent use.
type Service struct {
	client                 *ent.Client
	aws                    *connectaws.Clients
	prefix                 string
	now                    func() time.Time
	log                    *slog.Logger
	urlExpiry              time.Duration
	maxMessage             int64
	policy                 *bluemonday.Policy
	sns                    *awssns.Verifier
	sem                    chan struct{}
	processTimeout         time.Duration
	partSize, maxBodyBytes int
}

// New returns a Service configured by opts.
func New(opts Options) (*Service, error) {
	if opts.Client == nil || opts.AWS == nil {
		return nil, errors.New("mail: Options.Client and Options.AWS are required")
	}
	s := &Service{
		client:         opts.Client,
		aws:            opts.AWS,
		prefix:         opts.BucketPrefix,
		now:            opts.Now,
		log:            opts.Logger,
		urlExpiry:      opts.URLExpiry,
		maxMessage:     opts.MaxMessageBytes,
		policy:         bluemonday.UGCPolicy(),
		processTimeout: opts.ProcessTimeout,
		partSize:       partSize,
		maxBodyBytes:   maxBodyBytes,
	}
	if s.prefix == "" {
		s.prefix = DefaultBucketPrefix
	}
	if !prefixRE.MatchString(s.prefix) || strings.HasPrefix(s.prefix, "xn--") || strings.HasPrefix(s.prefix, "sthree-") {
		return nil, fmt.Errorf("mail: invalid bucket prefix %q (at most 13 lower-case letters, digits and hyphens, starting with a letter)", s.prefix)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.urlExpiry <= 0 || s.urlExpiry > DefaultURLExpiry {
		s.urlExpiry = DefaultURLExpiry
	}
	if s.maxMessage <= 0 {
		s.maxMessage = DefaultMaxMessage
	}
	if s.processTimeout <= 0 {
		s.processTimeout = DefaultProcessTimeout
	}
	n := opts.Concurrency
	if n <= 0 {
		n = DefaultConcurrency
	}
	s.sem = make(chan struct{}, n)
	s.sns = awssns.NewVerifier(opts.SNS, s.now)
	return s, nil
}

// Enabled reports whether inst has the email module.
func Enabled(inst *ent.Instance) bool {
	return instances.HasModule(inst, ModuleEmail)
}

// unusable is the error for an instance whose settings connectaws cannot
// use (its ARN, region, role or external ID).
func unusable(err error) error {
	return apierror.Wrap(apierror.BadUserInput, err, "the Amazon Connect instance's settings cannot be used")
}

// s3Client returns an S3 client in inst's account and region.
func (s *Service) s3Client(inst *ent.Instance) (*s3.Client, error) {
	c, err := s.aws.S3(connectaws.InstanceOf(inst))
	if err != nil {
		return nil, unusable(err)
	}
	return c, nil
}

// sesClient returns an SES client in inst's account, in region (inst's
// when empty).
func (s *Service) sesClient(inst *ent.Instance, region string) (*sesv2.Client, error) {
	c, err := s.aws.SES(connectaws.InstanceOf(inst), region)
	if err != nil {
		return nil, unusable(err)
	}
	return c, nil
}

// connectClient returns a Connect client for inst.
func (s *Service) connectClient(inst *ent.Instance) (*connect.Client, error) {
	c, err := s.aws.Connect(connectaws.InstanceOf(inst))
	if err != nil {
		return nil, unusable(err)
	}
	return c, nil
}

// upstream turns an AWS error into an UPSTREAM failure that names the AWS
// error code; the caller's own cancellation stays what it is.
func upstream(err error, format string, args ...any) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := fmt.Sprintf(format, args...)
	if apiErr, ok := errors.AsType[smithy.APIError](err); ok && apiErr.ErrorCode() != "" {
		msg += " (" + apiErr.ErrorCode() + ")"
	}
	return apierror.Wrap(apierror.Upstream, err, "%s", msg)
}

// errorCode returns the AWS error code of err, or "".
func errorCode(err error) string {
	if apiErr, ok := errors.AsType[smithy.APIError](err); ok {
		return apiErr.ErrorCode()
	}
	return ""
}

// dbClient returns the transaction's client when ctx carries one (a
// GraphQL mutation), else the service's.
func (s *Service) dbClient(ctx context.Context) *ent.Client {
	if c := ent.FromContext(ctx); c != nil {
		return c
	}
	return s.client
}

// tenantInstance returns the viewer's tenant's instance, with the email
// module on.
func (s *Service) tenantInstance(ctx context.Context) (*ent.Instance, error) {
	v := viewer.FromContext(ctx)
	if v == nil || v.TenantID == "" {
		return nil, apierror.New(apierror.Forbidden, "email belongs to a tenant")
	}
	// Issue 9 (perms): read on the viewer's behalf, which the Instance policy allows only under schema.ReadInstance.
	inst, err := instances.Get(schema.ReadInstance(ctx), s.dbClient(ctx))
	if err != nil {
		return nil, err
	}
	if !Enabled(inst) {
		return nil, apierror.New(apierror.BadUserInput, "the email module is not enabled for this instance")
	}
	return inst, nil
}

// systemContext returns ctx with the viewer that inbound mail acts as for
// tenant: its system viewer "mail" (viewer.System).
func systemContext(ctx context.Context, tenant gid.ID) context.Context {
	return viewer.NewContext(ctx, viewer.System(tenant, "mail"))
}
