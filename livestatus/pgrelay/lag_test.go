package pgrelay

import (
	"testing"
	"time"

	"switchboard/ent"
	"switchboard/gid"
	"switchboard/livestatus"
)

// TestPayloadCarriesItsStart: a payload says when its sender began it, so
// that a receiver can measure the relay's lag; one without (an older
// sender's) still decodes, with no time.
func TestPayloadCarriesItsStart(t *testing.T) {
	before := time.Now()
	enc := newEncoder("replica-1", MaxPayload)
	if _, err := enc.add(&livestatus.Event{Agent: &ent.Agent{ID: gid.New("AG"), TenantID: gid.New("TN")}}); err != nil {
		t.Fatal(err)
	}
	ps := enc.take()
	after := time.Now()
	if len(ps) != 1 {
		t.Fatalf("%d payloads", len(ps))
	}
	replica, started, events, _, err := decode(ps[0].data)
	if err != nil || replica != "replica-1" || len(events) != 1 {
		t.Fatalf("decoded %q %d %v", replica, len(events), err)
	}
	if started.Before(before) || started.After(after) {
		t.Fatalf("started %v, not within [%v, %v]", started, before, after)
	}
	old := `{"r":"replica-0","q":1,"s":[],"e":[{"t":"TN01","a":{"i":"AG01"}}]}`
	replica, started, events, _, err = decode([]byte(old))
	if err != nil || replica != "replica-0" || len(events) != 1 || !started.IsZero() {
		t.Fatalf("an older payload: %q %v %d %v", replica, started, len(events), err)
	}
}
