package livestatus_test

import (
	"sync"
	"testing"
	"time"

	"switchboard/ent"
	"switchboard/gid"
	"switchboard/livestatus"
)

func event(tenant, agent gid.ID, n int) *livestatus.Event {
	return &livestatus.Event{
		Agent:  &ent.Agent{ID: agent, TenantID: tenant},
		Status: &ent.AgentStatus{ID: gid.New("AS"), TenantID: tenant, DisplayOrder: n},
		At:     time.Now(),
	}
}

func TestBrokerRoutes(t *testing.T) {
	b := livestatus.NewBroker()
	ta, tb := gid.New("TN"), gid.New("TN")
	alex, bea, cy := gid.New("AG"), gid.New("AG"), gid.New("AG")
	all := b.Subscribe(ta, nil, 8)
	onlyBea := b.Subscribe(ta, []gid.ID{bea}, 8)
	other := b.Subscribe(tb, nil, 8)
	defer all.Close()
	defer onlyBea.Close()
	defer other.Close()

	b.Publish(event(ta, alex, 1))
	b.Publish(event(ta, bea, 2))
	b.Publish(event(tb, cy, 3))

	cases := []struct {
		name string
		sub  *livestatus.Subscription
		want []gid.ID
	}{
		{"tenant A, all agents", all, []gid.ID{alex, bea}},
		{"tenant A, only Bea", onlyBea, []gid.ID{bea}},
		{"tenant B", other, []gid.ID{cy}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, want := range c.want {
				select {
				case ev := <-c.sub.C():
					if ev.Agent.ID != want {
						t.Fatalf("got agent %s, want %s", ev.Agent.ID, want)
					}
				case <-time.After(time.Second):
					t.Fatalf("no event for %s", want)
				}
			}
			select {
			case ev := <-c.sub.C():
				t.Fatalf("unexpected event of agent %s (tenant %s)", ev.Agent.ID, ev.TenantID())
			default:
			}
		})
	}
}

// TestSlowSubscriberNeverBlocks: a subscriber that never reads keeps its
// latest events and the publisher goes on; the drops are counted.
func TestSlowSubscriberNeverBlocks(t *testing.T) {
	b := livestatus.NewBroker()
	tn, agent := gid.New("TN"), gid.New("AG")
	slow := b.Subscribe(tn, nil, 4)
	defer slow.Close()
	fast := b.Subscribe(tn, nil, 1000)
	defer fast.Close()
	done := make(chan struct{})
	go func() {
		for i := 0; i < 1000; i++ {
			b.Publish(event(tn, agent, i))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("publishing blocked on a slow subscriber")
	}
	var got []int
	for len(got) < 4 {
		got = append(got, (<-slow.C()).Status.DisplayOrder)
	}
	if got[3] != 999 || got[0] != 996 {
		t.Fatalf("the slow subscriber kept %v, want the latest four", got)
	}
	if st := b.Stats(); st.Dropped != 996 || st.Published != 1000 || st.Delivered != 2000 {
		t.Fatalf("stats %+v", st)
	}
	if n := len(fast.C()); n != 1000 {
		t.Fatalf("the fast subscriber has %d", n)
	}
}

// TestSubscribeCloseConcurrently: subscriptions come and go while events
// are published; nothing panics and none is left registered.
func TestSubscribeCloseConcurrently(t *testing.T) {
	b := livestatus.NewBroker()
	tn, agent := gid.New("TN"), gid.New("AG")
	stop := make(chan struct{})
	var pub sync.WaitGroup
	pub.Add(1)
	go func() {
		defer pub.Done()
		for {
			select {
			case <-stop:
				return
			default:
				b.Publish(event(tn, agent, 0))
			}
		}
	}()
	var wg sync.WaitGroup
	for i := 0; i < 1024; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := b.Subscribe(tn, nil, 2)
			<-s.C()
			s.Close()
			s.Close() // twice is fine
		}()
	}
	wg.Wait()
	close(stop)
	pub.Wait()
	if n := b.Stats().Subscriptions; n != 0 {
		t.Fatalf("%d subscriptions left", n)
	}
}

// An agent's events reach subscribers in the order of their times: one
// older than an event already published for the agent (a change relayed
// late from another replica) is left out, and counted; other agents'
// events are not affected.
func TestBrokerKeepsEachAgentInOrder(t *testing.T) {
	b := livestatus.NewBroker()
	tn, alex, bea := gid.New("TN"), gid.New("AG"), gid.New("AG")
	sub := b.Subscribe(tn, nil, 8)
	defer sub.Close()
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	newer, older, beas := event(tn, alex, 1), event(tn, alex, 2), event(tn, bea, 3)
	newer.At, older.At, beas.At = at, at.Add(-time.Millisecond), at.Add(-time.Hour)
	b.Publish(newer)
	b.Publish(older)
	b.Publish(beas)
	for _, want := range []*livestatus.Event{newer, beas} {
		select {
		case got := <-sub.C():
			if got != want {
				t.Fatalf("got the event of %s at %s, want %s at %s", got.Agent.ID, got.At, want.Agent.ID, want.At)
			}
		case <-time.After(time.Second):
			t.Fatal("no event")
		}
	}
	select {
	case got := <-sub.C():
		t.Fatalf("the older event was delivered: %+v", got)
	default:
	}
	if s := b.Stats(); s.Stale != 1 || s.Published != 3 {
		t.Fatalf("stats %+v", s)
	}
}
