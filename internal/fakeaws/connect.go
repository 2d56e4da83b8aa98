package fakeaws

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Operation names the fake Connect serves, as the SDK and Request.Operation
// spell them.
const (
	OpPutUserStatus     = "PutUserStatus"
	OpListAgentStatuses = "ListAgentStatuses"
	OpStartChatContact  = "StartChatContact"
	OpStopContact       = "StopContact"
	OpStartTaskContact  = "StartTaskContact"
	// The instance's own operations (onboarding's verifyInstance).
	OpDescribeInstance        = "DescribeInstance"
	OpListApprovedOrigins     = "ListApprovedOrigins"
	OpAssociateApprovedOrigin = "AssociateApprovedOrigin"
	OpListQuickConnects       = "ListQuickConnects"
	// The live contact centre's (connect_live.go).
	OpListQueues              = "ListQueues"
	OpGetCurrentMetricData    = "GetCurrentMetricData"
	OpSuspendContactRecording = "SuspendContactRecording"
	OpResumeContactRecording  = "ResumeContactRecording"
	OpStopContactRecording    = "StopContactRecording"
	OpUpdateContactAttributes = "UpdateContactAttributes"
	OpListUsers               = "ListUsers"
	OpDescribeUser            = "DescribeUser"
	OpListRoutingProfiles     = "ListRoutingProfiles"
	OpListContactFlows        = "ListContactFlows"
)

// Connect is a local Amazon Connect speaking the REST-JSON protocol for the
// operations switchboard uses:
//
//	PutUserStatus      PUT  /users/{InstanceId}/{UserId}/status   {"AgentStatusId"}
//	ListAgentStatuses  GET  /agent-status/{InstanceId}?maxResults=&nextToken=&AgentStatusTypes=
//	StartChatContact   PUT  /contact/chat
//	StopContact        POST /contact/stop
//	StartTaskContact   PUT  /contact/task
//
// and those of the live contact centre, listed in connect_live.go.
//
// Instances, their users and agent statuses exist only once a test adds
// them; anything else is answered 404 ResourceNotFoundException. Errors carry
// the X-Amzn-ErrorType header and a {"Message": ...} body, as Connect's do.
type Connect struct {
	// URL is the endpoint to give the SDK client (o.BaseEndpoint).
	URL string

	t        testing.TB
	failures failures

	mu        sync.Mutex
	instances map[string]*connectInstance
	contacts  map[string]*Contact
	tokens    map[string]string // instance ID + "/" + ClientToken → contact ID
	requests  []Request
	pageSize  int
	pageCap   int // SetMaxPageSize's; 0 for none
	sts       *STS
	limits    map[string]*opLimit // by operation: GetCurrentMetricData's, and any SetRateLimit set
	// GetCurrentMetricData requests by instance ID: passed the rate
	// limit, refused by it.
	metricCalls, metricThrottled map[string]int
}

type connectInstance struct {
	statuses []AgentStatus
	users    map[string]string // user ID → agent status ID last put
	alias    string
	status   string   // InstanceStatus; ACTIVE when empty
	origins  []string // approved origins
	quick    []QuickConnect
	live     liveInstance
}

// QuickConnect is a quick connect of a fake instance: Type is USER, QUEUE
// or PHONE_NUMBER.
type QuickConnect struct {
	ID, Name, Type string
}

// AgentStatus is an agent status of a fake instance.
type AgentStatus struct {
	ID           string
	ARN          string // derived from the instance and ID when empty
	Name         string
	Description  string
	Type         string // ROUTABLE, CUSTOM or OFFLINE
	State        string // ENABLED or DISABLED; ENABLED when empty
	DisplayOrder int
	// LastModifiedTime defaults to when the status was set.
	LastModifiedTime time.Time
}

// Request is one request the fake Connect received.
type Request struct {
	Operation    string // e.g. OpPutUserStatus; empty for an unknown route
	Method       string
	Path         string // unescaped
	Query        url.Values
	Body         []byte
	AccessKeyID  string // from the SigV4 Authorization header
	SessionToken string // the X-Amz-Security-Token header
	Region       string // from the signature's credential scope
	Status       int    // the HTTP status the fake answered
	ErrorCode    string // the error code the fake answered, if any
}

// Contact is a contact started through the fake.
type Contact struct {
	ID                string
	InstanceID        string
	Channel           string // CHAT or TASK
	ContactFlowID     string
	QuickConnectID    string
	TaskTemplateID    string
	Name              string // a task's name
	Description       string // a task's description
	DisplayName       string // a chat participant's display name
	Attributes        map[string]string
	References        map[string]Reference
	PreviousContactID string
	ClientToken       string
	ParticipantID     string // chat only
	ParticipantToken  string // chat only
	Stopped           bool
}

// Reference is a task reference, e.g. {"Type": "URL", "Value": "https://..."}.
type Reference struct {
	Type  string
	Value string
}

// NewConnect starts a fake Amazon Connect for the duration of t.
func NewConnect(t testing.TB) *Connect {
	t.Helper()
	c := &Connect{
		t:         t,
		instances: map[string]*connectInstance{},
		contacts:  map[string]*Contact{},
		tokens:    map[string]string{},
		pageSize:  100,
		limits:    defaultLimits(),

		metricCalls:     map[string]int{},
		metricThrottled: map[string]int{},
	}
	srv := httptest.NewServer(http.HandlerFunc(c.serve))
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

// TrustSTS makes the fake accept only requests signed with credentials that
// s issued and that have not expired, and verify each request's signature
// with their secret. Without it, any SigV4-signed request is accepted.
func (c *Connect) TrustSTS(s *STS) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sts = s
}

// AddInstance makes instanceID exist.
func (c *Connect) AddInstance(instanceID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.instance(instanceID)
}

// SetInstance sets what DescribeInstance says of instanceID: its alias and
// InstanceStatus (ACTIVE, CREATION_IN_PROGRESS, CREATION_FAILED; ACTIVE
// when empty), creating it if need be.
func (c *Connect) SetInstance(instanceID, alias, status string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	in := c.instance(instanceID)
	in.alias, in.status = alias, status
}

// ApprovedOrigins returns instanceID's approved origins, in the order
// they were associated.
func (c *Connect) ApprovedOrigins(instanceID string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if in, ok := c.instances[instanceID]; ok {
		return slices.Clone(in.origins)
	}
	return nil
}

// SetAgentStatuses replaces the agent statuses of instanceID (creating the
// instance if need be).
func (c *Connect) SetAgentStatuses(instanceID string, statuses ...AgentStatus) {
	c.mu.Lock()
	defer c.mu.Unlock()
	in := c.instance(instanceID)
	in.statuses = nil
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, s := range statuses {
		if s.ARN == "" {
			s.ARN = fmt.Sprintf("arn:aws:connect:us-east-1:000000000000:instance/%s/agent-state/%s", instanceID, s.ID)
		}
		if s.State == "" {
			s.State = "ENABLED"
		}
		if s.LastModifiedTime.IsZero() {
			s.LastModifiedTime = now
		}
		in.statuses = append(in.statuses, s)
	}
}

// AddUsers makes users exist in instanceID (creating the instance if need be).
func (c *Connect) AddUsers(instanceID string, userIDs ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	in := c.instance(instanceID)
	for _, u := range userIDs {
		if _, ok := in.users[u]; !ok {
			in.users[u] = ""
		}
	}
}

// UserStatus returns the agent status ID last put for a user; ok is false
// for an unknown user.
func (c *Connect) UserStatus(instanceID, userID string) (statusID string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	in, ok := c.instances[instanceID]
	if !ok {
		return "", false
	}
	statusID, ok = in.users[userID]
	return statusID, ok
}

// SetPageSize sets how many agent statuses a ListAgentStatuses page holds
// when the request does not say (maxResults); 100 by default.
func (c *Connect) SetPageSize(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pageSize = n
}

// SetMaxPageSize caps every List page (and GetCurrentMetricData's) at n
// items, whatever maxResults asks, as a service may answer fewer than asked;
// 0, the default, caps nothing.
func (c *Connect) SetMaxPageSize(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pageCap = n
}

// Fail makes requests to operation (e.g. OpPutUserStatus) fail with f.
// Failures queue up: the first is used until its Times run out.
func (c *Connect) Fail(operation string, f Failure) { c.failures.add(operation, f) }

// ClearFailures removes every queued failure.
func (c *Connect) ClearFailures() { c.failures.clear() }

// Requests returns every request received so far, in order.
func (c *Connect) Requests() []Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.requests)
}

// RequestsFor returns the requests received for operation, in order.
func (c *Connect) RequestsFor(operation string) []Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []Request
	for _, r := range c.requests {
		if r.Operation == operation {
			out = append(out, r)
		}
	}
	return out
}

// Contact returns a contact started through the fake.
func (c *Connect) Contact(contactID string) (Contact, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ct, ok := c.contacts[contactID]
	if !ok {
		return Contact{}, false
	}
	out := *ct
	out.Attributes = maps.Clone(ct.Attributes)
	out.References = maps.Clone(ct.References)
	return out, true
}

// instance returns instanceID's state, creating it; c.mu must be held.
func (c *Connect) instance(instanceID string) *connectInstance {
	in, ok := c.instances[instanceID]
	if !ok {
		in = &connectInstance{users: map[string]string{}, live: newLiveInstance()}
		c.instances[instanceID] = in
	}
	return in
}

// connectError is an error answer: an HTTP status and an AWS error code.
type connectError struct {
	status  int
	code    string
	message string
}

func notFound(what string) *connectError {
	return &connectError{http.StatusNotFound, "ResourceNotFoundException", what + " not found"}
}

func invalidRequest(message string) *connectError {
	return &connectError{http.StatusBadRequest, "InvalidRequestException", message}
}

func (c *Connect) serve(w http.ResponseWriter, r *http.Request) {
	requestID := newUUID()
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.Header().Set("Content-Type", "application/json")

	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		writeConnectError(w, invalidRequest("unreadable body"))
		return
	}
	segs := pathSegments(r.URL)
	op := route(r.Method, segs)
	rec := Request{
		Operation:    op,
		Method:       r.Method,
		Path:         r.URL.Path,
		Query:        r.URL.Query(),
		Body:         body,
		SessionToken: r.Header.Get("X-Amz-Security-Token"),
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	defer func() { c.requests = append(c.requests, rec) }()

	var out any
	cerr := c.authenticate(r, body, &rec)
	if cerr == nil && op != "" {
		cerr = c.throttle(op, segs, &rec)
	}
	if cerr == nil && op != "" {
		if f, ok := c.failures.next(op); ok {
			cerr = &connectError{f.Status, f.Code, f.Message}
		}
	}
	if cerr == nil {
		switch op {
		case OpPutUserStatus:
			out, cerr = c.putUserStatus(segs[1], segs[2], body)
		case OpListAgentStatuses:
			out, cerr = c.listAgentStatuses(segs[1], r.URL.Query())
		case OpStartChatContact:
			out, cerr = c.startChatContact(body)
		case OpStopContact:
			out, cerr = c.stopContact(body)
		case OpStartTaskContact:
			out, cerr = c.startTaskContact(body)
		case OpDescribeInstance:
			out, cerr = c.describeInstance(segs[1], rec.Region)
		case OpListApprovedOrigins:
			out, cerr = c.listApprovedOrigins(segs[1])
		case OpAssociateApprovedOrigin:
			out, cerr = c.associateApprovedOrigin(segs[1], body)
		case OpListQuickConnects:
			out, cerr = c.listQuickConnects(segs[1], r.URL.Query())
		case OpListQueues, OpGetCurrentMetricData, OpSuspendContactRecording, OpResumeContactRecording,
			OpStopContactRecording, OpUpdateContactAttributes, OpListUsers, OpDescribeUser,
			OpListRoutingProfiles, OpListContactFlows:
			out, cerr = c.serveLive(op, segs, r.URL.Query(), body)
		default:
			c.t.Errorf("fakeaws.Connect: no operation serves %s %s", r.Method, r.URL.Path)
			cerr = &connectError{http.StatusNotFound, "UnknownOperationException", "no such operation"}
		}
	}
	if cerr != nil {
		rec.Status, rec.ErrorCode = cerr.status, cerr.code
		writeConnectError(w, cerr)
		return
	}
	rec.Status = http.StatusOK
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(out)
}

// authenticate checks r's signature, as configured; c.mu must be held.
func (c *Connect) authenticate(r *http.Request, body []byte, rec *Request) *connectError {
	sig, err := ParseAuthorization(r.Header.Get("Authorization"))
	if err != nil {
		return &connectError{http.StatusForbidden, "MissingAuthenticationTokenException", "Missing Authentication Token"}
	}
	rec.AccessKeyID, rec.Region = sig.AccessKeyID, sig.Region
	if sig.Service != "connect" {
		return &connectError{http.StatusForbidden, "InvalidSignatureException", "Credential should be scoped to correct service: 'connect'."}
	}
	if c.sts == nil {
		return nil
	}
	creds, ok := c.sts.Lookup(sig.AccessKeyID)
	if !ok {
		return &connectError{http.StatusForbidden, "UnrecognizedClientException", "The security token included in the request is invalid."}
	}
	if !time.Now().Before(creds.Expires) {
		return &connectError{http.StatusForbidden, "ExpiredTokenException", "The security token included in the request is expired"}
	}
	err = verifySignature(r, body, sig, awsCredentials(creds))
	if err != nil {
		return &connectError{http.StatusForbidden, "InvalidSignatureException",
			"The request signature we calculated does not match the signature you provided."}
	}
	return nil
}

// pathSegments splits u's path into unescaped segments.
func pathSegments(u *url.URL) []string {
	var segs []string
	for s := range strings.SplitSeq(strings.Trim(u.EscapedPath(), "/"), "/") {
		v, err := url.PathUnescape(s)
		if err != nil {
			v = s
		}
		segs = append(segs, v)
	}
	return segs
}

// route names the operation a request is for, or "".
func route(method string, segs []string) string {
	switch {
	case method == http.MethodPut && len(segs) == 4 && segs[0] == "users" && segs[3] == "status":
		return OpPutUserStatus
	case method == http.MethodGet && len(segs) == 2 && segs[0] == "agent-status":
		return OpListAgentStatuses
	case method == http.MethodPut && len(segs) == 2 && segs[0] == "contact" && segs[1] == "chat":
		return OpStartChatContact
	case method == http.MethodPost && len(segs) == 2 && segs[0] == "contact" && segs[1] == "stop":
		return OpStopContact
	case method == http.MethodPut && len(segs) == 2 && segs[0] == "contact" && segs[1] == "task":
		return OpStartTaskContact
	case method == http.MethodGet && len(segs) == 2 && segs[0] == "instance":
		return OpDescribeInstance
	case method == http.MethodGet && len(segs) == 3 && segs[0] == "instance" && segs[2] == "approved-origins":
		return OpListApprovedOrigins
	case method == http.MethodPut && len(segs) == 3 && segs[0] == "instance" && segs[2] == "approved-origin":
		return OpAssociateApprovedOrigin
	case method == http.MethodGet && len(segs) == 2 && segs[0] == "quick-connects":
		return OpListQuickConnects
	}
	return routeLive(method, segs)
}

func writeConnectError(w http.ResponseWriter, e *connectError) {
	w.Header().Set("X-Amzn-Errortype", e.code)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"Message": e.message})
}

func (c *Connect) putUserStatus(instanceID, userID string, body []byte) (any, *connectError) {
	var in struct{ AgentStatusId string }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, invalidRequest("malformed body")
	}
	if in.AgentStatusId == "" {
		return nil, &connectError{http.StatusBadRequest, "InvalidParameterException", "AgentStatusId is required"}
	}
	inst, ok := c.instances[instanceID]
	if !ok {
		return nil, notFound("Instance " + instanceID)
	}
	if _, ok := inst.users[userID]; !ok {
		return nil, notFound("User " + userID)
	}
	if !slices.ContainsFunc(inst.statuses, func(s AgentStatus) bool { return s.ID == in.AgentStatusId }) {
		return nil, notFound("Agent status " + in.AgentStatusId)
	}
	inst.users[userID] = in.AgentStatusId
	return struct{}{}, nil
}

type agentStatusSummary struct {
	Arn                string
	Id                 string
	Name               string
	Type               string
	LastModifiedTime   float64 // epoch seconds, as REST-JSON sends timestamps
	LastModifiedRegion string
}

func (c *Connect) listAgentStatuses(instanceID string, q url.Values) (any, *connectError) {
	inst, ok := c.instances[instanceID]
	if !ok {
		return nil, notFound("Instance " + instanceID)
	}
	var matching []AgentStatus
	for _, s := range inst.statuses {
		if types := q["AgentStatusTypes"]; len(types) == 0 || slices.Contains(types, s.Type) {
			matching = append(matching, s)
		}
	}
	start, end, next, cerr := c.page(q, len(matching))
	if cerr != nil {
		return nil, cerr
	}
	out := struct {
		AgentStatusSummaryList []agentStatusSummary
		NextToken              string `json:",omitempty"`
	}{AgentStatusSummaryList: []agentStatusSummary{}}
	for _, s := range matching[start:end] {
		out.AgentStatusSummaryList = append(out.AgentStatusSummaryList, agentStatusSummary{
			Arn: s.ARN, Id: s.ID, Name: s.Name, Type: s.Type,
			LastModifiedTime:   float64(s.LastModifiedTime.UnixMilli()) / 1000,
			LastModifiedRegion: "us-east-1",
		})
	}
	out.NextToken = next
	return out, nil
}

// page reads a List request's maxResults and nextToken over n items: the
// page is [start, end), next the token of the one after ("" for none);
// c.mu must be held.
func (c *Connect) page(q url.Values, n int) (start, end int, next string, cerr *connectError) {
	size := c.pageSize
	if v := q.Get("maxResults"); v != "" {
		m, err := strconv.Atoi(v)
		if err != nil || m < 1 || m > 1000 {
			return 0, 0, "", &connectError{http.StatusBadRequest, "InvalidParameterException", "maxResults must be between 1 and 1000"}
		}
		size = m
	}
	if c.pageCap > 0 {
		size = min(size, c.pageCap)
	}
	if tok := q.Get("nextToken"); tok != "" {
		m, err := strconv.Atoi(strings.TrimPrefix(tok, "page-after-"))
		if err != nil || !strings.HasPrefix(tok, "page-after-") || m < 0 || m > n {
			return 0, 0, "", &connectError{http.StatusBadRequest, "InvalidParameterException", "invalid nextToken"}
		}
		start = m
	}
	end = min(start+size, n)
	if end < n {
		next = "page-after-" + strconv.Itoa(end)
	}
	return start, end, next, nil
}

// SetQuickConnects replaces the quick connects of an instance.
func (c *Connect) SetQuickConnects(instanceID string, qcs ...QuickConnect) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.instance(instanceID).quick = slices.Clone(qcs)
}

type quickConnectSummary struct {
	Arn, Id, Name, QuickConnectType string
	LastModifiedRegion              string
	LastModifiedTime                float64
}

// listQuickConnects serves ListQuickConnects, paged as ListAgentStatuses,
// filtered by QuickConnectTypes; c.mu must be held.
func (c *Connect) listQuickConnects(instanceID string, q url.Values) (any, *connectError) {
	inst, ok := c.instances[instanceID]
	if !ok {
		return nil, notFound("Instance " + instanceID)
	}
	var matching []QuickConnect
	for _, qc := range inst.quick {
		if types := q["QuickConnectTypes"]; len(types) == 0 || slices.Contains(types, qc.Type) {
			matching = append(matching, qc)
		}
	}
	start, end, next, cerr := c.page(q, len(matching))
	if cerr != nil {
		return nil, cerr
	}
	out := struct {
		QuickConnectSummaryList []quickConnectSummary
		NextToken               string `json:",omitempty"`
	}{QuickConnectSummaryList: []quickConnectSummary{}}
	for _, qc := range matching[start:end] {
		out.QuickConnectSummaryList = append(out.QuickConnectSummaryList, quickConnectSummary{
			Arn: "arn:aws:connect:us-east-1:123456789012:instance/" + instanceID + "/transfer-destination/" + qc.ID,
			Id:  qc.ID, Name: qc.Name, QuickConnectType: qc.Type, LastModifiedRegion: "us-east-1",
			LastModifiedTime: float64(time.Now().UnixMilli()) / 1000,
		})
	}
	out.NextToken = next
	return out, nil
}

// idempotent returns the contact an earlier request with the same
// ClientToken started, if any; c.mu must be held.
func (c *Connect) idempotent(instanceID, clientToken string) (*Contact, bool) {
	if clientToken == "" {
		return nil, false
	}
	id, ok := c.tokens[instanceID+"/"+clientToken]
	if !ok {
		return nil, false
	}
	return c.contacts[id], true
}

func (c *Connect) remember(ct *Contact) {
	c.contacts[ct.ID] = ct
	if ct.ClientToken != "" {
		c.tokens[ct.InstanceID+"/"+ct.ClientToken] = ct.ID
	}
}

func (c *Connect) startChatContact(body []byte) (any, *connectError) {
	var in struct {
		InstanceId         string
		ContactFlowId      string
		ParticipantDetails *struct{ DisplayName string }
		Attributes         map[string]string
		ClientToken        string
		RelatedContactId   string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, invalidRequest("malformed body")
	}
	if in.InstanceId == "" || in.ContactFlowId == "" || in.ParticipantDetails == nil || in.ParticipantDetails.DisplayName == "" {
		return nil, invalidRequest("InstanceId, ContactFlowId and ParticipantDetails.DisplayName are required")
	}
	if _, ok := c.instances[in.InstanceId]; !ok {
		return nil, notFound("Instance " + in.InstanceId)
	}
	ct, ok := c.idempotent(in.InstanceId, in.ClientToken)
	if !ok {
		ct = &Contact{
			ID: newUUID(), InstanceID: in.InstanceId, Channel: "CHAT",
			ContactFlowID: in.ContactFlowId, DisplayName: in.ParticipantDetails.DisplayName,
			Attributes: in.Attributes, PreviousContactID: in.RelatedContactId, ClientToken: in.ClientToken,
			ParticipantID: newUUID(), ParticipantToken: "FakeParticipantToken-" + randomHex(16),
		}
		c.remember(ct)
	}
	return struct{ ContactId, ParticipantId, ParticipantToken string }{
		ct.ID, ct.ParticipantID, ct.ParticipantToken,
	}, nil
}

func (c *Connect) startTaskContact(body []byte) (any, *connectError) {
	var in struct {
		InstanceId        string
		ContactFlowId     string
		QuickConnectId    string
		TaskTemplateId    string
		Name              string
		Description       string
		Attributes        map[string]string
		References        map[string]Reference
		PreviousContactId string
		ClientToken       string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, invalidRequest("malformed body")
	}
	if in.InstanceId == "" || in.Name == "" {
		return nil, invalidRequest("InstanceId and Name are required")
	}
	n := 0
	for _, id := range []string{in.ContactFlowId, in.QuickConnectId, in.TaskTemplateId} {
		if id != "" {
			n++
		}
	}
	if n != 1 {
		return nil, invalidRequest("exactly one of ContactFlowId, QuickConnectId and TaskTemplateId is required")
	}
	if _, ok := c.instances[in.InstanceId]; !ok {
		return nil, notFound("Instance " + in.InstanceId)
	}
	ct, ok := c.idempotent(in.InstanceId, in.ClientToken)
	if !ok {
		ct = &Contact{
			ID: newUUID(), InstanceID: in.InstanceId, Channel: "TASK",
			ContactFlowID: in.ContactFlowId, QuickConnectID: in.QuickConnectId, TaskTemplateID: in.TaskTemplateId,
			Name: in.Name, Description: in.Description, Attributes: in.Attributes, References: in.References,
			PreviousContactID: in.PreviousContactId, ClientToken: in.ClientToken,
		}
		c.remember(ct)
	}
	return struct{ ContactId string }{ct.ID}, nil
}

func (c *Connect) stopContact(body []byte) (any, *connectError) {
	var in struct{ InstanceId, ContactId string }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, invalidRequest("malformed body")
	}
	if in.InstanceId == "" || in.ContactId == "" {
		return nil, invalidRequest("InstanceId and ContactId are required")
	}
	if _, ok := c.instances[in.InstanceId]; !ok {
		return nil, notFound("Instance " + in.InstanceId)
	}
	ct, ok := c.contacts[in.ContactId]
	if !ok || ct.InstanceID != in.InstanceId || ct.Stopped {
		// Connect answers 410 for a contact that is unknown or already ended.
		return nil, &connectError{http.StatusGone, "ContactNotFoundException", "Contact not found or already ended"}
	}
	ct.Stopped = true
	return struct{}{}, nil
}

// describeInstance serves DescribeInstance; c.mu must be held.
func (c *Connect) describeInstance(instanceID, region string) (any, *connectError) {
	in, ok := c.instances[instanceID]
	if !ok {
		return nil, notFound("instance " + instanceID)
	}
	status := in.status
	if status == "" {
		status = "ACTIVE"
	}
	return map[string]any{"Instance": map[string]any{
		"Id": instanceID, "Arn": "arn:aws:connect:" + region + ":123456789012:instance/" + instanceID,
		"IdentityManagementType": "CONNECT_MANAGED", "InstanceAlias": in.alias, "InstanceStatus": status,
		"InboundCallsEnabled": true, "OutboundCallsEnabled": true,
	}}, nil
}

// listApprovedOrigins serves ListApprovedOrigins (one page); c.mu must be
// held.
func (c *Connect) listApprovedOrigins(instanceID string) (any, *connectError) {
	in, ok := c.instances[instanceID]
	if !ok {
		return nil, notFound("instance " + instanceID)
	}
	return map[string]any{"Origins": append([]string{}, in.origins...)}, nil
}

// associateApprovedOrigin serves AssociateApprovedOrigin; c.mu must be
// held. An origin approved already is a ResourceConflictException, as
// Connect answers.
func (c *Connect) associateApprovedOrigin(instanceID string, body []byte) (any, *connectError) {
	in, ok := c.instances[instanceID]
	if !ok {
		return nil, notFound("instance " + instanceID)
	}
	var req struct{ Origin string }
	if err := json.Unmarshal(body, &req); err != nil || req.Origin == "" || len(req.Origin) > 267 {
		return nil, &connectError{http.StatusBadRequest, "InvalidParameterException", "Origin is required, at most 267 characters"}
	}
	if slices.Contains(in.origins, req.Origin) {
		return nil, &connectError{http.StatusConflict, "ResourceConflictException", "the origin is approved already"}
	}
	in.origins = append(in.origins, req.Origin)
	return struct{}{}, nil
}
