package wsgorilla

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
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
// enforce the close codes gqlgen does not send (whether connection_init was
// received and acknowledged, and which operation ids are active) and to keep
// every operation's messages to itself.
//
// A client may reuse an id as soon as it completed the operation, before
// gqlgen has stopped it, and gqlgen keys its operations by id alone: the old
// operation's late messages would then reach the new one, and its clean-up
// would unregister the new one. So each subscribe starts a generation of its
// id, and gqlgen sees the id with the generation appended (internalID);
// server messages are mapped back, and those of a generation that is no
// longer current, or of an operation that has ended (completed by the client
// or ended by the server's complete or error), are dropped: the protocol
// sends nothing for an operation after it ends, and never both error and
// complete.
//
// The mutex is needed because the reading goroutine (client messages) and
// the goroutines writing through the transport (server messages) both update
// the state.
type protocolState struct {
	mu           sync.Mutex
	initReceived bool
	acked        bool
	ops          map[string]*opState // by the client's id
	generations  uint64

	// pending maps the operations that OperationIDs noted and NewWriter has
	// not yet taken to their internal ids (direct.go); nil when none.
	// subscribing is the internal id of the subscribe message read last,
	// used by the reading goroutine only.
	pending     map[*graphql.OperationContext]string
	subscribing string
}

// opState is the current operation of an id.
type opState struct {
	gen    uint64
	active bool                      // neither side has ended it
	oc     *graphql.OperationContext // noted in pending, until NewWriter takes it
}

// internalID is the id gqlgen knows an operation by: the client's id and the
// generation, after a NUL.
func internalID(id string, gen uint64) string {
	return id + "\x00" + strconv.FormatUint(gen, 36)
}

// splitInternalID undoes internalID; ok is false for any other id.
func splitInternalID(internal string) (id string, gen uint64, ok bool) {
	i := strings.LastIndexByte(internal, 0)
	if i < 0 {
		return "", 0, false
	}
	gen, err := strconv.ParseUint(internal[i+1:], 36, 64)
	if err != nil {
		return "", 0, false
	}
	return internal[:i], gen, true
}

// clientMessage updates the state for a message received from the client.
// It returns a non-zero close code if the message breaks the protocol, and
// otherwise the id to hand gqlgen in place of the client's.
func (s *protocolState) clientMessage(typ, id string) (code int, reason, internal string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch typ {
	case "ping", "pong":
	case "connection_init":
		if s.initReceived {
			return CloseTooManyInitialisationRequests, "Too many initialisation requests", ""
		}
		s.initReceived = true
	case "subscribe":
		if id == "" {
			return CloseBadRequest, "Invalid message received: subscribe without an id", ""
		}
		if !s.acked {
			return CloseUnauthorized, "Unauthorized", ""
		}
		old := s.ops[id]
		if old != nil && old.active {
			return CloseSubscriberAlreadyExists, "Subscriber for " + id + " already exists", ""
		}
		if old != nil {
			s.forgetPending(old)
		}
		s.generations++
		if s.ops == nil {
			s.ops = make(map[string]*opState, 1)
		}
		s.ops[id] = &opState{gen: s.generations, active: true}
		return 0, "", internalID(id, s.generations)
	case "complete":
		if id == "" {
			return CloseBadRequest, "Invalid message received: complete without an id", ""
		}
		if op := s.ops[id]; op != nil && op.active {
			op.active = false // gqlgen's answer is dropped when it comes
			return 0, "", internalID(id, op.gen)
		}
	default:
		return CloseBadRequest, "Invalid message received: unknown type " + quoteReason(typ), ""
	}
	return 0, "", id
}

// quoteReason quotes a client-chosen string for a close reason (cut to fit
// by truncateReason).
func quoteReason(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// serverMessage updates the state for a message the server is about to send
// for the operation gqlgen knows as internal (or for none), and returns the
// client's id for it and whether to send it at all.
func (s *protocolState) serverMessage(typ, internal string) (id string, send bool) {
	if typ == "connection_ack" {
		s.mu.Lock()
		s.acked = true
		s.mu.Unlock()
		return internal, true
	}
	if internal == "" {
		return "", true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, gen, ok := splitInternalID(internal)
	op := s.ops[id]
	if !ok {
		// Written by someone other than gqlgen, with the client's own id.
		id, op = internal, s.ops[internal]
		if op != nil {
			gen = op.gen
		}
	}
	if op == nil || op.gen != gen {
		return id, false // an earlier operation of the id
	}
	switch typ {
	case "complete", "error":
		s.forgetPending(op)
		delete(s.ops, id)
		return id, op.active
	case "next":
		return id, op.active
	}
	return id, true
}

// isAcked reports whether the server has acknowledged connection_init.
func (s *protocolState) isAcked() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acked
}

// live reports whether the operation of id in generation gen is still
// running.
func (s *protocolState) live(id string, gen uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	op := s.ops[id]
	return op != nil && op.gen == gen && op.active
}

// notePending notes the operation that gqlgen is preparing for the
// subscribe message whose internal id is internal.
func (s *protocolState) notePending(oc *graphql.OperationContext, internal string) {
	id, gen, ok := splitInternalID(internal)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	op := s.ops[id]
	if op == nil || op.gen != gen || !op.active {
		return
	}
	if s.pending == nil {
		s.pending = make(map[*graphql.OperationContext]string, 1)
	}
	s.pending[oc] = internal
	op.oc = oc
}

// takePending returns and forgets the internal id noted for oc.
func (s *protocolState) takePending(oc *graphql.OperationContext) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	internal, ok := s.pending[oc]
	if !ok {
		return "", false
	}
	if id, gen, ok := splitInternalID(internal); ok {
		if op := s.ops[id]; op != nil && op.gen == gen {
			s.forgetPending(op)
		}
	}
	delete(s.pending, oc)
	if len(s.pending) == 0 {
		s.pending = nil
	}
	return internal, true
}

// forgetPending forgets what is noted for op. The caller holds s.mu.
func (s *protocolState) forgetPending(op *opState) {
	if op.oc == nil {
		return
	}
	delete(s.pending, op.oc)
	if len(s.pending) == 0 {
		s.pending = nil // an idle connection keeps no map
	}
	op.oc = nil
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
// decoded again. ok is false for anything else, which the caller decodes
// from its JSON encoding.
func outgoingHeader(v any) (typ, id string, ok bool) {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() == reflect.Struct {
		if f := headerFieldsOf(rv.Type()); f.ok {
			return rv.Field(f.typ).String(), rv.Field(f.id).String(), true
		}
	}
	return "", "", false
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
