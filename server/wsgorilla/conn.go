package wsgorilla

import (
	"encoding/json"
	"errors"
	"io"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/gorilla/websocket"
)

// maxCloseReasonLen is the longest close reason that fits in a close frame:
// control frame payloads are limited to 125 bytes, two of which hold the code.
const maxCloseReasonLen = 123

// conn adapts a *websocket.Conn to transport.WebsocketConn.
//
// Concurrency: gorilla allows one concurrent reader and one concurrent writer;
// Close and WriteControl may be called at any time. gqlgen's transport
// (graphql/handler/transport/websocket.go, v0.17.98) already serialises every
// WriteJSON and WriteClose call with its own connection mutex (wsConnection.mu
// in write and close) and reads from a single goroutine at a time, so conn adds
// no write lock of its own. WriteClose uses WriteControl, which is safe
// alongside the pongs gorilla writes from the reading goroutine.
type conn struct {
	ws           *websocket.Conn
	writeTimeout time.Duration

	// closeSent is set once WriteClose has sent (or tried to send) a close
	// frame. A close frame received afterwards is the peer's half of the
	// closing handshake, not an error.
	closeSent atomic.Bool
}

var (
	_ transport.WebsocketConn          = (*conn)(nil)
	_ transport.WebsocketReadLimiter   = (*conn)(nil)
	_ transport.WebsocketReadDeadliner = (*conn)(nil)
)

// NextReader returns the next data message. A close frame from the peer with
// code 1000 (normal closure), 1001 (going away) or 1005 (no status), or any
// close frame answering one we sent, is reported as
// transport.ErrWebsocketClosed. Other errors are returned unchanged so that
// the transport can recognise net.ErrClosed after a local Close.
func (c *conn) NextReader() (int, io.Reader, error) {
	messageType, r, err := c.ws.NextReader()
	if err != nil {
		if isNormalClose(err) {
			return messageType, nil, transport.ErrWebsocketClosed
		}
		var closeErr *websocket.CloseError
		if c.closeSent.Load() && errors.As(err, &closeErr) {
			return messageType, nil, transport.ErrWebsocketClosed
		}
		return messageType, nil, err
	}
	return messageType, r, nil
}

func isNormalClose(err error) bool {
	return websocket.IsCloseError(err,
		websocket.CloseNormalClosure,
		websocket.CloseGoingAway,
		websocket.CloseNoStatusReceived,
	)
}

// WriteJSON sends v as a single text message. The message is encoded before
// the pooled write buffer is taken, so encoding errors leave the connection
// untouched. If the write itself fails (including a write timeout), the
// underlying connection is closed: gorilla connections cannot be written to
// after a failed write, and closing makes the transport's read loop end and
// release the connection's resources.
func (c *conn) WriteJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if c.writeTimeout > 0 {
		_ = c.ws.SetWriteDeadline(time.Now().Add(c.writeTimeout))
	}
	if err := c.ws.WriteMessage(websocket.TextMessage, data); err != nil {
		if !errors.Is(err, websocket.ErrCloseSent) {
			_ = c.ws.Close()
		}
		return err
	}
	return nil
}

// WriteClose sends a close frame with the given code and reason. It blocks
// for at most about a second and does not wait for the peer's reply; the
// transport calls Close right after it. Reasons longer than a close frame can
// carry are truncated at a UTF-8 boundary. Calling it after a close frame was
// already sent is a no-op.
func (c *conn) WriteClose(closeCode int, message string) error {
	c.closeSent.Store(true)
	payload := websocket.FormatCloseMessage(closeCode, truncateReason(message))
	err := c.ws.WriteControl(websocket.CloseMessage, payload, time.Now().Add(closeWriteWait))
	if errors.Is(err, websocket.ErrCloseSent) {
		return nil
	}
	return err
}

func truncateReason(reason string) string {
	if len(reason) <= maxCloseReasonLen {
		return reason
	}
	cut := maxCloseReasonLen
	for cut > 0 && !utf8.RuneStart(reason[cut]) {
		cut--
	}
	return reason[:cut]
}

// Close closes the underlying network connection without a closing
// handshake. Any blocked NextReader call returns an error wrapping
// net.ErrClosed.
func (c *conn) Close() error {
	return c.ws.Close()
}

// Subprotocol returns the negotiated subprotocol, or "" if none was agreed.
func (c *conn) Subprotocol() string {
	return c.ws.Subprotocol()
}

// SetReadLimit sets the maximum size of a message read from the peer. A
// larger message makes gorilla send close code 1009 and fail the read.
func (c *conn) SetReadLimit(limit int64) {
	c.ws.SetReadLimit(limit)
}

// SetReadDeadline sets the deadline for reads on the underlying connection;
// the zero time clears it. Once a read has timed out the connection is
// unusable for reading, which is what the transport's ping/pong timeout
// expects.
func (c *conn) SetReadDeadline(deadline time.Time) error {
	return c.ws.SetReadDeadline(deadline)
}
