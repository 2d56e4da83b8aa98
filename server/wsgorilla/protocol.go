package wsgorilla

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/99designs/gqlgen/graphql"
)

// graphql-transport-ws close codes that gqlgen v0.17.98 does not send itself
// (https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md).
const (
	// CloseBadRequest is sent for a message the protocol does not define: not
	// a JSON object with a string type, a type a client may not send, or a
	// subscribe or complete without an id.
	CloseBadRequest = 4400
	// CloseUnauthorized is sent when a client subscribes before the server
	// acknowledged its connection_init.
	CloseUnauthorized = 4401
	// CloseConnectionInitialisationTimeout is sent when no connection_init
	// arrived within transport.Websocket.InitTimeout.
	CloseConnectionInitialisationTimeout = 4408
	// CloseSubscriberAlreadyExists is sent when a client subscribes with the
	// id of an operation that is still active.
	CloseSubscriberAlreadyExists = 4409
	// CloseTooManyInitialisationRequests is sent when a client sends a
	// second connection_init.
	CloseTooManyInitialisationRequests = 4429
)

const (
	graphqlTransportWS = "graphql-transport-ws"

	// gqlgen's close reason when InitTimeout expires (v0.17.98, websocket.go).
	gqlgenInitTimeoutReason = "connection initialisation timeout"

	// maxPooledReadBuffer is the largest read buffer returned to the pool;
	// the buffer of a larger message is left to the garbage collector.
	maxPooledReadBuffer = 64 << 10
)

// ProtocolError is returned by NextReader after the adapter closed a
// graphql-transport-ws connection because the client broke the protocol.
// gqlgen's transport hands it to transport.Websocket.ErrorFunc as a read
// error (except during connection initialisation, where it reports nothing)
// and then tears the connection down. Code and Reason are what was sent in
// the close frame.
type ProtocolError struct {
	Code   int
	Reason string
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("graphql-transport-ws: closed with %d %q", e.Code, e.Reason)
}

// protocolState tracks a graphql-transport-ws connection as far as needed to
// enforce the close codes gqlgen does not send: whether connection_init was
// received and acknowledged, and which operation ids are active.
//
// Operation ids become active with the client's subscribe and stop being
// active with the server's complete or error for the id, or with the
// client's complete. gqlgen answers a client's complete with a complete (or
// error) of its own once the operation has stopped; those answers are
// counted in opState.stale so that they do not end an operation the client
// meanwhile started again under the same id.
//
// The mutex is needed because the reading goroutine (client messages) and
// the goroutines writing through the transport (server messages) both update
// the state.
type protocolState struct {
	mu           sync.Mutex
	initReceived bool
	acked        bool
	ops          map[string]opState

	// pending holds the ids OperationIDs noted and NewWriter has not yet
	// taken (direct.go), nil when there are none; subscribing is the id of
	// the subscribe message read last, used by the reading goroutine only.
	pending     map[*graphql.OperationContext]string
	subscribing string

	// errored holds the ids whose operation the server ended with an error
	// and that gqlgen may still complete (nil when none): the protocol ends
	// an operation with error or complete, never both.
	errored map[string]bool
}

// notePending notes the id of a subscription gqlgen is preparing.
func (s *protocolState) notePending(oc *graphql.OperationContext, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil {
		s.pending = make(map[*graphql.OperationContext]string, 1)
	}
	s.pending[oc] = id
}

// takePending returns and forgets the id noted for oc.
func (s *protocolState) takePending(oc *graphql.OperationContext) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.pending[oc]
	if ok {
		s.forgetPending(id)
	}
	return id, ok
}

// forgetPending forgets what is noted for an operation id, taken or ended
// without being taken. The caller holds s.mu.
func (s *protocolState) forgetPending(id string) {
	for oc, pid := range s.pending {
		if pid == id {
			delete(s.pending, oc)
		}
	}
	if len(s.pending) == 0 {
		s.pending = nil // an idle connection keeps no map
	}
}

type opState struct {
	active bool
	// stale counts server complete/error messages still expected for
	// operations of this id that the client completed.
	stale uint16
}

// clientMessage updates the state for a message received from the client and
// returns a non-zero close code if the message breaks the protocol.
func (s *protocolState) clientMessage(typ, id string) (code int, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch typ {
	case "ping", "pong":
	case "connection_init":
		if s.initReceived {
			return CloseTooManyInitialisationRequests, "Too many initialisation requests"
		}
		s.initReceived = true
	case "subscribe":
		if id == "" {
			return CloseBadRequest, "Invalid message received: subscribe without an id"
		}
		if !s.acked {
			return CloseUnauthorized, "Unauthorized"
		}
		delete(s.errored, id) // a new operation under an old id
		op := s.ops[id]
		if op.active {
			return CloseSubscriberAlreadyExists, "Subscriber for " + id + " already exists"
		}
		op.active = true
		if s.ops == nil {
			s.ops = make(map[string]opState, 1)
		}
		s.ops[id] = op
	case "complete":
		if id == "" {
			return CloseBadRequest, "Invalid message received: complete without an id"
		}
		if op, ok := s.ops[id]; ok && op.active {
			op.active = false
			if op.stale < ^uint16(0) {
				op.stale++
			}
			s.ops[id] = op
		}
	default:
		return CloseBadRequest, "Invalid message received: unknown type " + quoteReason(typ)
	}
	return 0, ""
}

// quoteReason quotes a client-chosen string for a close reason (cut to fit
// by truncateReason).
func quoteReason(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// serverMessage updates the state for a message the server is about to
// send, and reports whether to send it: not a complete that follows an error
// for the same operation.
func (s *protocolState) serverMessage(typ, id string) (send bool) {
	switch typ {
	case "connection_ack", "complete", "error":
	default:
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch typ {
	case "connection_ack":
		s.acked = true
		return true
	case "error":
		// gqlgen follows an error with a complete right away, or never: a
		// few remembered ids are enough, and a client that makes many
		// operations fail does not grow the map.
		if s.errored == nil || len(s.errored) >= 16 {
			s.errored = make(map[string]bool, 1)
		}
		s.errored[id] = true
	case "complete":
		if s.errored[id] {
			delete(s.errored, id)
			if len(s.errored) == 0 {
				s.errored = nil
			}
			return false // the error ended the operation
		}
	}
	s.forgetPending(id)
	op, ok := s.ops[id]
	if !ok {
		return true
	}
	if op.stale > 0 {
		op.stale--
	} else {
		op.active = false
	}
	if !op.active && op.stale == 0 {
		delete(s.ops, id)
		return true
	}
	s.ops[id] = op
	return true
}

// messageHeader is the part of a GraphQL websocket message the adapter looks
// at. Like gqlgen's own message types it relies on encoding/json's
// case-insensitive field matching.
type messageHeader struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// decodeHeader decodes the type and id of a client message. It reports false
// for messages gqlgen cannot decode either; those are left to gqlgen.
func decodeHeader(data []byte) (messageHeader, bool) {
	var h messageHeader
	if err := json.Unmarshal(data, &h); err == nil {
		return h, true
	}
	// gqlgen decodes with a json.Decoder, which accepts data after the
	// first JSON value; do the same before giving up.
	h = messageHeader{}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&h); err != nil {
		return messageHeader{}, false
	}
	return h, true
}

// outgoingHeader returns the type and id of a message passed to WriteJSON.
// gqlgen passes a pointer to a struct whose string fields are tagged "type"
// and "id"; those are read directly so that large next payloads are not
// decoded again. Anything else is decoded from its JSON encoding.
func outgoingHeader(v any, data []byte) (typ, id string) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() == reflect.Struct {
		if f := headerFieldsOf(rv.Type()); f.ok {
			return rv.Field(f.typ).String(), rv.Field(f.id).String()
		}
	}
	h, _ := decodeHeader(data)
	return h.Type, h.ID
}

type headerFields struct {
	typ, id int
	ok      bool
}

var headerFieldCache sync.Map // reflect.Type → headerFields

var jsonMarshaler = reflect.TypeFor[json.Marshaler]()

// headerFieldsOf finds the exported string fields of t encoded as "type" and
// "id". ok is false if t does not have both or encodes itself.
func headerFieldsOf(t reflect.Type) headerFields {
	if f, ok := headerFieldCache.Load(t); ok {
		return f.(headerFields)
	}
	f := headerFields{typ: -1, id: -1}
	if !t.Implements(jsonMarshaler) && !reflect.PointerTo(t).Implements(jsonMarshaler) {
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() || sf.Type.Kind() != reflect.String {
				continue
			}
			name, _, _ := strings.Cut(sf.Tag.Get("json"), ",")
			switch name {
			case "type":
				f.typ = i
			case "id":
				f.id = i
			}
		}
		f.ok = f.typ >= 0 && f.id >= 0
	}
	headerFieldCache.Store(t, f)
	return f
}

// readBuffer holds one client message of a graphql-transport-ws connection
// so that the adapter can inspect it before gqlgen decodes it.
type readBuffer struct {
	buf bytes.Buffer
	r   bytes.Reader
}

var readBuffers = sync.Pool{New: func() any { return new(readBuffer) }}

func getReadBuffer() *readBuffer {
	return readBuffers.Get().(*readBuffer)
}

func putReadBuffer(b *readBuffer) {
	if b.buf.Cap() > maxPooledReadBuffer {
		return
	}
	b.buf.Reset()
	b.r.Reset(nil)
	readBuffers.Put(b)
}
