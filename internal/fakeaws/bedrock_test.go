package fakeaws_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"
	"github.com/google/go-cmp/cmp"

	"switchboard/internal/fakeaws"
)

const (
	haiku   = "anthropic.claude-3-haiku-20240307-v1:0"
	profile = "apac.anthropic.claude-3-5-sonnet-20241022-v2:0"
)

var bedrockStatic = credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: "AKIABEDROCK", SecretAccessKey: "x"}}

// bedrockClient returns a real SDK Bedrock Runtime client for b signing
// with creds, without retries.
func bedrockClient(b *fakeaws.Bedrock, creds aws.CredentialsProvider) *bedrockruntime.Client {
	return bedrockruntime.New(bedrockruntime.Options{Region: "ap-southeast-2", Credentials: creds,
		BaseEndpoint: aws.String(b.URL), RetryMaxAttempts: 1})
}

func userText(texts ...string) types.Message {
	m := types.Message{Role: types.ConversationRoleUser}
	for _, t := range texts {
		m.Content = append(m.Content, &types.ContentBlockMemberText{Value: t})
	}
	return m
}

func assistantText(text string) types.Message {
	return types.Message{Role: types.ConversationRoleAssistant,
		Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: text}}}
}

// replyText returns the text of a Converse answer.
func replyText(t *testing.T, out *bedrockruntime.ConverseOutput) string {
	t.Helper()
	msg, ok := out.Output.(*types.ConverseOutputMemberMessage)
	if !ok || msg.Value.Role != types.ConversationRoleAssistant || len(msg.Value.Content) != 1 {
		t.Fatalf("output %#v", out.Output)
	}
	text, ok := msg.Value.Content[0].(*types.ContentBlockMemberText)
	if !ok {
		t.Fatalf("content %#v", msg.Value.Content[0])
	}
	return text.Value
}

func TestBedrockConverse(t *testing.T) {
	ctx := context.Background()
	b := fakeaws.NewBedrock(t)
	c := bedrockClient(b, bedrockStatic)

	out, err := c.Converse(ctx, &bedrockruntime.ConverseInput{
		ModelId: aws.String(haiku),
		System:  []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: "You answer contact centre agents."}},
		Messages: []types.Message{userText("Summarise the call", "please"), assistantText("Which call?"),
			userText("The last one.")},
		InferenceConfig: &types.InferenceConfiguration{MaxTokens: aws.Int32(200), Temperature: aws.Float32(0.25)},
	})
	if err != nil {
		t.Fatal(err)
	}
	text := replyText(t, out)
	if !strings.Contains(text, haiku) {
		t.Errorf("default reply %q does not name the model", text)
	}
	words := len(strings.Fields(text))
	// 5 system words, 4 + 2 + 3 message words
	if u := out.Usage; u == nil || *u.InputTokens != 14 || int(*u.OutputTokens) != words || *u.TotalTokens != 14+int32(words) {
		t.Errorf("usage %+v, want 14 in and %d out", out.Usage, words)
	}
	if out.StopReason != types.StopReasonEndTurn || out.Metrics == nil || *out.Metrics.LatencyMs < 1 {
		t.Errorf("stop reason %q, metrics %+v", out.StopReason, out.Metrics)
	}
	want := fakeaws.ConverseCall{
		ModelID: haiku,
		System:  []string{"You answer contact centre agents."},
		Messages: []fakeaws.ConverseMessage{{Role: "user", Text: []string{"Summarise the call", "please"}},
			{Role: "assistant", Text: []string{"Which call?"}}, {Role: "user", Text: []string{"The last one."}}},
		MaxTokens: 200, Temperature: aws.Float32(0.25), AccessKeyID: "AKIABEDROCK", Region: "ap-southeast-2",
		Reply: text, StopReason: "end_turn",
	}
	if diff := cmp.Diff([]fakeaws.ConverseCall{want}, b.Calls()); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}

	// The reply is cut at maxTokens words.
	var seen fakeaws.ConverseCall
	b.Reply(func(call fakeaws.ConverseCall) string {
		seen = call
		return "Ring back  tomorrow after nine, please."
	})
	out, err = c.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(haiku),
		Messages:        []types.Message{userText("When?")},
		InferenceConfig: &types.InferenceConfiguration{MaxTokens: aws.Int32(4)}})
	if err != nil {
		t.Fatal(err)
	}
	if text := replyText(t, out); text != "Ring back  tomorrow after" || out.StopReason != types.StopReasonMaxTokens ||
		*out.Usage.OutputTokens != 4 || *out.Usage.InputTokens != 1 {
		t.Errorf("cut reply %q, %s, usage %+v", text, out.StopReason, out.Usage)
	}
	if seen.Reply != "" || seen.MaxTokens != 4 || seen.Temperature != nil || len(seen.Messages) != 1 {
		t.Errorf("Reply was given %+v", seen)
	}

	// Inference profile IDs and ARNs arrive escaped in the path and are
	// recorded as sent.
	arn := "arn:aws:bedrock:ap-southeast-2:123456789012:inference-profile/" + profile
	for _, id := range []string{profile, arn} {
		if _, err := c.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(id),
			Messages: []types.Message{userText("Hi")}}); err != nil {
			t.Fatal(err)
		}
	}
	calls := b.Calls()
	if got := []string{calls[2].ModelID, calls[3].ModelID}; got[0] != profile || got[1] != arn {
		t.Errorf("model IDs %q", got)
	}
	reqs := b.Requests()
	if len(reqs) != 4 || reqs[3].Operation != fakeaws.OpConverse || reqs[3].Path != "/model/"+arn+"/converse" || reqs[3].Status != 200 {
		t.Errorf("last request %+v", reqs[len(reqs)-1])
	}
}

// streamed is what a ConverseStream answer held.
type streamed struct {
	kinds      []string
	deltas     []string
	stopReason types.StopReason
	usage      *types.TokenUsage
	err        error
}

// readStream reads a ConverseStream answer through the SDK's reader.
func readStream(t *testing.T, out *bedrockruntime.ConverseStreamOutput) streamed {
	t.Helper()
	stream := out.GetStream()
	defer stream.Close()
	var s streamed
	for ev := range stream.Events() {
		switch v := ev.(type) {
		case *types.ConverseStreamOutputMemberMessageStart:
			s.kinds = append(s.kinds, "messageStart")
			if v.Value.Role != types.ConversationRoleAssistant {
				t.Errorf("messageStart role %q", v.Value.Role)
			}
		case *types.ConverseStreamOutputMemberContentBlockDelta:
			s.kinds = append(s.kinds, "contentBlockDelta")
			d, ok := v.Value.Delta.(*types.ContentBlockDeltaMemberText)
			if !ok || v.Value.ContentBlockIndex == nil || *v.Value.ContentBlockIndex != 0 {
				t.Fatalf("delta %#v", v.Value)
			}
			s.deltas = append(s.deltas, d.Value)
		case *types.ConverseStreamOutputMemberContentBlockStop:
			s.kinds = append(s.kinds, "contentBlockStop")
		case *types.ConverseStreamOutputMemberMessageStop:
			s.kinds = append(s.kinds, "messageStop")
			s.stopReason = v.Value.StopReason
		case *types.ConverseStreamOutputMemberMetadata:
			s.kinds = append(s.kinds, "metadata")
			s.usage = v.Value.Usage
			if v.Value.Metrics == nil || *v.Value.Metrics.LatencyMs < 1 {
				t.Errorf("metrics %+v", v.Value.Metrics)
			}
		default:
			t.Errorf("unexpected event %#v", ev)
		}
	}
	s.err = stream.Err()
	return s
}

func TestBedrockConverseStream(t *testing.T) {
	ctx := context.Background()
	b := fakeaws.NewBedrock(t)
	c := bedrockClient(b, bedrockStatic)
	const reply = "Your parcel left the depot this morning and should arrive before five."
	b.Reply(func(fakeaws.ConverseCall) string { return reply })

	out, err := c.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String(profile),
		System:   []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: "Be brief."}},
		Messages: []types.Message{userText("Where is my parcel?")}})
	if err != nil {
		t.Fatal(err)
	}
	s := readStream(t, out)
	if s.err != nil {
		t.Fatal(s.err)
	}
	if got := strings.Join(s.deltas, ""); got != reply || len(s.deltas) < 3 {
		t.Errorf("deltas %q, want %q in several chunks", s.deltas, reply)
	}
	wantKinds := []string{"messageStart"}
	for range s.deltas {
		wantKinds = append(wantKinds, "contentBlockDelta")
	}
	wantKinds = append(wantKinds, "contentBlockStop", "messageStop", "metadata")
	if diff := cmp.Diff(wantKinds, s.kinds); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if s.stopReason != types.StopReasonEndTurn || s.usage == nil || *s.usage.InputTokens != 6 ||
		*s.usage.OutputTokens != 12 || *s.usage.TotalTokens != 18 {
		t.Errorf("stop %q usage %+v", s.stopReason, s.usage)
	}

	// Cut at maxTokens, streamed.
	out, err = c.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String(profile),
		Messages:        []types.Message{userText("Where is my parcel?")},
		InferenceConfig: &types.InferenceConfiguration{MaxTokens: aws.Int32(5)}})
	if err != nil {
		t.Fatal(err)
	}
	s = readStream(t, out)
	if got := strings.Join(s.deltas, ""); s.err != nil || got != "Your parcel left the depot" ||
		s.stopReason != types.StopReasonMaxTokens || *s.usage.OutputTokens != 5 {
		t.Errorf("cut stream %q, %s, %+v, %v", got, s.stopReason, s.usage, s.err)
	}
	calls := b.Calls()
	if len(calls) != 2 || !calls[0].Streamed || calls[0].ModelID != profile || calls[0].Reply != reply ||
		calls[1].StopReason != "max_tokens" || calls[1].MaxTokens != 5 {
		t.Errorf("calls %+v", calls)
	}
}

func TestBedrockFailures(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		status int
		code   string
		is     func(error) bool
	}{
		{429, "ThrottlingException", func(err error) bool { _, ok := errors.AsType[*types.ThrottlingException](err); return ok }},
		{400, "ValidationException", func(err error) bool { _, ok := errors.AsType[*types.ValidationException](err); return ok }},
		{408, "ModelTimeoutException", func(err error) bool { _, ok := errors.AsType[*types.ModelTimeoutException](err); return ok }},
		{403, "AccessDeniedException", func(err error) bool { _, ok := errors.AsType[*types.AccessDeniedException](err); return ok }},
		{503, "ServiceUnavailableException", func(err error) bool {
			_, ok := errors.AsType[*types.ServiceUnavailableException](err)
			return ok
		}},
	}
	for _, tc := range cases {
		t.Run(tc.code, func(t *testing.T) {
			b := fakeaws.NewBedrock(t)
			c := bedrockClient(b, bedrockStatic)
			msgs := []types.Message{userText("Hello")}
			check := func(op string, err error) {
				t.Helper()
				if !tc.is(err) || !strings.Contains(err.Error(), "failed on purpose") {
					t.Errorf("%s: %v (%T), want %s", op, err, errors.Unwrap(err), tc.code)
				}
				if re, ok := errors.AsType[*awshttp.ResponseError](err); !ok || re.HTTPStatusCode() != tc.status {
					t.Errorf("%s: status of %v, want %d", op, err, tc.status)
				}
			}
			b.Fail(fakeaws.OpConverse, fakeaws.Failure{Status: tc.status, Code: tc.code, Message: "failed on purpose", Times: 1})
			b.Fail(fakeaws.OpConverseStream, fakeaws.Failure{Status: tc.status, Code: tc.code, Message: "failed on purpose", Times: 1})
			_, err := c.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(haiku), Messages: msgs})
			check("Converse", err)
			_, err = c.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String(haiku), Messages: msgs})
			check("ConverseStream", err)
			if _, err := c.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(haiku), Messages: msgs}); err != nil {
				t.Errorf("after the failure ran out: %v", err)
			}
			calls := b.Calls()
			if len(calls) != 3 || calls[0].ErrorCode != tc.code || calls[1].ErrorCode != tc.code || calls[2].ErrorCode != "" {
				t.Errorf("calls %+v", calls)
			}
		})
	}

	// The SDK retries a throttled call; the fake serves the retry.
	b := fakeaws.NewBedrock(t)
	c := bedrockruntime.New(bedrockruntime.Options{Region: "ap-southeast-2", Credentials: bedrockStatic,
		BaseEndpoint: aws.String(b.URL), Retryer: retry.AddWithMaxBackoffDelay(retry.NewStandard(), 10*time.Millisecond)})
	b.Fail(fakeaws.OpConverse, fakeaws.Failure{Status: 429, Code: "ThrottlingException", Message: "slow down", Times: 1})
	if _, err := c.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(haiku),
		Messages: []types.Message{userText("Hello")}}); err != nil {
		t.Fatal(err)
	}
	if calls := b.Calls(); len(calls) != 2 || calls[0].ErrorCode != "ThrottlingException" || calls[1].ErrorCode != "" {
		t.Errorf("calls %+v", calls)
	}
}

func TestBedrockMidStreamException(t *testing.T) {
	ctx := context.Background()
	b := fakeaws.NewBedrock(t)
	c := bedrockClient(b, bedrockStatic)
	b.Reply(func(fakeaws.ConverseCall) string { return "one two three four five six seven eight nine ten" })
	b.FailMidStream(fakeaws.Failure{Code: "ThrottlingException", Message: "too many tokens", Times: 1})
	b.FailMidStream(fakeaws.Failure{Code: "ModelStreamErrorException", Message: "the model broke off", Times: 1})

	in := &bedrockruntime.ConverseStreamInput{ModelId: aws.String(haiku), Messages: []types.Message{userText("Count")}}
	for _, want := range []string{"ThrottlingException", "ModelStreamErrorException"} {
		out, err := c.ConverseStream(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		s := readStream(t, out)
		if diff := cmp.Diff([]string{"messageStart", "contentBlockDelta"}, s.kinds); diff != "" || s.deltas[0] != "one two three " {
			t.Errorf("%s: events %q %q", want, s.kinds, s.deltas)
		}
		var ok bool
		switch want {
		case "ThrottlingException":
			var e *types.ThrottlingException
			ok = errors.As(s.err, &e) && e.ErrorMessage() == "too many tokens"
		case "ModelStreamErrorException":
			var e *types.ModelStreamErrorException
			ok = errors.As(s.err, &e) && e.ErrorMessage() == "the model broke off"
		}
		if !ok {
			t.Errorf("stream error %v (%T), want %s", s.err, s.err, want)
		}
	}
	out, err := c.ConverseStream(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if s := readStream(t, out); s.err != nil || strings.Join(s.deltas, "") != "one two three four five six seven eight nine ten" {
		t.Errorf("after the failures ran out: %q %v", s.deltas, s.err)
	}
	calls := b.Calls()
	if len(calls) != 3 || calls[0].ErrorCode != "ThrottlingException" || calls[1].ErrorCode != "ModelStreamErrorException" || calls[2].ErrorCode != "" {
		t.Errorf("calls %+v", calls)
	}
	if reqs := b.Requests(); len(reqs) != 3 || reqs[0].Status != 200 || reqs[0].ErrorCode != "ThrottlingException" {
		t.Errorf("requests %+v", reqs)
	}
}

func TestBedrockValidation(t *testing.T) {
	ctx := context.Background()
	b := fakeaws.NewBedrock(t)
	c := bedrockClient(b, bedrockStatic)
	blank := types.Message{Role: types.ConversationRoleUser, Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: " \n"}}}
	cases := []struct {
		name      string
		model     string
		messages  []types.Message
		maxTokens *int32
		message   string // a part of the error message
	}{
		{"no messages", haiku, nil, nil, "must start with a user message"},
		{"assistant first", haiku, []types.Message{assistantText("Hi"), userText("Hello")}, nil, "must start with a user message"},
		{"not alternating", haiku, []types.Message{userText("Hi"), userText("Hello")}, nil, "must alternate between user and assistant"},
		{"blank text", haiku, []types.Message{userText("Hi"), assistantText("Yes?"), blank}, nil,
			"The text field in the ContentBlock object at messages.2.content.0 is blank"},
		{"no content", haiku, []types.Message{{Role: types.ConversationRoleUser, Content: []types.ContentBlock{}}}, nil,
			"The content field in the Message object at messages.0 is empty"},
		{"max tokens 0", haiku, []types.Message{userText("Hi")}, aws.Int32(0), "'inferenceConfig.maxTokens' failed to satisfy constraint"},
		{"unknown model", "anthropic.claude-nonesuch", []types.Message{userText("Hi")}, nil, "The provided model identifier is invalid."},
	}
	b.Models(haiku, profile)
	for _, tc := range cases {
		in := &bedrockruntime.ConverseInput{ModelId: aws.String(tc.model), Messages: tc.messages}
		if tc.maxTokens != nil {
			in.InferenceConfig = &types.InferenceConfiguration{MaxTokens: tc.maxTokens}
		}
		_, err := c.Converse(ctx, in)
		var v *types.ValidationException
		if !errors.As(err, &v) || !strings.Contains(v.ErrorMessage(), tc.message) {
			t.Errorf("%s: %v, want ValidationException %q", tc.name, err, tc.message)
		}
		_, err = c.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: in.ModelId, Messages: in.Messages,
			InferenceConfig: in.InferenceConfig})
		if !errors.As(err, &v) || !strings.Contains(v.ErrorMessage(), tc.message) {
			t.Errorf("%s, streamed: %v, want ValidationException %q", tc.name, err, tc.message)
		}
	}

	// Known models, also as ARNs, are served.
	for _, id := range []string{haiku, "arn:aws:bedrock:ap-southeast-2::foundation-model/" + haiku,
		"arn:aws:bedrock:ap-southeast-2:123456789012:inference-profile/" + profile} {
		if _, err := c.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String(id),
			Messages: []types.Message{userText("Hi")}}); err != nil {
			t.Errorf("%s: %v", id, err)
		}
	}
	b.Models()
	if _, err := c.Converse(ctx, &bedrockruntime.ConverseInput{ModelId: aws.String("anthropic.claude-nonesuch"),
		Messages: []types.Message{userText("Hi")}}); err != nil {
		t.Errorf("any model after Models(): %v", err)
	}
}

func TestBedrockTrustSTS(t *testing.T) {
	ctx := context.Background()
	s := fakeaws.NewSTS(t)
	b := fakeaws.NewBedrock(t)
	b.TrustSTS(s)
	creds := roleCredentials(t, s)
	in := &bedrockruntime.ConverseInput{ModelId: aws.String(haiku), Messages: []types.Message{userText("Hi")}}

	if _, err := bedrockClient(b, creds).Converse(ctx, in); err != nil {
		t.Fatal(err)
	}
	// The signature over an escaped ARN in the path checks too.
	arn := "arn:aws:bedrock:ap-southeast-2:123456789012:inference-profile/" + profile
	out, err := bedrockClient(b, creds).ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: aws.String(arn), Messages: in.Messages})
	if err != nil {
		t.Fatal(err)
	}
	if st := readStream(t, out); st.err != nil || !strings.Contains(strings.Join(st.deltas, ""), arn) {
		t.Errorf("streamed with assumed credentials: %q %v", st.deltas, st.err)
	}
	issued := s.Issued(role)
	if calls := b.Calls(); len(issued) != 1 || len(calls) != 2 || calls[0].AccessKeyID != issued[0].AccessKeyID || calls[1].ModelID != arn {
		t.Errorf("calls %+v, issued %+v", calls, issued)
	}

	forged := credentials.StaticCredentialsProvider{Value: aws.Credentials{AccessKeyID: issued[0].AccessKeyID,
		SecretAccessKey: "not-the-secret", SessionToken: issued[0].SessionToken}}
	for name, tc := range map[string]struct {
		creds aws.CredentialsProvider
		code  string
	}{
		"unknown key":    {bedrockStatic, "UnrecognizedClientException"},
		"wrong secret":   {forged, "InvalidSignatureException"},
		"base (not STS)": {credentials.StaticCredentialsProvider{Value: base}, "UnrecognizedClientException"},
	} {
		_, err := bedrockClient(b, tc.creds).Converse(ctx, in)
		if apiCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", name, err, tc.code)
		}
		if re, ok := errors.AsType[*awshttp.ResponseError](err); !ok || re.HTTPStatusCode() != http.StatusForbidden {
			t.Errorf("%s: %v, want 403", name, err)
		}
		_, err = bedrockClient(b, tc.creds).ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: in.ModelId, Messages: in.Messages})
		if apiCode(err) != tc.code {
			t.Errorf("%s, streamed: %v, want %s", name, err, tc.code)
		}
	}

	// An unsigned request (the SDK cannot send one: without credentials
	// it tries a bearer token) is refused as the real service does.
	for _, op := range []string{"converse", "converse-stream"} {
		resp, err := http.Post(b.URL+"/model/"+url.PathEscape(haiku)+"/"+op, "application/json",
			strings.NewReader(`{"messages":[{"role":"user","content":[{"text":"Hi"}]}]}`))
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Message string }
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusForbidden ||
			resp.Header.Get("X-Amzn-ErrorType") != "MissingAuthenticationTokenException" || body.Message != "Missing Authentication Token" {
			t.Errorf("unsigned %s: %d %q %+v %v", op, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body, err)
		}
	}
	if calls := b.Calls(); len(calls) != 2 {
		t.Errorf("refused requests recorded as calls: %+v", calls)
	}
}

func TestBedrockDelay(t *testing.T) {
	b := fakeaws.NewBedrock(t)
	c := bedrockClient(b, bedrockStatic)
	b.Delay(5 * time.Second)
	in := &bedrockruntime.ConverseInput{ModelId: aws.String(haiku), Messages: []types.Message{userText("Hi")}}

	for _, streamed := range []bool{false, true} {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		start := time.Now()
		var err error
		if streamed {
			_, err = c.ConverseStream(ctx, &bedrockruntime.ConverseStreamInput{ModelId: in.ModelId, Messages: in.Messages})
		} else {
			_, err = c.Converse(ctx, in)
		}
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
			t.Errorf("streamed %v: %v after %v, want the context's deadline", streamed, err, time.Since(start))
		}
	}
	// The fake gave up waiting when the client went away.
	deadline := time.Now().Add(2 * time.Second)
	for len(b.Calls()) < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if calls := b.Calls(); len(calls) != 2 || calls[0].ErrorCode != "RequestCancelled" || calls[1].ErrorCode != "RequestCancelled" {
		t.Errorf("calls %+v", calls)
	}

	b.Delay(50 * time.Millisecond)
	start := time.Now()
	out, err := c.Converse(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 50*time.Millisecond || *out.Metrics.LatencyMs < 50 {
		t.Errorf("short delay: answered after %v, metrics %+v", time.Since(start), out.Metrics)
	}
}

// TestBedrockStreamWire reads a ConverseStream answer off the wire: the
// event stream's messages and their headers, as the real service sends them.
func TestBedrockStreamWire(t *testing.T) {
	b := fakeaws.NewBedrock(t)
	b.Reply(func(fakeaws.ConverseCall) string { return "one two three four" })
	b.FailMidStream(fakeaws.Failure{Code: "ModelStreamErrorException", Message: "broke off", Times: 1})
	post := func() *http.Response {
		t.Helper()
		body := `{"messages":[{"role":"user","content":[{"text":"Count"}]}]}`
		req, _ := http.NewRequest(http.MethodPost, b.URL+"/model/"+url.PathEscape(haiku)+"/converse-stream", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		sum := sha256.Sum256([]byte(body))
		err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIAWIRE", SecretAccessKey: "x"},
			req, hex.EncodeToString(sum[:]), "bedrock", "ap-southeast-2", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/vnd.amazon.eventstream" {
			t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		return resp
	}
	read := func(resp *http.Response) []string {
		t.Helper()
		defer resp.Body.Close()
		var got []string
		dec := eventstream.NewDecoder()
		for {
			msg, err := dec.Decode(resp.Body, nil)
			if errors.Is(err, io.EOF) {
				return got
			}
			if err != nil {
				t.Fatal(err)
			}
			h := func(name string) string {
				if v := msg.Headers.Get(name); v != nil {
					return v.String()
				}
				return "-"
			}
			got = append(got, strings.Join([]string{h(":message-type"), h(":event-type"), h(":exception-type"),
				h(":content-type"), string(msg.Payload)}, " "))
		}
	}

	want := []string{
		`event messageStart - application/json {"role":"assistant"}`,
		`event contentBlockDelta - application/json {"contentBlockIndex":0,"delta":{"text":"one two three "}}`,
		`exception - modelStreamErrorException application/json {"message":"broke off"}`,
	}
	if diff := cmp.Diff(want, read(post())); diff != "" {
		t.Errorf("broken-off stream (-want +got):\n%s", diff)
	}
	want = []string{
		`event messageStart - application/json {"role":"assistant"}`,
		`event contentBlockDelta - application/json {"contentBlockIndex":0,"delta":{"text":"one two three "}}`,
		`event contentBlockDelta - application/json {"contentBlockIndex":0,"delta":{"text":"four"}}`,
		`event contentBlockStop - application/json {"contentBlockIndex":0}`,
		`event messageStop - application/json {"stopReason":"end_turn"}`,
	}
	got := read(post())
	if len(got) != 6 || !strings.HasPrefix(got[5], `event metadata - application/json {"metrics":{"latencyMs":`) ||
		!strings.HasSuffix(got[5], `"usage":{"inputTokens":1,"outputTokens":4,"totalTokens":5}}`) {
		t.Errorf("metadata event %q", got[len(got)-1])
	}
	if diff := cmp.Diff(want, got[:min(5, len(got))]); diff != "" {
		t.Errorf("stream (-want +got):\n%s", diff)
	}
}
