package connectaws

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/quicksight"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Defaults for Options.
const (
	DefaultSessionName     = "switchboard"
	DefaultSessionDuration = time.Hour
	DefaultExpiryWindow    = 5 * time.Minute
)

// Options configures Clients. The zero value is production's: the SDK's
// default credential chain and AWS's own endpoints.
type Options struct {
	// BaseCredentials are the platform's own credentials, with which it
	// assumes tenants' roles. Nil: the SDK's default chain
	// (config.LoadDefaultConfig: environment, shared files, container or
	// instance role).
	BaseCredentials aws.CredentialsProvider
	// STSEndpoint, ConnectEndpoint, S3Endpoint, SESEndpoint and
	// MeteringEndpoint replace AWS's endpoints (tests point them at local
	// fakes; S3 is then addressed path-style). Empty in production.
	STSEndpoint      string
	ConnectEndpoint  string
	S3Endpoint       string
	SESEndpoint      string
	MeteringEndpoint string
	// QuickSightEndpoint and ProfilesEndpoint (Customer Profiles) replace
	// theirs, as the others do.
	QuickSightEndpoint string
	ProfilesEndpoint   string
	// SESClassicEndpoint replaces SES's v1 (query) API endpoint,
	// SNSEndpoint SNS's.
	SESClassicEndpoint string
	SNSEndpoint        string
	// BedrockEndpoint replaces Bedrock Runtime's.
	BedrockEndpoint string
	// HTTPClient sends every request; nil: the SDK's default.
	HTTPClient aws.HTTPClient
	// SessionName is the RoleSessionName, shown in the tenant's CloudTrail;
	// DefaultSessionName when empty.
	SessionName string
	// SessionDuration is how long assumed-role credentials last;
	// DefaultSessionDuration (the longest any role allows) when zero.
	SessionDuration time.Duration
	// ExpiryWindow is how long before they expire credentials are renewed;
	// DefaultExpiryWindow when zero.
	ExpiryWindow time.Duration
	// RetryMaxAttempts bounds the attempts per call, first included; the
	// SDK's default (3) when zero.
	RetryMaxAttempts int
	// RetryMaxBackoff bounds the wait between attempts; the SDK's default
	// (20 s) when zero.
	RetryMaxBackoff time.Duration
	// OnCall, when set, sees every AWS call of every client (metrics).
	OnCall CallObserver
}

var sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)

// Clients reaches tenants' Amazon Connect instances and the other AWS
// services of their accounts; it is where every AWS client for a tenant is
// made. It keeps, per tenant role, external ID and region, one cached set of
// assumed-role credentials and one client of each service, so that calls
// for one tenant never sign with another's credentials. It is safe for
// concurrent use.
type Clients struct {
	cfg  aws.Config
	opts Options

	mu      sync.Mutex
	sts     map[string]*sts.Client // by region; signs with the platform's credentials
	tenants map[tenantKey]*tenantClients
	// metering is made when first asked for, under mu.
	metering *Metering
}

// tenantKey identifies one tenant role as reached from one region.
type tenantKey struct {
	roleARN, externalID, region string
}

type tenantClients struct {
	credentials *aws.CredentialsCache
	region      string
	connect     *connect.Client
	// s3 and ses (by region) are made when first asked for, under
	// Clients.mu.
	s3         *s3.Client
	ses        map[string]*sesv2.Client
	sesClassic map[string]*ses.Client
	sns        map[string]*sns.Client
	bedrock    map[string]*bedrockruntime.Client
	quicksight *quicksight.Client
	profiles   *customerprofiles.Client
}

// New returns Clients configured by opts. Without opts.BaseCredentials it
// loads the SDK's default configuration, which needs no network.
func New(ctx context.Context, opts Options) (*Clients, error) {
	if opts.SessionName == "" {
		opts.SessionName = DefaultSessionName
	}
	if !sessionNameRE.MatchString(opts.SessionName) {
		return nil, fmt.Errorf("connectaws: invalid session name %q", opts.SessionName)
	}
	if opts.SessionDuration == 0 {
		opts.SessionDuration = DefaultSessionDuration
	}
	if opts.ExpiryWindow == 0 {
		opts.ExpiryWindow = DefaultExpiryWindow
	}
	if opts.SessionDuration < 15*time.Minute || opts.SessionDuration > 12*time.Hour {
		return nil, errors.New("connectaws: SessionDuration must be between 15 minutes and 12 hours")
	}
	if opts.ExpiryWindow < 0 || opts.ExpiryWindow >= opts.SessionDuration {
		return nil, errors.New("connectaws: ExpiryWindow must be shorter than SessionDuration")
	}

	var cfg aws.Config
	if opts.BaseCredentials == nil {
		var err error
		cfg, err = config.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("connectaws: loading AWS configuration: %w", err)
		}
	} else {
		cfg = aws.Config{Credentials: opts.BaseCredentials}
	}
	if opts.HTTPClient != nil {
		cfg.HTTPClient = opts.HTTPClient
	}
	if opts.OnCall != nil {
		cfg.APIOptions = append(cfg.APIOptions, observeCalls(opts.OnCall))
	}
	if opts.RetryMaxAttempts > 0 || opts.RetryMaxBackoff > 0 {
		base := cfg.Retryer
		cfg.Retryer = func() aws.Retryer {
			var r aws.Retryer
			if base != nil {
				r = base()
			} else {
				r = retry.NewStandard()
			}
			if opts.RetryMaxAttempts > 0 {
				r = retry.AddWithMaxAttempts(r, opts.RetryMaxAttempts)
			}
			if opts.RetryMaxBackoff > 0 {
				r = retry.AddWithMaxBackoffDelay(r, opts.RetryMaxBackoff)
			}
			return r
		}
	}
	return &Clients{
		cfg:     cfg,
		opts:    opts,
		sts:     map[string]*sts.Client{},
		tenants: map[tenantKey]*tenantClients{},
	}, nil
}

// tenant returns the cached clients for inst's role, creating them.
func (c *Clients) tenant(inst Instance) (*tenantClients, resolved, error) {
	r, err := inst.resolve()
	if err != nil {
		return nil, resolved{}, err
	}
	key := tenantKey{roleARN: r.roleARN, externalID: r.externalID, region: r.region}

	c.mu.Lock()
	defer c.mu.Unlock()
	if t, ok := c.tenants[key]; ok {
		return t, r, nil
	}
	stsClient, ok := c.sts[r.region]
	if !ok {
		stsClient = sts.NewFromConfig(c.cfg, func(o *sts.Options) {
			o.Region = r.region
			if c.opts.STSEndpoint != "" {
				o.BaseEndpoint = aws.String(c.opts.STSEndpoint)
			}
		})
		c.sts[r.region] = stsClient
	}
	provider := stscreds.NewAssumeRoleProvider(stsClient, r.roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.ExternalID = aws.String(r.externalID)
		o.RoleSessionName = c.opts.SessionName
		o.Duration = c.opts.SessionDuration
	})
	creds := aws.NewCredentialsCache(provider, func(o *aws.CredentialsCacheOptions) {
		o.ExpiryWindow = c.opts.ExpiryWindow
	})
	t := &tenantClients{
		credentials: creds,
		region:      r.region,
		ses:         map[string]*sesv2.Client{},
		sesClassic:  map[string]*ses.Client{},
		sns:         map[string]*sns.Client{},
		bedrock:     map[string]*bedrockruntime.Client{},
		connect: connect.NewFromConfig(c.cfg, func(o *connect.Options) {
			o.Region = r.region
			o.Credentials = creds
			if c.opts.ConnectEndpoint != "" {
				o.BaseEndpoint = aws.String(c.opts.ConnectEndpoint)
			}
		}),
	}
	c.tenants[key] = t
	return t, r, nil
}

// Credentials returns the cached assumed-role credentials for inst's role,
// the ones every client Clients makes for inst signs with.
func (c *Clients) Credentials(inst Instance) (aws.CredentialsProvider, error) {
	t, _, err := c.tenant(inst)
	if err != nil {
		return nil, err
	}
	return t.credentials, nil
}

// Connect returns the Connect client for inst's role and region, for the
// calls of Connect that Clients does not make itself.
func (c *Clients) Connect(inst Instance) (*connect.Client, error) {
	t, _, err := c.tenant(inst)
	if err != nil {
		return nil, err
	}
	return t.connect, nil
}

// S3 returns an S3 client in inst's account and region.
func (c *Clients) S3(inst Instance) (*s3.Client, error) {
	t, _, err := c.tenant(inst)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.s3 == nil {
		t.s3 = s3.NewFromConfig(c.cfg, func(o *s3.Options) {
			o.Region = t.region
			o.Credentials = t.credentials
			if c.opts.S3Endpoint != "" {
				o.BaseEndpoint = aws.String(c.opts.S3Endpoint)
				o.UsePathStyle = true // a local endpoint has no bucket subdomains
			}
		})
	}
	return t.s3, nil
}

// regional returns inst's client of one service in region (inst's when
// empty), from the tenant's cache that pick chooses, made by newClient (with
// the tenant's credentials) the first time.
func regional[T any](c *Clients, inst Instance, region string, pick func(*tenantClients) map[string]*T, newClient func(region string, creds aws.CredentialsProvider) *T) (*T, error) {
	t, _, err := c.tenant(inst)
	if err != nil {
		return nil, err
	}
	if region == "" {
		region = t.region
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	m := pick(t)
	cl, ok := m[region]
	if !ok {
		cl = newClient(region, t.credentials)
		m[region] = cl
	}
	return cl, nil
}

// endpoint sets a client's endpoint when one replaces AWS's.
func endpoint(base **string, url string) {
	if url != "" {
		*base = aws.String(url)
	}
}

// SES returns an SES client in inst's account, in region (an SES
// identity's, which may differ from the instance's); in inst's region
// when region is empty.
func (c *Clients) SES(inst Instance, region string) (*sesv2.Client, error) {
	return regional(c, inst, region, func(t *tenantClients) map[string]*sesv2.Client { return t.ses },
		func(region string, creds aws.CredentialsProvider) *sesv2.Client {
			return sesv2.NewFromConfig(c.cfg, func(o *sesv2.Options) {
				o.Region, o.Credentials = region, creds
				endpoint(&o.BaseEndpoint, c.opts.SESEndpoint)
			})
		})
}

// SESClassic returns an SES (v1 API) client in inst's account, in region
// (inst's when empty): identity verification and receipt rules, which the
// v2 API has not.
func (c *Clients) SESClassic(inst Instance, region string) (*ses.Client, error) {
	return regional(c, inst, region, func(t *tenantClients) map[string]*ses.Client { return t.sesClassic },
		func(region string, creds aws.CredentialsProvider) *ses.Client {
			return ses.NewFromConfig(c.cfg, func(o *ses.Options) {
				o.Region, o.Credentials = region, creds
				endpoint(&o.BaseEndpoint, c.opts.SESClassicEndpoint)
			})
		})
}

// SNS returns an SNS client in inst's account, in region (inst's when
// empty): the topic SES's receipt rule notifies of inbound mail.
func (c *Clients) SNS(inst Instance, region string) (*sns.Client, error) {
	return regional(c, inst, region, func(t *tenantClients) map[string]*sns.Client { return t.sns },
		func(region string, creds aws.CredentialsProvider) *sns.Client {
			return sns.NewFromConfig(c.cfg, func(o *sns.Options) {
				o.Region, o.Credentials = region, creds
				endpoint(&o.BaseEndpoint, c.opts.SNSEndpoint)
			})
		})
}

// Bedrock returns a Bedrock Runtime client in inst's account, in region
// (inst's when empty): the tenant's models, its data kept in its account.
// It makes one attempt a call: a person waits for the answer, and a
// throttled model is better said at once than retried behind their back.
func (c *Clients) Bedrock(inst Instance, region string) (*bedrockruntime.Client, error) {
	return regional(c, inst, region, func(t *tenantClients) map[string]*bedrockruntime.Client { return t.bedrock },
		func(region string, creds aws.CredentialsProvider) *bedrockruntime.Client {
			return bedrockruntime.NewFromConfig(c.cfg, func(o *bedrockruntime.Options) {
				o.Region, o.Credentials = region, creds
				o.RetryMaxAttempts = 1
				endpoint(&o.BaseEndpoint, c.opts.BedrockEndpoint)
			})
		})
}

// QuickSight returns a QuickSight client in inst's account and region.
func (c *Clients) QuickSight(inst Instance) (*quicksight.Client, error) {
	t, _, err := c.tenant(inst)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.quicksight == nil {
		t.quicksight = quicksight.NewFromConfig(c.cfg, func(o *quicksight.Options) {
			o.Region = t.region
			o.Credentials = t.credentials
			if c.opts.QuickSightEndpoint != "" {
				o.BaseEndpoint = aws.String(c.opts.QuickSightEndpoint)
			}
		})
	}
	return t.quicksight, nil
}

// Profiles returns a Customer Profiles client in inst's account and region.
func (c *Clients) Profiles(inst Instance) (*customerprofiles.Client, error) {
	t, _, err := c.tenant(inst)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.profiles == nil {
		t.profiles = customerprofiles.NewFromConfig(c.cfg, func(o *customerprofiles.Options) {
			o.Region = t.region
			o.Credentials = t.credentials
			if c.opts.ProfilesEndpoint != "" {
				o.BaseEndpoint = aws.String(c.opts.ProfilesEndpoint)
			}
		})
	}
	return t.profiles, nil
}

// Forget drops the cached credentials and clients for inst's role, e.g.
// once a tenant replaced its role or was decommissioned.
func (c *Clients) Forget(inst Instance) {
	r, err := inst.resolve()
	if err != nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.tenants, tenantKey{roleARN: r.roleARN, externalID: r.externalID, region: r.region})
}
