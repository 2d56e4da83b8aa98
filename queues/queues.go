// Package queues is the wallboard's live queue figures: for each tenant
// that somebody watches, the instance's queues and their current metrics,
// asked of Amazon Connect once per interval by one replica and shared with
// every watcher on every replica.
//
// Connect allows 5 GetCurrentMetricData calls a second per account, shared
// with everything else the tenant runs, so the cost follows the tenants
// watched, never the watchers: a replica polls a tenant only while it
// holds the tenant's lock (a PostgreSQL advisory lock, store.Locks) and
// only while someone watches it there; the figures go to the other
// replicas as relay messages (livestatus.Messenger), in parts small enough
// for a notification. A replica that takes over a tenant's lock waits out
// the interval since the figures it last received. Throttling backs off,
// doubling the wait up to MaxBackoff.
package queues

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"time"

	"switchboard/apierror"
	"switchboard/connectaws"
	"switchboard/ent"
	"switchboard/ent/schema"
	"switchboard/gid"
	"switchboard/instances"
	"switchboard/livestatus"
	"switchboard/viewer"
)

// Defaults of Options.
const (
	DefaultInterval = 5 * time.Second
	// MaxBackoff bounds the wait after throttling or failure.
	MaxBackoff = time.Minute
	// QueueListTTL is how long an instance's queue list is kept.
	QueueListTTL = 5 * time.Minute
	// Topic is the relay messages' topic.
	Topic = "queues"
	// serviceName names the poller's system viewer.
	serviceName = "queues"
	// maxPart bounds a relay message's body, well within a notification.
	maxPart = 6000
)

// Queue names a queue of the instance.
type Queue struct {
	ID, Name string
}

// Figures are one queue's live figures.
type Figures struct {
	Queue                                                           Queue
	AgentsOnline, AgentsAvailable, AgentsOnContact, ContactsInQueue int
	OldestContactAgeSeconds                                         int
	// UpdatedAt is when Connect took the figures.
	UpdatedAt time.Time
}

// Snapshot is a tenant's figures at one moment, by queue name. It is
// shared by every watcher and must not be modified.
type Snapshot struct {
	Tenant gid.ID
	At     time.Time
	Queues []*Figures
}

// Locker holds the per-tenant locks by which one replica polls a tenant
// (store.Locks).
type Locker interface {
	Try(ctx context.Context, key int64) (bool, error)
	Release(ctx context.Context, key int64)
	Verify(ctx context.Context) error
}

// Options configure a Service.
type Options struct {
	// Interval is how often a watched tenant is polled; DefaultInterval
	// when zero.
	Interval time.Duration
	// Locks decides which replica polls a tenant; nil: this one, always
	// (a single process).
	Locks Locker
	// Messenger carries figures to the other replicas; nil for none.
	Messenger livestatus.Messenger
	Logger    *slog.Logger
	// OnPoll, when set, is told of every poll's outcome (metrics, tests).
	OnPoll func(tenant gid.ID, err error)
}

// Service polls and shares queue figures. Run runs its poller.
type Service struct {
	aws    *connectaws.Clients
	client *ent.Client
	hub    *livestatus.Hub[*Snapshot]
	opt    Options
	kick   chan struct{}

	mu      sync.Mutex
	tenants map[gid.ID]*tenant
}

// tenant is what the service knows of one tenant's figures.
type tenant struct {
	latest  *Snapshot
	seen    time.Time // when latest arrived here, polled or relayed
	next    time.Time // no poll before, after a failure
	backoff time.Duration
	polling bool
	held    bool  // this replica holds the tenant's lock
	failed  error // the last poll's failure, until one succeeds
	failAt  time.Time

	queues   []connectaws.QueueSummary
	queuesOf string // the instance they were listed for, and when it was configured
	queuesAt time.Time

	part *assembly // relayed parts of a snapshot, until all have come
}

// New returns a Service over the store's client, reaching Connect through
// aws.
func New(aws *connectaws.Clients, client *ent.Client, opt Options) *Service {
	if opt.Interval <= 0 {
		opt.Interval = DefaultInterval
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &Service{aws: aws, client: client, hub: livestatus.NewHub[*Snapshot](), opt: opt,
		kick: make(chan struct{}, 1), tenants: map[gid.ID]*tenant{}}
}

// Share sets how the service shares the polling with the other replicas:
// the per-tenant locks and the messenger. It must be called before Run.
func (s *Service) Share(locks Locker, m livestatus.Messenger) {
	s.opt.Locks, s.opt.Messenger = locks, m
}

func (s *Service) state(t gid.ID) *tenant {
	st := s.tenants[t]
	if st == nil {
		st = &tenant{}
		s.tenants[t] = st
	}
	return st
}

// lockKey is the advisory lock of a tenant's polling: a 63-bit hash, so
// that two tenants share one only by a collision that is vanishingly rare.
func lockKey(t gid.ID) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("switchboard/queues/" + string(t)))
	return int64(h.Sum64() >> 1)
}

// nudge asks the poller for a round now.
func (s *Service) nudge() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// tenantOf returns the viewer's tenant's instance: everyone in the tenant
// may watch its queues, on a server that reaches AWS.
func (s *Service) tenantOf(ctx context.Context, c *ent.Client) (gid.ID, error) {
	inst, err := instances.Get(schema.ReadInstance(ctx), c)
	if err != nil {
		return "", err
	}
	if s == nil || s.aws == nil {
		return "", instances.NoAWS()
	}
	return inst.TenantID, nil
}

// fresh returns the tenant's figures if they arrived within two intervals.
func (s *Service) fresh(t gid.ID) *Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.tenants[t]
	if st == nil || st.latest == nil || time.Since(st.seen) > 2*s.opt.Interval {
		return nil
	}
	return st.latest
}

// WaitLimit bounds how long a query waits for a tenant's first figures.
const WaitLimit = 10 * time.Second

// Metrics returns the viewer's tenant's queue figures: the latest, when
// fresh; else it has them polled, and waits for them (at most WaitLimit).
func (s *Service) Metrics(ctx context.Context, c *ent.Client) ([]*Figures, error) {
	t, err := s.tenantOf(ctx, c)
	if err != nil {
		return nil, err
	}
	if snap := s.fresh(t); snap != nil {
		return snap.Queues, nil
	}
	// Subscribed, the tenant is watched: the poller takes it in.
	sub := s.hub.Subscribe(t, nil, 1)
	defer sub.Close()
	start := time.Now()
	s.nudge()
	timeout := time.NewTimer(WaitLimit)
	defer timeout.Stop()
	check := time.NewTicker(20 * time.Millisecond)
	defer check.Stop()
	for {
		select {
		case snap := <-sub.C():
			return snap.Queues, nil
		case <-check.C:
			s.mu.Lock()
			st := s.state(t)
			failed, at := st.failed, st.failAt
			s.mu.Unlock()
			if failed != nil && at.After(start) {
				return nil, upstream(failed)
			}
		case <-timeout.C:
			return nil, apierror.New(apierror.Upstream, "Amazon Connect's queue figures did not arrive within %v", WaitLimit)
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func upstream(err error) error {
	var ae *apierror.Error
	if errors.As(err, &ae) {
		return err
	}
	if connectaws.IsThrottled(err) {
		return apierror.Wrap(apierror.Upstream, err, "Amazon Connect is throttling the queue figures; they come again shortly")
	}
	return apierror.Wrap(apierror.Upstream, err, "Amazon Connect did not give the queue figures")
}

// Subscribe returns the viewer's tenant's figures as each poll brings
// them, the latest first when fresh, until ctx ends.
func (s *Service) Subscribe(ctx context.Context, c *ent.Client) (<-chan []*Figures, error) {
	t, err := s.tenantOf(ctx, c)
	if err != nil {
		return nil, err
	}
	sub := s.hub.Subscribe(t, nil, 2)
	first := s.fresh(t)
	out := make(chan []*Figures, 1)
	if first != nil {
		out <- first.Queues
	}
	s.nudge()
	go func() {
		defer close(out)
		defer sub.Close()
		for {
			select {
			case snap, ok := <-sub.C():
				if !ok {
					return
				}
				select {
				case out <- snap.Queues:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return out, nil
}

// Run polls the watched tenants until ctx ends. It looks for due tenants
// twenty times an interval, so that a tenant is polled within 5% of its
// interval, and asks the store which locks it still holds once an
// interval.
func (s *Service) Run(ctx context.Context) {
	tick := max(s.opt.Interval/20, 10*time.Millisecond)
	t := time.NewTicker(tick)
	defer t.Stop()
	var verified time.Time
	for {
		if s.opt.Locks != nil && time.Since(verified) >= s.opt.Interval {
			_ = s.opt.Locks.Verify(ctx) // a broken session holds nothing: Try takes them again
			verified = time.Now()
		}
		s.round(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.kick:
		}
	}
}

// round starts a poll of each watched tenant that is due and whose lock
// this replica holds or takes, and lets go of the tenants nobody watches
// here.
func (s *Service) round(ctx context.Context) {
	watched := map[gid.ID]bool{}
	for _, t := range s.hub.WatchedTenants() {
		watched[t] = true
	}
	locks := s.opt.Locks
	now := time.Now()
	s.mu.Lock()
	var release []gid.ID
	for t, st := range s.tenants {
		if st.held && !watched[t] && !st.polling {
			st.held = false
			release = append(release, t)
		}
	}
	var due []gid.ID
	for t := range watched {
		st := s.state(t)
		if st.polling || now.Before(st.next) || (!st.seen.IsZero() && now.Sub(st.seen) < s.opt.Interval) {
			continue
		}
		due = append(due, t)
	}
	s.mu.Unlock()
	if locks != nil {
		for _, t := range release { // the store's round trips, outside s.mu
			locks.Release(ctx, lockKey(t))
		}
	}
	for _, t := range due {
		held := true
		if locks != nil {
			var err error
			if held, err = locks.Try(ctx, lockKey(t)); err != nil {
				s.opt.Logger.Warn("queue figures: taking a tenant's lock", "tenant", t, "err", err)
				continue
			}
		}
		s.mu.Lock()
		st := s.state(t)
		st.held = held
		if !held || st.polling {
			s.mu.Unlock()
			continue
		}
		st.polling = true
		s.mu.Unlock()
		go s.poll(ctx, t)
	}
}

// poll asks Connect for the tenant's figures and shares them.
func (s *Service) poll(ctx context.Context, t gid.ID) {
	snap, err := s.ask(ctx, t)
	s.mu.Lock()
	st := s.state(t)
	st.polling = false
	if err != nil {
		st.failed, st.failAt = err, time.Now()
		st.backoff = min(max(2*st.backoff, s.opt.Interval), MaxBackoff)
		st.next = time.Now().Add(st.backoff)
	} else {
		st.failed, st.backoff, st.next = nil, 0, time.Time{}
	}
	s.mu.Unlock()
	if s.opt.OnPoll != nil {
		s.opt.OnPoll(t, err)
	}
	if err != nil {
		if !connectaws.IsThrottled(err) {
			s.opt.Logger.Warn("queue figures: polling a tenant", "tenant", t, "err", err)
		}
		return
	}
	s.receive(snap)
	s.share(snap)
}

// ask reads the tenant's instance, its queues (kept QueueListTTL) and
// their figures.
func (s *Service) ask(ctx context.Context, t gid.ID) (*Snapshot, error) {
	ctx = viewer.NewContext(ctx, viewer.System(t, serviceName))
	inst, err := instances.Get(schema.ReadInstance(ctx), s.client)
	if err != nil {
		return nil, err
	}
	ci := connectaws.InstanceOf(inst)
	key := inst.InstanceArn + "@" + inst.UpdatedAt.UTC().Format(time.RFC3339Nano)
	s.mu.Lock()
	st := s.state(t)
	list := st.queues
	if st.queuesOf != key || time.Since(st.queuesAt) > QueueListTTL {
		list = nil
	}
	s.mu.Unlock()
	if list == nil {
		if list, err = s.aws.Queues(ctx, ci); err != nil {
			return nil, err
		}
		slices.SortFunc(list, func(a, b connectaws.QueueSummary) int { return cmp.Compare(a.Name, b.Name) })
		s.mu.Lock()
		st.queues, st.queuesOf, st.queuesAt = list, key, time.Now()
		s.mu.Unlock()
	}
	ids := make([]string, len(list))
	for i, q := range list {
		ids[i] = q.ID
	}
	at := time.Now().UTC()
	figs, snapshot, err := s.aws.QueueMetrics(ctx, ci, ids)
	if err != nil {
		return nil, err
	}
	if !snapshot.IsZero() {
		at = snapshot.UTC()
	}
	snap := &Snapshot{Tenant: t, At: at, Queues: make([]*Figures, len(list))}
	byID := make(map[string]connectaws.QueueMetrics, len(figs))
	for _, f := range figs {
		byID[f.QueueID] = f
	}
	for i, q := range list {
		f := byID[q.ID]
		snap.Queues[i] = &Figures{
			Queue:        Queue{ID: q.ID, Name: q.Name},
			AgentsOnline: f.AgentsOnline, AgentsAvailable: f.AgentsAvailable, AgentsOnContact: f.AgentsOnContact,
			ContactsInQueue: f.ContactsInQueue, OldestContactAgeSeconds: int(f.OldestContactAge / time.Second),
			UpdatedAt: at,
		}
	}
	return snap, nil
}

// receive takes a snapshot, polled here or relayed, unless a newer one
// came first, and delivers it to the tenant's watchers here.
func (s *Service) receive(snap *Snapshot) {
	s.mu.Lock()
	st := s.state(snap.Tenant)
	if st.latest != nil && snap.At.Before(st.latest.At) {
		s.mu.Unlock()
		return
	}
	st.latest, st.seen = snap, time.Now()
	s.mu.Unlock()
	s.hub.Publish(snap.Tenant, string(snap.Tenant), snap.At, snap)
}

// Stats are the counters of the figures' subscriptions here.
func (s *Service) Stats() livestatus.Stats { return s.hub.Stats() }

// wirePart is one relay message of a snapshot: part of its queues.
type wirePart struct {
	At     time.Time    `json:"at"`
	Part   int          `json:"part"`
	Parts  int          `json:"parts"`
	Queues []wireFigure `json:"q"`
}

type wireFigure struct {
	ID        string `json:"i"`
	Name      string `json:"n"`
	Online    int    `json:"o,omitempty"`
	Available int    `json:"a,omitempty"`
	OnContact int    `json:"c,omitempty"`
	InQueue   int    `json:"w,omitempty"`
	Oldest    int    `json:"g,omitempty"`
}

// share sends the snapshot to the other replicas, in parts of at most
// maxPart bytes.
func (s *Service) share(snap *Snapshot) {
	if s.opt.Messenger == nil {
		return
	}
	var parts [][]wireFigure
	var cur []wireFigure
	size := 0
	for _, f := range snap.Queues {
		w := wireFigure{ID: f.Queue.ID, Name: f.Queue.Name, Online: f.AgentsOnline, Available: f.AgentsAvailable,
			OnContact: f.AgentsOnContact, InQueue: f.ContactsInQueue, Oldest: f.OldestContactAgeSeconds}
		b, _ := json.Marshal(w)
		if len(cur) > 0 && size+len(b)+1 > maxPart-100 {
			parts, cur, size = append(parts, cur), nil, 0
		}
		cur = append(cur, w)
		size += len(b) + 1
	}
	parts = append(parts, cur) // an instance without queues still says so
	for i, p := range parts {
		body, err := json.Marshal(wirePart{At: snap.At, Part: i, Parts: len(parts), Queues: p})
		if err != nil {
			continue
		}
		s.opt.Messenger.SendMessage(livestatus.Message{Topic: Topic, Tenant: snap.Tenant, Body: body})
	}
}

// assembly gathers a relayed snapshot's parts.
type assembly struct {
	at    time.Time
	parts [][]wireFigure
	got   int
}

// Receive takes a relay message of another replica's snapshot; once all of
// its parts have come, the snapshot is delivered here.
func (s *Service) Receive(m livestatus.Message) error {
	var p wirePart
	if err := json.Unmarshal(m.Body, &p); err != nil {
		return fmt.Errorf("queues: a relayed part: %w", err)
	}
	if p.Parts < 1 || p.Parts > 1000 || p.Part < 0 || p.Part >= p.Parts {
		return fmt.Errorf("queues: a relayed part %d of %d", p.Part, p.Parts)
	}
	s.mu.Lock()
	st := s.state(m.Tenant)
	a := st.part
	if a == nil || !a.at.Equal(p.At) || len(a.parts) != p.Parts {
		if a != nil && p.At.Before(a.at) {
			s.mu.Unlock()
			return nil // a part of an older snapshot, late
		}
		a = &assembly{at: p.At, parts: make([][]wireFigure, p.Parts)}
		st.part = a
	}
	if a.parts[p.Part] == nil {
		a.parts[p.Part] = p.Queues
		if a.parts[p.Part] == nil {
			a.parts[p.Part] = []wireFigure{}
		}
		a.got++
	}
	done := a.got == len(a.parts)
	if done {
		st.part = nil
	}
	s.mu.Unlock()
	if !done {
		return nil
	}
	snap := &Snapshot{Tenant: m.Tenant, At: p.At}
	for _, part := range a.parts {
		for _, w := range part {
			snap.Queues = append(snap.Queues, &Figures{
				Queue:        Queue{ID: w.ID, Name: w.Name},
				AgentsOnline: w.Online, AgentsAvailable: w.Available, AgentsOnContact: w.OnContact,
				ContactsInQueue: w.InQueue, OldestContactAgeSeconds: w.Oldest, UpdatedAt: p.At,
			})
		}
	}
	if snap.Queues == nil {
		snap.Queues = []*Figures{}
	}
	s.receive(snap)
	return nil
}
