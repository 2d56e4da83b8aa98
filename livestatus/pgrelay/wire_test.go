package pgrelay

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"switchboard/ent"
	"switchboard/gid"
	"switchboard/livestatus"
)

var timeType = reflect.TypeFor[time.Time]()

// populate sets every exported field of the entity *v but its edges to a
// value that is not zero, so that a field added to the ent schema and not
// to the wire format makes the round trip fail.
func populate(t *testing.T, v any, n int) {
	t.Helper()
	rv := reflect.ValueOf(v).Elem()
	for i := range rv.NumField() {
		f, sf := rv.Field(i), rv.Type().Field(i)
		if !sf.IsExported() || sf.Name == "Edges" {
			continue
		}
		at := time.Date(2025, 3, 4, 5, 6, 7, 100*n+i, time.UTC)
		switch {
		case sf.Type == timeType:
			f.Set(reflect.ValueOf(at))
		case sf.Type == reflect.PointerTo(timeType):
			f.Set(reflect.ValueOf(&at))
		case sf.Type == reflect.TypeFor[gid.ID]():
			f.Set(reflect.ValueOf(gid.New("XX")))
		case sf.Type == reflect.TypeFor[*gid.ID]():
			id := gid.New("XX")
			f.Set(reflect.ValueOf(&id))
		case sf.Type.Kind() == reflect.String:
			f.SetString(fmt.Sprintf("%s-%d <&> \"é\"", sf.Name, n))
		case sf.Type.Kind() == reflect.Int:
			f.SetInt(int64(10 + n))
		case sf.Type.Kind() == reflect.Bool:
			f.SetBool(true)
		default:
			t.Fatalf("%T.%s is a %s: teach populate and the wire format about it", v, sf.Name, sf.Type)
		}
	}
}

// sameFields reports the exported fields but edges that differ between two
// entities of one type; times are compared as instants.
func sameFields(t *testing.T, what string, got, want any) {
	t.Helper()
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	if gv.IsNil() || wv.IsNil() {
		if gv.IsNil() != wv.IsNil() {
			t.Errorf("%s: got %v, want %v", what, got, want)
		}
		return
	}
	gv, wv = gv.Elem(), wv.Elem()
	for i := range gv.NumField() {
		sf := gv.Type().Field(i)
		if !sf.IsExported() || sf.Name == "Edges" {
			continue
		}
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if !sameValue(g, w) {
			t.Errorf("%s.%s: got %v, want %v", what, sf.Name, g, w)
		}
	}
}

func sameValue(g, w any) bool {
	switch w := w.(type) {
	case time.Time:
		return g.(time.Time).Equal(w)
	case *time.Time:
		g := g.(*time.Time)
		return g == nil && w == nil || g != nil && w != nil && g.Equal(*w)
	case *gid.ID:
		g := g.(*gid.ID)
		return g == nil && w == nil || g != nil && w != nil && *g == *w
	}
	return reflect.DeepEqual(g, w)
}

func sameEvent(t *testing.T, i int, got, want *livestatus.Event) {
	t.Helper()
	what := fmt.Sprintf("event %d", i)
	sameFields(t, what+" agent", got.Agent, want.Agent)
	sameFields(t, what+" status", got.Status, want.Status)
	sameFields(t, what+" previous", got.Previous, want.Previous)
	if !got.At.Equal(want.At) {
		t.Errorf("%s: At %v, want %v", what, got.At, want.At)
	}
	if got.Agent.Edges.CurrentStatus != got.Status {
		t.Errorf("%s: Agent.Edges.CurrentStatus is not Status", what)
	}
}

func roundTrip(t *testing.T, events ...*livestatus.Event) ([]payload, []*livestatus.Event) {
	t.Helper()
	enc := newEncoder("0123456789abcdef", MaxPayload)
	for i, ev := range events {
		if _, err := enc.add(ev); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
	}
	payloads := enc.take()
	var got []*livestatus.Event
	for _, p := range payloads {
		if len(p.data) > MaxPayload {
			t.Fatalf("payload of %d bytes", len(p.data))
		}
		replica, _, evs, _, err := decode(p.data)
		if err != nil {
			t.Fatalf("decoding %s: %v", p.data, err)
		}
		if replica != "0123456789abcdef" {
			t.Fatalf("replica %q", replica)
		}
		if len(evs) != p.events {
			t.Fatalf("payload holds %d events, decoded %d", p.events, len(evs))
		}
		got = append(got, evs...)
	}
	if len(got) != len(events) {
		t.Fatalf("decoded %d events of %d", len(got), len(events))
	}
	for i := range events {
		sameEvent(t, i, got[i], events[i])
	}
	return payloads, got
}

func fullEvent(t *testing.T, n int) *livestatus.Event {
	a, s, p := &ent.Agent{}, &ent.AgentStatus{}, &ent.AgentStatus{}
	populate(t, a, n)
	populate(t, s, n+1)
	populate(t, p, n+2)
	s.TenantID, p.TenantID = a.TenantID, a.TenantID
	return &livestatus.Event{Agent: a, Status: s, Previous: p, At: time.Date(2025, 6, 7, 8, 9, 10, 123456789, time.UTC)}
}

func TestWireRoundTrip(t *testing.T) {
	// Every field set; current status and status-since unlike the event's.
	differing := fullEvent(t, 1)

	// The usual shape: the agent's current status is the event's, since then.
	usual := fullEvent(t, 2)
	id, since := usual.Status.ID, usual.At.In(time.FixedZone("X", 3600))
	usual.Agent.CurrentStatusID, usual.Agent.StatusSince = &id, &since

	// A first status: nothing before; nil pointers stay nil; a disabled
	// status of another tenant; zero times and times out of the nanosecond
	// range.
	first := fullEvent(t, 3)
	first.Previous = nil
	first.Agent.CurrentStatusID, first.Agent.StatusSince = nil, nil
	first.Agent.CreatedAt = time.Time{}
	first.Status.TenantID = gid.New("TN")
	first.Status.Enabled = false
	first.Status.UpdatedAt = time.Date(3000, 1, 1, 0, 0, 0, 5, time.UTC)
	first.Status.CreatedAt = time.Date(1, 1, 1, 0, 0, 1, 0, time.UTC)
	first.At = time.Time{}

	// Minimal: an agent with its IDs only.
	minimal := &livestatus.Event{Agent: &ent.Agent{ID: gid.New("AG"), TenantID: gid.New("TN")}}

	// The same status before and after; a previous status that is no
	// longer the agent's but is named by the current status ID.
	same := fullEvent(t, 4)
	same.Previous = same.Status
	other := fullEvent(t, 5)
	pid := other.Previous.ID
	other.Agent.CurrentStatusID = &pid

	_, got := roundTrip(t, differing, usual, first, minimal, same, other)
	if got[4].Status != got[4].Previous {
		t.Error("one status named twice in a payload should decode to one entity")
	}
	if a := got[1].Agent; a.CurrentStatusID == nil || *a.CurrentStatusID != usual.Status.ID ||
		a.StatusSince == nil || !a.StatusSince.Equal(usual.At) {
		t.Error("usual event: current status or since lost")
	}
}

func TestWireStatusTable(t *testing.T) {
	tenant := gid.New("TN")
	statuses := []*ent.AgentStatus{
		{ID: gid.New("ST"), TenantID: tenant, Name: "Available", Type: "ROUTABLE", Enabled: true},
		{ID: gid.New("ST"), TenantID: tenant, Name: "Lunch", Type: "CUSTOM", Enabled: true},
	}
	var events []*livestatus.Event
	for i := range 40 {
		s, p := statuses[i%2], statuses[(i+1)%2]
		id := s.ID
		events = append(events, &livestatus.Event{
			Agent:  &ent.Agent{ID: gid.New("AG"), TenantID: tenant, Name: fmt.Sprint("agent ", i), CurrentStatusID: &id},
			Status: s, Previous: p, At: time.Now(),
		})
	}
	payloads, got := roundTrip(t, events...)
	if len(payloads) != 1 {
		t.Fatalf("%d payloads, want 1", len(payloads))
	}
	var p wirePayload
	if err := json.Unmarshal(payloads[0].data, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Statuses) != 2 {
		t.Errorf("the payload's status table has %d entries, want 2", len(p.Statuses))
	}
	if got[0].Status != got[2].Status {
		t.Error("a status shared in a payload should decode to one entity")
	}
	t.Logf("40 events in %d bytes", len(payloads[0].data))
}

func TestWirePacksUnderLimit(t *testing.T) {
	var events []*livestatus.Event
	for i := range 500 {
		ev := fullEvent(t, i)
		ev.Agent.Name = strings.Repeat("n", i*7%300)
		ev.Status.Name = strings.Repeat("s", i*13%127)
		events = append(events, ev)
	}
	payloads, _ := roundTrip(t, events...)
	for _, p := range payloads {
		if len(p.data) >= 8000 {
			t.Fatalf("payload of %d bytes", len(p.data))
		}
		if !json.Valid(p.data) {
			t.Fatalf("invalid JSON %s", p.data)
		}
	}
	t.Logf("%d events in %d payloads", len(events), len(payloads))
}

func TestWireTruncatesLongText(t *testing.T) {
	ev := fullEvent(t, 1)
	ev.Agent.Name = strings.Repeat("é", 10_000)           // 20,000 bytes
	ev.Agent.Email = strings.Repeat("\x01", 2_000)        // escaped to 12,000 bytes
	ev.Status.Name = strings.Repeat("<tag>", 1_000) + "!" // escaping stays off
	enc := newEncoder("r", MaxPayload)
	ok := &livestatus.Event{Agent: &ent.Agent{ID: gid.New("AG"), TenantID: gid.New("TN"), Name: "before"}}
	if _, err := enc.add(ok); err != nil {
		t.Fatal(err)
	}
	truncated, err := enc.add(ev)
	if err != nil || !truncated {
		t.Fatalf("add: truncated %v, err %v", truncated, err)
	}
	payloads := enc.take()
	if len(payloads) != 2 {
		t.Fatalf("%d payloads, want 2 (the long event alone)", len(payloads))
	}
	_, _, evs, _, err := decode(payloads[1].data)
	if err != nil {
		t.Fatal(err)
	}
	a := evs[0].Agent
	if !utf8.ValidString(a.Name) || !strings.HasSuffix(a.Name, "…") || !strings.HasPrefix(ev.Agent.Name, strings.TrimSuffix(a.Name, "…")) {
		t.Errorf("truncated name %q", a.Name)
	}
	if len(payloads[1].data) > MaxPayload {
		t.Errorf("payload of %d bytes", len(payloads[1].data))
	}
	if ev.Agent.Name != strings.Repeat("é", 10_000) {
		t.Error("truncation modified the event")
	}
	if a.ID != ev.Agent.ID || evs[0].Status.ID != ev.Status.ID {
		t.Error("truncation lost IDs")
	}
}

func TestWireFitsTheSchemaLimits(t *testing.T) {
	// Each text at its ent MaxLen: plain text fits untouched; text of
	// characters that JSON writes as \u00XX is cut but still sent.
	for _, c := range []struct {
		char      string
		truncated bool
	}{{"w", false}, {"\x01", true}} {
		text := func(n int) string { return strings.Repeat(c.char, n) }
		ev := fullEvent(t, 1)
		a := ev.Agent
		a.Email, a.Name, a.ConnectUsername, a.ConnectUserID = text(320), text(200), text(100), text(100)
		for _, s := range []*ent.AgentStatus{ev.Status, ev.Previous} {
			s.Name, s.ConnectStatusID, s.ConnectStatusArn = text(127), text(100), text(256)
		}
		enc := newEncoder("0123456789abcdef", MaxPayload)
		truncated, err := enc.add(ev)
		if err != nil || truncated != c.truncated {
			t.Errorf("%q: truncated %v, err %v", c.char, truncated, err)
		}
	}
}

func TestWireRefusesOversizedIDs(t *testing.T) {
	ev := &livestatus.Event{Agent: &ent.Agent{ID: gid.ID(strings.Repeat("A", 9000)), TenantID: gid.New("TN")}}
	enc := newEncoder("r", MaxPayload)
	if _, err := enc.add(ev); err != errOversized {
		t.Fatalf("err %v, want errOversized", err)
	}
	if p := enc.take(); len(p) != 0 {
		t.Fatalf("%d payloads, want none", len(p))
	}
}

func TestDecodeRejectsBadPayloads(t *testing.T) {
	for _, bad := range []string{
		`not json`,
		`{"r":"x","q":1,"s":[],"e":[{"t":"TN1","a":{"i":"AG1"},"s":3}]}`,
		`{"r":"x","q":1,"s":[],"e":[{"t":"","a":{"i":"AG1"}}]}`,
		`{"r":"x","q":1,"s":[],"e":[{"t":"TN1","a":{"i":"AG1"},"w":"yesterday"}]}`,
	} {
		if _, _, _, _, err := decode([]byte(bad)); err == nil {
			t.Errorf("decode(%s) succeeded", bad)
		}
	}
}

// Messages share a flush with events but travel in payloads of their own,
// each under the limit, in the order sent, bodies intact; one too large
// for a payload, or whose body is not JSON, is refused; a payload whose
// message lacks its topic does not decode.
func TestMessagesRoundTrip(t *testing.T) {
	enc := newEncoder("0123456789abcdef", MaxPayload)
	ev := &livestatus.Event{Agent: &ent.Agent{ID: gid.New("AG"), TenantID: gid.New("TN")}}
	if _, err := enc.add(ev); err != nil {
		t.Fatal(err)
	}
	tenant := gid.New("TN")
	var sent []string
	for i := range 60 { // about 200 bytes each: several payloads
		body := fmt.Sprintf(`{"n":%d,"pad":%q}`, i, strings.Repeat("é", 80))
		sent = append(sent, body)
		if err := enc.addMessage(&livestatus.Message{Topic: "queues", Tenant: tenant, Body: []byte(body)}); err != nil {
			t.Fatal(err)
		}
	}
	payloads := enc.take()
	if len(payloads) < 3 {
		t.Fatalf("%d payloads for one event and 60 messages", len(payloads))
	}
	var events int
	var got []string
	for _, p := range payloads {
		if len(p.data) > MaxPayload {
			t.Fatalf("payload of %d bytes", len(p.data))
		}
		_, _, evs, msgs, err := decode(p.data)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) > 0 && len(msgs) > 0 {
			t.Fatalf("a payload with %d events and %d messages", len(evs), len(msgs))
		}
		events += len(evs)
		for _, m := range msgs {
			if m.Topic != "queues" || m.Tenant != tenant {
				t.Fatalf("message %+v", m)
			}
			got = append(got, string(m.Body))
		}
	}
	if events != 1 || !slices.Equal(got, sent) {
		t.Fatalf("%d events; messages %d of %d, in order: %v", events, len(got), len(sent), slices.Equal(got, sent))
	}
	huge := []byte(`"` + strings.Repeat("x", MaxPayload) + `"`)
	if err := enc.addMessage(&livestatus.Message{Topic: "queues", Tenant: tenant, Body: huge}); !errors.Is(err, errOversized) {
		t.Errorf("an oversized message: %v", err)
	}
	if err := enc.addMessage(&livestatus.Message{Topic: "queues", Tenant: tenant, Body: []byte("{")}); err == nil {
		t.Error("a body that is not JSON was accepted")
	}
	if len(enc.take()) != 0 {
		t.Error("a refused message left a payload")
	}
	bad := `{"r":"x","q":1,"s":[],"e":[],"m":[{"t":"TN01","b":{}}]}`
	if _, _, _, _, err := decode([]byte(bad)); err == nil {
		t.Error("a message without its topic decoded")
	}
}
