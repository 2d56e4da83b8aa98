package pgrelay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"switchboard/ent"
	"switchboard/ent/agentstatus"
	"switchboard/gid"
	"switchboard/livestatus"
	"switchboard/viewer"
)

// MaxPayload is the largest NOTIFY payload the relay sends, in bytes.
// PostgreSQL refuses payloads of 8000 bytes or more.
const MaxPayload = 7999

// wirePayload is a notification's payload; the package comment describes
// the format.
type wirePayload struct {
	Replica  string       `json:"r"`
	Seq      uint64       `json:"q"`
	Started  int64        `json:"t,omitempty"` // Unix nanoseconds; 0 from senders that predate it
	Statuses []wireStatus `json:"s"`
	Events   []wireEvent  `json:"e"`
	// Messages travel in payloads of their own, with no statuses or
	// events; older receivers read such a payload as empty.
	Messages []wireMessage `json:"m,omitempty"`
}

// wireMessage is a livestatus.Message: its body is the topic's JSON, as is.
type wireMessage struct {
	Topic  string          `json:"k"`
	Tenant gid.ID          `json:"t"`
	Body   json.RawMessage `json:"b"`
}

// wireEvent is a livestatus.Event.
type wireEvent struct {
	Tenant   gid.ID    `json:"t"`
	At       *wireTime `json:"w,omitempty"`
	Agent    wireAgent `json:"a"`
	Status   int       `json:"s,omitempty"` // 1-based index in the payload's statuses; 0 for none
	Previous int       `json:"p,omitempty"` // likewise
}

// Flags of wireAgent.
const (
	flagStatusIsEvent = 1 << iota // CurrentStatusID is the event's Status.ID
	flagSinceIsAt                 // StatusSince is the event's At
)

// wireAgent is an ent.Agent of the event's tenant, without edges.
type wireAgent struct {
	ID              gid.ID      `json:"i"`
	Created         *wireTime   `json:"c,omitempty"`
	Updated         *wireTime   `json:"m,omitempty"`
	Email           string      `json:"e,omitempty"`
	Name            string      `json:"n,omitempty"`
	ConnectUsername string      `json:"u,omitempty"`
	ConnectUserID   string      `json:"x,omitempty"`
	Role            viewer.Role `json:"r,omitempty"`
	Flags           int         `json:"f,omitempty"`
	CurrentStatusID *gid.ID     `json:"s,omitempty"` // when not flagStatusIsEvent
	StatusSince     *wireTime   `json:"z,omitempty"` // when not flagSinceIsAt
	RoutingProfile  string      `json:"rp,omitempty"`
}

// wireStatus is an ent.AgentStatus, without edges.
type wireStatus struct {
	ID               gid.ID           `json:"i"`
	Created          *wireTime        `json:"c,omitempty"`
	Updated          *wireTime        `json:"m,omitempty"`
	Tenant           *gid.ID          `json:"t,omitempty"` // nil: the event's tenant
	Name             string           `json:"n,omitempty"`
	Type             agentstatus.Type `json:"y,omitempty"`
	DisplayOrder     int              `json:"o,omitempty"`
	Disabled         bool             `json:"d,omitempty"`
	ConnectStatusID  string           `json:"x,omitempty"`
	ConnectStatusArn string           `json:"xa,omitempty"`
}

// wireTime is a time as integer Unix nanoseconds, or as an RFC 3339 string
// where nanoseconds since 1970 do not fit in an int64.
type wireTime time.Time

func newWireTime(t time.Time) *wireTime {
	if t.IsZero() {
		return nil
	}
	w := wireTime(t)
	return &w
}

func newWireTimePtr(t *time.Time) *wireTime {
	if t == nil {
		return nil
	}
	w := wireTime(*t)
	return &w
}

// time returns the time in UTC; the zero time for nil.
func (w *wireTime) time() time.Time {
	if w == nil {
		return time.Time{}
	}
	return time.Time(*w)
}

// MarshalJSON implements json.Marshaler.
func (w wireTime) MarshalJSON() ([]byte, error) {
	t := time.Time(w)
	if y := t.Year(); y >= 1678 && y <= 2261 {
		return strconv.AppendInt(nil, t.UnixNano(), 10), nil
	}
	return t.MarshalJSON()
}

// UnmarshalJSON implements json.Unmarshaler.
func (w *wireTime) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var t time.Time
		if err := t.UnmarshalJSON(b); err != nil {
			return err
		}
		*w = wireTime(t.UTC())
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return fmt.Errorf("pgrelay: bad time %s", b)
	}
	*w = wireTime(time.Unix(0, n).UTC())
	return nil
}

// eventWire is an event being encoded: the event and its two statuses, which
// go into the payload's table.
type eventWire struct {
	ev             wireEvent
	status, before *wireStatus

	// The statuses' entities, by which the encoder remembers the ones it
	// has in the current payload; not once the text is truncated.
	statusSrc, beforeSrc *ent.AgentStatus
	truncated            bool
}

func toWire(ev *livestatus.Event) *eventWire {
	a := ev.Agent
	w := &eventWire{ev: wireEvent{
		Tenant: a.TenantID,
		At:     newWireTime(ev.At),
		Agent: wireAgent{
			ID:              a.ID,
			Created:         newWireTime(a.CreatedAt),
			Updated:         newWireTime(a.UpdatedAt),
			Email:           a.Email,
			Name:            a.Name,
			ConnectUsername: a.ConnectUsername,
			ConnectUserID:   a.ConnectUserID,
			Role:            a.Role,
			RoutingProfile:  a.ConnectRoutingProfile,
		},
	}}
	if id := a.CurrentStatusID; id != nil {
		if ev.Status != nil && *id == ev.Status.ID {
			w.ev.Agent.Flags |= flagStatusIsEvent
		} else {
			v := *id
			w.ev.Agent.CurrentStatusID = &v
		}
	}
	if since := a.StatusSince; since != nil {
		if since.Equal(ev.At) {
			w.ev.Agent.Flags |= flagSinceIsAt
		} else {
			w.ev.Agent.StatusSince = newWireTimePtr(since)
		}
	}
	w.status = toWireStatus(ev.Status, a.TenantID)
	w.before = toWireStatus(ev.Previous, a.TenantID)
	w.statusSrc, w.beforeSrc = ev.Status, ev.Previous
	return w
}

func toWireStatus(s *ent.AgentStatus, tenant gid.ID) *wireStatus {
	if s == nil {
		return nil
	}
	w := &wireStatus{
		ID:               s.ID,
		Created:          newWireTime(s.CreatedAt),
		Updated:          newWireTime(s.UpdatedAt),
		Name:             s.Name,
		Type:             s.Type,
		DisplayOrder:     s.DisplayOrder,
		Disabled:         !s.Enabled,
		ConnectStatusID:  s.ConnectStatusID,
		ConnectStatusArn: s.ConnectStatusArn,
	}
	if s.TenantID != tenant {
		t := s.TenantID
		w.Tenant = &t
	}
	return w
}

// truncate shortens the event's free text (the agent's name, email and
// Amazon Connect username, the statuses' names) to at most n bytes each.
func (w *eventWire) truncate(n int) {
	w.truncated = true
	a := &w.ev.Agent
	a.Name = truncateText(a.Name, n)
	a.Email = truncateText(a.Email, n)
	a.ConnectUsername = truncateText(a.ConnectUsername, n)
	a.RoutingProfile = truncateText(a.RoutingProfile, n)
	for _, s := range []*wireStatus{w.status, w.before} {
		if s != nil {
			s.Name = truncateText(s.Name, n)
		}
	}
}

// truncateText cuts s to at most n bytes on a rune boundary, ending it with
// an ellipsis when it was cut.
func truncateText(s string, n int) string {
	const ellipsis = "…"
	if len(s) <= n {
		return s
	}
	cut := n - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// truncateSteps are the text lengths tried, in turn, for an event too large
// for a payload of its own.
var truncateSteps = []int{1024, 256, 64}

// errOversized is an event that does not fit in a payload even with its text
// truncated (its identifiers are too long).
var errOversized = errors.New("pgrelay: event too large for a notification")

// statusRef is a status entity as seen from an event of a tenant (a status
// table entry leaves out the tenant when it is the event's).
type statusRef struct {
	status *ent.AgentStatus
	tenant gid.ID
}

// payload is one notification's text and the number of events in it.
type payload struct {
	data   []byte
	events int
}

// encoder packs events into payloads of at most limit bytes. It is used by
// one goroutine.
type encoder struct {
	replica string
	limit   int
	seq     uint64

	scratch bytes.Buffer
	json    *json.Encoder

	// The payload being filled.
	header   []byte // {"r":"...","q":N,"t":T,"s":[
	statuses []byte // encoded statuses, comma-separated
	nStatus  int
	index    map[string]int    // tenant + "\x00" + encoded status → 1-based index
	byEntity map[statusRef]int // the statuses of index by entity, to skip encoding them again
	events   []byte            // encoded events, comma-separated
	nEvents  int

	// The payload of messages being filled: encoded messages,
	// comma-separated.
	messages  []byte
	nMessages int

	done []payload // finished payloads
}

const (
	payloadMiddle  = `],"e":[`
	payloadTrailer = `]}`
)

func newEncoder(replica string, limit int) *encoder {
	e := &encoder{replica: replica, limit: limit, index: map[string]int{}, byEntity: map[statusRef]int{}}
	e.json = json.NewEncoder(&e.scratch)
	e.json.SetEscapeHTML(false)
	return e
}

// marshal encodes v compactly, into a new slice.
func (e *encoder) marshal(v any) ([]byte, error) {
	e.scratch.Reset()
	if err := e.json.Encode(v); err != nil {
		return nil, err
	}
	return bytes.Clone(bytes.TrimSuffix(e.scratch.Bytes(), []byte("\n"))), nil
}

// add packs ev into the current payload, or into a new one when it does not
// fit. An event too large for a payload of its own has its text truncated
// (truncated is then true), and is refused with errOversized when even that
// is not enough. ev.Agent must not be nil.
func (e *encoder) add(ev *livestatus.Event) (truncated bool, err error) {
	w := toWire(ev)
	ok, err := e.fit(w)
	if ok || err != nil {
		return false, err
	}
	if e.nEvents > 0 {
		e.finish()
		if ok, err = e.fit(w); ok || err != nil {
			return false, err
		}
	}
	for _, n := range truncateSteps {
		w.truncate(n)
		if ok, err = e.fit(w); ok || err != nil {
			return true, err
		}
	}
	return false, errOversized
}

// fit adds w to the current payload if the payload stays within the limit.
func (e *encoder) fit(w *eventWire) (bool, error) {
	if e.nEvents == 0 {
		e.start()
	}
	var newStatuses [][]byte
	var newKeys []string
	var known []statusRef // entities to remember with their indexes
	var knownIdx []int
	ref := func(s *wireStatus, src *ent.AgentStatus) (int, error) {
		if s == nil {
			return 0, nil
		}
		sr := statusRef{src, w.ev.Tenant}
		if !w.truncated {
			if i, ok := e.byEntity[sr]; ok {
				return i, nil
			}
		}
		i, err := e.statusIndex(s, w.ev.Tenant, &newStatuses, &newKeys)
		if err == nil && !w.truncated {
			known, knownIdx = append(known, sr), append(knownIdx, i)
		}
		return i, err
	}
	var err error
	if w.ev.Status, err = ref(w.status, w.statusSrc); err != nil {
		return false, err
	}
	if w.ev.Previous, err = ref(w.before, w.beforeSrc); err != nil {
		return false, err
	}
	evb, err := e.marshal(&w.ev)
	if err != nil {
		return false, err
	}

	statusLen, n := len(e.statuses), e.nStatus
	for _, b := range newStatuses {
		if n > 0 {
			statusLen++
		}
		statusLen += len(b)
		n++
	}
	eventLen := len(e.events) + len(evb)
	if e.nEvents > 0 {
		eventLen++
	}
	if len(e.header)+statusLen+len(payloadMiddle)+eventLen+len(payloadTrailer) > e.limit {
		return false, nil
	}

	for i, b := range newStatuses {
		if e.nStatus > 0 {
			e.statuses = append(e.statuses, ',')
		}
		e.statuses = append(e.statuses, b...)
		e.nStatus++
		e.index[newKeys[i]] = e.nStatus
	}
	for i, sr := range known {
		e.byEntity[sr] = knownIdx[i]
	}
	if e.nEvents > 0 {
		e.events = append(e.events, ',')
	}
	e.events = append(e.events, evb...)
	e.nEvents++
	return true, nil
}

// statusIndex returns the 1-based index of s, named by an event of tenant, in
// the current payload's table followed by the entries the event adds so far
// (newStatuses, with their keys newKeys); s is added to those when new.
func (e *encoder) statusIndex(s *wireStatus, tenant gid.ID, newStatuses *[][]byte, newKeys *[]string) (int, error) {
	b, err := e.marshal(s)
	if err != nil {
		return 0, err
	}
	key := string(tenant) + "\x00" + string(b)
	if i, ok := e.index[key]; ok {
		return i, nil
	}
	for j, k := range *newKeys {
		if k == key {
			return e.nStatus + j + 1, nil
		}
	}
	*newKeys = append(*newKeys, key)
	*newStatuses = append(*newStatuses, b)
	return e.nStatus + len(*newKeys), nil
}

// start begins an empty payload.
func (e *encoder) start() {
	e.seq++
	e.header = fmt.Appendf(e.header[:0], `{"r":%q,"q":%d,"t":%d,"s":[`, e.replica, e.seq, time.Now().UnixNano())
	e.statuses = e.statuses[:0]
	e.nStatus = 0
	clear(e.index)
	clear(e.byEntity)
	e.events = e.events[:0]
	e.nEvents = 0
}

// messageHeader and messageTrailer frame a payload of messages.
const messageTrailer = `]}`

func (e *encoder) messageHeader() []byte {
	return fmt.Appendf(nil, `{"r":%q,"q":%d,"t":%d,"s":[],"e":[],"m":[`, e.replica, e.seq+1, time.Now().UnixNano())
}

// addMessage packs m into the current payload of messages, or into a new
// one when it does not fit; a message too large for a payload of its own
// is errOversized. Its body must be JSON.
func (e *encoder) addMessage(m *livestatus.Message) error {
	if !json.Valid(m.Body) {
		return fmt.Errorf("pgrelay: the body of a %q message is not JSON", m.Topic)
	}
	b, err := e.marshal(wireMessage{Topic: m.Topic, Tenant: m.Tenant, Body: m.Body})
	if err != nil {
		return err
	}
	// The header's sequence number and time may grow by a few digits
	// before the payload is finished: leave room for them.
	const headerSlack = 24
	room := e.limit - len(e.messageHeader()) - headerSlack - len(messageTrailer)
	if len(b) > room {
		return errOversized
	}
	if e.nMessages > 0 && len(e.messages)+1+len(b) > room {
		e.finishMessages()
	}
	if e.nMessages > 0 {
		e.messages = append(e.messages, ',')
	}
	e.messages = append(e.messages, b...)
	e.nMessages++
	return nil
}

// finishMessages closes the current payload of messages, if any, into done.
func (e *encoder) finishMessages() {
	if e.nMessages == 0 {
		return
	}
	data := e.messageHeader()
	e.seq++
	data = append(data, e.messages...)
	data = append(data, messageTrailer...)
	e.done = append(e.done, payload{data: data, events: e.nMessages})
	e.messages = e.messages[:0]
	e.nMessages = 0
}

// finish closes the current payload, if it has events, into done.
func (e *encoder) finish() {
	if e.nEvents == 0 {
		return
	}
	size := len(e.header) + len(e.statuses) + len(payloadMiddle) + len(e.events) + len(payloadTrailer)
	data := make([]byte, 0, size)
	data = append(data, e.header...)
	data = append(data, e.statuses...)
	data = append(data, payloadMiddle...)
	data = append(data, e.events...)
	data = append(data, payloadTrailer...)
	e.done = append(e.done, payload{data: data, events: e.nEvents})
	e.nEvents = 0
}

// finished returns the number of finished payloads waiting in done.
func (e *encoder) finished() int { return len(e.done) }

// take finishes the current payloads and returns every finished one.
func (e *encoder) take() []payload {
	e.finish()
	e.finishMessages()
	p := e.done
	e.done = nil
	return p
}

// decode reads a payload into events whose entities are new; statuses named
// more than once in the payload are one shared entity. started is when the
// sender began the payload (its first event was published), the zero time
// when the sender did not say.
func decode(data []byte) (replica string, started time.Time, events []*livestatus.Event, messages []livestatus.Message, err error) {
	var p wirePayload
	if err := json.Unmarshal(data, &p); err != nil {
		return "", time.Time{}, nil, nil, fmt.Errorf("pgrelay: decoding a notification: %w", err)
	}
	if p.Started != 0 {
		started = time.Unix(0, p.Started)
	}
	replica, events, err = p.events()
	if err != nil {
		return replica, started, nil, nil, err
	}
	for _, m := range p.Messages {
		if m.Topic == "" || m.Tenant == "" {
			return replica, started, nil, nil, errors.New("pgrelay: a notification has a message without its topic or tenant")
		}
		messages = append(messages, livestatus.Message{Topic: m.Topic, Tenant: m.Tenant, Body: m.Body})
	}
	return replica, started, events, messages, nil
}

// events are the payload's events.
func (p *wirePayload) events() (replica string, events []*livestatus.Event, err error) {
	statuses := make([]*ent.AgentStatus, len(p.Statuses))
	status := func(i int, tenant gid.ID) (*ent.AgentStatus, error) {
		if i == 0 {
			return nil, nil
		}
		if i < 0 || i > len(p.Statuses) {
			return nil, fmt.Errorf("pgrelay: a notification names status %d of %d", i, len(p.Statuses))
		}
		if s := statuses[i-1]; s != nil {
			return s, nil
		}
		w := &p.Statuses[i-1]
		s := &ent.AgentStatus{
			ID:               w.ID,
			CreatedAt:        w.Created.time(),
			UpdatedAt:        w.Updated.time(),
			TenantID:         tenant,
			Name:             w.Name,
			Type:             w.Type,
			DisplayOrder:     w.DisplayOrder,
			Enabled:          !w.Disabled,
			ConnectStatusID:  w.ConnectStatusID,
			ConnectStatusArn: w.ConnectStatusArn,
		}
		if w.Tenant != nil {
			s.TenantID = *w.Tenant
		}
		statuses[i-1] = s
		return s, nil
	}
	events = make([]*livestatus.Event, 0, len(p.Events))
	for i := range p.Events {
		w := &p.Events[i]
		if w.Agent.ID == "" || w.Tenant == "" {
			return p.Replica, nil, errors.New("pgrelay: a notification has an event without its agent or tenant")
		}
		ev := &livestatus.Event{At: w.At.time()}
		if ev.Status, err = status(w.Status, w.Tenant); err != nil {
			return p.Replica, nil, err
		}
		if ev.Previous, err = status(w.Previous, w.Tenant); err != nil {
			return p.Replica, nil, err
		}
		wa := &w.Agent
		a := &ent.Agent{
			ID:              wa.ID,
			CreatedAt:       wa.Created.time(),
			UpdatedAt:       wa.Updated.time(),
			TenantID:        w.Tenant,
			Email:           wa.Email,
			Name:            wa.Name,
			ConnectUsername: wa.ConnectUsername,
			ConnectUserID:   wa.ConnectUserID,
			Role:            wa.Role,

			ConnectRoutingProfile: wa.RoutingProfile,
		}
		switch {
		case wa.Flags&flagStatusIsEvent != 0 && ev.Status != nil:
			id := ev.Status.ID
			a.CurrentStatusID = &id
		case wa.CurrentStatusID != nil:
			id := *wa.CurrentStatusID
			a.CurrentStatusID = &id
		}
		switch {
		case wa.Flags&flagSinceIsAt != 0:
			at := ev.At
			a.StatusSince = &at
		case wa.StatusSince != nil:
			since := wa.StatusSince.time()
			a.StatusSince = &since
		}
		a.Edges.CurrentStatus = ev.Status
		ev.Agent = a
		events = append(events, ev)
	}
	return p.Replica, events, nil
}
