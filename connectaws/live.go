package connectaws

import (
	"context"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/connect"
	"github.com/aws/aws-sdk-go-v2/service/connect/types"
)

// ErrInvalidInput reports arguments Connect would refuse (a recording state
// it has not, contact attributes past its limits). It is never an upstream
// error: the request did not leave switchboard.
var ErrInvalidInput = errors.New("connectaws: invalid input")

// QueueSummary is a standard queue of an instance, as ListQueues names it.
type QueueSummary struct {
	ID, ARN, Name string
}

// Queues lists the instance's standard queues (not agents' own queues),
// page by page.
func (c *Clients) Queues(ctx context.Context, inst Instance) ([]QueueSummary, error) {
	t, r, err := c.tenant(inst)
	if err != nil {
		return nil, err
	}
	p := connect.NewListQueuesPaginator(t.connect, &connect.ListQueuesInput{
		InstanceId: aws.String(r.id), QueueTypes: []types.QueueType{types.QueueTypeStandard}, MaxResults: aws.Int32(100),
	}, func(o *connect.ListQueuesPaginatorOptions) { o.StopOnDuplicateToken = true })
	out := []QueueSummary{}
	for pages := 0; p.HasMorePages(); pages++ {
		if pages == maxPages {
			return nil, fmt.Errorf("connectaws: ListQueues gave more than %d pages", maxPages)
		}
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, upstream("Connect", "ListQueues", err)
		}
		for _, q := range page.QueueSummaryList {
			out = append(out, QueueSummary{ID: aws.ToString(q.Id), ARN: aws.ToString(q.Arn), Name: aws.ToString(q.Name)})
		}
	}
	return out, nil
}

// QueueMetrics are a queue's current figures.
type QueueMetrics struct {
	QueueID                                                         string
	AgentsOnline, AgentsAvailable, AgentsOnContact, ContactsInQueue int
	// OldestContactAge is how long the queue's oldest waiting contact has
	// waited; 0 when none waits.
	OldestContactAge time.Duration
}

// MaxMetricQueues is how many queues one GetCurrentMetricData call filters
// on; QueueMetrics asks for more in several calls.
const MaxMetricQueues = 100

// maxMetricPages bounds the pages of one GetCurrentMetricData call: grouped
// by queue, a call of at most 100 queues has at most 100 rows, one page.
const maxMetricPages = 10

// queueMetricSet is what QueueMetrics asks for, each in the unit Connect
// requires of it.
var queueMetricSet = []types.CurrentMetric{
	{Name: types.CurrentMetricNameAgentsOnline, Unit: types.UnitCount},
	{Name: types.CurrentMetricNameAgentsAvailable, Unit: types.UnitCount},
	{Name: types.CurrentMetricNameAgentsOnContact, Unit: types.UnitCount},
	{Name: types.CurrentMetricNameContactsInQueue, Unit: types.UnitCount},
	{Name: types.CurrentMetricNameOldestContactAge, Unit: types.UnitSeconds},
}

// oneAttempt makes a call once, without the SDK's retries.
func oneAttempt(o *connect.Options) { o.RetryMaxAttempts = 1 }

// QueueMetrics returns the current figures of the queues, one for each
// distinct ID in the order given, from GetCurrentMetricData grouped by
// queue, MaxMetricQueues queues a call. A queue Connect reports nothing of
// (it leaves such queues out) has zeros. snapshot is when Connect took the
// figures (the oldest of the calls' snapshots); zero when queueIDs is empty,
// which calls nothing.
//
// Each call is made once, never retried: Connect allows the account 5 a
// second (burst 8), shared with every other caller, and a poller that asks
// again in a few seconds is its own retry; retrying behind its back would
// only spend the budget faster. A throttled call fails the whole answer
// with an error IsThrottled recognises, so the poller can back off.
func (c *Clients) QueueMetrics(ctx context.Context, inst Instance, queueIDs []string) (metrics []QueueMetrics, snapshot time.Time, err error) {
	t, r, err := c.tenant(inst)
	if err != nil {
		return nil, time.Time{}, err
	}
	index := map[string]int{}
	out := []QueueMetrics{}
	for _, id := range queueIDs {
		if _, ok := index[id]; ok || id == "" {
			continue
		}
		index[id] = len(out)
		out = append(out, QueueMetrics{QueueID: id})
	}
	ids := make([]string, len(out))
	for i, m := range out {
		ids[i] = m.QueueID
	}
	for chunk := range slices.Chunk(ids, MaxMetricQueues) {
		in := &connect.GetCurrentMetricDataInput{
			InstanceId:     aws.String(r.id),
			Filters:        &types.Filters{Queues: chunk},
			Groupings:      []types.Grouping{types.GroupingQueue},
			CurrentMetrics: queueMetricSet,
			MaxResults:     aws.Int32(MaxMetricQueues),
		}
		for pages := 0; ; pages++ {
			if pages == maxMetricPages {
				return nil, time.Time{}, fmt.Errorf("connectaws: GetCurrentMetricData gave more than %d pages", maxMetricPages)
			}
			page, err := t.connect.GetCurrentMetricData(ctx, in, oneAttempt)
			if err != nil {
				return nil, time.Time{}, upstream("Connect", "GetCurrentMetricData", err)
			}
			if s := aws.ToTime(page.DataSnapshotTime); !s.IsZero() && (snapshot.IsZero() || s.Before(snapshot)) {
				snapshot = s
			}
			for _, res := range page.MetricResults {
				if res.Dimensions == nil || res.Dimensions.Queue == nil {
					continue
				}
				i, ok := index[aws.ToString(res.Dimensions.Queue.Id)]
				if !ok {
					continue
				}
				readFigures(&out[i], res.Collections)
			}
			if aws.ToString(page.NextToken) == "" || aws.ToString(page.NextToken) == aws.ToString(in.NextToken) {
				break
			}
			in.NextToken = page.NextToken
		}
	}
	return out, snapshot, nil
}

// readFigures sets m's figures from a row of GetCurrentMetricData grouped
// by queue. Grouped, OLDEST_CONTACT_AGE is in seconds, as its Unit says
// (not grouped, Connect answers milliseconds under the same Unit).
func readFigures(m *QueueMetrics, collections []types.CurrentMetricData) {
	for _, d := range collections {
		if d.Metric == nil || d.Value == nil || math.IsNaN(*d.Value) || *d.Value < 0 {
			continue
		}
		v := *d.Value
		count := int(math.Round(min(v, math.MaxInt32)))
		switch d.Metric.Name {
		case types.CurrentMetricNameAgentsOnline:
			m.AgentsOnline = count
		case types.CurrentMetricNameAgentsAvailable:
			m.AgentsAvailable = count
		case types.CurrentMetricNameAgentsOnContact:
			m.AgentsOnContact = count
		case types.CurrentMetricNameContactsInQueue:
			m.ContactsInQueue = count
		case types.CurrentMetricNameOldestContactAge:
			// At most a year, against a value no duration holds.
			m.OldestContactAge = time.Duration(min(v, 365*24*3600) * float64(time.Second)).Round(time.Millisecond)
		}
	}
}

// The recording states SetContactRecording sets.
const (
	RecordingSuspended = "SUSPENDED"
	RecordingResumed   = "RESUMED"
	RecordingStopped   = "STOPPED"
)

// SetContactRecording suspends, resumes or stops the recording of a
// contact in progress (state RecordingSuspended, RecordingResumed or
// RecordingStopped); initialContactID is the first contact of its chain,
// contactID itself when empty. A stopped recording cannot be resumed.
func (c *Clients) SetContactRecording(ctx context.Context, inst Instance, contactID, initialContactID, state string) error {
	if contactID == "" {
		return fmt.Errorf("%w: SetContactRecording needs a contact ID", ErrInvalidInput)
	}
	if initialContactID == "" {
		initialContactID = contactID
	}
	t, r, err := c.tenant(inst)
	if err != nil {
		return err
	}
	id, contact, initial := aws.String(r.id), aws.String(contactID), aws.String(initialContactID)
	switch state {
	case RecordingSuspended:
		_, err = t.connect.SuspendContactRecording(ctx, &connect.SuspendContactRecordingInput{InstanceId: id, ContactId: contact, InitialContactId: initial})
		return upstream("Connect", "SuspendContactRecording", err)
	case RecordingResumed:
		_, err = t.connect.ResumeContactRecording(ctx, &connect.ResumeContactRecordingInput{InstanceId: id, ContactId: contact, InitialContactId: initial})
		return upstream("Connect", "ResumeContactRecording", err)
	case RecordingStopped:
		_, err = t.connect.StopContactRecording(ctx, &connect.StopContactRecordingInput{InstanceId: id, ContactId: contact, InitialContactId: initial})
		return upstream("Connect", "StopContactRecording", err)
	}
	return fmt.Errorf("%w: recording state %q is none of SUSPENDED, RESUMED, STOPPED", ErrInvalidInput, state)
}

// Connect's limits on contact attributes: keys of letters, digits, '-' and
// '_'; keys and values up to 32,767 characters; MaxContactAttributesBytes
// across all of a contact's keys and values.
const (
	MaxContactAttributesBytes = 32768
	maxAttributeLength        = 32767
)

var attributeKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// UpdateContactAttributes creates or updates attributes of a contact (named
// by the first contact of its chain), which its flows read; attributes not
// named are kept. Attributes past Connect's limits are ErrInvalidInput
// without a call; Connect itself refuses (InvalidParameterException) those
// that would take the contact's attributes, merged, past
// MaxContactAttributesBytes. No attributes: nothing is called.
func (c *Clients) UpdateContactAttributes(ctx context.Context, inst Instance, initialContactID string, attrs map[string]string) error {
	if initialContactID == "" {
		return fmt.Errorf("%w: UpdateContactAttributes needs the initial contact's ID", ErrInvalidInput)
	}
	if err := CheckContactAttributes(attrs); err != nil {
		return err
	}
	if len(attrs) == 0 {
		return nil
	}
	t, r, err := c.tenant(inst)
	if err != nil {
		return err
	}
	_, err = t.connect.UpdateContactAttributes(ctx, &connect.UpdateContactAttributesInput{
		InstanceId: aws.String(r.id), InitialContactId: aws.String(initialContactID), Attributes: attrs,
	})
	return upstream("Connect", "UpdateContactAttributes", err)
}

// CheckContactAttributes checks attributes against Connect's limits
// (ErrInvalidInput), as UpdateContactAttributes does before its call.
func CheckContactAttributes(attrs map[string]string) error {
	size := 0
	for k, v := range attrs {
		if !attributeKeyRE.MatchString(k) || len(k) > maxAttributeLength {
			return fmt.Errorf("%w: attribute key %.40q: only letters, digits, '-' and '_', at most %d", ErrInvalidInput, k, maxAttributeLength)
		}
		if utf8.RuneCountInString(v) > maxAttributeLength {
			return fmt.Errorf("%w: attribute %s: a value is at most %d characters", ErrInvalidInput, k, maxAttributeLength)
		}
		size += len(k) + len(v)
	}
	if size > MaxContactAttributesBytes {
		return fmt.Errorf("%w: %d bytes of attributes, more than a contact holds (%d)", ErrInvalidInput, size, MaxContactAttributesBytes)
	}
	return nil
}
