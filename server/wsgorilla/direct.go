package wsgorilla

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Direct writes.
//
// gqlgen sends each result of a subscription through its executor's
// response middleware, encodes it to JSON, and writes it from the
// subscription's goroutine. When one result goes to thousands of
// subscribers alike (a status change on every wallboard of a tenant), that
// work is the same for all of them, and it costs more than the write itself.
// A subscription served on a graphql-transport-ws connection of this
// Implementation may instead send results that are already encoded through
// a Writer, which adds only the operation's id and writes the frame; the
// transport still starts and ends the operation (its "complete" follows the
// last result), and every write to the connection, direct or not, holds the
// connection's write lock.
//
// The Writer needs the connection and the operation's id, which gqlgen does
// not hand to a subscription. The connection reaches the subscription's
// context through InitFunc, which wraps the transport's InitFunc. The id is
// noted on the connection, against the operation's context, by the
// OperationIDs extension, which gqlgen runs while it prepares the operation,
// on the goroutine that has just read the subscribe message from this
// connection and reads nothing more until the operation is prepared;
// NewWriter takes it, and the operation's end forgets it if nothing did.

type connKey struct{}

// InitFunc wraps the transport's InitFunc (nil: none) so that the
// connection's subscriptions can write directly (see NewWriter), and so that
// a CloseError causing the end of the context it returns closes the
// connection with its code (close.go).
func (i *Implementation) InitFunc(next transport.WebsocketInitFunc) transport.WebsocketInitFunc {
	return func(ctx context.Context, p transport.InitPayload) (context.Context, *transport.InitPayload, error) {
		// The transport passes InitFunc the context of the connection's
		// request, under which Accept noted the connection.
		accepted, _ := i.accepted.LoadAndDelete(ctx)
		var ack *transport.InitPayload
		if next != nil {
			var err error
			if ctx, ack, err = next(ctx, p); err != nil {
				return ctx, ack, err
			}
		}
		c, ok := accepted.(*conn)
		if !ok {
			return ctx, ack, nil
		}
		c.initCtx.Store(ctx)
		if c.proto != nil {
			ctx = context.WithValue(ctx, connKey{}, c)
		}
		return ctx, ack, nil
	}
}

// OperationIDs is the gqlgen extension that notes the id of each
// subscription on a graphql-transport-ws connection of an Implementation,
// for NewWriter. Add it to the server with Use.
type OperationIDs struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = OperationIDs{}

// ExtensionName implements graphql.HandlerExtension.
func (OperationIDs) ExtensionName() string { return "WsgorillaOperationIDs" }

// Validate implements graphql.HandlerExtension.
func (OperationIDs) Validate(graphql.ExecutableSchema) error { return nil }

// MutateOperationContext implements graphql.OperationContextMutator.
func (OperationIDs) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	c, ok := ctx.Value(connKey{}).(*conn)
	if !ok || oc.Operation == nil || oc.Operation.Operation != ast.Subscription {
		return nil
	}
	// The goroutine that read the subscribe message, before it reads another.
	if id := c.proto.subscribing; id != "" {
		c.proto.notePending(oc, id)
		c.proto.subscribing = ""
	}
	return nil
}

// Writer sends a subscription's results straight to its connection. It is
// used by its subscription's goroutine only.
type Writer struct {
	c      *conn
	id     string // the client's
	gen    uint64 // the operation's generation of id (protocolState)
	quoted []byte // id as JSON, from the first Next on
}

// NewWriter returns the Writer of the subscription whose context is ctx, or
// nil when it has none: not on a graphql-transport-ws connection of an
// Implementation whose InitFunc and OperationIDs are in use.
func NewWriter(ctx context.Context) *Writer {
	c, ok := ctx.Value(connKey{}).(*conn)
	if !ok || !graphql.HasOperationContext(ctx) {
		return nil
	}
	internal, ok := c.proto.takePending(graphql.GetOperationContext(ctx))
	if !ok {
		return nil
	}
	id, gen, ok := splitInternalID(internal)
	if !ok {
		return nil
	}
	// Quoted on first use: an idle subscription's goroutine stays small.
	return &Writer{c: c, id: id, gen: gen}
}

// DirectMessages returns how many messages Writers have sent on the
// Implementation's connections.
func (i *Implementation) DirectMessages() int64 { return i.direct.Load() }

// ErrBadPayload is returned by Next for a payload that is not a JSON object.
var ErrBadPayload = errors.New("wsgorilla: a payload must be a JSON object")

// ErrEnded is returned by Next once the operation has ended: the client
// completed it, or the server sent its complete or error.
var ErrEnded = errors.New("wsgorilla: the operation has ended")

// Next sends payload, the JSON of one result ({"data": …} as gqlgen encodes
// a graphql.Response), as the operation's next message. The payload is not
// modified and may be shared by many Writers. After an error the
// subscription should end; after any but ErrEnded and ErrBadPayload the
// connection is closed.
func (w *Writer) Next(payload []byte) error {
	if len(payload) < 2 || payload[0] != '{' {
		return ErrBadPayload
	}
	if w.quoted == nil {
		q, err := json.Marshal(w.id) // as gqlgen encodes it
		if err != nil {
			return err
		}
		w.quoted = q
	}
	c := w.c
	c.wmu.Lock()
	defer c.wmu.Unlock()
	// Under the write lock: a complete or error the transport is about to
	// write has already ended the operation (WriteJSON).
	if !c.proto.live(w.id, w.gen) {
		return ErrEnded
	}
	if err := c.writeLocked(payloadPrefix, payload, idPrefix, w.quoted, nextSuffix); err != nil {
		return err
	}
	c.impl.direct.Add(1)
	return nil
}

var (
	payloadPrefix = []byte(`{"payload":`)
	idPrefix      = []byte(`,"id":`)
	nextSuffix    = []byte(`,"type":"next"}`)
)

// setWriteDeadline sets the write deadline for a message about to be sent,
// unless the one set last is still at least half a timeout away: setting it
// costs more than the write of a small frame. The caller holds c.wmu.
func (c *conn) setWriteDeadline() {
	timeout := c.impl.writeTimeout
	if timeout <= 0 {
		return
	}
	now := time.Now()
	if time.Duration(c.deadline-now.UnixNano()) > timeout/2 {
		return
	}
	deadline := now.Add(timeout)
	c.deadline = deadline.UnixNano()
	_ = c.ws.SetWriteDeadline(deadline)
}
