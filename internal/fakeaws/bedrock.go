package fakeaws

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
)

// The Bedrock Runtime operations the fake Bedrock serves.
const (
	OpConverse       = "Converse"
	OpConverseStream = "ConverseStream"
)

// bedrockMidStream is the failure queue of exceptions sent inside a
// ConverseStream's event stream.
const bedrockMidStream = "ConverseStream/mid-stream"

// bedrockChunkWords is how many words each contentBlockDelta event carries.
const bedrockChunkWords = 3

// bedrockSettle is how long the fake waits after reading a request before
// answering. Answered within microseconds, the SDK closes the request body
// (smithy-go's ClientHandler, as soon as client.Do returns) while net/http's
// write loop may still be draining it; the drain then fails with io.EOF and
// the transport closes the connection, cutting short a response stream
// being read ("use of closed network connection" from the stream's Err).
// A real service is never that quick. Measured over 3000 ConverseStream
// calls in a loop: about 5% of requests hit it with no wait; with 5ms,
// 1 in 12000 under -race and no stream cut short.
const bedrockSettle = 5 * time.Millisecond

// Bedrock is a local Amazon Bedrock Runtime serving, over REST-JSON,
//
//	Converse        POST /model/{modelId}/converse
//	ConverseStream  POST /model/{modelId}/converse-stream
//
// ConverseStream answers application/vnd.amazon.eventstream: messageStart,
// the reply in contentBlockDelta events of a few words each,
// contentBlockStop, messageStop and metadata (usage and latency).
//
// Tokens are counted as words: one token per run of non-space characters,
// in the system prompts and message texts for inputTokens, in the reply
// for outputTokens. A reply longer than inferenceConfig.maxTokens such
// tokens is cut after the last one that fits and ends with stopReason
// "max_tokens"; otherwise stopReason is "end_turn".
//
// The reply is a fixed sentence naming the model unless Reply sets another.
// Any model ID is accepted until Models names the known ones; then, as the
// real service does for an ID it does not recognise, any other ID is
// refused with 400 ValidationException "The provided model identifier is
// invalid.". Like the real service the fake refuses, with 400
// ValidationException, a conversation that is empty, starts with an
// assistant message or does not alternate user and assistant, a message
// without content, a blank text block and maxTokens below 1. It serves
// text content blocks only (and ignores cachePoint blocks).
//
// Every request must carry a SigV4 signature scoped to service "bedrock";
// with TrustSTS only one made with unexpired credentials the fake STS
// issued, checked. Errors carry X-Amzn-ErrorType and a {"message": ...}
// body, as the real service's do. Queue errors with Fail, exceptions inside
// a stream with FailMidStream, and slow answers with Delay.
type Bedrock struct {
	// URL is the endpoint to give the SDK client (o.BaseEndpoint).
	URL string

	t        testing.TB
	failures failures

	mu       sync.Mutex
	reply    func(ConverseCall) string
	models   map[string]bool // nil: any model
	delay    time.Duration
	calls    []ConverseCall
	requests []Request
	sts      *STS
}

// ConverseCall is one Converse or ConverseStream request the fake received.
type ConverseCall struct {
	ModelID     string            // unescaped, e.g. "anthropic.claude-3-haiku-20240307-v1:0" or an ARN
	System      []string          // the text of each system content block
	Messages    []ConverseMessage // the conversation, in order
	MaxTokens   int               // inferenceConfig.maxTokens; 0 when the request did not say
	Temperature *float32          // inferenceConfig.temperature; nil when the request did not say
	AccessKeyID string            // the key that signed the request
	Region      string            // the region of the signature's scope
	Streamed    bool              // ConverseStream rather than Converse

	// The answer; empty in the call a Reply function is given.
	Reply      string // the text answered, after any cut at MaxTokens
	StopReason string // "end_turn" or "max_tokens"
	ErrorCode  string // the error answered, if any, or the exception sent mid-stream
}

// ConverseMessage is one message of a conversation.
type ConverseMessage struct {
	Role string   // "user" or "assistant"
	Text []string // the text of each text content block
}

// NewBedrock starts a fake Bedrock Runtime for the duration of t.
func NewBedrock(t testing.TB) *Bedrock {
	t.Helper()
	b := &Bedrock{t: t}
	srv := httptest.NewServer(http.HandlerFunc(b.serve))
	t.Cleanup(srv.Close)
	b.URL = srv.URL
	return b
}

// TrustSTS makes the fake accept only requests signed with unexpired
// credentials that sts issued, and verify each signature.
func (b *Bedrock) TrustSTS(sts *STS) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sts = sts
}

// Reply makes the model answer each call with what reply returns; nil
// restores the default sentence naming the model. reply is called without
// the fake's lock held, possibly from several requests at once.
func (b *Bedrock) Reply(reply func(ConverseCall) string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.reply = reply
}

// Models makes ids the only known models (compared with the unescaped model
// ID, or with the resource of a foundation-model or inference-profile ARN);
// with no ids, any model is known again.
func (b *Bedrock) Models(ids ...string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(ids) == 0 {
		b.models = nil
		return
	}
	b.models = map[string]bool{}
	for _, id := range ids {
		b.models[id] = true
	}
}

// Delay makes every answer wait d before it starts; a request cancelled
// meanwhile gets no answer and is recorded with ErrorCode
// "RequestCancelled". 0 answers at once (after the few milliseconds every
// answer waits, see bedrockSettle).
func (b *Bedrock) Delay(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.delay = d
}

// Fail makes requests to op (OpConverse or OpConverseStream) fail with f,
// an HTTP error, e.g. Failure{Status: 429, Code: "ThrottlingException"}.
// Failures queue up: the first is used until its Times run out.
func (b *Bedrock) Fail(op string, f Failure) { b.failures.add(op, f) }

// FailMidStream makes ConverseStream answers break off after the first
// chunk of the reply with an exception message whose :exception-type is
// f.Code in lower camel case (e.g. "ThrottlingException" is sent as
// throttlingException, "ModelStreamErrorException" as
// modelStreamErrorException); f.Status is not used, the HTTP status
// having been 200. Failures queue up as with Fail.
func (b *Bedrock) FailMidStream(f Failure) { b.failures.add(bedrockMidStream, f) }

// ClearFailures removes every queued failure.
func (b *Bedrock) ClearFailures() { b.failures.clear() }

// Calls returns every signed Converse and ConverseStream call with a
// readable body received so far, in order, including those refused.
func (b *Bedrock) Calls() []ConverseCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]ConverseCall, len(b.calls))
	for i, c := range b.calls {
		out[i] = c.clone()
	}
	return out
}

// Requests returns every request received so far, in order.
func (b *Bedrock) Requests() []Request {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.requests)
}

func (c ConverseCall) clone() ConverseCall {
	c.System = slices.Clone(c.System)
	c.Messages = slices.Clone(c.Messages)
	for i, m := range c.Messages {
		c.Messages[i].Text = slices.Clone(m.Text)
	}
	if c.Temperature != nil {
		t := *c.Temperature
		c.Temperature = &t
	}
	return c
}

type bedrockError struct {
	status        int
	code, message string
}

func bedrockInvalid(format string, args ...any) *bedrockError {
	return &bedrockError{http.StatusBadRequest, "ValidationException", fmt.Sprintf(format, args...)}
}

// bedrockRequest is the part of a Converse or ConverseStream request body
// the fake reads.
type bedrockRequest struct {
	Messages []struct {
		Role    string                       `json:"role"`
		Content []map[string]json.RawMessage `json:"content"`
	} `json:"messages"`
	System          []map[string]json.RawMessage `json:"system"`
	InferenceConfig *struct {
		MaxTokens   *int     `json:"maxTokens"`
		Temperature *float32 `json:"temperature"`
	} `json:"inferenceConfig"`
}

func (b *Bedrock) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	w.Header().Set("X-Amzn-Requestid", newUUID())
	body, readErr := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	settle := time.NewTimer(bedrockSettle)
	select {
	case <-settle.C:
	case <-r.Context().Done():
		settle.Stop()
	}
	rec := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: body,
		SessionToken: r.Header.Get("X-Amz-Security-Token")}
	// record keeps rec and call (if any); it runs before the answer is
	// written, so that a client holding its answer finds them recorded.
	record := func(call *ConverseCall) {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.requests = append(b.requests, rec)
		if call != nil {
			b.calls = append(b.calls, *call)
		}
	}
	fail := func(e *bedrockError, call *ConverseCall) {
		rec.Status, rec.ErrorCode = e.status, e.code
		if call != nil {
			call.ErrorCode = e.code
		}
		record(call)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-Errortype", e.code)
		w.WriteHeader(e.status)
		_ = json.NewEncoder(w).Encode(map[string]string{"message": e.message})
	}

	op, modelID, ok := bedrockRoute(r)
	switch {
	case readErr != nil:
		fail(bedrockInvalid("unreadable body"), nil)
		return
	case !ok:
		b.t.Errorf("fakeaws.Bedrock: no operation serves %s %s", r.Method, r.URL.EscapedPath())
		fail(&bedrockError{http.StatusNotFound, "UnknownOperationException", "no such operation"}, nil)
		return
	}
	rec.Operation = op

	b.mu.Lock()
	sig, e := b.authenticate(r, body)
	rec.AccessKeyID, rec.Region = sig.AccessKeyID, sig.Region
	replyFn, models, delay := b.reply, b.models, b.delay
	b.mu.Unlock()
	if e != nil {
		fail(e, nil)
		return
	}
	var in bedrockRequest
	if json.Unmarshal(body, &in) != nil {
		fail(&bedrockError{http.StatusBadRequest, "SerializationException", "malformed request body"}, nil)
		return
	}
	call := ConverseCall{ModelID: modelID, AccessKeyID: sig.AccessKeyID, Region: sig.Region,
		Streamed: op == OpConverseStream}
	e = in.fill(&call)
	if e == nil {
		if f, ok := b.failures.next(op); ok {
			e = &bedrockError{f.Status, f.Code, f.Message}
		}
	}
	if e == nil && models != nil && !bedrockKnownModel(models, modelID) {
		e = bedrockInvalid("The provided model identifier is invalid.")
	}
	if e == nil {
		e = in.validate()
	}
	if e != nil {
		fail(e, &call)
		return
	}

	if delay > 0 {
		timer := time.NewTimer(delay)
		select {
		case <-timer.C:
		case <-r.Context().Done():
			timer.Stop()
			call.ErrorCode, rec.ErrorCode = "RequestCancelled", "RequestCancelled"
			record(&call)
			return
		}
	}

	var reply string
	if replyFn != nil {
		reply = replyFn(call.clone())
	} else {
		reply = fmt.Sprintf("This is %s answering through the Bedrock fake: the reply stands in for what the model would say.", modelID)
	}
	call.Reply, call.StopReason = reply, "end_turn"
	if call.MaxTokens > 0 && bedrockTokens(reply) > call.MaxTokens {
		call.Reply, call.StopReason = bedrockCut(reply, call.MaxTokens), "max_tokens"
	}
	inputTokens := 0
	for _, s := range call.System {
		inputTokens += bedrockTokens(s)
	}
	for _, m := range call.Messages {
		for _, s := range m.Text {
			inputTokens += bedrockTokens(s)
		}
	}
	usage := map[string]int{"inputTokens": inputTokens, "outputTokens": bedrockTokens(call.Reply)}
	usage["totalTokens"] = usage["inputTokens"] + usage["outputTokens"]

	rec.Status = http.StatusOK
	if op == OpConverse {
		record(&call)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_ = json.NewEncoder(w).Encode(map[string]any{
			"output": map[string]any{"message": map[string]any{
				"role": "assistant", "content": []map[string]string{{"text": call.Reply}}}},
			"stopReason": call.StopReason,
			"usage":      usage,
			"metrics":    map[string]int64{"latencyMs": max(1, time.Since(start).Milliseconds())},
		})
		return
	}
	var midStream *Failure
	if f, ok := b.failures.next(bedrockMidStream); ok {
		midStream = &f
		call.ErrorCode, rec.ErrorCode = f.Code, f.Code
	}
	record(&call)
	b.stream(w, r, call.Reply, call.StopReason, usage, midStream, start)
}

// stream writes a ConverseStream answer of reply; with midStream it breaks
// off after the first chunk with that exception.
func (b *Bedrock) stream(w http.ResponseWriter, r *http.Request, reply, stopReason string, usage map[string]int,
	midStream *Failure, start time.Time) {
	w.Header().Set("Content-Type", "application/vnd.amazon.eventstream")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	enc := eventstream.NewEncoder()
	send := func(msg eventstream.Message) bool {
		if r.Context().Err() != nil {
			return false
		}
		if err := enc.Encode(w, msg); err != nil {
			return false
		}
		if flusher != nil {
			flusher.Flush()
		}
		return true
	}
	event := func(eventType string, payload any) bool {
		p, _ := json.Marshal(payload)
		var msg eventstream.Message
		msg.Headers.Set(":event-type", eventstream.StringValue(eventType))
		msg.Headers.Set(":content-type", eventstream.StringValue("application/json"))
		msg.Headers.Set(":message-type", eventstream.StringValue("event"))
		msg.Payload = p
		return send(msg)
	}

	if !event("messageStart", map[string]string{"role": "assistant"}) {
		return
	}
	for i, chunk := range bedrockChunks(reply, bedrockChunkWords) {
		if !event("contentBlockDelta", map[string]any{"contentBlockIndex": 0, "delta": map[string]string{"text": chunk}}) {
			return
		}
		if i == 0 && midStream != nil {
			break
		}
	}
	if midStream != nil {
		send(bedrockException(*midStream))
		return
	}
	_ = event("contentBlockStop", map[string]int{"contentBlockIndex": 0}) &&
		event("messageStop", map[string]string{"stopReason": stopReason}) &&
		event("metadata", map[string]any{"usage": usage,
			"metrics": map[string]int64{"latencyMs": max(1, time.Since(start).Milliseconds())}})
}

// bedrockException returns f as an event stream exception message.
func bedrockException(f Failure) eventstream.Message {
	p, _ := json.Marshal(map[string]string{"message": f.Message})
	var msg eventstream.Message
	msg.Headers.Set(":exception-type", eventstream.StringValue(lowerFirst(f.Code)))
	msg.Headers.Set(":content-type", eventstream.StringValue("application/json"))
	msg.Headers.Set(":message-type", eventstream.StringValue("exception"))
	msg.Payload = p
	return msg
}

// authenticate checks r's signature, as configured; b.mu must be held.
func (b *Bedrock) authenticate(r *http.Request, body []byte) (Signature, *bedrockError) {
	sig, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return sig, &bedrockError{http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	if sig.Service != "bedrock" {
		return sig, &bedrockError{http.StatusForbidden, "InvalidSignatureException", "Credential should be scoped to correct service: 'bedrock'."}
	}
	if b.sts == nil {
		return sig, nil
	}
	creds, ok := b.sts.Lookup(sig.AccessKeyID)
	if !ok {
		return sig, &bedrockError{http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid."}
	}
	if !time.Now().Before(creds.Expires) {
		return sig, &bedrockError{http.StatusForbidden, "ExpiredTokenException", "The security token included in the request is expired"}
	}
	if err := verifySignature(r, body, sig, awsCredentials(creds)); err != nil {
		return sig, &bedrockError{http.StatusForbidden, "InvalidSignatureException",
			"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."}
	}
	return sig, nil
}

// bedrockRoute returns the operation and the unescaped model ID r asks for.
func bedrockRoute(r *http.Request) (op, modelID string, ok bool) {
	parts := strings.Split(r.URL.EscapedPath(), "/")
	if r.Method != http.MethodPost || len(parts) != 4 || parts[0] != "" || parts[1] != "model" || parts[2] == "" {
		return "", "", false
	}
	switch parts[3] {
	case "converse":
		op = OpConverse
	case "converse-stream":
		op = OpConverseStream
	default:
		return "", "", false
	}
	id, err := url.PathUnescape(parts[2])
	if err != nil {
		return "", "", false
	}
	return op, id, true
}

// bedrockKnownModel reports whether id, or the resource of a foundation
// model or inference profile ARN, is one of models.
func bedrockKnownModel(models map[string]bool, id string) bool {
	if models[id] {
		return true
	}
	if !strings.HasPrefix(id, "arn:") {
		return false
	}
	parts := strings.SplitN(id, ":", 6)
	if len(parts) != 6 {
		return false
	}
	kind, name, ok := strings.Cut(parts[5], "/")
	return ok && (kind == "foundation-model" || kind == "inference-profile") && models[name]
}

// fill fills call from the request.
func (in *bedrockRequest) fill(call *ConverseCall) *bedrockError {
	for i, block := range in.System {
		text, ok, e := bedrockText(block, fmt.Sprintf("system.%d", i), "SystemContentBlock")
		if e != nil {
			return e
		}
		if ok {
			call.System = append(call.System, text)
		}
	}
	for i, m := range in.Messages {
		msg := ConverseMessage{Role: m.Role}
		for j, block := range m.Content {
			text, ok, e := bedrockText(block, fmt.Sprintf("messages.%d.content.%d", i, j), "ContentBlock")
			if e != nil {
				return e
			}
			if ok {
				msg.Text = append(msg.Text, text)
			}
		}
		call.Messages = append(call.Messages, msg)
	}
	if c := in.InferenceConfig; c != nil {
		if c.MaxTokens != nil {
			call.MaxTokens = *c.MaxTokens
		}
		call.Temperature = c.Temperature
	}
	return nil
}

// validate checks the request as Bedrock does.
func (in *bedrockRequest) validate() *bedrockError {
	if len(in.Messages) == 0 || in.Messages[0].Role != "user" {
		return bedrockInvalid("A conversation must start with a user message. Try again with a conversation that starts with a user message.")
	}
	for i, m := range in.Messages {
		if m.Role != "user" && m.Role != "assistant" {
			return bedrockInvalid("1 validation error detected: Value '%s' at 'messages.%d.member.role' failed to satisfy constraint: Member must satisfy enum value set: [user, assistant]", m.Role, i+1)
		}
		if i > 0 && m.Role == in.Messages[i-1].Role {
			return bedrockInvalid("A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.")
		}
		if len(m.Content) == 0 {
			return bedrockInvalid("The content field in the Message object at messages.%d is empty. Add a ContentBlock object to the content field and try again.", i)
		}
	}
	if c := in.InferenceConfig; c != nil && c.MaxTokens != nil && *c.MaxTokens < 1 {
		return bedrockInvalid("1 validation error detected: Value '%d' at 'inferenceConfig.maxTokens' failed to satisfy constraint: Member must have value greater than or equal to 1", *c.MaxTokens)
	}
	return nil
}

// bedrockText returns the text of a content block at path; ok is false for
// a block the fake ignores (cachePoint).
func bedrockText(block map[string]json.RawMessage, path, shape string) (text string, ok bool, e *bedrockError) {
	if raw, has := block["text"]; has {
		if json.Unmarshal(raw, &text) != nil {
			return "", false, &bedrockError{http.StatusBadRequest, "SerializationException", "text of " + path + " is not a string"}
		}
		if strings.TrimSpace(text) == "" {
			return "", false, bedrockInvalid("The text field in the %s object at %s is blank. Add text to the text field, and try again.", shape, path)
		}
		return text, true, nil
	}
	if _, has := block["cachePoint"]; has {
		return "", false, nil
	}
	kinds := make([]string, 0, len(block))
	for k := range block {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	return "", false, bedrockInvalid("fakeaws.Bedrock serves text content blocks only, not %v at %s", kinds, path)
}

// bedrockTokens counts s's tokens: its words.
func bedrockTokens(s string) int { return len(strings.Fields(s)) }

// bedrockWordStarts returns the byte offset at which each word of s starts.
func bedrockWordStarts(s string) []int {
	var starts []int
	inWord := false
	for i, r := range s {
		space := unicode.IsSpace(r)
		if !space && !inWord {
			starts = append(starts, i)
		}
		inWord = !space
	}
	return starts
}

// bedrockCut returns s up to the end of its nth word.
func bedrockCut(s string, n int) string {
	starts := bedrockWordStarts(s)
	if n >= len(starts) {
		return s
	}
	end := starts[n-1]
	for end < len(s) {
		r, size := utf8.DecodeRuneInString(s[end:])
		if unicode.IsSpace(r) {
			break
		}
		end += size
	}
	return s[:end]
}

// bedrockChunks splits s into pieces of words words each (the spaces after
// a word going with it), whose concatenation is s.
func bedrockChunks(s string, words int) []string {
	starts := bedrockWordStarts(s)
	if len(starts) == 0 {
		if s == "" {
			return nil
		}
		return []string{s}
	}
	var chunks []string
	from := 0
	for i := words; i < len(starts); i += words {
		chunks = append(chunks, s[from:starts[i]])
		from = starts[i]
	}
	return append(chunks, s[from:])
}

// lowerFirst returns s with its first letter in lower case, as event
// stream exception types are spelt.
func lowerFirst(s string) string {
	r, size := utf8.DecodeRuneInString(s)
	if size == 0 {
		return s
	}
	return string(unicode.ToLower(r)) + s[size:]
}
