// Package assist is generative help for agents through the tenant's own
// Amazon Bedrock: the gist of a customer's email, and a first draft of the
// reply, optionally in the shape of one of the tenant's templates.
//
// Everything runs in the tenant's AWS account, through its role, with the
// model and region it chose (configureAssist), so that the customer's
// words never reach anyone else's model. The customer's text goes to the
// model as data: our system prompt, then the text between markers that
// carry a fresh random nonce, which the text cannot close. Inputs are cut
// to a bound (the answer says so), answers to a number of tokens, each call
// to a time a person will wait; each tenant has a rate. Nothing of the
// prompt or the answer is stored or logged: a tenant's admins see only how
// many calls and tokens a day it used (AssistUsageDay).
package assist

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	brtypes "github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/aws/smithy-go"
	"golang.org/x/time/rate"

	"switchboard/apierror"
	"switchboard/connectaws"
	"switchboard/ent"
	"switchboard/ent/assistusageday"
	"switchboard/ent/schema"
	"switchboard/gid"
	"switchboard/instances"
	"switchboard/mail"
	"switchboard/templates"
	"switchboard/viewer"
)

// ModuleAI is the instance module that turns assist on.
const ModuleAI = connectaws.ModuleAI

// Defaults for Options.
const (
	DefaultMaxInputChars   = 24000
	DefaultMaxOutputTokens = 1000
	DefaultTimeout         = 25 * time.Second
	DefaultRatePerMinute   = 30
	DefaultBurst           = 5
)

// DefaultModel is the model used when the tenant chose none: Amazon Nova
// Lite, through the cross-region inference profile of the instance's
// geography (us., eu., apac.), which keeps the data in that geography; in
// a region of none of them, the model itself.
const DefaultModel = "amazon.nova-lite-v1:0"

// Options configures a Service.
type Options struct {
	// AWS makes the Bedrock Runtime client of each tenant's role.
	AWS *connectaws.Clients
	// Mail reads an email's body from the tenant's content bucket.
	Mail *mail.Service
	// MaxInputChars bounds the customer's text (an email's body, a
	// transcript) sent to the model; DefaultMaxInputChars when zero.
	MaxInputChars int
	// MaxOutputTokens caps the answer; DefaultMaxOutputTokens when zero.
	MaxOutputTokens int
	// Timeout bounds one call to Bedrock; DefaultTimeout when zero.
	Timeout time.Duration
	// RatePerMinute and Burst bound each tenant's calls on this replica;
	// the defaults when zero.
	RatePerMinute, Burst int
	// Logger logs failures (never the text); slog.Default when nil.
	Logger *slog.Logger
	// Now tells the time; time.Now when nil.
	Now func() time.Time
}

// Service answers assist's requests. It is safe for concurrent use.
type Service struct {
	opts Options

	mu       sync.Mutex
	limiters map[gid.ID]*rate.Limiter
}

// New returns a Service configured by opts.
func New(opts Options) (*Service, error) {
	if opts.AWS == nil {
		return nil, errors.New("assist: Options.AWS is required")
	}
	if opts.MaxInputChars <= 0 {
		opts.MaxInputChars = DefaultMaxInputChars
	}
	if opts.MaxOutputTokens <= 0 {
		opts.MaxOutputTokens = DefaultMaxOutputTokens
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.RatePerMinute <= 0 {
		opts.RatePerMinute = DefaultRatePerMinute
	}
	if opts.Burst <= 0 {
		opts.Burst = DefaultBurst
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Service{opts: opts, limiters: map[gid.ID]*rate.Limiter{}}, nil
}

// Answer is what the model wrote, and how it came to be.
type Answer struct {
	Text    string
	ModelID string
	// InputTruncated: the customer's text was longer than the bound and
	// only its beginning was sent; OutputTruncated: the answer reached the
	// token cap. Notice says either in words an agent reads.
	InputTruncated, OutputTruncated bool
	Notice                          string
	InputTokens, OutputTokens       int
}

// Settings are a tenant's assist settings, as in force.
type Settings struct {
	Enabled bool
	// ModelID and Region are those calls use; Default when the tenant
	// chose no model.
	ModelID, Region string
	Default         bool
}

// Enabled reports whether inst has the AI module.
func Enabled(inst *ent.Instance) bool {
	return instances.HasModule(inst, ModuleAI)
}

// settingsOf is inst's settings.
func settingsOf(inst *ent.Instance) Settings {
	st := Settings{Enabled: Enabled(inst), ModelID: inst.AssistModelID, Region: inst.AssistRegion}
	if st.Region == "" {
		st.Region = inst.Region
	}
	if st.ModelID == "" {
		st.ModelID, st.Default = defaultModel(st.Region), true
	}
	return st
}

// defaultModel is DefaultModel through the inference profile of region's
// geography.
func defaultModel(region string) string {
	switch {
	case strings.HasPrefix(region, "us-"):
		return "us." + DefaultModel
	case strings.HasPrefix(region, "eu-"):
		return "eu." + DefaultModel
	case strings.HasPrefix(region, "ap-"):
		return "apac." + DefaultModel
	}
	return DefaultModel
}

// CurrentSettings returns the tenant's settings. Admins only (reading the
// instance is theirs).
func CurrentSettings(ctx context.Context, c *ent.Client) (Settings, error) {
	inst, err := instances.Get(ctx, c)
	if err != nil {
		return Settings{}, err
	}
	return settingsOf(inst), nil
}

// Configure sets the model and region (nil or empty: the default) and
// returns the settings in force. The Instance policy says who may.
func Configure(ctx context.Context, c *ent.Client, modelID, region *string) (Settings, error) {
	inst, err := instances.Get(ctx, c)
	if err != nil {
		return Settings{}, err
	}
	u := inst.Update()
	if m := strings.TrimSpace(aws.ToString(modelID)); m != "" {
		u.SetAssistModelID(m)
	} else {
		u.ClearAssistModelID()
	}
	if r := strings.TrimSpace(aws.ToString(region)); r != "" {
		u.SetAssistRegion(r)
	} else {
		u.ClearAssistRegion()
	}
	inst, err = u.Save(ctx)
	if err != nil {
		return Settings{}, err
	}
	return settingsOf(inst), nil
}

// Summarise returns the gist of an email of the viewer's tenant (its body
// read from the tenant's bucket, HTML reduced to text).
func (s *Service) Summarise(ctx context.Context, c *ent.Client, emailID gid.ID) (Answer, error) {
	inst, err := s.ready(ctx, c)
	if err != nil {
		return Answer{}, err
	}
	text, err := s.emailText(ctx, c, emailID)
	if err != nil {
		return Answer{}, err
	}
	return s.converse(ctx, c, inst, summaryTask, "", text)
}

// ReplyInput is what a reply is drafted from: an email or a transcript the
// desktop passes (one of them), and optionally a template whose shape the
// draft takes.
type ReplyInput struct {
	EmailID    *gid.ID
	Transcript *string
	TemplateID *gid.ID
}

// SuggestReply drafts the agent's reply.
func (s *Service) SuggestReply(ctx context.Context, c *ent.Client, in ReplyInput) (Answer, error) {
	inst, task, shape, text, err := s.prepareReply(ctx, c, in)
	if err != nil {
		return Answer{}, err
	}
	return s.converse(ctx, c, inst, task, shape, text)
}

// prepareReply checks in and reads what a reply is drafted from.
func (s *Service) prepareReply(ctx context.Context, c *ent.Client, in ReplyInput) (inst *ent.Instance, t task, shape, text string, err error) {
	switch {
	case (in.EmailID == nil) == (in.Transcript == nil):
		return nil, t, "", "", apierror.New(apierror.BadUserInput, "give either emailId or conversationTranscript")
	case in.Transcript != nil && strings.TrimSpace(*in.Transcript) == "":
		return nil, t, "", "", apierror.New(apierror.BadUserInput, "the conversation transcript is empty")
	}
	if inst, err = s.ready(ctx, c); err != nil {
		return nil, t, "", "", err
	}
	if in.TemplateID != nil {
		tpl, err := c.Template.Get(ctx, *in.TemplateID)
		if ent.IsNotFound(err) {
			return nil, t, "", "", apierror.Wrap(apierror.NotFound, err, "template not found")
		}
		if err != nil {
			return nil, t, "", "", err
		}
		shape = templates.PlainText(tpl.Body)
	}
	if in.EmailID != nil {
		text, err = s.emailText(ctx, c, *in.EmailID)
		return inst, replyToEmailTask, shape, text, err
	}
	return inst, replyToConversationTask, shape, *in.Transcript, nil
}

// ready returns the viewer's instance when assist may run for it: the AI
// module on, and the tenant within its rate.
func (s *Service) ready(ctx context.Context, c *ent.Client) (*ent.Instance, error) {
	inst, err := instances.Find(schema.ReadInstance(ctx), c)
	if err != nil {
		return nil, err
	}
	if !Enabled(inst) {
		return nil, apierror.New(apierror.Forbidden, "assist is off: an admin turns it on with the ai module")
	}
	if !s.limiter(inst.TenantID).Allow() {
		return nil, apierror.New(apierror.RateLimited, "your team has asked the assistant a lot in the last minute: try again shortly")
	}
	return inst, nil
}

// limiter is tenant's rate limiter on this replica.
func (s *Service) limiter(tenant gid.ID) *rate.Limiter {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.limiters[tenant]
	if !ok {
		l = rate.NewLimiter(rate.Limit(float64(s.opts.RatePerMinute)/60), s.opts.Burst)
		s.limiters[tenant] = l
	}
	return l
}

// emailText is an email's body as text: its text part, or its HTML part
// reduced to text. Another tenant's email is NOT_FOUND (the Email policy
// filters it out).
func (s *Service) emailText(ctx context.Context, c *ent.Client, id gid.ID) (string, error) {
	if s.opts.Mail == nil {
		return "", apierror.New(apierror.BadUserInput, "this server does not read email")
	}
	e, err := c.Email.Get(ctx, id)
	if ent.IsNotFound(err) {
		return "", apierror.Wrap(apierror.NotFound, err, "email not found")
	}
	if err != nil {
		return "", err
	}
	text, html, _, err := s.opts.Mail.Body(ctx, e)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(text) == "" {
		text = templates.PlainText(html)
	}
	if strings.TrimSpace(text) == "" {
		return "", apierror.New(apierror.BadUserInput, "the email has no text to work from")
	}
	if e.Subject != "" {
		text = "Subject: " + e.Subject + "\n\n" + text
	}
	return text, nil
}

// truncate cuts s to at most n characters (runes), at a word's end where
// one is near.
func truncate(s string, n int) (string, bool) {
	if utf8.RuneCountInString(s) <= n {
		return s, false
	}
	r := []rune(s)[:n]
	cut := string(r)
	if i := strings.LastIndexAny(cut, " \n\t"); i > len(cut)*9/10 {
		cut = cut[:i]
	}
	return cut, true
}

// newNonce returns the random part of this call's markers.
func newNonce() string {
	b := make([]byte, 12)
	rand.Read(b) // never fails (Go 1.24 and later)
	return hex.EncodeToString(b)
}

// call is one request to the tenant's model, ready to send.
type call struct {
	client       *bedrockruntime.Client
	model        string
	cut          bool
	system, user string
	maxTokens    int32
	temperature  float32
}

// newCall composes the request that asks the tenant's model to do task on
// the customer's text (shape: a template's text the answer follows, or "").
func (s *Service) newCall(inst *ent.Instance, t task, shape, text string) (call, error) {
	st := settingsOf(inst)
	text, cut := truncate(text, s.opts.MaxInputChars)
	system, user := prompt(t, newNonce(), shape, text, cut)
	client, err := s.opts.AWS.Bedrock(connectaws.InstanceOf(inst), st.Region)
	if err != nil {
		return call{}, apierror.Wrap(apierror.BadUserInput, err, "the Amazon Connect instance's settings cannot be used")
	}
	return call{client: client, model: st.ModelID, cut: cut, system: system, user: user,
		maxTokens: int32(s.opts.MaxOutputTokens), temperature: t.temperature}, nil
}

func (k call) systemBlocks() []brtypes.SystemContentBlock {
	return []brtypes.SystemContentBlock{&brtypes.SystemContentBlockMemberText{Value: k.system}}
}

func (k call) messages() []brtypes.Message {
	return []brtypes.Message{{
		Role:    brtypes.ConversationRoleUser,
		Content: []brtypes.ContentBlock{&brtypes.ContentBlockMemberText{Value: k.user}},
	}}
}

func (k call) inference() *brtypes.InferenceConfiguration {
	return &brtypes.InferenceConfiguration{MaxTokens: aws.Int32(k.maxTokens), Temperature: aws.Float32(k.temperature)}
}

// finish completes an answer: its text trimmed, its notice.
func (s *Service) finish(a *Answer) {
	a.Text = strings.TrimSpace(a.Text)
	var notes []string
	if a.InputTruncated {
		notes = append(notes, fmt.Sprintf("The text was longer than %d characters: only its beginning was read.", s.opts.MaxInputChars))
	}
	if a.OutputTruncated {
		notes = append(notes, "The answer reached its length limit and ends early.")
	}
	a.Notice = strings.Join(notes, " ")
}

// converse asks the tenant's model and counts the call.
func (s *Service) converse(ctx context.Context, c *ent.Client, inst *ent.Instance, t task, shape, text string) (Answer, error) {
	k, err := s.newCall(inst, t, shape, text)
	if err != nil {
		return Answer{}, err
	}
	callCtx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	out, err := k.client.Converse(callCtx, &bedrockruntime.ConverseInput{
		ModelId: aws.String(k.model), System: k.systemBlocks(), Messages: k.messages(), InferenceConfig: k.inference(),
	})
	if err != nil {
		s.count(ctx, c, inst.TenantID, 0, 0, true)
		return Answer{}, s.upstream(ctx, k.model, err)
	}
	a := Answer{ModelID: k.model, InputTruncated: k.cut}
	if msg, ok := out.Output.(*brtypes.ConverseOutputMemberMessage); ok {
		for _, b := range msg.Value.Content {
			if t, ok := b.(*brtypes.ContentBlockMemberText); ok {
				a.Text += t.Value
			}
		}
	}
	a.OutputTruncated = out.StopReason == brtypes.StopReasonMaxTokens
	if out.Usage != nil {
		a.InputTokens, a.OutputTokens = int(aws.ToInt32(out.Usage.InputTokens)), int(aws.ToInt32(out.Usage.OutputTokens))
	}
	s.finish(&a)
	s.count(ctx, c, inst.TenantID, a.InputTokens, a.OutputTokens, false)
	if a.Text == "" {
		return Answer{}, apierror.New(apierror.Upstream, "the assistant gave no answer (model %s): try again", k.model)
	}
	return a, nil
}

// Chunk is one piece of a streamed answer: a Delta of its text, or, last,
// Done with the whole Answer, or with the Err that ended it.
type Chunk struct {
	Delta  string
	Done   bool
	Answer *Answer
	Err    error
}

// SuggestReplyStream is SuggestReply through ConverseStream: the draft
// arrives as it is written, under the same rules and bounds (the timeout
// covers the whole stream). What fails before the model starts is the
// error; what fails after, the last chunk's Err. The channel closes after
// the last chunk, or when ctx ends.
func (s *Service) SuggestReplyStream(ctx context.Context, c *ent.Client, in ReplyInput) (<-chan *Chunk, error) {
	inst, t, shape, text, err := s.prepareReply(ctx, c, in)
	if err != nil {
		return nil, err
	}
	k, err := s.newCall(inst, t, shape, text)
	if err != nil {
		return nil, err
	}
	callCtx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	out, err := k.client.ConverseStream(callCtx, &bedrockruntime.ConverseStreamInput{
		ModelId: aws.String(k.model), System: k.systemBlocks(), Messages: k.messages(), InferenceConfig: k.inference(),
	})
	if err != nil {
		cancel()
		s.count(ctx, c, inst.TenantID, 0, 0, true)
		return nil, s.upstream(ctx, k.model, err)
	}
	ch := make(chan *Chunk, 16)
	go func() {
		defer close(ch)
		defer cancel()
		stream := out.GetStream()
		defer stream.Close()
		send := func(ck *Chunk) bool {
			select {
			case ch <- ck:
				return true
			case <-ctx.Done():
				return false
			}
		}
		a := Answer{ModelID: k.model, InputTruncated: k.cut}
		for ev := range stream.Events() {
			switch v := ev.(type) {
			case *brtypes.ConverseStreamOutputMemberContentBlockDelta:
				if d, ok := v.Value.Delta.(*brtypes.ContentBlockDeltaMemberText); ok && d.Value != "" {
					a.Text += d.Value
					if !send(&Chunk{Delta: d.Value}) {
						s.count(ctx, c, inst.TenantID, 0, 0, true) // the agent left before the end
						return
					}
				}
			case *brtypes.ConverseStreamOutputMemberMessageStop:
				a.OutputTruncated = v.Value.StopReason == brtypes.StopReasonMaxTokens
			case *brtypes.ConverseStreamOutputMemberMetadata:
				if u := v.Value.Usage; u != nil {
					a.InputTokens, a.OutputTokens = int(aws.ToInt32(u.InputTokens)), int(aws.ToInt32(u.OutputTokens))
				}
			}
		}
		if err := stream.Err(); err != nil {
			s.count(ctx, c, inst.TenantID, a.InputTokens, a.OutputTokens, true)
			send(&Chunk{Done: true, Err: s.upstream(ctx, k.model, err)})
			return
		}
		s.finish(&a)
		s.count(ctx, c, inst.TenantID, a.InputTokens, a.OutputTokens, false)
		send(&Chunk{Done: true, Answer: &a})
	}()
	return ch, nil
}

// count adds a call to the tenant's usage of the day. A failure to count
// is logged and does not fail the answer.
func (s *Service) count(ctx context.Context, c *ent.Client, tenant gid.ID, in, out int, failed bool) {
	ctx = viewer.NewContext(context.WithoutCancel(ctx), viewer.System(tenant, schema.AssistService))
	now := s.opts.Now().UTC()
	day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	calls, failures := 1, 0
	if failed {
		calls, failures = 0, 1
	}
	err := c.AssistUsageDay.Create().SetTenantID(tenant).SetDay(day).
		SetCalls(calls).SetFailedCalls(failures).SetInputTokens(in).SetOutputTokens(out).
		OnConflictColumns(assistusageday.FieldTenantID, assistusageday.FieldDay).
		Update(func(u *ent.AssistUsageDayUpsert) {
			u.AddCalls(calls).AddFailedCalls(failures).AddInputTokens(in).AddOutputTokens(out)
		}).Exec(ctx)
	if err != nil {
		s.opts.Logger.ErrorContext(ctx, "assist: counting a call", "tenant", tenant, "err", err)
	}
}

// upstream turns a Bedrock failure into what an agent understands.
func (s *Service) upstream(ctx context.Context, model string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return apierror.Wrap(apierror.Upstream, err, "the assistant took too long to answer: try again, or with a shorter text")
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	code := ""
	if apiErr, ok := errors.AsType[smithy.APIError](err); ok {
		code = apiErr.ErrorCode()
	}
	s.opts.Logger.WarnContext(ctx, "assist: Bedrock failed", "model", model, "code", code, "err", err)
	switch code {
	case "ThrottlingException", "ServiceQuotaExceededException", "TooManyRequestsException":
		return apierror.Wrap(apierror.Upstream, err, "the assistant is busy right now: try again in a minute")
	case "ModelTimeoutException":
		return apierror.Wrap(apierror.Upstream, err, "the assistant took too long to answer: try again, or with a shorter text")
	case "AccessDeniedException":
		return apierror.Wrap(apierror.Upstream, err, "the assistant cannot use the model %s: an admin must enable access to it in Amazon Bedrock and allow it in the role's policy", model)
	case "ValidationException", "ResourceNotFoundException":
		return apierror.Wrap(apierror.Upstream, err, "the assistant's model %s is not available in this region: an admin can choose another", model)
	case "ModelNotReadyException", "ServiceUnavailableException", "InternalServerException", "ModelErrorException":
		return apierror.Wrap(apierror.Upstream, err, "the assistant is unavailable right now: try again shortly")
	}
	return apierror.Wrap(apierror.Upstream, err, "the assistant could not answer: try again shortly")
}

// MaxUsageDays bounds a Usage request.
const MaxUsageDays = 366

// Usage returns the tenant's use of assist per UTC day in [from, to), the
// days without use left out. Admins only (the AssistUsageDay policy).
func Usage(ctx context.Context, c *ent.Client, from, to time.Time) ([]*ent.AssistUsageDay, error) {
	if !to.After(from) {
		return nil, apierror.New(apierror.BadUserInput, "to must be after from")
	}
	if to.Sub(from) > MaxUsageDays*24*time.Hour {
		return nil, apierror.New(apierror.BadUserInput, "at most %d days a request", MaxUsageDays)
	}
	return c.AssistUsageDay.Query().
		Where(assistusageday.DayGTE(from.UTC().Truncate(24*time.Hour)), assistusageday.DayLT(to.UTC())).
		Order(assistusageday.ByDay()).All(ctx)
}
