package queues

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"switchboard/gid"
	"switchboard/livestatus"
)

// collect is a Messenger that keeps what it is given, as the relay would
// carry it.
type collect []livestatus.Message

func (c *collect) SendMessage(m livestatus.Message) { *c = append(*c, m) }

// A large instance's snapshot goes out in parts, each within a
// notification, and comes back whole, in order, once every part has come,
// whatever their order; a part of an older snapshot arriving late changes
// nothing; an instance without queues still says so.
func TestSharedInParts(t *testing.T) {
	var sent collect
	from := New(nil, nil, Options{Messenger: &sent})
	tenant := gid.New("TN")
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	snap := &Snapshot{Tenant: tenant, At: at}
	for i := range 300 {
		snap.Queues = append(snap.Queues, &Figures{Queue: Queue{ID: fmt.Sprintf("%036d", i), Name: strings.Repeat("q", 60) + fmt.Sprint(i)},
			AgentsOnline: i, ContactsInQueue: i % 7, OldestContactAgeSeconds: i * 3, UpdatedAt: at})
	}
	from.share(snap)
	if len(sent) < 3 {
		t.Fatalf("%d parts for 300 queues", len(sent))
	}
	for _, m := range sent {
		if len(m.Body) > maxPart || m.Topic != Topic || m.Tenant != tenant {
			t.Fatalf("a part of %d bytes, topic %q, tenant %s", len(m.Body), m.Topic, m.Tenant)
		}
	}
	to := New(nil, nil, Options{})
	sub := to.hub.Subscribe(tenant, nil, 4)
	defer sub.Close()
	for i := len(sent) - 1; i >= 0; i-- { // backwards
		if err := to.Receive(sent[i]); err != nil {
			t.Fatal(err)
		}
		if i > 0 && len(sub.C()) != 0 {
			t.Fatalf("delivered with %d parts to come", i)
		}
	}
	got := <-sub.C()
	if len(got.Queues) != 300 || !got.At.Equal(at) {
		t.Fatalf("%d queues at %v", len(got.Queues), got.At)
	}
	for i, f := range got.Queues {
		if *f != *snap.Queues[i] {
			t.Fatalf("queue %d: %+v, sent %+v", i, f, snap.Queues[i])
		}
	}
	var older collect
	from.opt.Messenger = &older
	from.share(&Snapshot{Tenant: tenant, At: at.Add(-time.Minute), Queues: snap.Queues[:1]})
	if err := to.Receive(older[0]); err != nil {
		t.Fatal(err)
	}
	if len(sub.C()) != 0 {
		t.Fatal("an older snapshot was delivered")
	}
	var empty collect
	from.opt.Messenger = &empty
	from.share(&Snapshot{Tenant: tenant, At: at.Add(time.Minute), Queues: []*Figures{}})
	if len(empty) != 1 {
		t.Fatalf("%d parts for no queues", len(empty))
	}
	if err := to.Receive(empty[0]); err != nil {
		t.Fatal(err)
	}
	if got := <-sub.C(); got.Queues == nil || len(got.Queues) != 0 {
		t.Fatalf("no queues: %+v", got.Queues)
	}
	if err := to.Receive(livestatus.Message{Topic: Topic, Tenant: tenant, Body: []byte(`{"part":3,"parts":2}`)}); err == nil {
		t.Fatal("a part beyond its parts was taken")
	}
}
