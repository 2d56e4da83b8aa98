package wsgorilla_test

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/testserver"
	"github.com/99designs/gqlgen/graphql/handler/transport"

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
// comparison.
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

func liveMemStats() runtime.MemStats {
	// Two cycles also empty sync.Pools (pooled write buffers).
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
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
	c, err := net.DialTimeout("tcp", addr, ioTimeout)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (net.Conn, error) {
		_ = c.Close()
		return nil, err
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
