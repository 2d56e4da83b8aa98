package fakeaws

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The SNS API operations the fake SNS serves at APIURL.
const (
	OpCreateTopic              = "CreateTopic"
	OpGetTopicAttributes       = "GetTopicAttributes"
	OpSetTopicAttributes       = "SetTopicAttributes"
	OpSubscribe                = "Subscribe"
	OpListSubscriptionsByTopic = "ListSubscriptionsByTopic"
)

const snsNamespace = "http://sns.amazonaws.com/doc/2010-03-31/"

// snsDefaultAccount owns the topics of requests not signed with
// credentials of the fake STS (TrustSTS not called).
const snsDefaultAccount = "123456789012"

// SNSTopic is a topic of the fake SNS's API.
type SNSTopic struct {
	ARN        string
	Attributes map[string]string // Policy, DisplayName, ...
	Subs       []SNSSubscription
}

// SNSSubscription is a subscription to a topic of the fake.
type SNSSubscription struct {
	ARN      string // "PendingConfirmation" until confirmed through SubscribeURL
	Protocol string
	Endpoint string
	token    string
}

var snsTopicNameRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)

// TrustSTSForAPI makes the fake's API accept only requests signed with
// unexpired credentials that sts issued; a topic is then created in the
// account of the role the credentials were issued for.
func (s *SNS) TrustSTSForAPI(sts *STS) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sts = sts
}

// FailAPI makes requests to op (e.g. OpSubscribe) fail with f.
func (s *SNS) FailAPI(op string, f Failure) { s.failures.add(op, f) }

// Topics returns the topics created through the API, by ARN.
func (s *SNS) Topics() map[string]SNSTopic {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]SNSTopic{}
	for a, t := range s.topics {
		c := SNSTopic{ARN: t.ARN, Attributes: map[string]string{}, Subs: slices.Clone(t.Subs)}
		for k, v := range t.Attributes {
			c.Attributes[k] = v
		}
		out[a] = c
	}
	return out
}

// APIWrites returns how many calls changed something: a topic created, an
// attribute set, a subscription made.
func (s *SNS) APIWrites() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.apiWrites
}

// APIRequests returns every request the API received, in order.
func (s *SNS) APIRequests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.apiRequests)
}

// delivery is a SubscriptionConfirmation to post once the lock is let go.
type delivery struct {
	endpoint string
	body     []byte
}

// serveAPI serves the SNS API (the query protocol, as SESv1).
func (s *SNS) serveAPI(w http.ResponseWriter, r *http.Request) {
	requestID := newUUID()
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.Header().Set("Content-Type", "text/xml")
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rec := Request{Method: r.Method, Path: r.URL.Path, Body: body, SessionToken: r.Header.Get("X-Amz-Security-Token")}
	form := url.Values{}
	if err == nil {
		form, err = url.ParseQuery(string(body))
	}
	op := form.Get("Action")

	var send []delivery
	out, serr := func() (any, *sesv1Error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		defer func() { s.apiRequests = append(s.apiRequests, rec) }()
		handlers := map[string]func(url.Values, string) (any, []delivery, *sesv1Error){
			OpCreateTopic:              s.createTopic,
			OpGetTopicAttributes:       s.getTopicAttributes,
			OpSetTopicAttributes:       s.setTopicAttributes,
			OpSubscribe:                s.subscribe,
			OpListSubscriptionsByTopic: s.listSubscriptionsByTopic,
		}
		handler := handlers[op]
		switch {
		case err != nil:
			return nil, &sesv1Error{http.StatusBadRequest, "MalformedQueryString", "unreadable body"}
		case handler == nil:
			s.t.Errorf("fakeaws.SNS: no operation serves Action=%q", op)
			return nil, &sesv1Error{http.StatusBadRequest, "InvalidAction", "Could not find operation " + op}
		case form.Get("Version") != "2010-03-31":
			return nil, &sesv1Error{http.StatusBadRequest, "NoSuchVersion", fmt.Sprintf("Version %q is not valid", form.Get("Version"))}
		}
		rec.Operation = op
		creds, serr := authenticateQuery(r, body, &rec, "sns", s.sts)
		if serr != nil {
			return nil, serr
		}
		if f, ok := s.failures.next(op); ok {
			return nil, &sesv1Error{f.Status, f.Code, f.Message}
		}
		account := snsDefaultAccount
		if creds.RoleARN != "" {
			account = strings.Split(creds.RoleARN, ":")[4]
		}
		out, d, serr := handler(form, rec.Region+":"+account)
		send = d
		if serr != nil {
			rec.Status, rec.ErrorCode = serr.status, serr.code
		} else {
			rec.Status = http.StatusOK
		}
		return out, serr
	}()
	if serr != nil {
		typ := "Sender"
		if serr.status >= 500 {
			typ = "Receiver"
		}
		w.WriteHeader(serr.status)
		_ = xml.NewEncoder(w).Encode(sesv1ErrorResponse{XMLNS: snsNamespace, Type: typ,
			Code: serr.code, Message: serr.message, RequestID: requestID})
		return
	}
	// SNS posts the confirmation shortly after Subscribe answers; the fake
	// posts it before, so that a test sees its outcome when the call returns.
	for _, d := range send {
		s.deliver(r.Context(), d)
	}
	w.WriteHeader(http.StatusOK)
	if out == nil {
		out = struct{}{}
	}
	fmt.Fprintf(w, `<%sResponse xmlns="%s">`, op, snsNamespace)
	_ = xml.NewEncoder(w).EncodeElement(out, xml.StartElement{Name: xml.Name{Local: op + "Result"}})
	fmt.Fprintf(w, `<ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></%sResponse>`, requestID, op)
}

// deliver posts a SubscriptionConfirmation to its endpoint, as SNS does,
// and records the answer's status.
func (s *SNS) deliver(ctx context.Context, d delivery) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.endpoint, bytes.NewReader(d.body))
	status := 0
	if err == nil {
		req.Header.Set("Content-Type", "text/plain; charset=UTF-8")
		req.Header.Set("X-Amz-Sns-Message-Type", "SubscriptionConfirmation")
		var res *http.Response
		if res, err = http.DefaultClient.Do(req); err == nil {
			status = res.StatusCode
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
	}
	s.mu.Lock()
	s.deliveries = append(s.deliveries, SNSDelivery{Endpoint: d.endpoint, Status: status})
	s.mu.Unlock()
}

// SNSDelivery is one SubscriptionConfirmation the fake posted: the status
// the endpoint answered, 0 when it could not be reached.
type SNSDelivery struct {
	Endpoint string
	Status   int
}

// Deliveries returns the SubscriptionConfirmations posted, in order.
func (s *SNS) Deliveries() []SNSDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.deliveries)
}

// snsEntries reads prefix.entry.N.key / .value pairs.
func snsEntries(form url.Values, prefix string) map[string]string {
	out := map[string]string{}
	for i := 1; ; i++ {
		k := prefix + ".entry." + strconv.Itoa(i)
		if !form.Has(k + ".key") {
			return out
		}
		out[form.Get(k+".key")] = form.Get(k + ".value")
	}
}

func snsNotFound() *sesv1Error {
	return &sesv1Error{http.StatusNotFound, "NotFound", "Topic does not exist"}
}

func snsInvalid(format string, args ...any) *sesv1Error {
	return &sesv1Error{http.StatusBadRequest, "InvalidParameter", "Invalid parameter: " + fmt.Sprintf(format, args...)}
}

// checkAttribute validates what SetTopicAttributes or CreateTopic sets.
func checkAttribute(name, value string) *sesv1Error {
	switch name {
	case "Policy":
		var doc struct {
			Version   string
			Statement []json.RawMessage
		}
		if err := json.Unmarshal([]byte(value), &doc); err != nil || doc.Version == "" || len(doc.Statement) == 0 {
			return snsInvalid("Policy Error: the policy is not a valid policy document")
		}
	case "DisplayName", "DeliveryPolicy", "KmsMasterKeyId", "TracingConfig", "SignatureVersion":
	default:
		return snsInvalid("AttributeName")
	}
	return nil
}

// createTopic serves CreateTopic: idempotent for the same name and
// attributes; s.mu must be held. where is "region:account".
func (s *SNS) createTopic(form url.Values, where string) (any, []delivery, *sesv1Error) {
	name := form.Get("Name")
	if !snsTopicNameRE.MatchString(name) {
		return nil, nil, snsInvalid("Topic Name")
	}
	attrs := snsEntries(form, "Attributes")
	for k, v := range attrs {
		if serr := checkAttribute(k, v); serr != nil {
			return nil, nil, serr
		}
	}
	arn := "arn:aws:sns:" + where + ":" + name
	out := struct{ TopicArn string }{arn}
	if t, ok := s.topics[arn]; ok {
		for k, v := range attrs {
			if t.Attributes[k] != v {
				return nil, nil, snsInvalid("Attributes Reason: Topic already exists with different attributes")
			}
		}
		return out, nil, nil
	}
	account := where[strings.Index(where, ":")+1:]
	t := &SNSTopic{ARN: arn, Attributes: map[string]string{
		"Policy": `{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:Publish","SNS:Subscribe"],"Resource":"` + arn + `","Condition":{"StringEquals":{"AWS:SourceOwner":"` + account + `"}}}]}`,
	}}
	for k, v := range attrs {
		t.Attributes[k] = v
	}
	s.topics[arn] = t
	s.apiWrites++
	return out, nil, nil
}

func (s *SNS) topic(arn string) (*SNSTopic, *sesv1Error) {
	t, ok := s.topics[arn]
	if !ok {
		return nil, snsNotFound()
	}
	return t, nil
}

type snsEntry struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

// getTopicAttributes serves GetTopicAttributes; s.mu must be held.
func (s *SNS) getTopicAttributes(form url.Values, _ string) (any, []delivery, *sesv1Error) {
	t, serr := s.topic(form.Get("TopicArn"))
	if serr != nil {
		return nil, nil, serr
	}
	var out struct {
		Entries []snsEntry `xml:"Attributes>entry"`
	}
	keys := []string{"TopicArn"}
	for k := range t.Attributes {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := t.Attributes[k]
		if k == "TopicArn" {
			v = t.ARN
		}
		out.Entries = append(out.Entries, snsEntry{k, v})
	}
	return out, nil, nil
}

// setTopicAttributes serves SetTopicAttributes; s.mu must be held.
func (s *SNS) setTopicAttributes(form url.Values, _ string) (any, []delivery, *sesv1Error) {
	t, serr := s.topic(form.Get("TopicArn"))
	if serr != nil {
		return nil, nil, serr
	}
	name, value := form.Get("AttributeName"), form.Get("AttributeValue")
	if serr := checkAttribute(name, value); serr != nil {
		return nil, nil, serr
	}
	t.Attributes[name] = value
	s.apiWrites++
	return nil, nil, nil
}

// subscribe serves Subscribe for the http and https protocols; an
// endpoint already subscribed gets its subscription back. s.mu must be
// held.
func (s *SNS) subscribe(form url.Values, _ string) (any, []delivery, *sesv1Error) {
	t, serr := s.topic(form.Get("TopicArn"))
	if serr != nil {
		return nil, nil, serr
	}
	protocol, endpoint := form.Get("Protocol"), form.Get("Endpoint")
	if protocol != "http" && protocol != "https" {
		return nil, nil, snsInvalid("the fake serves the http and https protocols only, not %q", protocol)
	}
	if u, err := url.Parse(endpoint); err != nil || u.Scheme != protocol || u.Host == "" {
		return nil, nil, snsInvalid("Invalid parameter: Endpoint must match the specified protocol")
	}
	out := struct{ SubscriptionArn string }{"pending confirmation"}
	for _, sub := range t.Subs {
		if sub.Protocol == protocol && sub.Endpoint == endpoint {
			if sub.ARN != "PendingConfirmation" {
				out.SubscriptionArn = sub.ARN
			}
			return out, nil, nil
		}
	}
	token := randomHex(32)
	t.Subs = append(t.Subs, SNSSubscription{ARN: "PendingConfirmation", Protocol: protocol, Endpoint: endpoint, token: token})
	s.apiWrites++
	m := s.subscriptionConfirmation(t.ARN, token, "1")
	return out, []delivery{{endpoint, m}}, nil
}

type snsSubscriptionMember struct {
	TopicArn, Protocol, SubscriptionArn, Owner, Endpoint string
}

// listSubscriptionsByTopic serves ListSubscriptionsByTopic, 100 a page;
// s.mu must be held.
func (s *SNS) listSubscriptionsByTopic(form url.Values, where string) (any, []delivery, *sesv1Error) {
	t, serr := s.topic(form.Get("TopicArn"))
	if serr != nil {
		return nil, nil, serr
	}
	start := 0
	if tok := form.Get("NextToken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(t.Subs) {
			return nil, nil, snsInvalid("NextToken")
		}
		start = n
	}
	var out struct {
		Members   []snsSubscriptionMember `xml:"Subscriptions>member"`
		NextToken string                  `xml:",omitempty"`
	}
	end := min(start+100, len(t.Subs))
	for _, sub := range t.Subs[start:end] {
		out.Members = append(out.Members, snsSubscriptionMember{t.ARN, sub.Protocol, sub.ARN,
			where[strings.Index(where, ":")+1:], sub.Endpoint})
	}
	if end < len(t.Subs) {
		out.NextToken = strconv.Itoa(end)
	}
	return out, nil, nil
}

// confirm marks the subscription of topicARN with token confirmed;
// s.mu must be held.
func (s *SNS) confirm(topicARN, token string) {
	t, ok := s.topics[topicARN]
	if !ok {
		return
	}
	for i, sub := range t.Subs {
		if sub.token == token && sub.ARN == "PendingConfirmation" {
			t.Subs[i].ARN = topicARN + ":" + newUUID()
		}
	}
}
