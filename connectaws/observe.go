package connectaws

import (
	"context"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
)

// CallObserver sees each AWS call when it ends: the service (its SDK
// service ID, e.g. "STS", "Connect"), the operation, how long it took with
// its retries, and its error (nil on success).
type CallObserver func(service, operation string, d time.Duration, err error)

// observeCalls returns the API option that reports every call of a client
// to observe. It is the last initialize step, so that the service and
// operation names are in the context whichever way the client's generation
// registers them; retries run later in the stack, so they are timed.
func observeCalls(observe CallObserver) func(*middleware.Stack) error {
	return func(s *middleware.Stack) error {
		return s.Initialize.Add(middleware.InitializeMiddlewareFunc("switchboardObserveCall",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				start := time.Now()
				out, md, err := next.HandleInitialize(ctx, in)
				observe(awsmiddleware.GetServiceID(ctx), awsmiddleware.GetOperationName(ctx), time.Since(start), err)
				return out, md, err
			}), middleware.After) // after the operation's RegisterServiceMetadata
	}
}
