package bench_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/auth"
	"switchboard/cmd/switchboard/wire"
	"switchboard/ent/agentstatus"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/livestatus"
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
	wire.TuneRuntime() // as serve runs; both sides of the comparison share it
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			raiseFileLimit(b, uint64(n+1000))
			const rounds = 21 // the first of each side warms up and is not counted
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
// subscriptions, held by a client process, and makes `rounds` status
// changes; it returns the frame a subscriber received and the
// commit-to-receipt latencies.
func switchboardFanout(b *testing.B, n, rounds int) ([]byte, *latencies) {
	// Rounds are sequential, so the moment of the current round's publish
	// tells every receipt its start, as in the raw baseline.
	var published atomic.Int64
	s := testenv.NewServer(b, testenv.Backends()[0], func(c *wire.Config) {
		c.OnPublish = func(*livestatus.Event) { published.Store(time.Now().UnixNano()) }
		c.WSPingInterval = time.Minute
		c.WSInitTimeout = time.Minute
		c.Limits.WSConnsPerPerson = -1 // every subscriber is one supervisor
	})
	tn := s.NewTenant(b, "Bench")
	agentID, _ := s.NewAgent(b, tn, "Alex Agent", "alex@bench.example", auth.RoleAgent)
	ctx := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: gid.ID(tn.ID), Email: "admin@bench.example"})
	var statuses []gid.ID
	for i := 0; i < rounds; i++ {
		st := s.Store.Client.AgentStatus.Create().SetName(fmt.Sprintf("Status %02d", i)).SetType(agentstatus.TypeCUSTOM).SaveX(ctx)
		statuses = append(statuses, st.ID)
	}
	supTok := s.Token(b, auth.Claims{Email: "sup@bench.example", Tenant: tn.ID, Role: auth.RoleSupervisor})
	init, _ := json.Marshal(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + supTok}})
	sub, _ := json.Marshal(map[string]any{"id": "1", "type": "subscribe", "payload": map[string]any{"query": subscription}})
	clients := startClients(b, n, "ws"+strings.TrimPrefix(s.URL, "http")+"/query", init, sub)
	waitFor(b, func() bool { return s.App.Status().Broker().Stats().Subscriptions == n })
	settle()

	agentCtx := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAgent, TenantID: gid.ID(tn.ID), AgentID: gid.ID(agentID), Email: "alex@bench.example"})
	lat, warmup := &latencies{}, &latencies{}
	b.ResetTimer()
	for i, st := range statuses {
		if _, err := s.App.Status().SetStatus(agentCtx, nil, st); err != nil {
			b.Fatal(err)
		}
		clients.round(b, n, published.Load(), map[bool]*latencies{true: warmup, false: lat}[i == 0])
	}
	b.StopTimer()
	clients.stop()
	return clients.frame, lat
}

// rawFanout is the baseline: a gorilla/websocket server that keeps its n
// connections (the upgrade handler returns) and writes the same frame to
// each in turn, from one goroutine, to the same kind of client process.
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
	clients := startClients(b, n, "ws"+strings.TrimPrefix(srv.URL, "http"), nil, nil)
	waitFor(b, func() bool { mu.Lock(); defer mu.Unlock(); return len(conns) == n })
	settle()
	lat, warmup := &latencies{}, &latencies{}
	for i := 0; i < rounds; i++ {
		sent := time.Now().UnixNano()
		for _, c := range conns {
			if err := c.WriteMessage(websocket.TextMessage, frame); err != nil {
				b.Fatal(err)
			}
		}
		clients.round(b, n, sent, map[bool]*latencies{true: warmup, false: lat}[i == 0])
	}
	clients.stop()
	for _, c := range conns {
		c.Close()
	}
	return lat
}

// clientProcess is a child process holding the benchmark's client
// connections, so that one process need not hold both ends of 10,000.
type clientProcess struct {
	cmd      *exec.Cmd
	stdin    io.Closer
	receipts chan int64 // the wall-clock time of each receipt, in ns
	frame    []byte     // the first frame received
}

// startClients starts the client process: n connections to url, each
// sending init and sub (when given) and reporting every text frame it
// receives; it returns once all are connected.
func startClients(b *testing.B, n int, url string, init, sub []byte) *clientProcess {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), clientEnv+"="+url, "FANOUT_N="+strconv.Itoa(n),
		"FANOUT_INIT="+string(init), "FANOUT_SUB="+string(sub))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &clientProcess{cmd: cmd, stdin: stdin, receipts: make(chan int64, 1<<16)}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "ready":
				close(ready)
			case strings.HasPrefix(line, "frame "):
				p.frame = []byte(strings.TrimPrefix(line, "frame "))
			case strings.HasPrefix(line, "r "):
				ns, _ := strconv.ParseInt(line[2:], 10, 64)
				p.receipts <- ns
			}
		}
		close(p.receipts)
	}()
	select {
	case <-ready:
	case <-time.After(3 * time.Minute):
		b.Fatal("the client process did not connect")
	}
	return p
}

// round waits for n receipts and records each one's latency from start.
func (p *clientProcess) round(b *testing.B, n int, start int64, lat *latencies) {
	timeout := time.After(time.Minute)
	for i := 0; i < n; i++ {
		select {
		case ns, ok := <-p.receipts:
			if !ok {
				b.Fatal("the client process ended")
			}
			lat.add(time.Duration(ns - start))
		case <-timeout:
			b.Fatalf("%d of %d subscribers received the change", i, n)
		}
	}
}

func (p *clientProcess) stop() {
	p.stdin.Close()
	_ = p.cmd.Wait()
}

// clientEnv, when set, makes the test binary the client process (TestMain).
const clientEnv = "FANOUT_CLIENT_URL"

func TestMain(m *testing.M) {
	if url := os.Getenv(clientEnv); url != "" {
		os.Exit(runClients(url))
	}
	os.Exit(m.Run())
}

// runClients is the client process: it connects, reports "ready", then
// one line per received frame with the time it arrived, until stdin closes.
func runClients(url string) int {
	n, _ := strconv.Atoi(os.Getenv("FANOUT_N"))
	init, sub := os.Getenv("FANOUT_INIT"), os.Getenv("FANOUT_SUB")
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil && lim.Cur < uint64(n+256) {
		lim.Cur = min(uint64(n+256), lim.Max)
		_ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	say := func(s string) { mu.Lock(); out.WriteString(s + "\n"); out.Flush(); mu.Unlock() }
	d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}, HandshakeTimeout: time.Minute, ReadBufferSize: 1024, WriteBufferSize: 1024}
	conns := make([]*websocket.Conn, n)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	failed := atomic.Bool{}
	for i := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, _, err := d.Dial(url, nil)
			if err != nil {
				fmt.Fprintln(os.Stderr, "dial:", err)
				failed.Store(true)
				return
			}
			if init != "" {
				_ = c.WriteMessage(websocket.TextMessage, []byte(init))
				if _, msg, err := c.ReadMessage(); err != nil || !bytes.Contains(msg, []byte("connection_ack")) {
					fmt.Fprintln(os.Stderr, "init:", err, string(msg))
					failed.Store(true)
					return
				}
			}
			if sub != "" {
				_ = c.WriteMessage(websocket.TextMessage, []byte(sub))
			}
			conns[i] = c
		}()
	}
	wg.Wait()
	if failed.Load() {
		return 1
	}
	var once sync.Once
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
				at := time.Now().UnixNano()
				once.Do(func() { say("frame " + string(msg)) })
				say("r " + strconv.FormatInt(at, 10))
			}
		}(c)
	}
	say("ready")
	_, _ = io.Copy(io.Discard, os.Stdin) // until the benchmark is done
	return 0
}

// settle collects the garbage of connecting the subscribers before the
// rounds, on both sides: what is measured is a change fanned out in the
// steady state, not a collection of the connection storm's garbage (with
// 10,000 connections a collection's marking takes a core for a few hundred
// milliseconds, and lands on a few rounds or none, by chance).
func settle() {
	runtime.GC()
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
