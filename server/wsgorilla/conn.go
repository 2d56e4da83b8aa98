package wsgorilla

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"sync"
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
// (graphql/handler/transport/websocket.go, v0.17.98) serialises its own
// WriteJSON and WriteClose calls with its connection mutex (wsConnection.mu
// in write and close) and reads from a single goroutine at a time; a Writer
// (direct.go) writes from a subscription's goroutine outside that mutex, so
// every data message, the transport's or a Writer's, is written under wmu.
// WriteClose uses WriteControl, which is safe alongside the pongs gorilla
// writes from the reading goroutine, and so is the close frame NextReader
// sends when a graphql-transport-ws client breaks the protocol: it comes
// from the reading goroutine, outside both locks, and gorilla's WriteControl
// waits for a data frame being written to finish instead of interleaving
// with it.
//
// For the graphql-transport-ws subprotocol, conn also enforces the close
// codes of the protocol that gqlgen's transport does not send (see
// protocolState): NextReader reads each client message into a pooled buffer,
// decodes its type and id, and either hands the buffered message to the
// transport or closes the connection; WriteJSON notes the type and id of each
// server message before sending it.
type conn struct {
	ws   *websocket.Conn
	impl *Implementation

	// wmu serialises writes of data messages: the transport's (WriteJSON,
	// under its own lock) and a Writer's (direct.go). deadline is the write
	// deadline set last, in Unix nanoseconds.
	wmu      sync.Mutex
	deadline int64

	// closeSent is set once a close frame has been sent (or tried to be
	// sent). A close frame received afterwards is the peer's half of the
	// closing handshake, not an error.
	closeSent atomic.Bool

	// proto is nil unless the negotiated subprotocol is graphql-transport-ws.
	proto *protocolState

	// initCtx is the context InitFunc returned, whose cause may say how to
	// close the connection (close.go).
	initCtx atomic.Value // context.Context

	// Used by the reading goroutine only: the buffer holding the message
	// returned by the last NextReader call, and the error every NextReader
	// call returns once the adapter closed the connection.
	rbuf    *readBuffer
	readErr error
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
//
// On graphql-transport-ws connections the message is read completely before
// NextReader returns. If it breaks the protocol in a way gqlgen does not
// handle itself, NextReader sends a close frame with the protocol's code and
// returns a *ProtocolError, which makes the transport end the connection.
func (c *conn) NextReader() (int, io.Reader, error) {
	if c.rbuf != nil {
		// The transport has decoded the previous message: it reads each
		// message completely before asking for the next one.
		putReadBuffer(c.rbuf)
		c.rbuf = nil
	}
	if c.readErr != nil {
		return 0, nil, c.readErr
	}
	messageType, r, err := c.ws.NextReader()
	if err != nil {
		return messageType, nil, c.readError(err)
	}
	if c.proto == nil {
		return messageType, r, nil
	}

	rb := getReadBuffer()
	if _, err := rb.buf.ReadFrom(r); err != nil {
		putReadBuffer(rb)
		return messageType, nil, c.readError(err)
	}
	c.rbuf = rb
	h, ok := decodeHeader(rb.buf.Bytes())
	if !ok || h.Type == "connection_init" && !objectPayload(rb.buf.Bytes()) {
		c.readErr = c.closeForProtocol(CloseBadRequest, "Invalid message received")
		return messageType, nil, c.readErr
	}
	if h.Type == "ping" && !c.proto.isAcked() {
		// The protocol allows a ping at any time; gqlgen takes nothing but
		// connection_init before it acknowledges one, so the adapter answers.
		if err := c.writeText(pongMessage); err != nil {
			return messageType, nil, err
		}
		return c.NextReader()
	}
	code, reason, internal := c.proto.clientMessage(h.Type, h.ID)
	if code != 0 {
		c.readErr = c.closeForProtocol(code, reason)
		return messageType, nil, c.readErr
	}
	if internal != h.ID {
		// gqlgen knows the operation by its internal id (protocolState).
		if err := withID(&rb.buf, internal); err != nil {
			c.readErr = c.closeForProtocol(CloseBadRequest, "Invalid message received")
			return messageType, nil, c.readErr
		}
	}
	c.proto.subscribing = ""
	if h.Type == "subscribe" {
		c.proto.subscribing = internal // for OperationIDs (direct.go)
	}
	rb.r.Reset(rb.buf.Bytes())
	return messageType, &rb.r, nil
}

var pongMessage = []byte(`{"type":"pong"}`)

// objectPayload reports whether the message's payload is absent, null or a
// JSON object, as a connection_init's must be.
func objectPayload(data []byte) bool {
	var m struct {
		Payload json.RawMessage `json:"payload"`
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&m); err != nil {
		return false
	}
	p := bytes.TrimSpace(m.Payload)
	return len(p) == 0 || p[0] == '{' || string(p) == "null"
}

// writeText writes a text message under the write lock (writeLocked).
func (c *conn) writeText(data []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(data)
}

// writeLocked writes parts as one text message, closing the connection if
// the write fails: gorilla connections cannot be written to after a failed
// write. The caller holds c.wmu.
func (c *conn) writeLocked(parts ...[]byte) error {
	c.setWriteDeadline()
	var err error
	if len(parts) == 1 {
		err = c.ws.WriteMessage(websocket.TextMessage, parts[0]) // gorilla's allocation-free path
	} else {
		var mw io.WriteCloser
		if mw, err = c.ws.NextWriter(websocket.TextMessage); err == nil {
			for _, p := range parts {
				_, _ = mw.Write(p) // a failed write fails Close too
			}
			err = mw.Close()
		}
	}
	if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
		_ = c.ws.Close()
	}
	return err
}

// readError maps an error from reading the websocket (see NextReader).
func (c *conn) readError(err error) error {
	if isNormalClose(err) {
		return transport.ErrWebsocketClosed
	}
	var closeErr *websocket.CloseError
	if c.closeSent.Load() && errors.As(err, &closeErr) {
		return transport.ErrWebsocketClosed
	}
	return err
}

// closeForProtocol sends a close frame with code and reason from the reading
// goroutine and returns the error NextReader reports from now on. The frame
// is written with WriteControl, which gorilla allows concurrently with the
// transport's writes; after it gorilla fails every further write with
// websocket.ErrCloseSent. If the frame cannot be sent in time, the
// connection is closed without it. Either way the transport closes the
// network connection when NextReader returns the error.
func (c *conn) closeForProtocol(code int, reason string) error {
	reason = truncateReason(reason)
	c.closeSent.Store(true)
	payload := websocket.FormatCloseMessage(code, reason)
	err := c.ws.WriteControl(websocket.CloseMessage, payload, time.Now().Add(closeWriteWait))
	if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
		_ = c.ws.Close()
	}
	return &ProtocolError{Code: code, Reason: reason}
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
//
// On graphql-transport-ws connections the message's operation id is mapped
// back to the client's, and a message for an operation that has ended is not
// sent (protocolState.serverMessage).
func (c *conn) WriteJSON(v any) error {
	typ, internal, ok := outgoingHeader(v)
	id := internal
	if c.proto != nil {
		if !ok {
			plain, err := json.Marshal(v)
			if err != nil {
				return err
			}
			h, _ := decodeHeader(plain)
			typ, internal = h.Type, h.ID
		}
		// Before sending: the client may react to the message at once, for
		// example by reusing the id of an operation that completed.
		var send bool
		if id, send = c.proto.serverMessage(typ, internal); !send {
			return nil
		}
	}
	data, ok := encodeMessage(v, id)
	if !ok {
		var err error
		if data, err = json.Marshal(v); err != nil {
			return err
		}
		if id != internal {
			if data, err = replaceID(data, id); err != nil {
				return err
			}
		}
	}
	return c.writeText(data)
}

// WriteClose sends a close frame with the given code and reason. It blocks
// for at most about a second and does not wait for the peer's reply; the
// transport calls Close right after it. Reasons longer than a close frame can
// carry are truncated at a UTF-8 boundary. Calling it after a close frame was
// already sent is a no-op.
//
// On graphql-transport-ws connections gqlgen's close for an expired
// InitTimeout (1002 "connection initialisation timeout") is sent as the
// protocol's 4408 "Connection initialisation timeout".
func (c *conn) WriteClose(closeCode int, message string) error {
	if c.proto != nil && closeCode == transport.WebsocketCloseProtocolError && message == gqlgenInitTimeoutReason {
		closeCode, message = CloseConnectionInitialisationTimeout, "Connection initialisation timeout"
	}
	closeCode, message = c.closeFor(closeCode, message)
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

var rawMessageType = reflect.TypeFor[json.RawMessage]()

// messageLayout says where a transport message keeps its payload.
type messageLayout struct {
	payload int // index of the json.RawMessage "payload" field; -1: none
}

var messageLayouts sync.Map // reflect.Type → messageLayout

// withID rewrites the client message in buf with id as its id. Like gqlgen,
// it reads the first JSON value and the type, id and payload keys in any
// case; gqlgen reads nothing else.
func withID(buf *bytes.Buffer, id string) error {
	var m struct {
		Type    string          `json:"type"`
		ID      string          `json:"id"`
		Payload json.RawMessage `json:"payload,omitempty"`
	}
	if err := json.NewDecoder(bytes.NewReader(buf.Bytes())).Decode(&m); err != nil {
		return err
	}
	m.ID = id
	data, err := json.Marshal(&m)
	if err != nil {
		return err
	}
	buf.Reset()
	buf.Write(data)
	return nil
}

// replaceID sets the "id" of the JSON object data to id.
func replaceID(data []byte, id string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	q, err := json.Marshal(id)
	if err != nil {
		return nil, err
	}
	m["id"] = q
	return json.Marshal(m)
}

// encodeMessage writes a gqlgen transport message ({payload, id, type}),
// with id as its id, without re-encoding its payload, which gqlgen has just
// encoded and encoding/json would scan and copy again; ok is false for
// anything else, which the caller encodes with encoding/json.
func encodeMessage(v any, id string) (data []byte, ok bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return nil, false
	}
	rv = rv.Elem()
	h := headerFieldsOf(rv.Type())
	if !h.ok {
		return nil, false
	}
	var layout messageLayout
	if l, found := messageLayouts.Load(rv.Type()); found {
		layout = l.(messageLayout)
	} else {
		layout.payload = -1
		for i := range rv.NumField() {
			sf := rv.Type().Field(i)
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			if name == "payload" && sf.IsExported() && sf.Type == rawMessageType {
				layout.payload = i
			}
		}
		messageLayouts.Store(rv.Type(), layout)
	}
	if layout.payload < 0 {
		return nil, false
	}
	typ := rv.Field(h.typ).String()
	for _, r := range typ {
		if !(r >= 'a' && r <= 'z' || r == '_') {
			return nil, false // not a message type name: let encoding/json decide
		}
	}
	payload := rv.Field(layout.payload).Bytes()
	buf := make([]byte, 0, len(payload)+len(id)+len(typ)+40)
	buf = append(buf, '{')
	if len(payload) > 0 {
		buf = append(buf, `"payload":`...)
		buf = append(buf, payload...)
		buf = append(buf, ',')
	}
	if id != "" {
		q, err := json.Marshal(id) // client-chosen: JSON's own escaping
		if err != nil {
			return nil, false
		}
		buf = append(buf, `"id":`...)
		buf = append(buf, q...)
		buf = append(buf, ',')
	}
	buf = append(buf, `"type":"`...)
	buf = append(buf, typ...)
	buf = append(buf, `"}`...)
	return buf, true
}
