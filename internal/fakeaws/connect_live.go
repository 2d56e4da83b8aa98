package fakeaws

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"time"

	"golang.org/x/time/rate"
)

// The live contact centre's operations of the fake Connect, with the wire
// shapes of aws-sdk-go-v2's service/connect serializers:
//
//	ListQueues               GET  /queues-summary/{InstanceId}?queueTypes=&maxResults=&nextToken=
//	GetCurrentMetricData     POST /metrics/current/{InstanceId}  {Filters, Groupings, CurrentMetrics, MaxResults, NextToken}
//	SuspendContactRecording  POST /contact/suspend-recording     {InstanceId, ContactId, InitialContactId, ContactRecordingType}
//	ResumeContactRecording   POST /contact/resume-recording      (the same)
//	StopContactRecording     POST /contact/stop-recording        (the same)
//	UpdateContactAttributes  POST /contact/attributes            {InstanceId, InitialContactId, Attributes}
//	ListUsers                GET  /users-summary/{InstanceId}?maxResults=&nextToken=
//	DescribeUser             GET  /users/{InstanceId}/{UserId}
//	ListRoutingProfiles      GET  /routing-profiles-summary/{InstanceId}?maxResults=&nextToken=
//	ListContactFlows         GET  /contact-flows-summary/{InstanceId}?contactFlowTypes=&maxResults=&nextToken=
//
// Lists are paged as ListAgentStatuses is (SetPageSize). GetCurrentMetricData
// is rate-limited per AWS account and region as Connect limits it (5
// requests a second, burst 8; SetMetricRate), answering 429
// ThrottlingException, the error Connect's API model gives the operation.

// Queue is a queue of a fake instance: Type is STANDARD (the default) or
// AGENT.
type Queue struct {
	ID   string
	ARN  string // derived from the instance and ID when empty
	Name string
	Type string
}

// QueueMetrics are a queue's current figures, as GetCurrentMetricData
// reports them.
type QueueMetrics struct {
	AgentsOnline, AgentsAvailable, AgentsOnContact, ContactsInQueue int
	// OldestContactAge is how long the queue's oldest contact has waited.
	OldestContactAge time.Duration
}

// User is a Connect user of a fake instance, as ListUsers and DescribeUser
// report it.
type User struct {
	ID                         string
	ARN                        string // derived from the instance and ID when empty
	Username                   string
	FirstName, LastName, Email string
	RoutingProfileID           string
	SecurityProfileIDs         []string
	LastModifiedTime           time.Time // when the user was set, when zero
}

// RoutingProfile is a routing profile of a fake instance.
type RoutingProfile struct {
	ID   string
	ARN  string // derived from the instance and ID when empty
	Name string
}

// ContactFlow is a flow of a fake instance. Type is a ContactFlowType
// (CONTACT_FLOW when empty), State ACTIVE or ARCHIVED (ACTIVE when empty),
// Status PUBLISHED or SAVED (PUBLISHED when empty).
type ContactFlow struct {
	ID, ARN, Name       string
	Type, State, Status string
}

// The recording states the recording operations leave a live contact in.
const (
	RecordingSuspended = "SUSPENDED"
	RecordingResumed   = "RESUMED"
	RecordingStopped   = "STOPPED"
)

// LiveContact is a contact in progress on a fake instance, as a test
// declared it (AddLiveContact).
type LiveContact struct {
	ID, InitialContactID string
	// Recording is the state the last recording operation left: "" before
	// any, then RecordingSuspended, RecordingResumed or RecordingStopped.
	Recording string
	// RecordingCalls are the recording operations the fake accepted for
	// the contact, in order.
	RecordingCalls []RecordingCall
	// Attributes are the attributes UpdateContactAttributes set on the
	// contact's initial contact.
	Attributes map[string]string
}

// RecordingCall is one accepted Suspend, Resume or StopContactRecording.
type RecordingCall struct {
	Operation                   string // OpSuspendContactRecording, ...
	ContactID, InitialContactID string
	RecordingType               string // ContactRecordingType: AGENT, IVR, SCREEN, or "" when not sent
}

// liveInstance is an instance's live contact centre.
type liveInstance struct {
	queues     []Queue
	metrics    map[string]QueueMetrics // by queue ID
	people     []User
	profiles   []RoutingProfile
	flows      []ContactFlow
	contacts   map[string]*LiveContact      // by contact ID
	attributes map[string]map[string]string // by initial contact ID
}

func newLiveInstance() liveInstance {
	return liveInstance{
		metrics:    map[string]QueueMetrics{},
		contacts:   map[string]*LiveContact{},
		attributes: map[string]map[string]string{},
	}
}

// opLimit is a token bucket per AWS account (and region) for one
// operation.
type opLimit struct {
	rate    rate.Limit
	burst   int
	buckets map[string]*rate.Limiter
}

// Connect's GetCurrentMetricData quota: 5 requests a second, burst 8, per
// account and region (not adjustable).
const (
	metricRate  = 5
	metricBurst = 8
)

func defaultLimits() map[string]*opLimit {
	return map[string]*opLimit{OpGetCurrentMetricData: {rate: metricRate, burst: metricBurst, buckets: map[string]*rate.Limiter{}}}
}

// SetRateLimit rate-limits operation at perSecond requests a second with
// burst, per AWS account and region, as Connect's API quotas do; a
// perSecond or burst of 0 lifts the limit. Only GetCurrentMetricData is
// limited by default. The buckets start full.
func (c *Connect) SetRateLimit(operation string, perSecond float64, burst int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if perSecond <= 0 || burst <= 0 {
		delete(c.limits, operation)
		return
	}
	c.limits[operation] = &opLimit{rate: rate.Limit(perSecond), burst: burst, buckets: map[string]*rate.Limiter{}}
}

// SetMetricRate sets GetCurrentMetricData's rate limit (5 a second, burst
// 8, by default), e.g. tighter for a test.
func (c *Connect) SetMetricRate(perSecond float64, burst int) {
	c.SetRateLimit(OpGetCurrentMetricData, perSecond, burst)
}

// MetricCalls returns how many GetCurrentMetricData requests for
// instanceID passed the rate limit.
func (c *Connect) MetricCalls(instanceID string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.metricCalls[instanceID]
}

// Throttled returns how many GetCurrentMetricData requests for instanceID
// the rate limit refused (429 ThrottlingException).
func (c *Connect) Throttled(instanceID string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.metricThrottled[instanceID]
}

// throttle applies operation's rate limit, if it has one, to a request
// authenticated as rec says; c.mu must be held. The bucket is the
// account's whose role signed the request when the fake trusts an STS,
// else the signing access key's: the fake knows no other account.
func (c *Connect) throttle(op string, segs []string, rec *Request) *connectError {
	inst := ""
	if op == OpGetCurrentMetricData {
		inst = segs[2]
	}
	if l, ok := c.limits[op]; ok {
		key := "key:" + rec.AccessKeyID
		if c.sts != nil {
			if creds, ok := c.sts.Lookup(rec.AccessKeyID); ok {
				key = "account:" + arnAccount(creds.RoleARN)
			}
		}
		key += "/" + rec.Region
		b, ok := l.buckets[key]
		if !ok {
			b = rate.NewLimiter(l.rate, l.burst)
			l.buckets[key] = b
		}
		if !b.Allow() {
			if op == OpGetCurrentMetricData {
				c.metricThrottled[inst]++
			}
			return &connectError{http.StatusTooManyRequests, "ThrottlingException", "Rate exceeded"}
		}
	}
	if op == OpGetCurrentMetricData {
		c.metricCalls[inst]++
	}
	return nil
}

// routeLive names the live contact centre's operation a request is for, or
// "".
func routeLive(method string, segs []string) string {
	switch {
	case method == http.MethodGet && len(segs) == 2 && segs[0] == "queues-summary":
		return OpListQueues
	case method == http.MethodPost && len(segs) == 3 && segs[0] == "metrics" && segs[1] == "current":
		return OpGetCurrentMetricData
	case method == http.MethodPost && len(segs) == 2 && segs[0] == "contact" && segs[1] == "suspend-recording":
		return OpSuspendContactRecording
	case method == http.MethodPost && len(segs) == 2 && segs[0] == "contact" && segs[1] == "resume-recording":
		return OpResumeContactRecording
	case method == http.MethodPost && len(segs) == 2 && segs[0] == "contact" && segs[1] == "stop-recording":
		return OpStopContactRecording
	case method == http.MethodPost && len(segs) == 2 && segs[0] == "contact" && segs[1] == "attributes":
		return OpUpdateContactAttributes
	case method == http.MethodGet && len(segs) == 2 && segs[0] == "users-summary":
		return OpListUsers
	case method == http.MethodGet && len(segs) == 3 && segs[0] == "users":
		return OpDescribeUser
	case method == http.MethodGet && len(segs) == 2 && segs[0] == "routing-profiles-summary":
		return OpListRoutingProfiles
	case method == http.MethodGet && len(segs) == 2 && segs[0] == "contact-flows-summary":
		return OpListContactFlows
	}
	return ""
}

// serveLive serves one of routeLive's operations; c.mu must be held.
func (c *Connect) serveLive(op string, segs []string, q url.Values, body []byte) (any, *connectError) {
	switch op {
	case OpListQueues:
		return c.listQueues(segs[1], q)
	case OpGetCurrentMetricData:
		return c.getCurrentMetricData(segs[2], body)
	case OpSuspendContactRecording, OpResumeContactRecording, OpStopContactRecording:
		return c.contactRecording(op, body)
	case OpUpdateContactAttributes:
		return c.updateContactAttributes(body)
	case OpListUsers:
		return c.listUsers(segs[1], q)
	case OpDescribeUser:
		return c.describeUser(segs[1], segs[2])
	case OpListRoutingProfiles:
		return c.listRoutingProfiles(segs[1], q)
	case OpListContactFlows:
		return c.listContactFlows(segs[1], q)
	}
	return nil, &connectError{http.StatusNotFound, "UnknownOperationException", "no such operation"}
}

func invalidParameter(message string) *connectError {
	return &connectError{http.StatusBadRequest, "InvalidParameterException", message}
}

// fakeARN is the ARN the fake gives a resource of an instance that a test
// did not give one.
func fakeARN(instanceID, kind, id string) string {
	return fmt.Sprintf("arn:aws:connect:us-east-1:000000000000:instance/%s/%s/%s", instanceID, kind, id)
}

// epoch is t as REST-JSON sends timestamps: seconds, to the millisecond.
func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

// SetQueues replaces the queues of instanceID (creating the instance if
// need be).
func (c *Connect) SetQueues(instanceID string, queues ...Queue) {
	c.mu.Lock()
	defer c.mu.Unlock()
	in := c.instance(instanceID)
	in.live.queues = nil
	for _, q := range queues {
		q.ARN = cmp.Or(q.ARN, fakeARN(instanceID, "queue", q.ID))
		q.Type = cmp.Or(q.Type, "STANDARD")
		in.live.queues = append(in.live.queues, q)
	}
}

// SetQueueMetrics sets a queue's current figures (creating the instance if
// need be). Only queues given figures have a row in GetCurrentMetricData's
// answer: Connect leaves out queues it has nothing to report of.
func (c *Connect) SetQueueMetrics(instanceID, queueID string, m QueueMetrics) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.instance(instanceID).live.metrics[queueID] = m
}

// ClearQueueMetrics removes a queue's figures: it has no row again.
func (c *Connect) ClearQueueMetrics(instanceID, queueID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.instance(instanceID).live.metrics, queueID)
}

type queueSummary struct {
	Arn, Id, Name, QueueType string
	LastModifiedTime         float64
	LastModifiedRegion       string
}

func (c *Connect) listQueues(instanceID string, q url.Values) (any, *connectError) {
	inst, ok := c.instances[instanceID]
	if !ok {
		return nil, notFound("Instance " + instanceID)
	}
	var matching []Queue
	for _, qu := range inst.live.queues {
		if types := q["queueTypes"]; len(types) == 0 || slices.Contains(types, qu.Type) {
			matching = append(matching, qu)
		}
	}
	start, end, next, cerr := c.page(q, len(matching))
	if cerr != nil {
		return nil, cerr
	}
	out := struct {
		QueueSummaryList []queueSummary
		NextToken        string `json:",omitempty"`
	}{QueueSummaryList: []queueSummary{}, NextToken: next}
	now := epoch(time.Now())
	for _, qu := range matching[start:end] {
		out.QueueSummaryList = append(out.QueueSummaryList, queueSummary{
			Arn: qu.ARN, Id: qu.ID, Name: qu.Name, QueueType: qu.Type,
			LastModifiedTime: now, LastModifiedRegion: "us-east-1",
		})
	}
	return out, nil
}

// currentMetricUnits are the metrics the fake reports, with the unit
// Connect requires of each.
var currentMetricUnits = map[string]string{
	"AGENTS_ONLINE":      "COUNT",
	"AGENTS_AVAILABLE":   "COUNT",
	"AGENTS_ON_CONTACT":  "COUNT",
	"CONTACTS_IN_QUEUE":  "COUNT",
	"OLDEST_CONTACT_AGE": "SECONDS",
}

type currentMetric struct {
	Name string
	Unit string `json:",omitempty"`
}

type currentMetricData struct {
	Metric currentMetric
	Value  float64
}

type queueReference struct{ Id, Arn string }

type currentMetricResult struct {
	Dimensions  *struct{ Queue queueReference } `json:",omitempty"`
	Collections []currentMetricData
}

// getCurrentMetricData serves GetCurrentMetricData for queue filters,
// grouped by QUEUE or not grouped; c.mu must be held.
//
// OLDEST_CONTACT_AGE: grouped, its value is in seconds (fractional, to the
// millisecond); not grouped, in milliseconds although its Unit says SECONDS,
// as the API reference warns. Not grouped, the counts are the filtered
// queues' sums and the age their oldest. Rows come in Connect's default
// order, AGENTS_ONLINE descending; a row's Collections in the order the
// metrics were asked for.
func (c *Connect) getCurrentMetricData(instanceID string, body []byte) (any, *connectError) {
	var in struct {
		Filters *struct {
			Queues          []string
			Channels        []string
			RoutingProfiles []string
		}
		Groupings      []string
		CurrentMetrics []struct{ Name, Unit, MetricId string }
		MaxResults     *int
		NextToken      string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, invalidRequest("malformed body")
	}
	inst, ok := c.instances[instanceID]
	if !ok {
		return nil, notFound("Instance " + instanceID)
	}
	switch {
	case in.Filters == nil || len(in.CurrentMetrics) == 0:
		return nil, invalidParameter("Filters and CurrentMetrics are required")
	case len(in.Filters.RoutingProfiles) > 0 || len(in.Filters.Channels) > 0:
		return nil, invalidParameter("the fake filters by queue only")
	case len(in.Filters.Queues) == 0:
		return nil, invalidParameter("Filters.Queues: at least one queue is required")
	case len(in.Filters.Queues) > 100:
		return nil, invalidParameter("Filters.Queues: at most 100 queues")
	}
	grouped := false
	for _, g := range in.Groupings {
		if g != "QUEUE" {
			return nil, invalidParameter("the fake groups by QUEUE only, not " + g)
		}
		grouped = true
	}
	for _, m := range in.CurrentMetrics {
		unit, ok := currentMetricUnits[m.Name]
		switch {
		case !ok:
			return nil, invalidParameter("the fake does not report metric " + strconv.Quote(m.Name))
		case m.Unit != unit:
			return nil, invalidParameter(m.Name + " is measured in " + unit + ", not " + strconv.Quote(m.Unit))
		}
	}
	size := c.pageSize
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > 100 {
			return nil, invalidParameter("MaxResults must be between 1 and 100")
		}
		size = *in.MaxResults
	}

	// The filter's queues (by ID or ARN), once each, with figures.
	type row struct {
		ref queueReference
		m   QueueMetrics
	}
	var rows []row
	seen := map[string]bool{}
	for _, ref := range in.Filters.Queues {
		id := ref
		arn := fakeARN(instanceID, "queue", ref)
		for _, qu := range inst.live.queues {
			if qu.ID == ref || qu.ARN == ref {
				id, arn = qu.ID, qu.ARN
			}
		}
		m, ok := inst.live.metrics[id]
		if !ok || seen[id] {
			continue
		}
		seen[id] = true
		rows = append(rows, row{queueReference{Id: id, Arn: arn}, m})
	}
	slices.SortStableFunc(rows, func(a, b row) int { return b.m.AgentsOnline - a.m.AgentsOnline })

	collections := func(m QueueMetrics, ageUnit time.Duration) []currentMetricData {
		out := []currentMetricData{}
		for _, cm := range in.CurrentMetrics {
			var v float64
			switch cm.Name {
			case "AGENTS_ONLINE":
				v = float64(m.AgentsOnline)
			case "AGENTS_AVAILABLE":
				v = float64(m.AgentsAvailable)
			case "AGENTS_ON_CONTACT":
				v = float64(m.AgentsOnContact)
			case "CONTACTS_IN_QUEUE":
				v = float64(m.ContactsInQueue)
			case "OLDEST_CONTACT_AGE":
				v = float64(m.OldestContactAge.Milliseconds()) / float64(ageUnit/time.Millisecond)
			}
			out = append(out, currentMetricData{Metric: currentMetric{cm.Name, cm.Unit}, Value: v})
		}
		return out
	}
	out := struct {
		MetricResults         []currentMetricResult
		NextToken             string `json:",omitempty"`
		DataSnapshotTime      float64
		ApproximateTotalCount int64
	}{MetricResults: []currentMetricResult{}, DataSnapshotTime: epoch(time.Now())}

	if !grouped {
		if len(rows) > 0 {
			var sum QueueMetrics
			for _, r := range rows {
				sum.AgentsOnline += r.m.AgentsOnline
				sum.AgentsAvailable += r.m.AgentsAvailable
				sum.AgentsOnContact += r.m.AgentsOnContact
				sum.ContactsInQueue += r.m.ContactsInQueue
				sum.OldestContactAge = max(sum.OldestContactAge, r.m.OldestContactAge)
			}
			out.MetricResults = append(out.MetricResults, currentMetricResult{Collections: collections(sum, time.Millisecond)})
		}
		out.ApproximateTotalCount = int64(len(out.MetricResults))
		return out, nil
	}
	q := url.Values{"maxResults": {strconv.Itoa(size)}}
	if in.NextToken != "" {
		q.Set("nextToken", in.NextToken)
	}
	start, end, next, cerr := c.page(q, len(rows))
	if cerr != nil {
		return nil, cerr
	}
	for _, r := range rows[start:end] {
		out.MetricResults = append(out.MetricResults, currentMetricResult{
			Dimensions:  &struct{ Queue queueReference }{r.ref},
			Collections: collections(r.m, time.Second),
		})
	}
	out.NextToken = next
	out.ApproximateTotalCount = int64(len(rows))
	return out, nil
}

// AddLiveContact declares a contact in progress on instanceID (creating the
// instance if need be), for the recording operations and
// UpdateContactAttributes; initialContactID is the contact's first in its
// chain (contactID itself when empty).
func (c *Connect) AddLiveContact(instanceID, contactID, initialContactID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.instance(instanceID).live.contacts[contactID] = &LiveContact{ID: contactID, InitialContactID: cmp.Or(initialContactID, contactID)}
}

// LiveContact returns what the fake holds of a live contact: its recording
// state and calls, and its initial contact's attributes.
func (c *Connect) LiveContact(instanceID, contactID string) (LiveContact, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	in, ok := c.instances[instanceID]
	if !ok {
		return LiveContact{}, false
	}
	ct, ok := in.live.contacts[contactID]
	if !ok {
		return LiveContact{}, false
	}
	out := *ct
	out.RecordingCalls = slices.Clone(ct.RecordingCalls)
	out.Attributes = maps.Clone(in.live.attributes[ct.InitialContactID])
	return out, true
}

// ContactAttributes returns the attributes UpdateContactAttributes set on
// an initial contact of instanceID.
func (c *Connect) ContactAttributes(instanceID, initialContactID string) map[string]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if in, ok := c.instances[instanceID]; ok {
		return maps.Clone(in.live.attributes[initialContactID])
	}
	return nil
}

// contactRecording serves the three recording operations; c.mu must be
// held. The contact must be one AddLiveContact declared, with its initial
// contact (404 ResourceNotFoundException otherwise). Asking again for the
// state a contact is in succeeds; a stopped recording stays stopped, and
// suspending or resuming it is the fake's own 400 InvalidRequestException
// (Connect documents StopContactRecording as a one-time action).
func (c *Connect) contactRecording(op string, body []byte) (any, *connectError) {
	var in struct{ InstanceId, ContactId, InitialContactId, ContactRecordingType string }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, invalidRequest("malformed body")
	}
	if in.InstanceId == "" || in.ContactId == "" || in.InitialContactId == "" {
		return nil, invalidRequest("InstanceId, ContactId and InitialContactId are required")
	}
	if t := in.ContactRecordingType; t != "" && t != "AGENT" && t != "IVR" && t != "SCREEN" {
		return nil, invalidRequest("ContactRecordingType must be AGENT, IVR or SCREEN")
	}
	inst, ok := c.instances[in.InstanceId]
	if !ok {
		return nil, notFound("Instance " + in.InstanceId)
	}
	ct, ok := inst.live.contacts[in.ContactId]
	if !ok || ct.InitialContactID != in.InitialContactId {
		return nil, notFound("Contact " + in.ContactId)
	}
	state := map[string]string{
		OpSuspendContactRecording: RecordingSuspended,
		OpResumeContactRecording:  RecordingResumed,
		OpStopContactRecording:    RecordingStopped,
	}[op]
	if ct.Recording == RecordingStopped && state != RecordingStopped {
		return nil, invalidRequest("the contact's recording was stopped")
	}
	ct.Recording = state
	ct.RecordingCalls = append(ct.RecordingCalls, RecordingCall{
		Operation: op, ContactID: in.ContactId, InitialContactID: in.InitialContactId, RecordingType: in.ContactRecordingType,
	})
	return struct{}{}, nil
}

// Connect's limits on contact attributes: keys of letters, digits, '-' and
// '_', 1 to 32,767 characters; values up to 32,767; at most 32,768 UTF-8
// bytes across all of a contact's keys and values.
var attributeKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

const (
	maxAttributeKey   = 32767
	maxAttributeValue = 32767
	maxAttributeBytes = 32768
)

// updateContactAttributes serves UpdateContactAttributes, merging into the
// initial contact's attributes; c.mu must be held. The contact is one that
// AddLiveContact declared (as a contact or as another's initial one) or that
// the fake started (its Contact's Attributes are merged into as well).
// Connect's limits are checked on the merged attributes, before any
// change: 400 InvalidParameterException.
func (c *Connect) updateContactAttributes(body []byte) (any, *connectError) {
	var in struct {
		InstanceId, InitialContactId string
		Attributes                   map[string]string
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, invalidRequest("malformed body")
	}
	if in.InstanceId == "" || in.InitialContactId == "" || in.Attributes == nil {
		return nil, invalidRequest("InstanceId, InitialContactId and Attributes are required")
	}
	if len(in.InitialContactId) > 256 {
		return nil, invalidParameter("InitialContactId is at most 256 characters")
	}
	inst, ok := c.instances[in.InstanceId]
	if !ok {
		return nil, notFound("Instance " + in.InstanceId)
	}
	known := slices.ContainsFunc(slices.Collect(maps.Values(inst.live.contacts)), func(ct *LiveContact) bool {
		return ct.InitialContactID == in.InitialContactId
	})
	started, isStarted := c.contacts[in.InitialContactId]
	isStarted = isStarted && started.InstanceID == in.InstanceId
	if !known && !isStarted {
		return nil, notFound("Contact " + in.InitialContactId)
	}
	merged := maps.Clone(inst.live.attributes[in.InitialContactId])
	if merged == nil {
		merged = map[string]string{}
	}
	for k, v := range in.Attributes {
		if len(k) > maxAttributeKey || !attributeKeyRE.MatchString(k) {
			return nil, invalidParameter("attribute keys are 1 to 32767 letters, digits, '-' or '_'")
		}
		if len([]rune(v)) > maxAttributeValue {
			return nil, invalidParameter("attribute " + k + ": a value is at most 32767 characters")
		}
		merged[k] = v
	}
	size := 0
	for k, v := range merged {
		size += len(k) + len(v)
	}
	if size > maxAttributeBytes {
		return nil, invalidParameter(fmt.Sprintf("a contact's attributes are at most %d bytes, these would be %d", maxAttributeBytes, size))
	}
	inst.live.attributes[in.InitialContactId] = merged
	if isStarted {
		if started.Attributes == nil {
			started.Attributes = map[string]string{}
		}
		maps.Copy(started.Attributes, in.Attributes)
	}
	return struct{}{}, nil
}

// SetUsers replaces the users ListUsers and DescribeUser know of instanceID
// (creating the instance if need be); each may also be given a status with
// PutUserStatus. Users that AddUsers made are for PutUserStatus alone.
func (c *Connect) SetUsers(instanceID string, users ...User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	in := c.instance(instanceID)
	in.live.people = nil
	now := time.Now().UTC().Truncate(time.Millisecond)
	for _, u := range users {
		u.ARN = cmp.Or(u.ARN, fakeARN(instanceID, "agent", u.ID))
		if u.LastModifiedTime.IsZero() {
			u.LastModifiedTime = now
		}
		u.SecurityProfileIDs = slices.Clone(u.SecurityProfileIDs)
		in.live.people = append(in.live.people, u)
		if _, ok := in.users[u.ID]; !ok {
			in.users[u.ID] = ""
		}
	}
}

type userSummary struct {
	Arn, Id, Username  string
	LastModifiedTime   float64
	LastModifiedRegion string
}

func (c *Connect) listUsers(instanceID string, q url.Values) (any, *connectError) {
	inst, ok := c.instances[instanceID]
	if !ok {
		return nil, notFound("Instance " + instanceID)
	}
	start, end, next, cerr := c.page(q, len(inst.live.people))
	if cerr != nil {
		return nil, cerr
	}
	out := struct {
		UserSummaryList []userSummary
		NextToken       string `json:",omitempty"`
	}{UserSummaryList: []userSummary{}, NextToken: next}
	for _, u := range inst.live.people[start:end] {
		out.UserSummaryList = append(out.UserSummaryList, userSummary{
			Arn: u.ARN, Id: u.ID, Username: u.Username,
			LastModifiedTime: epoch(u.LastModifiedTime), LastModifiedRegion: "us-east-1",
		})
	}
	return out, nil
}

func (c *Connect) describeUser(instanceID, userID string) (any, *connectError) {
	inst, ok := c.instances[instanceID]
	if !ok {
		return nil, notFound("Instance " + instanceID)
	}
	i := slices.IndexFunc(inst.live.people, func(u User) bool { return u.ID == userID })
	if i < 0 {
		return nil, notFound("User " + userID)
	}
	u := inst.live.people[i]
	identity := map[string]string{}
	for k, v := range map[string]string{"FirstName": u.FirstName, "LastName": u.LastName, "Email": u.Email} {
		if v != "" {
			identity[k] = v
		}
	}
	user := map[string]any{
		"Id": u.ID, "Arn": u.ARN, "Username": u.Username, "IdentityInfo": identity,
		"PhoneConfig":        map[string]any{"PhoneType": "SOFT_PHONE", "AutoAccept": false, "AfterContactWorkTimeLimit": 0},
		"SecurityProfileIds": append([]string{}, u.SecurityProfileIDs...),
		"Tags":               map[string]string{},
		"LastModifiedTime":   epoch(u.LastModifiedTime), "LastModifiedRegion": "us-east-1",
	}
	if u.RoutingProfileID != "" {
		user["RoutingProfileId"] = u.RoutingProfileID
	}
	return map[string]any{"User": user}, nil
}

// SetRoutingProfiles replaces the routing profiles of instanceID (creating
// the instance if need be).
func (c *Connect) SetRoutingProfiles(instanceID string, profiles ...RoutingProfile) {
	c.mu.Lock()
	defer c.mu.Unlock()
	in := c.instance(instanceID)
	in.live.profiles = nil
	for _, p := range profiles {
		p.ARN = cmp.Or(p.ARN, fakeARN(instanceID, "routing-profile", p.ID))
		in.live.profiles = append(in.live.profiles, p)
	}
}

type routingProfileSummary struct {
	Arn, Id, Name      string
	LastModifiedTime   float64
	LastModifiedRegion string
}

func (c *Connect) listRoutingProfiles(instanceID string, q url.Values) (any, *connectError) {
	inst, ok := c.instances[instanceID]
	if !ok {
		return nil, notFound("Instance " + instanceID)
	}
	start, end, next, cerr := c.page(q, len(inst.live.profiles))
	if cerr != nil {
		return nil, cerr
	}
	out := struct {
		RoutingProfileSummaryList []routingProfileSummary
		NextToken                 string `json:",omitempty"`
	}{RoutingProfileSummaryList: []routingProfileSummary{}, NextToken: next}
	now := epoch(time.Now())
	for _, p := range inst.live.profiles[start:end] {
		out.RoutingProfileSummaryList = append(out.RoutingProfileSummaryList, routingProfileSummary{
			Arn: p.ARN, Id: p.ID, Name: p.Name, LastModifiedTime: now, LastModifiedRegion: "us-east-1",
		})
	}
	return out, nil
}

// SetContactFlows replaces the flows of instanceID (creating the instance
// if need be).
func (c *Connect) SetContactFlows(instanceID string, flows ...ContactFlow) {
	c.mu.Lock()
	defer c.mu.Unlock()
	in := c.instance(instanceID)
	in.live.flows = nil
	for _, f := range flows {
		f.ARN = cmp.Or(f.ARN, fakeARN(instanceID, "contact-flow", f.ID))
		f.Type = cmp.Or(f.Type, "CONTACT_FLOW")
		f.State = cmp.Or(f.State, "ACTIVE")
		f.Status = cmp.Or(f.Status, "PUBLISHED")
		in.live.flows = append(in.live.flows, f)
	}
}

type contactFlowSummary struct {
	Arn, Id, Name                                        string
	ContactFlowType, ContactFlowState, ContactFlowStatus string
}

func (c *Connect) listContactFlows(instanceID string, q url.Values) (any, *connectError) {
	inst, ok := c.instances[instanceID]
	if !ok {
		return nil, notFound("Instance " + instanceID)
	}
	var matching []ContactFlow
	for _, f := range inst.live.flows {
		if types := q["contactFlowTypes"]; len(types) == 0 || slices.Contains(types, f.Type) {
			matching = append(matching, f)
		}
	}
	start, end, next, cerr := c.page(q, len(matching))
	if cerr != nil {
		return nil, cerr
	}
	out := struct {
		ContactFlowSummaryList []contactFlowSummary
		NextToken              string `json:",omitempty"`
	}{ContactFlowSummaryList: []contactFlowSummary{}, NextToken: next}
	for _, f := range matching[start:end] {
		out.ContactFlowSummaryList = append(out.ContactFlowSummaryList, contactFlowSummary{
			Arn: f.ARN, Id: f.ID, Name: f.Name,
			ContactFlowType: f.Type, ContactFlowState: f.State, ContactFlowStatus: f.Status,
		})
	}
	return out, nil
}
