package wsgorilla_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/99designs/gqlgen/graphql/handler/testserver"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"switchboard/server/wsgorilla"
)

const idleConns = 2000

// BenchmarkIdleConnMemory measures what an idle graphql-transport-ws
// connection costs the server after connection_init/connection_ack:
//
//	go test ./server/wsgorilla/ -run '^$' -bench IdleConnMemory -benchtime 1x
//
// Each iteration opens 2000 connections. The clients are bare TCP sockets
// that performed the websocket handshake by hand and hold no buffers, so the
// heap figure is the server's cost plus one client *net.TCPConn; the
// "tcp-B/conn" metric is the heap cost of a bare accepted TCP connection
// pair for reference. Goroutine stacks are not heap and are reported
// separately as "stack-B/conn". The transport is configured as in production
// (InitTimeout and a PingPongInterval that does not fire while measuring).
// The "gorilla-reuse" sub-benchmark uses Options.ReuseHTTPBuffers and the
// "coder" sub-benchmark measures gqlgen's default implementation, both for
// comparison. BenchmarkIdleSubscribedConnMemory measures connections with a
// subscription, at a larger scale and without the clients in the process.
func BenchmarkIdleConnMemory(b *testing.B) {
	impls := []struct {
		name string
		impl func() transport.WebsocketImplementation
	}{
		{"gorilla", func() transport.WebsocketImplementation { return wsgorilla.New(wsgorilla.Options{}) }},
		{"gorilla-reuse", func() transport.WebsocketImplementation {
			return wsgorilla.New(wsgorilla.Options{ReuseHTTPBuffers: true})
		}},
		{"coder", func() transport.WebsocketImplementation { return transport.CoderWebsocketImplementation{} }},
	}
	for _, tc := range impls {
		b.Run(tc.name, func(b *testing.B) {
			// Warm up at full size: the runtime keeps goroutine descriptors
			// (about 0.5 KB each) for reuse once they exist, so only the first
			// round in a process would pay for them.
			measureIdleConns(b, tc.impl(), idleConns)
			tcp := measureTCPPairs(b, idleConns)
			var heap, stack, goroutines float64
			for i := 0; i < b.N; i++ {
				m := measureIdleConns(b, tc.impl(), idleConns)
				heap += m.heapPerConn
				stack += m.stackPerConn
				goroutines += m.goroutinesPerConn
			}
			n := float64(b.N)
			b.ReportMetric(heap/n, "B/conn")
			b.ReportMetric(stack/n, "stack-B/conn")
			b.ReportMetric(goroutines/n, "goroutines/conn")
			b.ReportMetric(tcp, "tcp-B/conn")
		})
	}
}

type connCost struct {
	heapPerConn, stackPerConn, goroutinesPerConn float64
}

// measureIdleConns opens n idle GraphQL websocket connections to a gqlgen
// server using impl and returns the per-connection growth of live heap,
// goroutine stack memory and goroutine count.
func measureIdleConns(tb testing.TB, impl transport.WebsocketImplementation, n int) connCost {
	tb.Helper()
	gql := testserver.New()
	gql.AddTransport(transport.Websocket{
		Implementation:   impl,
		InitTimeout:      10 * time.Second,
		PingPongInterval: time.Minute,
		ErrorFunc:        func(context.Context, error) {},
	})
	srv := httptest.NewServer(gql)
	defer srv.Close()
	addr := srv.Listener.Addr().String()

	goroutines0 := runtime.NumGoroutine()
	before := liveMemStats()

	conns, err := dialParallel(n, func() (net.Conn, error) { return rawGraphQLClient(addr) })
	defer closeAll(conns)
	if err != nil {
		tb.Fatal(err)
	}
	// The transport starts its per-connection goroutines right after writing
	// connection_ack; give them a moment to be scheduled.
	waitStable(func() int { return runtime.NumGoroutine() })
	after := liveMemStats()
	cost := connCost{
		heapPerConn:       float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n),
		stackPerConn:      float64(int64(after.StackInuse)-int64(before.StackInuse)) / float64(n),
		goroutinesPerConn: float64(runtime.NumGoroutine()-goroutines0) / float64(n),
	}

	closeAll(conns)
	settleGoroutines(tb, goroutines0, 30*time.Second)
	return cost
}

// measureTCPPairs returns the live heap per accepted TCP connection pair
// (client and server *net.TCPConn) with no goroutines attached.
func measureTCPPairs(tb testing.TB, n int) float64 {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, n)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()

	before := liveMemStats()
	conns, err := dialParallel(n, func() (net.Conn, error) { return net.Dial("tcp", ln.Addr().String()) })
	defer closeAll(conns)
	if err != nil {
		tb.Fatal(err)
	}
	server := make([]net.Conn, 0, n)
	for range n {
		server = append(server, <-accepted)
	}
	defer closeAll(server)
	after := liveMemStats()
	return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n)
}

// liveMemStats returns the memory statistics after garbage collections.
// Two cycles empty sync.Pools (pooled write buffers). Each cycle also halves
// the stack of a parked goroutine that uses less than a quarter of it, so
// collections continue until the stack figure stops shrinking: a connection
// that stays idle for a while lives through many cycles.
func liveMemStats() runtime.MemStats {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	for range 8 {
		runtime.GC()
		prev := ms.StackInuse
		runtime.ReadMemStats(&ms)
		if ms.StackInuse >= prev {
			break
		}
	}
	return ms
}

// waitStable polls f until it returns the same value three times in a row.
func waitStable(f func() int) {
	last, same := f(), 0
	for same < 3 {
		time.Sleep(50 * time.Millisecond)
		if v := f(); v == last {
			same++
		} else {
			last, same = v, 0
		}
	}
}

func dialParallel(n int, dial func() (net.Conn, error)) ([]net.Conn, error) {
	conns := make([]net.Conn, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	work := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range work {
				conns[i], errs[i] = dial()
			}
		})
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	out := conns[:0]
	for _, c := range conns {
		if c != nil {
			out = append(out, c)
		}
	}
	return out, errors.Join(errs...)
}

func closeAll(conns []net.Conn) {
	for _, c := range conns {
		_ = c.Close()
	}
}

// rawGraphQLClient opens a graphql-transport-ws connection with a hand-made
// websocket handshake, sends connection_init, waits for connection_ack and
// returns the bare TCP connection. It keeps no buffers or goroutines, so an
// idle connection costs the client almost nothing.
func rawGraphQLClient(addr string) (net.Conn, error) {
	c, br, err := rawHandshake(addr)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (net.Conn, error) {
		_ = c.Close()
		return nil, err
	}
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write(maskedTextFrame([]byte(`{"type":"connection_init"}`))); err != nil {
		return fail(err)
	}
	payload, err := readServerFrame(br)
	if err != nil {
		return fail(err)
	}
	if !strings.Contains(string(payload), `"connection_ack"`) {
		return fail(fmt.Errorf("got %q, want connection_ack", payload))
	}
	if br.Buffered() != 0 {
		return fail(errors.New("unexpected data after connection_ack"))
	}
	_ = c.SetDeadline(time.Time{})
	return c, nil
}

// rawHandshake opens a TCP connection to addr and performs the websocket
// handshake for graphql-transport-ws by hand. The returned reader (512
// bytes) reads the server's frames; it is only needed while messages are
// expected.
func rawHandshake(addr string) (net.Conn, *bufio.Reader, error) {
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return nil, nil, err
	}
	fail := func(err error) (net.Conn, *bufio.Reader, error) {
		_ = c.Close()
		return nil, nil, err
	}
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))

	req := "GET /query HTTP/1.1\r\n" +
		"Host: " + addr + "\r\n" +
		"Upgrade: websocket\r\n" +
		"Connection: Upgrade\r\n" +
		"Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==\r\n" +
		"Sec-WebSocket-Version: 13\r\n" +
		"Sec-WebSocket-Protocol: " + transportWS + "\r\n\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		return fail(err)
	}
	br := bufio.NewReaderSize(c, 512)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return fail(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fail(fmt.Errorf("handshake status %d", resp.StatusCode))
	}
	_ = c.SetDeadline(time.Time{})
	return c, br, nil
}

// maskedTextFrame encodes payload (shorter than 126 bytes) as a final,
// masked text frame, as clients must send them.
func maskedTextFrame(payload []byte) []byte {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	frame := []byte{0x81, 0x80 | byte(len(payload))}
	frame = append(frame, key[:]...)
	for i, b := range payload {
		frame = append(frame, b^key[i%4])
	}
	return frame
}

// readServerFrame reads one unmasked, unfragmented frame and returns its
// payload.
func readServerFrame(r *bufio.Reader) ([]byte, error) {
	var header [2]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}
	length := uint64(header[1] & 0x7f)
	switch length {
	case 126:
		var ext [2]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return nil, err
		}
		length = uint64(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err := io.ReadFull(r, ext[:]); err != nil {
			return nil, err
		}
		length = binary.BigEndian.Uint64(ext[:])
	}
	if length > 1<<16 {
		return nil, fmt.Errorf("frame too large: %d bytes", length)
	}
	payload := make([]byte, length)
	_, err := io.ReadFull(r, payload)
	return payload, err
}

// idleSubscribedConns is the number of connections
// BenchmarkIdleSubscribedConnMemory holds open; WSGORILLA_BENCH_CONNS
// overrides it.
const idleSubscribedConns = 10_000

// idleClientEnv makes the test binary act as the client process of
// BenchmarkIdleSubscribedConnMemory (see TestMain): "MODE ADDR N".
const idleClientEnv = "WSGORILLA_IDLE_CLIENTS"

// BenchmarkIdleSubscribedConnMemory measures the server memory of idle
// graphql-transport-ws connections that each hold one active subscription,
// at 10,000 connections:
//
//	go test ./server/wsgorilla/ -run '^$' -bench IdleSubscribedConnMemory -benchtime 1x
//
// The clients run in a child process (the test binary started again, see
// TestMain), so everything measured here is the server's: live heap
// ("heap-B/conn") and goroutine stacks ("stack-B/conn") after garbage
// collection, and their sum ("B/conn"). Each client does the websocket
// handshake by hand, sends connection_init, waits for connection_ack,
// subscribes to the test server's subscription (which never fires) and
// waits for the answer to a ping, so the subscription is running. The
// transport is configured as in production (InitTimeout, and a
// PingPongInterval that does not fire while measuring), with a query cache.
//
// "raw-gorilla" is the reference: a plain gorilla/websocket server whose
// handler upgrades with a default Upgrader (reusing net/http's buffers),
// keeps the *websocket.Conn and returns, so that no goroutine is held.
// "gorilla" is the adapter with default options, as in production;
// "gorilla-read256" uses ReadBufferSize 256 and "gorilla-reuse"
// ReuseHTTPBuffers, for comparison; "gorilla-serve" is configured as
// switchboard serves, direct writes included (gqlgenDirectServer).
//
// Goroutine stacks depend on the runtime's adaptive initial stack size (on by
// default): run with GODEBUG=adaptivestackstart=0 to see the figures with
// goroutines starting at 2 KiB.
//
// The benchmark raises RLIMIT_NOFILE to what 10,000 sockets need if it can,
// and skips otherwise.
func BenchmarkIdleSubscribedConnMemory(b *testing.B) {
	n := idleSubscribedConns
	if v := os.Getenv("WSGORILLA_BENCH_CONNS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n <= 0 {
			b.Fatalf("WSGORILLA_BENCH_CONNS=%q: want a positive number", v)
		}
	}
	if err := raiseFileLimit(uint64(n) + 1024); err != nil {
		b.Skipf("%d connections need more file descriptors: %v", n, err)
	}

	servers := []struct {
		name  string
		mode  string // the client's behaviour, see runIdleClients
		start func(tb testing.TB, n int) (addr string, stop func())
	}{
		{"raw-gorilla", "upgrade", startRawGorilla},
		{"gorilla", "subscribe", gqlgenServer(func() transport.WebsocketImplementation {
			return wsgorilla.New(wsgorilla.Options{})
		})},
		{"gorilla-read256", "subscribe", gqlgenServer(func() transport.WebsocketImplementation {
			return wsgorilla.New(wsgorilla.Options{ReadBufferSize: 256})
		})},
		{"gorilla-reuse", "subscribe", gqlgenServer(func() transport.WebsocketImplementation {
			return wsgorilla.New(wsgorilla.Options{ReuseHTTPBuffers: true})
		})},
		// As switchboard serves (server/server.go).
		{"gorilla-serve", "subscribe", gqlgenDirectServer},
	}
	for _, srv := range servers {
		b.Run(srv.name, func(b *testing.B) {
			// Warm up at full size (see BenchmarkIdleConnMemory).
			measureServerConns(b, srv.start, srv.mode, n)
			var heap, stack, goroutines float64
			for i := 0; i < b.N; i++ {
				m := measureServerConns(b, srv.start, srv.mode, n)
				heap += m.heapPerConn
				stack += m.stackPerConn
				goroutines += m.goroutinesPerConn
			}
			count := float64(b.N)
			b.ReportMetric((heap+stack)/count, "B/conn")
			b.ReportMetric(heap/count, "heap-B/conn")
			b.ReportMetric(stack/count, "stack-B/conn")
			b.ReportMetric(goroutines/count, "goroutines/conn")
		})
	}
}

// gqlgenServer returns a start function for BenchmarkIdleSubscribedConnMemory
// serving gqlgen's test schema through impl.
func gqlgenServer(impl func() transport.WebsocketImplementation) func(testing.TB, int) (string, func()) {
	return func(tb testing.TB, _ int) (string, func()) {
		gql := testserver.New()
		gql.AddTransport(transport.Websocket{
			Implementation:   impl(),
			InitTimeout:      10 * time.Second,
			PingPongInterval: 10 * time.Minute,
			ErrorFunc:        func(context.Context, error) {},
		})
		gql.SetQueryCache(lru.New[*ast.QueryDocument](1000))
		srv := httptest.NewServer(gql)
		return srv.Listener.Addr().String(), srv.Close
	}
}

// gqlgenDirectServer serves as switchboard does: 128-byte read buffers, the
// InitFunc wrapper and the OperationIDs extension, and a subscription whose
// Exec takes a Writer (as switchboard's live status subscription does) and
// waits for results.
func gqlgenDirectServer(tb testing.TB, _ int) (string, func()) {
	impl := wsgorilla.New(wsgorilla.Options{ReadBufferSize: 128})
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
		type Query { name: String! }
		type Subscription { name: String! }
	`})
	gql := handler.New(&graphql.ExecutableSchemaMock{
		SchemaFunc:     func() *ast.Schema { return schema },
		ComplexityFunc: func(context.Context, string, string, int, map[string]any) (int, bool) { return 1, true },
		ExecFunc: func(ctx context.Context) graphql.ResponseHandler {
			w := wsgorilla.NewWriter(ctx)
			return func(ctx context.Context) *graphql.Response {
				<-ctx.Done()
				runtime.KeepAlive(w)
				return nil
			}
		},
	})
	gql.AddTransport(transport.Websocket{
		Implementation:   impl,
		InitFunc:         impl.InitFunc(nil),
		InitTimeout:      10 * time.Second,
		PingPongInterval: 10 * time.Minute,
		ErrorFunc:        func(context.Context, error) {},
	})
	gql.Use(wsgorilla.OperationIDs{})
	gql.SetQueryCache(lru.New[*ast.QueryDocument](1000))
	srv := httptest.NewServer(gql)
	return srv.Listener.Addr().String(), srv.Close
}

// startRawGorilla starts the reference server: upgrade, keep the connection,
// return from the handler.
func startRawGorilla(tb testing.TB, n int) (string, func()) {
	var (
		mu    sync.Mutex
		conns = make([]*websocket.Conn, 0, n)
	)
	upgrader := websocket.Upgrader{Subprotocols: []string{transportWS}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}))
	return srv.Listener.Addr().String(), func() {
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		conns = nil
		mu.Unlock()
		srv.Close()
	}
}

// measureServerConns starts a server, has a child process open n client
// connections to it and returns the server's per-connection growth of live
// heap, goroutine stacks and goroutines.
func measureServerConns(tb testing.TB, start func(testing.TB, int) (string, func()), mode string, n int) connCost {
	tb.Helper()
	addr, stop := start(tb, n)
	defer stop()

	goroutines0 := runtime.NumGoroutine()
	before := liveMemStats()

	clients := startIdleClients(tb, mode, addr, n)
	defer clients.stop(tb)
	waitStable(func() int { return runtime.NumGoroutine() })
	after := liveMemStats()
	cost := connCost{
		heapPerConn:       float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / float64(n),
		stackPerConn:      float64(int64(after.StackInuse)-int64(before.StackInuse)) / float64(n),
		goroutinesPerConn: float64(runtime.NumGoroutine()-goroutines0) / float64(n),
	}

	clients.stop(tb)
	stop()
	settleGoroutines(tb, goroutines0, 60*time.Second)
	return cost
}

// idleClients is the child process holding the client connections.
type idleClients struct {
	cmd     *exec.Cmd
	stdin   io.Closer
	stderr  *bytes.Buffer
	stopped bool
}

// startIdleClients starts the test binary as a client process opening n
// connections to addr and waits until all of them are set up.
func startIdleClients(tb testing.TB, mode, addr string, n int) *idleClients {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s %s %d", idleClientEnv, mode, addr, n))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	c := &idleClients{cmd: cmd, stdin: stdin, stderr: &bytes.Buffer{}}
	cmd.Stderr = c.stderr
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(stdout).ReadString('\n')
		line <- s
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case s := <-line:
		if s != "ready\n" {
			c.stop(tb)
			tb.Fatalf("client process: %q; stderr:\n%s", s, c.stderr)
		}
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		c.stop(tb)
		tb.Fatalf("client process not ready after 3 minutes; stderr:\n%s", c.stderr)
	}
	return c
}

// stop makes the client process close its connections and exit.
func (c *idleClients) stop(tb testing.TB) {
	tb.Helper()
	if c.stopped {
		return
	}
	c.stopped = true
	_ = c.stdin.Close()
	done := make(chan error, 1)
	go func() { done <- c.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			tb.Errorf("client process: %v; stderr:\n%s", err, c.stderr)
		}
	case <-time.After(time.Minute):
		_ = c.cmd.Process.Kill()
		<-done
		tb.Errorf("client process did not exit; killed")
	}
}

// runIdleClients is the client process: it opens the connections described
// by spec ("MODE ADDR N"), prints "ready", waits for stdin to close, closes
// the connections and returns the exit status. MODE "upgrade" only does the
// websocket handshake; "subscribe" also initialises graphql-transport-ws
// and starts one subscription.
func runIdleClients(spec string) int {
	var (
		mode, addr string
		n          int
	)
	if _, err := fmt.Sscanf(spec, "%s %s %d", &mode, &addr, &n); err != nil {
		fmt.Fprintf(os.Stderr, "bad %s=%q: %v\n", idleClientEnv, spec, err)
		return 2
	}
	if err := raiseFileLimit(uint64(n) + 256); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	conns, err := dialParallel(n, func() (net.Conn, error) { return idleClient(mode, addr) })
	defer closeAll(conns)
	if err != nil {
		fmt.Printf("error: %v\n", err)
		return 1
	}
	fmt.Println("ready")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}

// idleClient opens one client connection for runIdleClients.
func idleClient(mode, addr string) (net.Conn, error) {
	switch mode {
	case "upgrade":
		c, _, err := rawHandshake(addr)
		return c, err
	case "subscribe":
		c, br, err := rawHandshake(addr)
		if err != nil {
			return nil, err
		}
		_ = c.SetDeadline(time.Now().Add(30 * time.Second))
		for _, step := range []struct{ send, want string }{
			{`{"type":"connection_init"}`, `"connection_ack"`},
			{`{"type":"subscribe","id":"1","payload":{"query":"subscription { name }"}}`, ""},
			{`{"type":"ping"}`, `"pong"`}, // the subscribe has been processed
		} {
			if _, err := c.Write(maskedTextFrame([]byte(step.send))); err != nil {
				_ = c.Close()
				return nil, err
			}
			if step.want == "" {
				continue
			}
			payload, err := readServerFrame(br)
			if err != nil {
				_ = c.Close()
				return nil, err
			}
			if !strings.Contains(string(payload), step.want) {
				_ = c.Close()
				return nil, fmt.Errorf("got %q, want %s", payload, step.want)
			}
		}
		_ = c.SetDeadline(time.Time{})
		return c, nil
	default:
		return nil, fmt.Errorf("unknown client mode %q", mode)
	}
}

// raiseFileLimit makes sure that at least want file descriptors can be
// open, raising the soft and, if needed (as root), the hard limit.
func raiseFileLimit(want uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Cur >= want {
		return nil
	}
	lim.Cur = want
	if lim.Max < want {
		lim.Max = want
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("raising RLIMIT_NOFILE to %d: %w (see ulimit -n)", want, err)
	}
	return nil
}

func TestMain(m *testing.M) {
	if spec := os.Getenv(idleClientEnv); spec != "" {
		os.Exit(runIdleClients(spec))
	}
	os.Exit(m.Run())
}
