// Package wsgorilla implements gqlgen's transport.WebsocketImplementation on
// top of github.com/gorilla/websocket.
//
// Since v0.17.92 gqlgen's websocket transport no longer depends on a specific
// websocket library: transport.Websocket accepts connections through its
// Implementation field. This package plugs gorilla/websocket into that field:
//
//	srv.AddTransport(transport.Websocket{
//		Implementation: wsgorilla.New(wsgorilla.Options{
//			AllowedOrigins: []string{"https://desk.example.com"},
//		}),
//		InitTimeout:      10 * time.Second,
//		PingPongInterval: 25 * time.Second,
//	})
//
// Origin checking is strict by default: without AllowedOrigins only
// same-origin browser requests and requests without an Origin header
// (non-browser clients) are upgraded; everything else gets HTTP 403.
//
// Buffers: by default each connection gets a 1 KiB read buffer and borrows a
// write buffer from a pool shared by all connections of the Implementation
// only while a message is being written, so the websocket layer holds no
// write buffer for an idle connection. gqlgen's transport keeps the HTTP
// handler running for the lifetime of the websocket, and net/http keeps its
// connection's 4 KiB read and write buffers for as long as the handler runs
// even though they are of no use after the upgrade; Accept therefore
// releases them once the handshake is written (the hijacked bufio.Reader and
// bufio.Writer belong to the hijacker). Options.ReuseHTTPBuffers instead
// lets gorilla read from and write into those two buffers. See
// BenchmarkIdleConnMemory and BenchmarkIdleSubscribedConnMemory for the
// measured costs.
//
// Protocol: on graphql-transport-ws connections the adapter enforces the
// close codes of the protocol that gqlgen v0.17.98 does not send: 4400 for a
// message the protocol does not define (a connection_init whose payload is
// not an object included), 4408 when no connection_init
// arrives within the transport's InitTimeout, 4429 for a second
// connection_init, 4401 for a subscribe before connection_ack and 4409 for a
// subscribe with the id of an active operation. It also keeps each
// operation's messages to itself when a client reuses an id, and sends
// nothing for an operation once it has ended: not gqlgen's complete after an
// error, nor after the client's own complete (protocolState). A ping before
// connection_init, which gqlgen would refuse, is answered by the adapter.
// Legacy graphql-ws connections are passed through unchanged. See conn.go
// and protocol.go.
//
// Keep-alive is left to the GraphQL subprotocols (graphql-transport-ws
// ping/pong via transport.Websocket.PingPongInterval, graphql-ws "ka" via
// KeepAlivePingInterval). Websocket-level ping control frames sent by a peer
// are still answered with pongs by gorilla's default ping handler.
package wsgorilla

import (
	"bufio"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

const (
	// DefaultReadBufferSize is the per-connection read buffer size used when
	// Options.ReadBufferSize is zero. GraphQL client messages are small;
	// larger messages are still read correctly, just in several reads.
	DefaultReadBufferSize = 1024

	// DefaultWriteTimeout is the write deadline applied to each outgoing
	// message when Options.WriteTimeout is zero.
	DefaultWriteTimeout = 10 * time.Second

	// closeWriteWait bounds how long WriteClose may block while sending the
	// close frame. The transport calls WriteClose while holding its own lock.
	closeWriteWait = time.Second

	// handshakeTimeout bounds writing the HTTP 101 response.
	handshakeTimeout = 10 * time.Second
)

// Options configures an Implementation.
type Options struct {
	// AllowedOrigins lists the exact browser origins (scheme://host[:port],
	// for example "https://desk.example.com") allowed to open a websocket
	// connection from another origin. Matching is case-insensitive; a trailing
	// slash is ignored. The single entry "*" allows every origin and must be
	// listed explicitly.
	//
	// Requests without an Origin header (non-browser clients) and same-origin
	// requests (Origin host equal to the request Host) are always accepted,
	// so an empty list means "same origin only", never "any origin".
	AllowedOrigins []string

	// ReadBufferSize is the size in bytes of each connection's read buffer.
	// Zero means DefaultReadBufferSize. Gorilla raises values below 125 to
	// 125 so that control frames fit.
	ReadBufferSize int

	// WriteBufferSize is the size in bytes of the pooled write buffers.
	// Zero means gorilla's default (4096). Buffers are taken from a pool
	// shared by all connections of the Implementation only while a message
	// is being written; larger messages are sent as several frames.
	WriteBufferSize int

	// ReuseHTTPBuffers makes the connection read from and write into the
	// 4 KiB buffers that net/http allocated for the request instead of
	// releasing them; ReadBufferSize, WriteBufferSize and the write buffer
	// pool are then unused. This avoids pool traffic on every write but
	// keeps 8 KiB per connection where the default keeps the 1 KiB read
	// buffer only: about 7 KB more per idle connection (see
	// BenchmarkIdleSubscribedConnMemory).
	ReuseHTTPBuffers bool

	// WriteTimeout bounds the write of every outgoing data message: each
	// starts with at least half of it left before the connection's write
	// deadline (the deadline is moved only when less is left, as moving it
	// costs more than writing a small frame). Zero means
	// DefaultWriteTimeout; a negative value disables the deadline. When a write fails (for example because a client stopped
	// reading) the connection is closed so that the transport tears it down
	// instead of blocking its goroutines on a dead peer.
	WriteTimeout time.Duration
}

// Implementation accepts HTTP requests as gorilla websocket connections for
// gqlgen's websocket transport. Create it with New; it is safe for concurrent
// use and is meant to be shared by all connections of a server.
type Implementation struct {
	upgrader       websocket.Upgrader
	allowedOrigins []string
	allowAll       bool
	writeTimeout   time.Duration
	reuseBuffers   bool

	// accepted holds each accepted connection, by the context of its
	// request, until InitFunc takes it (direct.go).
	accepted sync.Map // context.Context → *conn
	// direct counts the messages Writers have sent.
	direct atomic.Int64
}

var _ transport.WebsocketImplementation = (*Implementation)(nil)

// New returns an Implementation configured by opts.
func New(opts Options) *Implementation {
	impl := &Implementation{writeTimeout: opts.WriteTimeout, reuseBuffers: opts.ReuseHTTPBuffers}
	if impl.writeTimeout == 0 {
		impl.writeTimeout = DefaultWriteTimeout
	}
	for _, origin := range opts.AllowedOrigins {
		origin = strings.TrimSuffix(strings.TrimSpace(origin), "/")
		switch origin {
		case "":
			continue
		case "*":
			impl.allowAll = true
		default:
			impl.allowedOrigins = append(impl.allowedOrigins, origin)
		}
	}

	readBufferSize := opts.ReadBufferSize
	if readBufferSize <= 0 {
		readBufferSize = DefaultReadBufferSize
	}
	impl.upgrader = websocket.Upgrader{
		HandshakeTimeout: handshakeTimeout,
		CheckOrigin:      impl.CheckOrigin,
	}
	if !opts.ReuseHTTPBuffers {
		impl.upgrader.ReadBufferSize = readBufferSize
		impl.upgrader.WriteBufferSize = opts.WriteBufferSize
		// One pool per Implementation: every buffer in it has the same size.
		impl.upgrader.WriteBufferPool = &sync.Pool{}
	}
	return impl
}

// CheckOrigin reports whether the request's Origin header is acceptable
// according to Options.AllowedOrigins. It is used as the upgrader's origin
// check and is exported so that the same policy can be applied elsewhere,
// for example in a middleware in front of the GraphQL handler.
func (i *Implementation) CheckOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if i.allowAll {
		return true
	}
	for _, allowed := range i.allowedOrigins {
		if strings.EqualFold(allowed, origin) {
			return true
		}
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}

// Accept upgrades the request to a websocket connection. It offers the
// subprotocols requested by the transport (in the transport's order of
// preference) and sends options.ResponseHeader with the 101 response. When
// the upgrade fails, gorilla has already written an HTTP error response (403
// for a refused origin) and the error is returned to the transport.
//
// The connection is closed when the request context is cancelled, which
// net/http does when the transport's handler returns, so a connection the
// transport abandons without closing it is not leaked.
func (i *Implementation) Accept(
	w http.ResponseWriter,
	r *http.Request,
	options transport.WebsocketAcceptOptions,
) (transport.WebsocketConn, error) {
	upgrader := i.upgrader
	upgrader.Subprotocols = mergeSubprotocols(i.upgrader.Subprotocols, options.Subprotocols)

	hw := &hijackWriter{ResponseWriter: w}
	ws, err := upgrader.Upgrade(hw, r, options.ResponseHeader)
	if err != nil {
		return nil, err
	}
	if !i.reuseBuffers && hw.brw != nil {
		// gorilla has its own read buffer and a pooled write buffer, and is
		// done with the hijacked ones once the 101 response is written.
		releaseBuffers(hw.brw)
	}
	// The transport is done with the connection once its handler returns,
	// and net/http then cancels the request context. Some of the transport's
	// early returns (in v0.17.98: a connection_init payload that is not a JSON
	// object) neither send a close frame nor call Close; without this the
	// hijacked socket would stay open, unread, until the process exits.
	ctx := r.Context()
	c := &conn{ws: ws, impl: i}
	if ws.Subprotocol() == graphqlTransportWS {
		c.proto = &protocolState{}
	}
	i.accepted.Store(ctx, c) // for InitFunc (direct.go)
	context.AfterFunc(ctx, func() {
		i.accepted.Delete(ctx)
		_ = ws.Close()
	})
	return c, nil
}

// hijackWriter passes the request's ResponseWriter to gorilla and records the
// buffered reader and writer that Hijack hands over.
type hijackWriter struct {
	http.ResponseWriter
	brw *bufio.ReadWriter
}

// Hijack hijacks the underlying ResponseWriter, also when it is a wrapper
// that offers Hijack only through Unwrap.
func (w *hijackWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	w.brw = brw
	return c, brw, err
}

// Unwrap lets http.ResponseController reach the original ResponseWriter.
func (w *hijackWriter) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}

// releaseBuffers drops the 4 KiB buffers of a hijacked connection's
// bufio.Reader and bufio.Writer. After Hijack they belong to the caller and
// net/http does not use them again, but its connection keeps pointing to them
// until the handler returns, which for gqlgen's transport is when the
// websocket ends. They are replaced with 16-byte ones bound to a reader and
// writer that fail, so that a stray use reports an error.
func releaseBuffers(brw *bufio.ReadWriter) {
	if brw.Reader != nil {
		*brw.Reader = *bufio.NewReaderSize(releasedConn{}, 16)
	}
	if brw.Writer != nil {
		*brw.Writer = *bufio.NewWriterSize(releasedConn{}, 16)
	}
}

// releasedConn is the reader and writer behind released buffers.
type releasedConn struct{}

var errBuffersReleased = errors.New("wsgorilla: connection was upgraded to a websocket")

func (releasedConn) Read([]byte) (int, error)  { return 0, errBuffersReleased }
func (releasedConn) Write([]byte) (int, error) { return 0, errBuffersReleased }

// mergeSubprotocols returns base followed by the entries of extra not already
// present in it.
func mergeSubprotocols(base, extra []string) []string {
	merged := slices.Clone(base)
	for _, p := range extra {
		if !slices.Contains(merged, p) {
			merged = append(merged, p)
		}
	}
	return merged
}
