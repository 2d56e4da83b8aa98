package pgrelay_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lib/pq"

	"switchboard/ent"
	"switchboard/ent/agentstatus"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/livestatus"
	"switchboard/livestatus/pgrelay"
	"switchboard/viewer"
)

const listenerApp = "switchboard-listener"

// database returns a fresh database's URL and a pool on it.
func database(t testing.TB) (string, *sql.DB) {
	t.Helper()
	dsn := testenv.PostgresURL(t)
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Ping(); err != nil {
		t.Fatal(err)
	}
	return dsn, db
}

// listenerDSN names the listening connection in pg_stat_activity.
func listenerDSN(t testing.TB, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", listenerApp)
	u.RawQuery = q.Encode()
	return u.String()
}

// replica is one switchboard process: its broker, relay and publisher.
type replica struct {
	broker    *livestatus.Broker
	relay     *pgrelay.Relay
	publisher *livestatus.Publisher
}

func newReplica(t testing.TB, dsn string, db *sql.DB, tune func(*pgrelay.Options)) *replica {
	t.Helper()
	b := livestatus.NewBroker()
	opt := pgrelay.Options{
		DSN:          listenerDSN(t, dsn),
		DB:           db,
		Broker:       b,
		MinReconnect: 100 * time.Millisecond,
		MaxReconnect: time.Second,
		Logger:       testLogger(t),
	}
	if tune != nil {
		tune(&opt)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := pgrelay.New(ctx, opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return &replica{broker: b, relay: r, publisher: &livestatus.Publisher{Broker: b, Relay: r}}
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// fixture is a tenant with two statuses, as a contact centre has them.
type fixture struct {
	tenant             gid.ID
	available, onBreak *ent.AgentStatus
	agents             []*ent.Agent
	instance           string
}

func newFixture(agents int) *fixture {
	f := &fixture{tenant: gid.New("TN"), instance: "5a1c0a4e-62a4-4b53-8d1c-3c1f0a3bd6a1"}
	created := time.Date(2025, 1, 2, 3, 4, 5, 678_000, time.UTC)
	status := func(name, typ, connectID string, order int) *ent.AgentStatus {
		return &ent.AgentStatus{
			ID: gid.New("ST"), TenantID: f.tenant, CreatedAt: created, UpdatedAt: created.Add(time.Hour),
			Name: name, Type: agentstatus.Type(typ), DisplayOrder: order, Enabled: true,
			ConnectStatusID:  connectID,
			ConnectStatusArn: "arn:aws:connect:eu-west-2:123456789012:instance/" + f.instance + "/agent-state/" + connectID,
		}
	}
	f.available = status("Available", "ROUTABLE", "0d3c7b2e-7f39-4c1e-9f4b-0b8b1c9f2a10", 1)
	f.onBreak = status("Break", "CUSTOM", "9a4e6c1d-2b7f-4e8a-a5d3-6f1c2e9b7d40", 2)
	for i := range agents {
		f.agents = append(f.agents, &ent.Agent{
			ID: gid.New("AG"), TenantID: f.tenant, CreatedAt: created, UpdatedAt: created,
			Name:            fmt.Sprintf("Agent Number %d", i),
			Email:           fmt.Sprintf("agent.number.%d@example.com", i),
			ConnectUsername: fmt.Sprintf("agent%d", i),
			ConnectUserID:   fmt.Sprintf("b1c2d3e4-0000-4000-8000-%012d", i),
			Role:            viewer.RoleAgent,
		})
	}
	return f
}

// event is agent i changing from one of the statuses to the other at at.
func (f *fixture) event(i int, toBreak bool, at time.Time) *livestatus.Event {
	status, previous := f.available, f.onBreak
	if toBreak {
		status, previous = previous, status
	}
	a := *f.agents[i]
	a.CurrentStatusID, a.StatusSince = &status.ID, &at
	a.Edges = ent.AgentEdges{CurrentStatus: status}
	return &livestatus.Event{Agent: &a, Status: status, Previous: previous, At: at}
}

// receive waits for an event on sub.
func receive(t testing.TB, sub *livestatus.Subscription, within time.Duration) *livestatus.Event {
	t.Helper()
	select {
	case ev, ok := <-sub.C():
		if !ok {
			t.Fatal("subscription closed")
		}
		return ev
	case <-time.After(within):
		t.Fatalf("no event within %v", within)
		return nil
	}
}

// quiet fails if an event arrives on sub within d.
func quiet(t testing.TB, sub *livestatus.Subscription, d time.Duration, what string) {
	t.Helper()
	select {
	case ev := <-sub.C():
		t.Errorf("%s: unexpected event for agent %s", what, ev.Agent.ID)
	case <-time.After(d):
	}
}

func sameEntity(t *testing.T, what string, got, want any) {
	t.Helper()
	// Both sides print every field the same way once times are UTC.
	if g, w := fmt.Sprintf("%+v", got), fmt.Sprintf("%+v", want); g != w {
		t.Errorf("%s:\n got  %s\n want %s", what, g, w)
	}
}

func TestRelayDeliversToOtherReplicas(t *testing.T) {
	dsn, db := database(t)
	a := newReplica(t, dsn, db, nil)
	b := newReplica(t, dsn, db, nil)
	f := newFixture(1)
	other := newFixture(1)

	onA := a.broker.Subscribe(f.tenant, nil, 8)
	defer onA.Close()
	onB := b.broker.Subscribe(f.tenant, nil, 8)
	defer onB.Close()
	onBAgent := b.broker.Subscribe(f.tenant, []gid.ID{f.agents[0].ID}, 8)
	defer onBAgent.Close()
	otherOnB := b.broker.Subscribe(other.tenant, nil, 8)
	defer otherOnB.Close()

	sent := f.event(0, true, time.Now().UTC())
	a.publisher.Publish(sent)

	got := receive(t, onB, 5*time.Second)
	if got == sent {
		t.Fatal("replica B received the sender's own event value")
	}
	sameEntity(t, "agent", got.Agent.String(), sent.Agent.String())
	sameEntity(t, "status", got.Status.String(), sent.Status.String())
	sameEntity(t, "previous", got.Previous.String(), sent.Previous.String())
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"agent ID", got.Agent.ID, sent.Agent.ID},
		{"tenant", got.Agent.TenantID, sent.Agent.TenantID},
		{"name", got.Agent.Name, sent.Agent.Name},
		{"email", got.Agent.Email, sent.Agent.Email},
		{"connect username", got.Agent.ConnectUsername, sent.Agent.ConnectUsername},
		{"connect user ID", got.Agent.ConnectUserID, sent.Agent.ConnectUserID},
		{"role", got.Agent.Role, sent.Agent.Role},
		{"current status ID", *got.Agent.CurrentStatusID, *sent.Agent.CurrentStatusID},
		{"status since", got.Agent.StatusSince.UnixNano(), sent.Agent.StatusSince.UnixNano()},
		{"at", got.At.UnixNano(), sent.At.UnixNano()},
		{"status ID", got.Status.ID, sent.Status.ID},
		{"status tenant", got.Status.TenantID, sent.Status.TenantID},
		{"status name", got.Status.Name, sent.Status.Name},
		{"status type", got.Status.Type, sent.Status.Type},
		{"status ARN", got.Status.ConnectStatusArn, sent.Status.ConnectStatusArn},
		{"previous ID", got.Previous.ID, sent.Previous.ID},
		{"previous name", got.Previous.Name, sent.Previous.Name},
		{"previous type", got.Previous.Type, sent.Previous.Type},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if got.Agent.Edges.CurrentStatus != got.Status {
		t.Error("Agent.Edges.CurrentStatus is not the event's Status")
	}
	if cs, err := got.Agent.Edges.CurrentStatusOrErr(); err != nil || cs.ID != sent.Status.ID {
		t.Errorf("CurrentStatusOrErr: %v, %v", cs, err)
	}
	if ev := receive(t, onBAgent, 5*time.Second); ev.Agent.ID != sent.Agent.ID {
		t.Errorf("agent subscription got agent %s", ev.Agent.ID)
	}

	// A's subscriber has it once, from its own broker; not again from its
	// own notification.
	if ev := receive(t, onA, time.Second); ev != sent {
		t.Error("replica A's subscriber did not get the published event itself")
	}
	quiet(t, onA, 500*time.Millisecond, "replica A")
	quiet(t, otherOnB, 0, "another tenant on B")
	quiet(t, onB, 0, "replica B, a second time")

	eventually(t, "A counted what it sent", func() bool { return a.relay.Stats().Sent == 1 })
	sa, sb := a.relay.Stats(), b.relay.Stats()
	if sa.Sent != 1 || sa.Notifications != 1 || sa.Received != 0 {
		t.Errorf("A's stats: %+v", sa)
	}
	if sb.Received != 1 || sb.ReceivedNotifications != 1 || sb.Sent != 0 {
		t.Errorf("B's stats: %+v", sb)
	}
	if n := b.broker.Stats().Published; n != 1 {
		t.Errorf("B's broker published %d events, want 1", n)
	}
	if a.relay.ReplicaID() == b.relay.ReplicaID() {
		t.Error("two relays share a replica ID")
	}
}

func TestRelayCoalesces(t *testing.T) {
	const agents, events = 50, 2000
	dsn, db := database(t)
	a := newReplica(t, dsn, db, nil)
	b := newReplica(t, dsn, db, nil)
	f := newFixture(agents)
	sub := b.broker.Subscribe(f.tenant, nil, 2*events)
	defer sub.Close()

	start := time.Now()
	base := time.Now().UTC()
	for i := range events {
		a.publisher.Publish(f.event(i%agents, i%2 == 0, base.Add(time.Duration(i)*time.Microsecond)))
	}
	last := map[gid.ID]time.Time{}
	for range events {
		ev := receive(t, sub, 10*time.Second)
		if prev, ok := last[ev.Agent.ID]; ok && !ev.At.After(prev) {
			t.Fatalf("agent %s: event of %v after %v", ev.Agent.ID, ev.At, prev)
		}
		last[ev.Agent.ID] = ev.At
	}
	elapsed := time.Since(start)
	quiet(t, sub, 200*time.Millisecond, "after all events")

	eventually(t, "A counted what it sent", func() bool { return a.relay.Stats().Sent == events })
	s := a.relay.Stats()
	t.Logf("%d events in %v: %d notifications in %d statements, %d bytes (%.0f per event), largest payload %d bytes",
		events, elapsed.Round(time.Millisecond), s.Notifications, s.Statements, s.Bytes, float64(s.Bytes)/events, s.MaxPayload)
	if s.Sent != events || s.DroppedQueueFull+s.DroppedOversized+s.DroppedSendError != 0 {
		t.Errorf("stats: %+v", s)
	}
	if s.Notifications >= 200 {
		t.Errorf("%d notifications for %d events, want far fewer", s.Notifications, events)
	}
	if s.MaxPayload >= 8000 || s.MaxPayload == 0 {
		t.Errorf("largest payload %d bytes", s.MaxPayload)
	}
	eventually(t, "B counted every event", func() bool { return b.relay.Stats().Received == events })
}

// terminateListeners ends the listening connections of this database and
// returns their number; with wait, once their backends are gone.
func terminateListeners(t testing.TB, db *sql.DB, wait bool) int {
	t.Helper()
	var pids []int64
	// pg_terminate_backend in the select list, where it runs for the rows
	// the WHERE clause keeps only.
	err := db.QueryRow(`SELECT coalesce(array_agg(pid), '{}') FROM (
		SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND application_name = $1) AS t`,
		listenerApp).Scan(pq.Array(&pids))
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); wait; time.Sleep(10 * time.Millisecond) {
		var n int
		err := db.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)`, pq.Array(pids)).Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d terminated backends still there after 5s", n)
		}
	}
	return len(pids)
}

// sendUntilReceived publishes events on from until one of them reaches sub;
// events sent before it was called are skipped.
func sendUntilReceived(t testing.TB, from *replica, sub *livestatus.Subscription, f *fixture, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(within)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		from.publisher.Publish(f.event(0, i%2 == 0, time.Now()))
	wait:
		for {
			select {
			case ev := <-sub.C():
				if !ev.At.Before(start) {
					return time.Since(start)
				}
			case <-tick.C:
				break wait
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no event arrived within %v", within)
		}
	}
}

// eventually waits up to 5 seconds for ok to hold: a sender counts what it
// sent after the statement returns, which may be after the receiver has it.
func eventually(t testing.TB, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Errorf("%s: not so after 5s", what)
			return
		}
	}
}

func TestRelayReconnects(t *testing.T) {
	dsn, db := database(t)
	a := newReplica(t, dsn, db, nil)
	b := newReplica(t, dsn, db, nil)
	f := newFixture(1)
	sub := b.broker.Subscribe(f.tenant, nil, 64)
	defer sub.Close()
	sendUntilReceived(t, a, sub, f, 5*time.Second)

	if n := terminateListeners(t, db, true); n != 2 {
		t.Fatalf("terminated %d listening connections, want 2", n)
	}
	took := sendUntilReceived(t, a, sub, f, 10*time.Second)
	t.Logf("events flowed again %v after the listeners were terminated", took.Round(time.Millisecond))
	if s := b.relay.Stats(); s.Reconnects < 1 {
		t.Errorf("B counted no reconnect: %+v", s)
	}
	// And the other way round, through A's new listening connection.
	subA := a.broker.Subscribe(f.tenant, nil, 64)
	defer subA.Close()
	sendUntilReceived(t, b, subA, f, 10*time.Second)
	if s := a.relay.Stats(); s.Reconnects < 1 {
		t.Errorf("A counted no reconnect: %+v", s)
	}
}

// proxy forwards TCP connections to a server; freeze makes the connections
// open at that moment swallow everything, like a network that went dead
// without a word.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	frozen map[net.Conn]*atomic.Bool
}

func newProxy(t testing.TB, target string) *proxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, frozen: map[net.Conn]*atomic.Bool{}}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		p.mu.Lock()
		for c := range p.frozen {
			c.Close()
		}
		p.mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			dead := new(atomic.Bool)
			p.mu.Lock()
			p.frozen[c], p.frozen[s] = dead, dead
			p.mu.Unlock()
			pipe := func(dst, src net.Conn) {
				defer wg.Done()
				defer dst.Close()
				defer src.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := src.Read(buf)
					if err != nil {
						return
					}
					if dead.Load() {
						continue
					}
					if _, err := dst.Write(buf[:n]); err != nil {
						return
					}
				}
			}
			wg.Add(2)
			go pipe(s, c)
			go pipe(c, s)
		}
	}()
	return p
}

func (p *proxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, dead := range p.frozen {
		dead.Store(true)
	}
}

func TestRelayNoticesDeadConnection(t *testing.T) {
	dsn, db := database(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	px := newProxy(t, u.Host)
	u.Host = px.ln.Addr().String()
	viaProxy := u.String()

	a := newReplica(t, dsn, db, nil)
	b := newReplica(t, viaProxy, db, func(o *pgrelay.Options) {
		o.PingInterval, o.PingTimeout = 100*time.Millisecond, 300*time.Millisecond
	})
	f := newFixture(1)
	sub := b.broker.Subscribe(f.tenant, nil, 64)
	defer sub.Close()
	sendUntilReceived(t, a, sub, f, 5*time.Second)

	px.freeze()
	took := sendUntilReceived(t, a, sub, f, 10*time.Second)
	s := b.relay.Stats()
	t.Logf("events flowed again %v after the connection went dead; %+v", took.Round(time.Millisecond), s)
	if s.PingFailures < 1 || s.Reconnects < 1 {
		t.Errorf("want a failed ping and a reconnect: %+v", s)
	}
}

func TestRelayTruncatesOrDropsOversizedEvents(t *testing.T) {
	dsn, db := database(t)
	a := newReplica(t, dsn, db, nil)
	b := newReplica(t, dsn, db, nil)
	f := newFixture(3)
	sub := b.broker.Subscribe(f.tenant, nil, 8)
	defer sub.Close()

	long := f.event(0, true, time.Now())
	long.Agent.Name = strings.Repeat("Ünïcødé ", 2000) // 22,000 bytes
	noID := f.event(1, true, time.Now())
	noID.Agent.ConnectUserID = strings.Repeat("x", 9000) // not text: never cut
	after := f.event(2, true, time.Now())
	a.publisher.Publish(long)
	a.publisher.Publish(noID)
	a.publisher.Publish(after)

	got := receive(t, sub, 5*time.Second)
	if got.Agent.ID != long.Agent.ID || !strings.HasSuffix(got.Agent.Name, "…") ||
		len(got.Agent.Name) > 1024 || !strings.HasPrefix(long.Agent.Name, strings.TrimSuffix(got.Agent.Name, "…")) {
		t.Errorf("long event: agent %s named %q", got.Agent.ID, got.Agent.Name)
	}
	if got := receive(t, sub, 5*time.Second); got.Agent.ID != after.Agent.ID {
		t.Errorf("got agent %s, want the event after the dropped one", got.Agent.ID)
	}
	eventually(t, "A counted what it sent", func() bool { return a.relay.Stats().Sent == 2 })
	s := a.relay.Stats()
	if s.Truncated != 1 || s.DroppedOversized != 1 || s.Sent != 2 || s.MaxPayload >= 8000 {
		t.Errorf("stats: %+v", s)
	}
}

func TestRelayFlushesOnClose(t *testing.T) {
	const events = 1000
	dsn, db := database(t)
	a := newReplica(t, dsn, db, func(o *pgrelay.Options) { o.FlushInterval = time.Second })
	b := newReplica(t, dsn, db, nil)
	f := newFixture(10)
	sub := b.broker.Subscribe(f.tenant, nil, 2*events)
	defer sub.Close()
	for i := range events {
		a.publisher.Publish(f.event(i%10, i%2 == 0, time.Now()))
	}
	a.relay.Close()
	for range events {
		receive(t, sub, 5*time.Second)
	}
	a.publisher.Publish(f.event(0, true, time.Now())) // after Close: dropped, no panic
	s := a.relay.Stats()
	if s.Sent != events || s.DroppedQueueFull != 1 {
		t.Errorf("stats: %+v", s)
	}
}

func TestRelaySendNeverBlocks(t *testing.T) {
	const events = 20000
	dsn, db := database(t)
	a := newReplica(t, dsn, db, func(o *pgrelay.Options) { o.QueueSize = 64 })
	f := newFixture(10)
	evs := make([]*livestatus.Event, events)
	for i := range evs {
		evs[i] = f.event(i%10, i%2 == 0, time.Now())
	}
	start := time.Now()
	for _, ev := range evs {
		a.relay.Send(ev)
	}
	took := time.Since(start)
	a.relay.Send(nil)
	a.relay.Close()
	s := a.relay.Stats()
	t.Logf("%d Sends took %v; %+v", events, took, s)
	if took > time.Second {
		t.Errorf("%d Sends took %v", events, took)
	}
	// events and a nil one: each sent or dropped.
	if s.DroppedQueueFull == 0 || s.Sent+s.DroppedQueueFull+s.DroppedInvalid != events+1 {
		t.Errorf("stats: %+v", s)
	}
}

func TestRelayCloseLeavesNoGoroutines(t *testing.T) {
	dsn := testenv.PostgresURL(t)
	before := runtime.NumGoroutine()
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	var relays []*replica
	for range 2 {
		relays = append(relays, newReplica(t, dsn, db, func(o *pgrelay.Options) {
			o.PingInterval = 20 * time.Millisecond
		}))
	}
	f := newFixture(2)
	sub := relays[1].broker.Subscribe(f.tenant, nil, 64)
	sendUntilReceived(t, relays[0], sub, f, 5*time.Second)
	terminateListeners(t, db, false) // and close while lib/pq reconnects
	time.Sleep(50 * time.Millisecond)
	sub.Close()
	for _, r := range relays {
		r.relay.Close()
		r.relay.Close() // twice is fine
	}
	db.Close()

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			var buf strings.Builder
			_ = pprof.Lookup("goroutine").WriteTo(&buf, 1)
			t.Fatalf("%d goroutines before, %d after Close:\n%s", before, runtime.NumGoroutine(), buf.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestNewFailsWithoutDatabase(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	db, err := sql.Open("postgres", "postgres://postgres@"+addr+"/x?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err = pgrelay.New(ctx, pgrelay.Options{
		DSN: "postgres://postgres@" + addr + "/x?sslmode=disable", DB: db, Broker: livestatus.NewBroker(),
		MinReconnect: 50 * time.Millisecond, Logger: testLogger(t),
	})
	if err == nil || !strings.Contains(err.Error(), "refused") {
		t.Fatalf("New: %v, want a deadline error naming the refused connection", err)
	}
	for deadline := time.Now().Add(3 * time.Second); runtime.NumGoroutine() > before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines before, %d after a failed New", before, runtime.NumGoroutine())
		}
	}
	if _, err := pgrelay.New(context.Background(), pgrelay.Options{DB: db, Broker: livestatus.NewBroker()}); err == nil {
		t.Error("New without a DSN succeeded")
	}
}

// BenchmarkRelay measures events end to end, from Publisher.Publish on one
// replica to a subscriber on another: "burst" publishes 1,000 events (or
// b.N, if more) at once;
// the "paced" cases publish 1,000 events a second (one replica's planned
// load) with the default and a longer flush interval, and report latency.
func BenchmarkRelay(b *testing.B) {
	b.Run("burst", func(b *testing.B) { benchmarkRelay(b, 0, 0) })
	b.Run("paced1000/flush2ms", func(b *testing.B) { benchmarkRelay(b, 1000, 2*time.Millisecond) })
	b.Run("paced1000/flush20ms", func(b *testing.B) { benchmarkRelay(b, 1000, 20*time.Millisecond) })
}

func benchmarkRelay(b *testing.B, perSecond int, flush time.Duration) {
	// At least 1,000 events, whatever b.N (make bench runs each benchmark
	// once): coalescing needs a stream to show.
	n := max(b.N, 1000)
	dsn, db := database(b)
	a := newReplica(b, dsn, db, func(o *pgrelay.Options) { o.QueueSize, o.FlushInterval = n+16, flush })
	r := newReplica(b, dsn, db, nil)
	f := newFixture(1000)
	sub := r.broker.Subscribe(f.tenant, nil, n+16)
	defer sub.Close()
	events := make([]*livestatus.Event, 2000)
	for i := range events {
		events[i] = f.event(i%1000, i%2000 < 1000, time.Now())
	}
	latencies := make([]time.Duration, 0, n)
	received := make(chan struct{})
	go func() {
		defer close(received)
		for range n {
			select {
			case ev := <-sub.C():
				latencies = append(latencies, time.Since(ev.At))
			case <-time.After(30 * time.Second):
				return
			}
		}
	}()
	before := a.relay.Stats()

	b.ResetTimer()
	start := time.Now()
	for i := range n {
		ev := events[i%len(events)]
		if perSecond > 0 {
			due := start.Add(time.Duration(i) * time.Second / time.Duration(perSecond))
			time.Sleep(time.Until(due))
			ev = f.event(i%1000, i%2 == 0, time.Now())
		}
		a.publisher.Publish(ev)
	}
	<-received
	elapsed := time.Since(start)
	b.StopTimer()

	if len(latencies) != n {
		b.Fatalf("%d of %d events arrived: %+v", len(latencies), n, a.relay.Stats())
	}
	eventually(b, "A counted what it sent", func() bool { return a.relay.Stats().Sent-before.Sent == int64(n) })
	s := a.relay.Stats()
	b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
	b.ReportMetric(float64(s.Notifications-before.Notifications)*1000/float64(n), "notifications/1000events")
	b.ReportMetric(float64(s.Statements-before.Statements)*1000/float64(n), "statements/1000events")
	b.ReportMetric(float64(s.Bytes-before.Bytes)/float64(n), "bytes/event")
	if perSecond > 0 {
		slices.Sort(latencies)
		b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "ms-p50")
		b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "ms-p99")
	}
}
