package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"
)

const (
	// keyHeader carries the tenant's flows key; it must match
	// switchboard/flows.KeyHeader (the tests hold them together).
	keyHeader = "X-Switchboard-Flows-Key"

	defaultTimeout = 3 * time.Second
	// maxTimeout is the longest Amazon Connect waits for a Lambda.
	maxTimeout = 8 * time.Second
	// maxReplyBytes bounds the reply read from switchboard; Connect itself
	// accepts no more than 32 KB back from a Lambda.
	maxReplyBytes = 64 << 10
	// replyMargin is kept back from the invocation's deadline so that a
	// late answer still ends as an error the function returns and logs,
	// not as a Lambda timeout.
	replyMargin = 250 * time.Millisecond
	// retryPause is the wait before the one retry.
	retryPause = 100 * time.Millisecond
	// retryFloor is the time that must remain before the deadline (less
	// replyMargin) for the retry to be tried; a shorter SWITCHBOARD_TIMEOUT
	// lowers it to that timeout.
	retryFloor = time.Second
	// maxMessage bounds the server's error message copied into a reply.
	maxMessage = 256
)

// config is what the function reads from its environment at cold start.
type config struct {
	endpoint string // SWITCHBOARD_URL joined with /flows
	key      string // SWITCHBOARD_FLOWS_KEY, never logged
	timeout  time.Duration
}

// loadConfig reads SWITCHBOARD_URL, SWITCHBOARD_FLOWS_KEY and
// SWITCHBOARD_TIMEOUT, and says everything wrong with them at once.
func loadConfig(getenv func(string) string) (config, error) {
	var c config
	var problems []string

	raw := strings.TrimSpace(getenv("SWITCHBOARD_URL"))
	switch u, err := url.Parse(raw); {
	case raw == "":
		problems = append(problems, "SWITCHBOARD_URL is not set (switchboard's base URL, e.g. https://switchboard.example.com)")
	case err != nil:
		problems = append(problems, "SWITCHBOARD_URL does not parse as a URL")
	case u.Scheme != "https" && u.Scheme != "http":
		problems = append(problems, fmt.Sprintf("SWITCHBOARD_URL %q must begin with https:// (or http://)", u.Redacted()))
	case u.Host == "":
		problems = append(problems, fmt.Sprintf("SWITCHBOARD_URL %q has no host", u.Redacted()))
	case u.User != nil:
		problems = append(problems, "SWITCHBOARD_URL must not hold a user or password: the key goes in SWITCHBOARD_FLOWS_KEY")
	case u.RawQuery != "" || u.Fragment != "":
		problems = append(problems, fmt.Sprintf("SWITCHBOARD_URL %q must not have a query or fragment", u.Redacted()))
	default:
		c.endpoint = u.JoinPath("flows").String()
	}

	c.key = strings.TrimSpace(getenv("SWITCHBOARD_FLOWS_KEY"))
	switch {
	case c.key == "":
		problems = append(problems, "SWITCHBOARD_FLOWS_KEY is not set (the tenant's flows key, from switchboard's admin console)")
	case strings.IndexFunc(c.key, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0:
		problems = append(problems, "SWITCHBOARD_FLOWS_KEY holds spaces or characters a header cannot carry")
	}

	c.timeout = defaultTimeout
	if raw := strings.TrimSpace(getenv("SWITCHBOARD_TIMEOUT")); raw != "" {
		d, err := time.ParseDuration(raw)
		if err != nil {
			// A bare number is seconds.
			if s, ferr := strconv.ParseFloat(raw, 64); ferr == nil {
				d, err = time.Duration(s*float64(time.Second)), nil
			}
		}
		switch {
		case err != nil:
			problems = append(problems, fmt.Sprintf("SWITCHBOARD_TIMEOUT %q is not a duration (e.g. 3s or 2500ms)", raw))
		case d <= 0 || d > maxTimeout:
			problems = append(problems, fmt.Sprintf("SWITCHBOARD_TIMEOUT %q must be more than 0 and at most %s, the longest Amazon Connect waits", raw, maxTimeout))
		default:
			c.timeout = d
		}
	}

	if len(problems) > 0 {
		return config{}, errors.New(strings.Join(problems, "; "))
	}
	return c, nil
}

// forwarder passes Amazon Connect's flow events to switchboard's /flows.
// It is built once per execution environment, at cold start, and its HTTP
// client (and so its connections) serves every invocation after.
type forwarder struct {
	cfg    config
	cfgErr error // reported by every invocation, so it reaches CloudWatch
	client *http.Client
	log    *slog.Logger
}

// newForwarder reads the configuration through getenv and logs to w. It
// never fails: a bad configuration is handle's error to return.
func newForwarder(getenv func(string) string, w io.Writer) *forwarder {
	cfg, err := loadConfig(getenv)
	t := http.DefaultTransport.(*http.Transport).Clone()
	// The environment is frozen between invocations while load balancers
	// close idle connections; keep them for less time than most do.
	t.IdleConnTimeout = 30 * time.Second
	return &forwarder{
		cfg:    cfg,
		cfgErr: err,
		client: &http.Client{Timeout: cfg.timeout, Transport: t},
		log: slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
			// Lambda stamps every line itself.
			ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
				if len(groups) == 0 && a.Key == slog.TimeKey {
					return slog.Attr{}
				}
				return a
			},
		})),
	}
}

// handle answers one contact flow's question by posting its event to
// switchboard and returning switchboard's reply, as Amazon Connect wants
// it: a flat object of strings, which the flow reads as $.External.<key>.
//
// The reply convention:
//
//   - 200: switchboard's object, unchanged (for a schedule: open, reason,
//     nextChangeAt, schedule; for parameters: the group's keys and values).
//     A reply that is not an object of strings is an error.
//   - 404 (no such schedule or group): no error, so the flow can branch on
//     it, but {"found": "false", "status": "404", "error": "<switchboard's
//     message>"}. Switchboard's 200 replies carry no "found" key; test
//     $.External.found equals "false".
//   - anything else, 401 (wrong or missing key), 403 (tenant not
//     subscribed), other 4xx and 5xx, a timeout, an unreachable server or a
//     misconfigured function: an error, and Connect takes the block's
//     Error branch.
//
// A connection error or a 502, 503 or 504 is retried once, after 100ms, if
// at least a second (or SWITCHBOARD_TIMEOUT, if shorter) remains before
// the invocation's deadline; a timeout and 4xx are never retried. Every
// invocation logs one line: the action, the contact, the status, the
// attempts and the duration; never the key.
func (f *forwarder) handle(ctx context.Context, ev events.ConnectEvent) (events.ConnectResponse, error) {
	start := time.Now()
	var (
		status   int
		attempts int
		reply    events.ConnectResponse
		err      error
	)
	if f.cfgErr != nil {
		err = fmt.Errorf("flows-lambda is misconfigured: %w", f.cfgErr)
	} else {
		status, attempts, reply, err = f.forward(ctx, ev)
	}

	attrs := []any{
		"action", ev.Details.Parameters["action"],
		"contact", ev.Details.ContactData.ContactID,
		"status", status,
		"attempts", attempts,
		"duration", time.Since(start).Round(time.Millisecond),
	}
	if err != nil {
		f.log.Error("flows", append(attrs, "error", err.Error())...)
		return nil, err
	}
	f.log.Info("flows", attrs...)
	return reply, nil
}

// forward posts ev, retrying once when that may help, and turns the answer
// into the function's reply. status is 0 when switchboard never answered.
func (f *forwarder) forward(ctx context.Context, ev events.ConnectEvent) (status, attempts int, reply events.ConnectResponse, err error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return 0, 0, nil, fmt.Errorf("encoding the Connect event: %w", err)
	}
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl.Add(-replyMargin))
		defer cancel()
	}

	var a answer
	for attempts = 1; ; attempts++ {
		a, err = f.post(ctx, body)
		if attempts == 2 || !retryable(a, err) || !f.timeForRetry(ctx) {
			break
		}
		select {
		case <-time.After(retryPause):
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	if err != nil {
		if isTimeout(err) {
			return a.status, attempts, nil, fmt.Errorf("switchboard did not answer in time: %w", err)
		}
		return a.status, attempts, nil, fmt.Errorf("asking switchboard: %w", err)
	}
	reply, err = a.reply()
	return a.status, attempts, reply, err
}

// answer is switchboard's status and (bounded) body.
type answer struct {
	status int
	body   []byte
}

// post makes one attempt. An error with a non-zero status means the reply
// began but could not be read whole.
func (f *forwarder) post(ctx context.Context, body []byte) (answer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.cfg.endpoint, bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	req.Header.Set(keyHeader, f.cfg.key)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "switchboard-flows-lambda")
	resp, err := f.client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	a := answer{status: resp.StatusCode}
	a.body, err = io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes+1))
	if err != nil {
		return a, fmt.Errorf("reading switchboard's %d reply: %w", a.status, err)
	}
	if len(a.body) > maxReplyBytes {
		return a, fmt.Errorf("switchboard's %d reply is larger than %d KiB", a.status, maxReplyBytes>>10)
	}
	return a, nil
}

// retryable says whether a second attempt could fare better: the request
// never got an answer for a reason other than time, or a gateway or the
// server said it was briefly unavailable. /flows only reads, so a repeat
// is harmless.
func retryable(a answer, err error) bool {
	if err != nil {
		return a.status == 0 && !isTimeout(err)
	}
	switch a.status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// timeForRetry says whether enough of the invocation's time is left for a
// retry to have a fair chance.
func (f *forwarder) timeForRetry(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	dl, ok := ctx.Deadline()
	if !ok {
		return true
	}
	return time.Until(dl) >= retryPause+min(retryFloor, f.cfg.timeout)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		(errors.As(err, &ne) && ne.Timeout())
}

// reply turns switchboard's answer into the function's, by the convention
// handle documents.
func (a answer) reply() (events.ConnectResponse, error) {
	switch a.status {
	case http.StatusOK:
		return decodeFlat(a.body)
	case http.StatusNotFound:
		return events.ConnectResponse{"found": "false", "status": "404", "error": a.message()}, nil
	case http.StatusUnauthorized:
		return nil, fmt.Errorf("switchboard refused the flows key (401: %s): check SWITCHBOARD_FLOWS_KEY against the key in switchboard's admin console", a.message())
	case http.StatusForbidden:
		return nil, fmt.Errorf("switchboard refused the tenant (403: %s): its subscription is not active", a.message())
	}
	return nil, fmt.Errorf("switchboard answered %d: %s", a.status, a.message())
}

// message is switchboard's {"error": "..."}, else the status's text.
func (a answer) message() string {
	var e struct {
		Error string `json:"error"`
	}
	msg := http.StatusText(a.status)
	if json.Unmarshal(a.body, &e) == nil && strings.TrimSpace(e.Error) != "" {
		msg = strings.TrimSpace(e.Error)
	}
	if len(msg) > maxMessage {
		msg = strings.ToValidUTF8(msg[:maxMessage], "") + "…"
	}
	if msg == "" {
		msg = "status " + strconv.Itoa(a.status)
	}
	return msg
}

// decodeFlat decodes a JSON object whose every value is a string, the only
// shape Amazon Connect accepts back from a Lambda.
func decodeFlat(body []byte) (events.ConnectResponse, error) {
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("switchboard's reply is not a JSON object: %w", err)
	}
	if raw == nil {
		return nil, errors.New("switchboard's reply is not a JSON object: null")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("switchboard's reply has data after its JSON object")
	}
	out := make(events.ConnectResponse, len(raw))
	for k, v := range raw {
		var s string
		if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &s) != nil {
			return nil, fmt.Errorf("switchboard's reply is not flat: the value of %q is %s, not a string", k, kind(v))
		}
		out[k] = s
	}
	return out, nil
}

// kind names a JSON value's type for an error message.
func kind(v json.RawMessage) string {
	switch {
	case len(v) == 0:
		return "empty"
	case v[0] == '{':
		return "an object"
	case v[0] == '[':
		return "an array"
	case v[0] == 't' || v[0] == 'f':
		return "a boolean"
	case v[0] == 'n':
		return "null"
	}
	return "a number"
}
