package bench_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/auth"
	"switchboard/ent/agentstatus"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/livestatus"
	"switchboard/server"
	"switchboard/viewer"
)

const subscription = `subscription { agentStatusChanged { agent { id name } status { id name type } previousStatus { id name type } changedAt } }`

// raiseFileLimit lets one process hold both ends of many connections.
func raiseFileLimit(b *testing.B, n uint64) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		b.Fatal(err)
	}
	if lim.Cur < n {
		want := lim
		want.Cur = n
		want.Max = max(n, lim.Max) // root may raise the hard limit too
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			lim.Cur = min(n, lim.Max)
			if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
				b.Fatalf("raising the file limit to %d: %v", n, err)
			}
		} else {
			lim = want
		}
	}
	if lim.Cur < n {
		b.Skipf("the file limit is %d, %d needed", lim.Cur, n)
	}
}

// latencies collects one duration per subscriber per round.
type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }

func (l *latencies) percentile(p float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return 0
	}
	s := slices.Clone(l.d)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// BenchmarkFanout: one status change fanned out to N subscribed WebSocket
// clients of switchboard, from commit to receipt, beside a raw gorilla
// broadcast of the same frame to N clients, in the same run.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			raiseFileLimit(b, uint64(2*n+1000))
			const rounds = 10
			frame, sw := switchboardFanout(b, n, rounds)
			raw := rawFanout(b, n, rounds, frame)
			b.ReportMetric(float64(sw.percentile(0.50).Microseconds())/1000, "switchboard-p50-ms")
			b.ReportMetric(float64(sw.percentile(0.99).Microseconds())/1000, "switchboard-p99-ms")
			b.ReportMetric(float64(raw.percentile(0.50).Microseconds())/1000, "raw-p50-ms")
			b.ReportMetric(float64(raw.percentile(0.99).Microseconds())/1000, "raw-p99-ms")
			ratio := float64(sw.percentile(0.99)) / float64(raw.percentile(0.99))
			b.ReportMetric(ratio, "p99-ratio")
			b.Logf("%d subscribers: switchboard p50 %v p99 %v; raw gorilla p50 %v p99 %v; p99 ratio %.2f (target ≤ 2.0)",
				n, sw.percentile(0.50), sw.percentile(0.99), raw.percentile(0.50), raw.percentile(0.99), ratio)
		})
	}
}

// switchboardFanout runs the real server on SQLite with n wallboard
// subscriptions and makes `rounds` status changes; it returns the frame a
// subscriber received and the commit-to-receipt latencies.
func switchboardFanout(b *testing.B, n, rounds int) ([]byte, *latencies) {
	// Rounds are sequential, so the moment of the current round's publish
	// tells every receipt its start, as in the raw baseline.
	var published atomic.Int64
	s := testenv.NewServer(b, testenv.Backends()[0], func(c *server.Config) {
		c.OnPublish = func(*livestatus.Event) { published.Store(time.Now().UnixNano()) }
		c.WSPingInterval = time.Minute
		c.WSInitTimeout = time.Minute
	})
	tn := s.NewTenant(b, "Bench")
	agentID, agentTok := s.NewAgent(b, tn, "Alex Agent", "alex@bench.example", auth.RoleAgent)
	_ = agentID
	ctx := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: gid.ID(tn.ID), Email: "admin@bench.example"})
	var statuses []gid.ID
	for i := 0; i < rounds; i++ {
		st := s.Store.Client.AgentStatus.Create().SetName(fmt.Sprintf("Status %02d", i)).SetType(agentstatus.TypeCUSTOM).SaveX(ctx)
		statuses = append(statuses, st.ID)
	}
	supTok := s.Token(b, auth.Claims{Email: "sup@bench.example", Tenant: tn.ID, Role: auth.RoleSupervisor})
	lat := &latencies{}
	var frame []byte
	var frameOnce sync.Once
	var received sync.WaitGroup
	conns := dialMany(b, n, "ws"+strings.TrimPrefix(s.URL, "http")+"/query", func(c *websocket.Conn) {
		_ = c.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + supTok}})
		if _, msg, err := c.ReadMessage(); err != nil || !strings.Contains(string(msg), "connection_ack") {
			b.Errorf("init: %v %s", err, msg)
			return
		}
		_ = c.WriteJSON(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": subscription}})
	})
	waitFor(b, func() bool { return s.App.Status().Broker().Stats().Subscriptions == n })
	for _, c := range conns {
		go func(c *websocket.Conn) {
			for {
				_, msg, err := c.ReadMessage()
				if err != nil {
					return
				}
				if !bytes.Contains(msg, []byte(`"next"`)) {
					continue
				}
				lat.add(time.Since(time.Unix(0, published.Load())))
				frameOnce.Do(func() { frame = slices.Clone(msg) })
				received.Done()
			}
		}(c)
	}
	agentCtx := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAgent, TenantID: gid.ID(tn.ID), AgentID: gid.ID(agentID), Email: "alex@bench.example"})
	_ = agentTok
	b.ResetTimer()
	for _, st := range statuses {
		received.Add(n)
		if _, err := s.App.Status().SetStatus(agentCtx, nil, st); err != nil {
			b.Fatal(err)
		}
		waitGroup(b, &received, time.Minute)
	}
	b.StopTimer()
	for _, c := range conns {
		c.Close()
	}
	return frame, lat
}

// rawFanout is the baseline: a gorilla/websocket server that keeps its n
// connections (the upgrade handler returns) and writes the same frame to
// each in turn, from one goroutine.
func rawFanout(b *testing.B, n, rounds int, frame []byte) *latencies {
	var (
		mu    sync.Mutex
		conns []*websocket.Conn
	)
	up := websocket.Upgrader{ReadBufferSize: 1024, WriteBufferPool: &sync.Pool{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}))
	defer srv.Close()
	clients := dialMany(b, n, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	waitFor(b, func() bool { mu.Lock(); defer mu.Unlock(); return len(conns) == n })
	lat := &latencies{}
	var sent atomic.Int64
	var received sync.WaitGroup
	for _, c := range clients {
		go func(c *websocket.Conn) {
			for {
				_, msg, err := c.ReadMessage()
				if err != nil {
					return
				}
				if !bytes.Contains(msg, []byte(`"next"`)) {
					continue
				}
				lat.add(time.Since(time.Unix(0, sent.Load())))
				received.Done()
			}
		}(c)
	}
	for i := 0; i < rounds; i++ {
		received.Add(n)
		sent.Store(time.Now().UnixNano())
		for _, c := range conns {
			if err := c.WriteMessage(websocket.TextMessage, frame); err != nil {
				b.Fatal(err)
			}
		}
		waitGroup(b, &received, time.Minute)
	}
	for _, c := range clients {
		c.Close()
	}
	for _, c := range conns {
		c.Close()
	}
	return lat
}

// dialMany opens n client connections, 64 at a time, running setup on each.
func dialMany(b *testing.B, n int, url string, setup func(*websocket.Conn)) []*websocket.Conn {
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 1024}
	conns := make([]*websocket.Conn, n)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, _, err := d.Dial(url, nil)
			if err != nil {
				b.Errorf("dial %d: %v", i, err)
				return
			}
			if setup != nil {
				setup(c)
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return conns
}

func waitFor(b *testing.B, cond func() bool) {
	deadline := time.Now().Add(2 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			b.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitGroup(b *testing.B, wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
		b.Fatal("not every subscriber received the change")
	}
}
