package main

import (
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"switchboard/assist"
	"switchboard/auth"
	"switchboard/cmd/switchboard/wire"
	"switchboard/connectaws"
	"switchboard/marketplace"
	"switchboard/queues"
	"switchboard/server"
	"switchboard/server/telemetry"
	"switchboard/store"
	metering "switchboard/usage"
)

// config is every setting of the commands. Each is a flag and an
// environment variable (flagSet.setting); README.md's configuration table
// lists them, and a test keeps the three in step.
type config struct {
	// Every command's.
	databaseURL   string
	dataDir       string
	jwtSecret     string
	oidcIssuer    string
	oidcAudience  string
	encryptionKey string
	previousKeys  string
	logLevel      string
	logFormat     string
	// serve's.
	addr                  string
	allowedOrigins        string
	seed                  bool
	awsSTSEndpoint        string
	awsConnectEndpoint    string
	awsS3Endpoint         string
	awsSESEndpoint        string
	awsMeteringEndpoint   string
	awsQuickSightEndpoint string
	awsProfilesEndpoint   string
	awsSESClassicEndpoint string
	awsSNSEndpoint        string
	awsBedrockEndpoint    string
	assistMaxInput        int
	assistMaxOutput       int
	assistTimeout         time.Duration
	assistRate            int
	queueInterval         time.Duration
	publicURL             string
	meteringDimension     string
	signupURL             string
	topicAccount          string
	decommissionAfter     time.Duration
	otlpEndpoint          string
	wsConnsPerPerson      int
	wsConnsPerTenant      int
	ratePerPerson         int
	ratePerTenant         int
	shutdownDelay         time.Duration
	trustedDocuments      bool
}

// sharedFlags registers the settings every command takes.
func (c *config) sharedFlags(fs *flagSet) {
	fs.stringSetting(&c.databaseURL, "database-url", store.DefaultURL,
		"sqlite://PATH (embedded) or postgres://...")
	fs.stringSetting(&c.dataDir, "data-dir", "",
		"folder for generated secrets; default: the embedded store's folder, or ./data")
	fs.stringSetting(&c.jwtSecret, "jwt-secret", "",
		"HS256 secret for local tokens; generated and kept in the data folder when unset")
	fs.stringSetting(&c.oidcIssuer, "oidc-issuer", "",
		"also accept tokens of this OpenID Connect issuer")
	fs.stringSetting(&c.oidcAudience, "oidc-audience", "",
		"the audience OIDC tokens must carry")
	fs.stringSetting(&c.encryptionKey, "encryption-key", "",
		"key (at least 32 characters) for the tenants' integration credentials held at rest; generated and kept in the data folder when unset")
	fs.stringSetting(&c.previousKeys, "encryption-keys-previous", "",
		"comma-separated earlier encryption keys, which still open credentials sealed before a rotation (switchboard reencrypt seals them under the current key)")
	fs.stringSetting(&c.logLevel, "log-level", "info", "the least severe log lines written: debug, info, warn or error")
	fs.stringSetting(&c.logFormat, "log-format", "json", "json (one object a line, for a log collector) or text")
}

// serveFlags registers serve's settings: all of them.
func (c *config) serveFlags(fs *flagSet) {
	c.sharedFlags(fs)
	fs.stringSetting(&c.addr, "addr", "127.0.0.1:8080", "where to listen")
	fs.stringSetting(&c.allowedOrigins, "allowed-origins", "",
		"comma-separated browser origins, besides the server's own, that may use the API (CORS and WebSocket); * for any")
	fs.boolSetting(&c.seed, "seed", true, "load the demo tenant when the embedded store is empty")
	fs.stringSetting(&c.publicURL, "public-url", "",
		"https://host where AWS reaches this server: verifyInstance subscribes <public-url>/aws/sns/email to the tenant's inbound mail topic")
	fs.stringSetting(&c.awsSTSEndpoint, "aws-sts-endpoint", "", "STS endpoint to use instead of AWS's (a local fake)")
	fs.stringSetting(&c.awsConnectEndpoint, "aws-connect-endpoint", "", "Amazon Connect endpoint to use instead of AWS's (a local fake)")
	fs.stringSetting(&c.awsS3Endpoint, "aws-s3-endpoint", "", "S3 endpoint to use instead of AWS's (a local fake)")
	fs.stringSetting(&c.awsSESEndpoint, "aws-ses-endpoint", "", "SES endpoint to use instead of AWS's (a local fake)")
	fs.stringSetting(&c.awsSESClassicEndpoint, "aws-ses-classic-endpoint", "", "SES v1 (identity verification) endpoint to use instead of AWS's (a local fake)")
	fs.stringSetting(&c.awsBedrockEndpoint, "aws-bedrock-endpoint", "", "Bedrock Runtime endpoint to use instead of AWS's (a local fake)")
	fs.intSetting(&c.assistMaxInput, "assist-max-input", assist.DefaultMaxInputChars,
		"characters of a customer's text (email, transcript) assist sends to the model; longer ones are cut, and the answer says so")
	fs.intSetting(&c.assistMaxOutput, "assist-max-output-tokens", assist.DefaultMaxOutputTokens, "tokens an assist answer may take")
	fs.durationSetting(&c.assistTimeout, "assist-timeout", assist.DefaultTimeout, "how long one assist call may wait for the model")
	fs.intSetting(&c.assistRate, "assist-rate-per-minute", assist.DefaultRatePerMinute,
		"assist calls a minute one tenant's people may make on this replica, 5 at once")
	fs.durationSetting(&c.queueInterval, "queue-metrics-interval", queues.DefaultInterval,
		"how often the queue figures of a tenant somebody watches are taken from Amazon Connect (one GetCurrentMetricData per 100 queues, by one replica)")
	fs.stringSetting(&c.awsSNSEndpoint, "aws-sns-endpoint", "", "SNS endpoint to use instead of AWS's (a local fake)")
	fs.stringSetting(&c.awsProfilesEndpoint, "aws-profiles-endpoint", "", "Customer Profiles endpoint to use instead of AWS's (a local fake)")
	fs.stringSetting(&c.awsQuickSightEndpoint, "aws-quicksight-endpoint", "", "QuickSight endpoint to use instead of AWS's (a local fake)")
	c.meteringFlags(fs)
	fs.stringSetting(&c.signupURL, "marketplace-signup-url", marketplace.DefaultSignupURL,
		"the admin console's sign-up page, where a buyer registering through AWS Marketplace is sent with ?subscription=ID")
	fs.stringSetting(&c.topicAccount, "marketplace-topic-account", marketplace.DefaultTopicAccount,
		"the AWS account whose aws-mp-subscription-notification-* SNS topics may post to /aws/sns/marketplace (AWS Marketplace's)")
	fs.durationSetting(&c.decommissionAfter, "decommission-after", 0,
		"decommission (delete every row of) a tenant unsubscribed for longer than this, e.g. 2160h for 90 days; 0: never unasked")
	fs.intSetting(&c.wsConnsPerPerson, "ws-connections-per-person", server.DefaultLimits.WSConnsPerPerson,
		"WebSocket connections one person may hold on this replica; -1: no bound")
	fs.intSetting(&c.wsConnsPerTenant, "ws-connections-per-tenant", server.DefaultLimits.WSConnsPerTenant,
		"WebSocket connections one tenant's people may hold on this replica; -1: no bound")
	fs.intSetting(&c.ratePerPerson, "rate-per-person", server.DefaultLimits.RatePerPerson,
		"GraphQL requests a second one person may make on this replica, over HTTP and WebSocket, with 3 seconds' worth at once; -1: no bound")
	fs.intSetting(&c.ratePerTenant, "rate-per-tenant", server.DefaultLimits.RatePerTenant,
		"GraphQL requests a second one tenant's people may make on this replica; -1: no bound")
	fs.boolSetting(&c.trustedDocuments, "trusted-documents", false,
		"run for agents, supervisors and callers without a token only the front ends' documents (by text or hash), and show the schema to admins and operators only; for production")
	fs.durationSetting(&c.shutdownDelay, "shutdown-delay", 2*time.Second,
		"on SIGTERM, how long /readyz answers 503 while requests are still served, for load balancers to stop sending, before the listener closes")
	fs.stringSetting(&c.otlpEndpoint, "otlp-endpoint", "",
		"OTLP/HTTP traces URL (http://collector:4318/v1/traces) to send OpenTelemetry spans to; unset: tracing only when $OTEL_EXPORTER_OTLP_ENDPOINT or $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set")
}

// meteringFlags registers the settings of metering to AWS Marketplace,
// serve's and `switchboard meter`'s.
func (c *config) meteringFlags(fs *flagSet) {
	fs.stringSetting(&c.awsMeteringEndpoint, "aws-metering-endpoint", "", "AWS Marketplace Metering endpoint to use instead of AWS's (a local fake)")
	fs.stringSetting(&c.meteringDimension, "metering-dimension", metering.DefaultDimension,
		"the AWS Marketplace dimension each closed hour's active agent minutes are metered as")
}

// flagSet is a command's flags. Those that are settings also read an
// environment variable named after the flag: SWITCHBOARD_, then the name
// in capitals with dashes as underscores. The command line wins over it.
type flagSet struct {
	*flag.FlagSet
	settings []string // the flags that are settings, in order
}

// newFlagSet returns the flags of the command name that define registers.
func newFlagSet(name string, stderr io.Writer, define func(*flagSet)) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError)}
	fs.SetOutput(stderr)
	define(fs)
	return fs
}

// parseFlags parses a command's arguments into the flags define registers,
// over the settings' environment variables.
func parseFlags(name string, args []string, getenv func(string) string, stderr io.Writer, define func(*flagSet)) error {
	return newFlagSet(name, stderr, define).parse(args, getenv)
}

// envVar is the environment variable of the setting whose flag is name.
func envVar(name string) string {
	return "SWITCHBOARD_" + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// stringSetting registers a setting with a string value.
func (fs *flagSet) stringSetting(p *string, name, def, usage string) {
	fs.StringVar(p, name, def, usage+" ($"+envVar(name)+")")
	fs.settings = append(fs.settings, name)
}

// intSetting registers a setting with an integer value.
func (fs *flagSet) intSetting(p *int, name string, def int, usage string) {
	fs.IntVar(p, name, def, usage+" ($"+envVar(name)+")")
	fs.settings = append(fs.settings, name)
}

// durationSetting registers a setting with a duration value ("2s").
func (fs *flagSet) durationSetting(p *time.Duration, name string, def time.Duration, usage string) {
	fs.DurationVar(p, name, def, usage+" ($"+envVar(name)+")")
	fs.settings = append(fs.settings, name)
}

// boolSetting registers a setting that is true or false.
func (fs *flagSet) boolSetting(p *bool, name string, def bool, usage string) {
	fs.BoolVar(p, name, def, usage+" ($"+envVar(name)+")")
	fs.settings = append(fs.settings, name)
}

// parse sets each setting from its environment variable when that is not
// empty, then parses args. Either way a value is read as the flag reads it.
func (fs *flagSet) parse(args []string, getenv func(string) string) error {
	for _, name := range fs.settings {
		env := envVar(name)
		if v := getenv(env); v != "" {
			if err := fs.Set(name, v); err != nil {
				return fmt.Errorf("invalid value %q for $%s: %v", v, env, err)
			}
		}
	}
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	return nil
}

// dataFolder is where generated secrets are kept.
func (c *config) dataFolder() string {
	if c.dataDir != "" {
		return c.dataDir
	}
	if p, ok := strings.CutPrefix(c.databaseURL, "sqlite://"); ok && p != "" {
		return filepath.Dir(p)
	}
	return "data"
}

// secret returns the JWT signing secret: the configured one, or the one
// generated on first run and kept in the data folder.
func (c *config) secret() ([]byte, error) {
	if c.jwtSecret != "" {
		return []byte(c.jwtSecret), nil
	}
	return auth.LoadOrCreateSecret(filepath.Join(c.dataFolder(), "jwt-secret"))
}

// existingSecret returns the JWT signing secret the server verifies with:
// the configured one, or the one serve keeps in the data folder. Unlike
// secret it never makes one, since a token signed with a new secret would
// be refused by the server.
func (c *config) existingSecret() ([]byte, error) {
	if c.jwtSecret != "" {
		return []byte(c.jwtSecret), nil
	}
	path := filepath.Join(c.dataFolder(), "jwt-secret")
	key, err := auth.LoadSecret(path)
	if errors.Is(err, fs.ErrNotExist) {
		abs, _ := filepath.Abs(path)
		return nil, fmt.Errorf("no signing secret at %s: serve makes it on its first run; run token with the same -database-url or -data-dir as serve, or set $SWITCHBOARD_JWT_SECRET", abs)
	}
	return key, err
}

// minEncryptionKey is the shortest encryption key accepted, in characters.
const minEncryptionKey = 32

// encryptionKeys returns the keys that seal the tenants' integration
// credentials (package sealed): the current key — the setting, or the one
// generated on first run and kept in the data folder, hex-encoded — and the
// previous ones, which still open what was sealed before a rotation.
func (c *config) encryptionKeys() (wire.EncryptionKeys, error) {
	var k wire.EncryptionKeys
	if c.encryptionKey != "" {
		if len(c.encryptionKey) < minEncryptionKey {
			return k, fmt.Errorf("the encryption key (-encryption-key, $SWITCHBOARD_ENCRYPTION_KEY) must be at least %d characters", minEncryptionKey)
		}
		k.Current = c.encryptionKey
	} else {
		b, err := auth.LoadOrCreateSecret(filepath.Join(c.dataFolder(), "encryption-key"))
		if err != nil {
			return k, err
		}
		k.Current = hex.EncodeToString(b)
	}
	for _, p := range strings.Split(c.previousKeys, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if len(p) < minEncryptionKey {
			return k, fmt.Errorf("each previous encryption key (-encryption-keys-previous) must be at least %d characters", minEncryptionKey)
		}
		k.Previous = append(k.Previous, p)
	}
	return k, nil
}

// checkPublicURL checks -public-url: empty, or an absolute http(s) URL
// with no query, for SNS to post to.
func (c *config) checkPublicURL() error {
	if c.publicURL == "" {
		return nil
	}
	u, err := url.Parse(c.publicURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return fmt.Errorf("the public URL (-public-url, $SWITCHBOARD_PUBLIC_URL) must be an https://host URL without query, not %q", c.publicURL)
	}
	return nil
}

// openStore opens and migrates the configured store.
func (c *config) openStore(ctx context.Context, log *slog.Logger) (*store.Store, error) {
	st, err := store.Open(ctx, c.databaseURL)
	if err != nil {
		return nil, err
	}
	applied, err := st.Migrate(ctx)
	if err != nil {
		st.Close()
		return nil, err
	}
	for _, v := range applied {
		log.Info("applied migration", "version", v)
	}
	return st, nil
}

// origins are the allowed browser origins, listed.
func (c *config) origins() []string {
	var origins []string
	for _, o := range strings.Split(c.allowedOrigins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	return origins
}

// tracing is serve's OpenTelemetry tracing: off unless an OTLP endpoint
// is configured, by the setting or the standard variables.
func (c *config) tracing(getenv func(string) string) *wire.Tracing {
	if c.otlpEndpoint != "" {
		return &wire.Tracing{Endpoint: c.otlpEndpoint}
	}
	if getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != "" {
		return &wire.Tracing{}
	}
	return nil
}

// wire is what serve builds switchboard from, over the store st.
func (c *config) wire(st *store.Store, secret []byte, log *slog.Logger) wire.Config {
	return wire.Config{
		Store:          st,
		Auth:           auth.Options{Secret: secret, Issuer: c.oidcIssuer, Audience: c.oidcAudience},
		Logger:         log,
		AllowedOrigins: c.origins(),
		PublicURL:      c.publicURL,
		Assist: assist.Options{MaxInputChars: c.assistMaxInput, MaxOutputTokens: c.assistMaxOutput,
			Timeout: c.assistTimeout, RatePerMinute: c.assistRate},
		QueueMetricsInterval: c.queueInterval,
		TrustedDocuments:     c.trustedDocuments,
		MeteringDimension:    c.meteringDimension,
		Marketplace:          wire.Marketplace{SignupURL: c.signupURL, TopicAccount: c.topicAccount},
		DecommissionAfter:    c.decommissionAfter,
		Limits: server.Limits{
			WSConnsPerPerson: c.wsConnsPerPerson, WSConnsPerTenant: c.wsConnsPerTenant,
			RatePerPerson: c.ratePerPerson, RatePerTenant: c.ratePerTenant,
		},
		AWS: &wire.AWS{Options: connectaws.Options{
			STSEndpoint: c.awsSTSEndpoint, ConnectEndpoint: c.awsConnectEndpoint,
			S3Endpoint: c.awsS3Endpoint, SESEndpoint: c.awsSESEndpoint,
			MeteringEndpoint: c.awsMeteringEndpoint, QuickSightEndpoint: c.awsQuickSightEndpoint, ProfilesEndpoint: c.awsProfilesEndpoint, SESClassicEndpoint: c.awsSESClassicEndpoint, SNSEndpoint: c.awsSNSEndpoint, BedrockEndpoint: c.awsBedrockEndpoint,
		}},
	}
}

// logger returns the logger of the configured level and format, writing to
// w; each line of a request carries its request ID (telemetry.Handler).
func (c *config) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, fmt.Errorf("the log level (-log-level, $SWITCHBOARD_LOG_LEVEL) must be debug, info, warn or error, not %q", c.logLevel)
	}
	o := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch c.logFormat {
	case "json":
		h = slog.NewJSONHandler(w, o)
	case "text":
		h = slog.NewTextHandler(w, o)
	default:
		return nil, fmt.Errorf("the log format (-log-format, $SWITCHBOARD_LOG_FORMAT) must be json or text, not %q", c.logFormat)
	}
	return slog.New(telemetry.NewHandler(h)), nil
}
