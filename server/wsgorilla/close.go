package wsgorilla

import (
	"context"
	"errors"
	"fmt"

	"github.com/99designs/gqlgen/graphql/handler/transport"
)

// CloseError is why a connection is to be closed, and with what code: made
// the cause of a connection's context (context.WithCancelCause,
// context.WithDeadlineCause) by the transport's InitFunc, it is the code
// and reason of the close frame sent when that context ends. gqlgen's
// transport closes every connection whose context ends with 1000
// "terminated", which tells a client nothing: not that its token expired,
// nor that the server is going away (1001) and it should reconnect.
type CloseError struct {
	Code   int
	Reason string
}

func (e *CloseError) Error() string { return fmt.Sprintf("websocket closed: %d %s", e.Code, e.Reason) }

// closeFor returns the code and reason to close c with in place of those
// the transport gave.
func (c *conn) closeFor(code int, reason string) (int, string) {
	ctx, _ := c.initCtx.Load().(context.Context)
	if ctx == nil || code != transport.WebsocketCloseNormalClosure {
		return code, reason
	}
	var ce *CloseError
	if errors.As(context.Cause(ctx), &ce) {
		return ce.Code, ce.Reason
	}
	return code, reason
}
