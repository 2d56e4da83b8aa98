// Package pgrelay carries live agent-status events between the replicas of
// switchboard that share one PostgreSQL, over LISTEN/NOTIFY.
//
// Each replica runs one Relay. Its Send (the livestatus.Relay a
// livestatus.Publisher calls after the local broker has the event) only
// queues the event; one goroutine packs what is queued into as few
// notifications as it can and sends them with pg_notify, and a dedicated
// listening connection (lib/pq's Listener) receives every replica's
// notifications and publishes the events of the others to the local broker.
//
// Few notifications, because PostgreSQL serialises the commits of every
// transaction that notifies, in every database of the server, under one lock
// held until the commit is durable: one notification per status change would
// bound the platform's change rate by that serial commit rate. So the sender waits up to FlushInterval
// after the first queued event for others, packs events into payloads just
// under PostgreSQL's 8000-byte limit (MaxPayload), and sends every payload of
// a flush in one statement, hence one transaction and one commit.
//
// Delivery is best effort, as the design allows (a desktop that reconnects
// reads current statuses by query): events are dropped, and counted, when
// the queue is full, when a notification cannot be sent, and while the
// listening connection is down (lib/pq reconnects on its own; the relay pings
// it, and closes a connection that stops answering, so that a dead
// connection is noticed).
//
// # Wire format
//
// A notification's payload is one compact JSON object:
//
//	{"r":"<replica>","q":<seq>,"t":<time>,"s":[<status>,...],"e":[<event>,...]}
//
// r is the sending relay's random ID (a receiver skips its own payloads by
// comparing this prefix, before parsing); q numbers the sender's payloads;
// t is when the sender began the payload, in Unix nanoseconds (the relay
// lag is measured from it; absent from older senders).
// s is the payload's table of agent statuses, each written once: an event
// names its status and previous status by 1-based position in it ("s" and
// "p", absent for none). An event is {"t": tenant ID, "w": time, "a": agent,
// "s", "p"}; an agent {"i","c","m","e","n","u","x","r","f","s","z","rp"} (ID,
// created, updated, email, name, Connect username, Connect user ID, role,
// flags, current status ID, status since, Connect routing profile); a status {"i","c","m","t","n",
// "y","o","d","x","xa"} (ID, created, updated, tenant, name, type, display
// order, disabled, Connect status ID and ARN). Empty values are left out, and
// so are values the receiver can infer: a status's tenant when it is the
// event's; the agent's current status ID (flag 1) when it is the event's
// status, and its status-since (flag 2) when it is the event's time. Times
// are integer Unix nanoseconds (an RFC 3339 string outside the years 1678 to
// 2261) and are read back in UTC. Edges are not carried: the receiver sets
// Agent.Edges.CurrentStatus to the event's Status.
//
// Keep changes additive: replicas of two versions share the channel during a
// rolling deploy, and a receiver ignores keys it does not know.
//
// An event too large for a payload of its own has its free text (agent name,
// email and Connect username, status names) cut, with an ellipsis, to 1024,
// then 256, then 64 bytes until it fits, and is counted as Truncated; one that
// still does not fit (its identifiers alone are too long) is dropped and
// counted as DroppedOversized. With values within the ent schema's length
// limits no event is dropped, and only text made mostly of characters that
// JSON escapes (control characters, invalid UTF-8) is ever cut.
package pgrelay

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"

	"switchboard/ent"
	"switchboard/livestatus"
)

// DefaultChannel is the notification channel when Options.Channel is empty.
const DefaultChannel = "switchboard_agent_status"

// Defaults of Options.
const (
	DefaultFlushInterval = 2 * time.Millisecond
	DefaultQueueSize     = 8192
	DefaultMinReconnect  = 200 * time.Millisecond
	DefaultMaxReconnect  = 10 * time.Second
	DefaultPingInterval  = 15 * time.Second
	DefaultPingTimeout   = 10 * time.Second
	DefaultSendTimeout   = 5 * time.Second
	DefaultCloseTimeout  = 5 * time.Second
)

// maxPayloadsPerStatement bounds the payloads sent in one statement (one
// transaction), about 128 KB.
const maxPayloadsPerStatement = 16

// Counter names given to Options.Metrics; each is also a field of Stats.
const (
	CounterSent             = "sent_events"
	CounterNotifications    = "notifications"
	CounterStatements       = "statements"
	CounterBytes            = "payload_bytes"
	CounterTruncated        = "truncated_events"
	CounterDroppedQueueFull = "dropped_queue_full"
	CounterDroppedOversized = "dropped_oversized"
	CounterDroppedInvalid   = "dropped_invalid"
	CounterDroppedSendError = "dropped_send_error"
	CounterSendErrors       = "send_errors"
	CounterReceived         = "received_events"
	CounterReceivedNotifs   = "received_notifications"
	CounterDecodeErrors     = "decode_errors"
	CounterReconnects       = "reconnects"
	CounterRefilled         = "refilled"
	CounterPingFailures     = "ping_failures"
)

// Options configure a Relay. DSN, DB and Broker are required.
type Options struct {
	// DSN is the lib/pq connection string of the listening connection, a URL
	// or key=value pairs; adding application_name=switchboard-listener makes
	// it easy to find in pg_stat_activity.
	DSN string
	// DB is where notifications are sent from: the same database as DSN.
	DB *sql.DB
	// Broker receives the events of the other replicas.
	Broker *livestatus.Broker
	// Client, when set, is what the entities of the other replicas' events
	// are bound to (ent's Attach), so that a subscriber can query their
	// edges.
	Client *ent.Client
	// Channel is the notification channel, at most 63 bytes; DefaultChannel
	// when empty. Every replica must use the same.
	Channel string
	// FlushInterval is how long the sender waits, after the first queued
	// event, for others to send with it: the latency it adds, traded for
	// fewer notifications. DefaultFlushInterval when zero.
	FlushInterval time.Duration
	// QueueSize is how many events may wait to be sent; Send drops events
	// beyond it. DefaultQueueSize when zero.
	QueueSize int
	// MinReconnect and MaxReconnect bound lib/pq's wait between attempts to
	// reconnect the listening connection (it doubles after each failure).
	MinReconnect, MaxReconnect time.Duration
	// PingInterval is how often the listening connection is pinged, and
	// PingTimeout how long a ping may take before the connection is closed
	// as dead (and reconnected).
	PingInterval, PingTimeout time.Duration
	// SendTimeout bounds one pg_notify statement.
	SendTimeout time.Duration
	// CloseTimeout bounds Close's last flush.
	CloseTimeout time.Duration
	// Logger receives the relay's log; slog.Default() when nil.
	Logger *slog.Logger
	// Metrics, when set, is told of every change of a counter (see the
	// Counter constants) by its name and increment. It must be quick and
	// safe for concurrent use.
	Metrics func(counter string, delta int64)
	// Refill, when set, returns the changes committed since a time, as
	// events: after the listening connection is re-established the relay
	// publishes those of the gap it was down for, so that no subscriber is
	// left on a status that changed meanwhile. (The broker leaves out those
	// older than what it has already published.)
	Refill func(ctx context.Context, since time.Time) ([]*livestatus.Event, error)
	// Lag, when set, is told for each notification received from another
	// replica how long after its first event was published there it
	// arrived here (as far as the two clocks agree). It must be quick.
	Lag func(time.Duration)
	// OnMessage, when set, receives each message of the other replicas
	// (livestatus.Messenger), from the receiving goroutine: it must be
	// quick.
	OnMessage func(livestatus.Message)
}

// Stats are a relay's counters since it started.
type Stats struct {
	Sent          int64 // events sent in notifications
	Notifications int64 // notifications (payloads) sent
	Statements    int64 // pg_notify statements (transactions) that succeeded
	Bytes         int64 // payload bytes sent
	MaxPayload    int64 // the largest payload sent, in bytes
	Truncated     int64 // events whose text was cut to fit a payload

	DroppedQueueFull int64 // events Send dropped: queue full, or relay closed
	DroppedOversized int64 // events too large for a payload even truncated
	DroppedInvalid   int64 // nil events or events without an agent, or unencodable
	DroppedSendError int64 // events in statements that failed
	SendErrors       int64 // statements that failed

	Received              int64 // events received from other replicas and published
	ReceivedNotifications int64 // notifications received from other replicas
	DecodeErrors          int64 // notifications that could not be read
	Reconnects            int64 // times the listening connection was re-established
	Refilled              int64 // events of a gap published from Refill after a reconnect
	PingFailures          int64 // pings of the listening connection that failed or timed out

	Queued int // events waiting to be sent now
}

// Relay is a livestatus.Relay over PostgreSQL LISTEN/NOTIFY. Create it with
// New; Close it when the process stops.
type Relay struct {
	opt     Options
	log     *slog.Logger
	id      string
	own     string // the prefix of this relay's payloads
	queue   chan item
	done    chan struct{}
	closing atomic.Bool
	once    sync.Once

	listener *pq.Listener
	dialer   *watchDialer
	sendCtx  context.Context // cancelled when Close gives up waiting
	cancel   context.CancelFunc
	wg       sync.WaitGroup

	started     bool         // New succeeded: receiveLoop drains Notify
	lastConnErr atomic.Value // connErr: the listener's last connection failure
	warned      sync.Map     // string → *atomic.Int64: last warning, Unix ns

	sent, notifications, statements, bytes, maxPayload, truncated         atomic.Int64
	droppedQueue, droppedOversized, droppedInvalid, droppedSend, sendErrs atomic.Int64
	received, receivedNotifs, decodeErrs, reconnects, pingFailures        atomic.Int64
	refilled                                                              atomic.Int64

	// down is when the listening connection was last found down, in Unix
	// nanoseconds; 0 while it is up.
	down atomic.Int64
}

var (
	_ livestatus.Relay     = (*Relay)(nil)
	_ livestatus.Messenger = (*Relay)(nil)
)

// item is what waits in the send queue: an event or a message.
type item struct {
	ev  *livestatus.Event
	msg *livestatus.Message
}

// New starts a relay: it connects the listening connection, listens on the
// channel, and starts the sender, the receiver and the pinger. ctx bounds the
// start only (New waits for the first connection); Close ends the relay.
func New(ctx context.Context, opt Options) (*Relay, error) {
	switch {
	case opt.DSN == "":
		return nil, errors.New("pgrelay: Options.DSN is required")
	case opt.DB == nil:
		return nil, errors.New("pgrelay: Options.DB is required")
	case opt.Broker == nil:
		return nil, errors.New("pgrelay: Options.Broker is required")
	}
	if opt.Channel == "" {
		opt.Channel = DefaultChannel
	}
	if len(opt.Channel) > 63 {
		return nil, fmt.Errorf("pgrelay: channel %q is longer than 63 bytes", opt.Channel)
	}
	setDefault(&opt.FlushInterval, DefaultFlushInterval)
	setDefault(&opt.MinReconnect, DefaultMinReconnect)
	setDefault(&opt.MaxReconnect, DefaultMaxReconnect)
	setDefault(&opt.PingInterval, DefaultPingInterval)
	setDefault(&opt.PingTimeout, DefaultPingTimeout)
	setDefault(&opt.SendTimeout, DefaultSendTimeout)
	setDefault(&opt.CloseTimeout, DefaultCloseTimeout)
	if opt.MaxReconnect < opt.MinReconnect {
		opt.MaxReconnect = opt.MinReconnect
	}
	if opt.QueueSize <= 0 {
		opt.QueueSize = DefaultQueueSize
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}

	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("pgrelay: replica ID: %w", err)
	}
	id := hex.EncodeToString(b[:])
	r := &Relay{
		opt:   opt,
		log:   opt.Logger.With("component", "pgrelay", "channel", opt.Channel, "replica", id),
		id:    id,
		own:   `{"r":"` + id + `"`,
		queue: make(chan item, opt.QueueSize),
		done:  make(chan struct{}),
	}
	r.sendCtx, r.cancel = context.WithCancel(context.Background())
	r.dialer = newWatchDialer()
	r.listener = pq.NewDialListener(r.dialer, opt.DSN, opt.MinReconnect, opt.MaxReconnect, r.listenerEvent)

	// Listen returns once the listener is connected and listening; lib/pq
	// retries a failing first connection on its own, so bound the wait.
	listened := make(chan error, 1)
	go func() { listened <- r.listener.Listen(opt.Channel) }()
	var err error
	select {
	case err = <-listened:
	case <-ctx.Done():
		err = ctx.Err()
		if last, ok := r.lastConnErr.Load().(connErr); ok {
			err = fmt.Errorf("%w (last connection error: %w)", err, last.err)
		}
	}
	if err != nil {
		r.stopListener()
		<-listened
		r.cancel()
		return nil, fmt.Errorf("pgrelay: listening on %q: %w", opt.Channel, err)
	}

	r.started = true
	r.wg.Add(3)
	go r.sendLoop()
	go r.receiveLoop()
	go r.pingLoop()
	r.log.Debug("relay started")
	return r, nil
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// ReplicaID returns the relay's random ID, which marks its notifications.
func (r *Relay) ReplicaID() string { return r.id }

// Send queues ev for the other replicas without blocking; when the queue is
// full, or the relay is closed, it drops the event and counts it. The event
// must not be modified afterwards (events are shared, see livestatus.Event).
func (r *Relay) Send(ev *livestatus.Event) { r.enqueue(item{ev: ev}) }

// SendMessage queues m for the other replicas, as Send does an event.
func (r *Relay) SendMessage(m livestatus.Message) { r.enqueue(item{msg: &m}) }

func (r *Relay) enqueue(it item) {
	if r.closing.Load() {
		r.count(&r.droppedQueue, CounterDroppedQueueFull, 1)
		return
	}
	select {
	case r.queue <- it:
	default:
		r.count(&r.droppedQueue, CounterDroppedQueueFull, 1)
		r.warnEvery("queue_full", "live status relay queue full: dropping events for other replicas",
			"queue", cap(r.queue), "dropped_total", r.droppedQueue.Load())
	}
}

// Close sends what is queued (within Options.CloseTimeout), stops the
// relay's goroutines and closes the listening connection; when that
// connection is down, it also waits for lib/pq's reconnect timer (at most
// MaxReconnect). Send may still be called: it drops. Close is safe to call
// more than once; later calls wait for the first to finish.
func (r *Relay) Close() {
	r.once.Do(func() {
		r.closing.Store(true)
		close(r.done)
		// The sender flushes the queue; give up after CloseTimeout (plus a
		// little for the statement in flight) by cancelling its statement.
		flushed := make(chan struct{})
		go func() { r.wg.Wait(); close(flushed) }()
		r.stopListener()
		select {
		case <-flushed:
		case <-time.After(r.opt.CloseTimeout + time.Second):
			r.cancel()
			<-flushed
		}
		r.cancel()
		r.log.Debug("relay closed")
	})
}

// stopListener closes the listening connection and waits for lib/pq's
// goroutine to end; the receiver, if running, ends with it.
func (r *Relay) stopListener() {
	// Close the network connection first: a ping stuck on a dead
	// connection holds the lock that Listener.Close needs.
	r.dialer.shutdown()
	_ = r.listener.Close()
	if r.started {
		return // receiveLoop drains Notify until lib/pq closes it
	}
	for range r.listener.Notify {
	}
}

// Stats returns the relay's counters.
func (r *Relay) Stats() Stats {
	return Stats{
		Sent:                  r.sent.Load(),
		Notifications:         r.notifications.Load(),
		Statements:            r.statements.Load(),
		Bytes:                 r.bytes.Load(),
		MaxPayload:            r.maxPayload.Load(),
		Truncated:             r.truncated.Load(),
		DroppedQueueFull:      r.droppedQueue.Load(),
		DroppedOversized:      r.droppedOversized.Load(),
		DroppedInvalid:        r.droppedInvalid.Load(),
		DroppedSendError:      r.droppedSend.Load(),
		SendErrors:            r.sendErrs.Load(),
		Received:              r.received.Load(),
		ReceivedNotifications: r.receivedNotifs.Load(),
		DecodeErrors:          r.decodeErrs.Load(),
		Reconnects:            r.reconnects.Load(),
		Refilled:              r.refilled.Load(),
		PingFailures:          r.pingFailures.Load(),
		Queued:                len(r.queue),
	}
}

func (r *Relay) count(c *atomic.Int64, name string, n int64) {
	c.Add(n)
	if r.opt.Metrics != nil {
		r.opt.Metrics(name, n)
	}
}

// warnEvery logs a warning at most once every 10 seconds per key.
func (r *Relay) warnEvery(key, msg string, args ...any) {
	const every = int64(10 * time.Second)
	v, _ := r.warned.LoadOrStore(key, new(atomic.Int64))
	last := v.(*atomic.Int64)
	now := time.Now().UnixNano()
	prev := last.Load()
	if prev != 0 && now-prev < every || !last.CompareAndSwap(prev, now) {
		return
	}
	r.log.Warn(msg, args...)
}

// sendLoop is the single sender: it waits for an event, gathers what comes
// within FlushInterval into payloads, and sends them.
func (r *Relay) sendLoop() {
	defer r.wg.Done()
	enc := newEncoder(r.id, MaxPayload)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		select {
		case it := <-r.queue:
			r.encode(enc, it)
		case <-r.done:
			r.drain(enc)
			return
		}
		timer.Reset(r.opt.FlushInterval)
		closing := false
	gather:
		for enc.finished() < maxPayloadsPerStatement {
			select {
			case it := <-r.queue:
				r.encode(enc, it)
			case <-timer.C:
				break gather
			case <-r.done:
				closing = true
				break gather
			}
		}
		timer.Stop()
		r.flush(r.sendCtx, enc)
		if closing {
			r.drain(enc)
			return
		}
	}
}

// drain sends what is queued when the relay closes, within CloseTimeout.
func (r *Relay) drain(enc *encoder) {
	ctx, cancel := context.WithTimeout(r.sendCtx, r.opt.CloseTimeout)
	defer cancel()
	for {
		select {
		case it := <-r.queue:
			r.encode(enc, it)
			if enc.finished() >= maxPayloadsPerStatement {
				r.flush(ctx, enc)
			}
		default:
			r.flush(ctx, enc)
			if n := len(r.queue); n > 0 && ctx.Err() == nil {
				continue // Send raced with Close
			}
			return
		}
	}
}

// encode adds an event or a message to the encoder, counting what cannot
// be sent.
func (r *Relay) encode(enc *encoder, it item) {
	if m := it.msg; m != nil {
		err := enc.addMessage(m)
		switch {
		case errors.Is(err, errOversized):
			r.count(&r.droppedOversized, CounterDroppedOversized, 1)
			r.warnEvery("oversized_message", "live status relay: dropping a message too large for a notification",
				"topic", m.Topic, "tenant", m.Tenant, "bytes", len(m.Body))
		case err != nil:
			r.count(&r.droppedInvalid, CounterDroppedInvalid, 1)
			r.warnEvery("encode_message", "live status relay: cannot encode a message", "topic", m.Topic, "err", err)
		}
		return
	}
	ev := it.ev
	if ev == nil || ev.Agent == nil {
		r.count(&r.droppedInvalid, CounterDroppedInvalid, 1)
		r.warnEvery("invalid", "live status relay: dropping an event without an agent")
		return
	}
	truncated, err := enc.add(ev)
	switch {
	case errors.Is(err, errOversized):
		r.count(&r.droppedOversized, CounterDroppedOversized, 1)
		r.warnEvery("oversized", "live status relay: dropping an event too large for a notification",
			"agent", ev.Agent.ID, "tenant", ev.Agent.TenantID, "dropped_total", r.droppedOversized.Load())
	case err != nil:
		r.count(&r.droppedInvalid, CounterDroppedInvalid, 1)
		r.warnEvery("encode", "live status relay: cannot encode an event", "agent", ev.Agent.ID, "err", err)
	case truncated:
		r.count(&r.truncated, CounterTruncated, 1)
		r.warnEvery("truncated", "live status relay: truncated the text of an event too large for a notification",
			"agent", ev.Agent.ID, "tenant", ev.Agent.TenantID)
	}
}

// flush sends every payload of the encoder, up to maxPayloadsPerStatement
// in each statement.
func (r *Relay) flush(ctx context.Context, enc *encoder) {
	payloads := enc.take()
	for len(payloads) > 0 {
		n := min(len(payloads), maxPayloadsPerStatement)
		r.notify(ctx, payloads[:n])
		payloads = payloads[n:]
	}
}

// notify sends payloads in one statement, hence one transaction.
func (r *Relay) notify(ctx context.Context, payloads []payload) {
	args := make([]any, 0, len(payloads)+1)
	args = append(args, r.opt.Channel)
	events, size, largest := 0, 0, 0
	for _, p := range payloads {
		args = append(args, string(p.data))
		events += p.events
		size += len(p.data)
		largest = max(largest, len(p.data))
	}
	ctx, cancel := context.WithTimeout(ctx, r.opt.SendTimeout)
	defer cancel()
	if _, err := r.opt.DB.ExecContext(ctx, notifyQuery(len(payloads)), args...); err != nil {
		r.count(&r.sendErrs, CounterSendErrors, 1)
		r.count(&r.droppedSend, CounterDroppedSendError, int64(events))
		r.warnEvery("send", "live status relay: notifying the other replicas failed; events dropped",
			"events", events, "err", err, "dropped_total", r.droppedSend.Load())
		return
	}
	r.count(&r.statements, CounterStatements, 1)
	r.count(&r.notifications, CounterNotifications, int64(len(payloads)))
	r.count(&r.sent, CounterSent, int64(events))
	r.count(&r.bytes, CounterBytes, int64(size))
	for {
		cur := r.maxPayload.Load()
		if int64(largest) <= cur || r.maxPayload.CompareAndSwap(cur, int64(largest)) {
			break
		}
	}
}

var notifyQueries [maxPayloadsPerStatement + 1]string

func init() {
	for n := 1; n <= maxPayloadsPerStatement; n++ {
		var b strings.Builder
		b.WriteString("SELECT ")
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("pg_notify($1, $" + strconv.Itoa(i+2) + ")")
		}
		notifyQueries[n] = b.String()
	}
}

// notifyQuery returns the statement that sends n payloads.
func notifyQuery(n int) string { return notifyQueries[n] }

// receiveLoop publishes the events of other replicas' notifications until
// lib/pq closes its Notify channel (after Listener.Close).
func (r *Relay) receiveLoop() {
	defer r.wg.Done()
	for n := range r.listener.Notify {
		if n == nil {
			// lib/pq reconnected: what was notified meanwhile is lost, and
			// is read back from the change log.
			r.refillGap()
			continue
		}
		if strings.HasPrefix(n.Extra, r.own) {
			continue // this replica's own; already published locally
		}
		replica, started, events, messages, err := decode([]byte(n.Extra))
		if err != nil {
			r.count(&r.decodeErrs, CounterDecodeErrors, 1)
			r.warnEvery("decode", "live status relay: cannot read a notification", "err", err, "bytes", len(n.Extra))
			continue
		}
		if replica == r.id {
			continue
		}
		r.count(&r.receivedNotifs, CounterReceivedNotifs, 1)
		if r.opt.Lag != nil && !started.IsZero() {
			r.opt.Lag(time.Since(started))
		}
		for _, ev := range events {
			r.publish(ev)
		}
		if r.opt.OnMessage != nil {
			for _, m := range messages {
				r.opt.OnMessage(m)
			}
		}
		r.count(&r.received, CounterReceived, int64(len(events)+len(messages)))
	}
}

// publish hands another replica's event to the local broker.
func (r *Relay) publish(ev *livestatus.Event) {
	if c := r.opt.Client; c != nil {
		for _, st := range []*ent.AgentStatus{ev.Status, ev.Previous, ev.Agent.Edges.CurrentStatus} {
			if st != nil {
				st.Attach(c)
			}
		}
		ev.Agent.Attach(c)
	}
	r.opt.Broker.Publish(ev)
}

// RefillMargin is how much earlier than the listening connection was
// found down the gap is taken to begin, beyond the time a dead connection
// may go unnoticed (PingInterval and PingTimeout): for commits in flight
// and clocks that differ between replicas.
const RefillMargin = 2 * time.Second

// refillGap publishes the changes committed while the listening connection
// was down, read from Refill; without Refill they are lost.
func (r *Relay) refillGap() {
	downAt := time.Now()
	if ns := r.down.Swap(0); ns != 0 {
		downAt = time.Unix(0, ns)
	}
	if r.opt.Refill == nil {
		r.log.Info("live status listener reconnected; events of other replicas sent while it was down are lost")
		return
	}
	since := downAt.Add(-r.opt.PingInterval - r.opt.PingTimeout - RefillMargin)
	ctx, cancel := context.WithTimeout(r.sendCtx, r.opt.SendTimeout)
	defer cancel()
	events, err := r.opt.Refill(ctx, since)
	if err != nil {
		r.log.Warn("live status listener reconnected; the changes made meanwhile could not be read", "err", err, "since", since)
		return
	}
	for _, ev := range events {
		r.publish(ev)
	}
	r.count(&r.refilled, CounterRefilled, int64(len(events)))
	r.log.Info("live status listener reconnected; published the changes made meanwhile", "since", since, "events", len(events))
}

// pingLoop pings the listening connection every PingInterval; a ping that
// takes longer than PingTimeout closes the connection, which lib/pq then
// re-establishes.
func (r *Relay) pingLoop() {
	defer r.wg.Done()
	ticker := time.NewTicker(r.opt.PingInterval)
	defer ticker.Stop()
	for {
		select {
		case <-r.done:
			return
		case <-ticker.C:
		}
		result := make(chan error, 1)
		go func() { result <- r.listener.Ping() }()
		timeout := time.NewTimer(r.opt.PingTimeout)
		select {
		case err := <-result:
			if err != nil {
				r.count(&r.pingFailures, CounterPingFailures, 1)
				r.log.Debug("live status listener ping failed", "err", err)
			}
		case <-timeout.C:
			r.count(&r.pingFailures, CounterPingFailures, 1)
			r.log.Warn("live status listener did not answer a ping; closing its connection", "timeout", r.opt.PingTimeout)
			r.dialer.drop()
		case <-r.done:
			// Close shuts the connection, which ends the ping.
		}
		timeout.Stop()
	}
}

// listenerEvent is lib/pq's callback on the listening connection's state.
func (r *Relay) listenerEvent(ev pq.ListenerEventType, err error) {
	switch ev {
	case pq.ListenerEventConnected:
		r.log.Debug("live status listener connected")
	case pq.ListenerEventReconnected:
		r.count(&r.reconnects, CounterReconnects, 1)
	case pq.ListenerEventDisconnected:
		r.down.CompareAndSwap(0, time.Now().UnixNano())
		if !r.closing.Load() {
			r.log.Warn("live status listener disconnected; reconnecting", "err", err)
		}
	case pq.ListenerEventConnectionAttemptFailed:
		if err != nil {
			r.lastConnErr.Store(connErr{err})
		}
		if !r.closing.Load() {
			r.warnEvery("connect", "live status listener cannot connect; retrying", "err", err)
		}
	}
}

// connErr wraps an error for atomic.Value, which needs one concrete type.
type connErr struct{ err error }

// watchDialer dials the listening connection and keeps hold of it, so that
// the relay can close a connection that stopped answering, and so that
// Close is not held up by a dial or a ping on a dead network.
type watchDialer struct {
	d      net.Dialer
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.Mutex
	conn   net.Conn
	closed bool
}

func newWatchDialer() *watchDialer {
	w := &watchDialer{d: net.Dialer{
		Timeout:         10 * time.Second,
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3},
	}}
	w.ctx, w.cancel = context.WithCancel(context.Background())
	return w
}

// Dial implements pq.Dialer.
func (w *watchDialer) Dial(network, address string) (net.Conn, error) {
	return w.DialContext(context.Background(), network, address)
}

// DialTimeout implements pq.Dialer.
func (w *watchDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return w.DialContext(ctx, network, address)
}

// DialContext implements pq.DialerContext.
func (w *watchDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(w.ctx, cancel)
	defer stop()
	c, err := w.d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		_ = c.Close()
		return nil, net.ErrClosed
	}
	w.conn = c
	return c, nil
}

// drop closes the current connection, which lib/pq then replaces.
func (w *watchDialer) drop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.conn != nil {
		_ = w.conn.Close()
	}
}

// shutdown closes the current connection and refuses further dials.
func (w *watchDialer) shutdown() {
	w.cancel()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	if w.conn != nil {
		_ = w.conn.Close()
	}
}
