// Package telemetry tells the operator what switchboard is doing: request
// IDs carried in the context and added to every log line, an access log
// line per HTTP request, and the Prometheus metrics of requests, GraphQL
// operations, error codes, WebSocket connections and AWS calls.
// cmd/switchboard/wire builds it and puts it in front of the server.
package telemetry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
)

// RequestIDHeader carries a request's ID in and out.
const RequestIDHeader = "X-Request-ID"

// maxRequestID bounds an incoming request ID.
const maxRequestID = 64

type requestIDKey struct{}

// WithRequestID returns ctx carrying the request ID id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request ID ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// NewRequestID returns a new random request ID.
func NewRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// SaneRequestID reports whether an incoming request ID may be kept: at most
// 64 characters of letters, digits, '-', '_', '.' and ':'.
func SaneRequestID(id string) bool {
	if id == "" || len(id) > maxRequestID {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '-', c == '_', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// Handler is a slog.Handler that adds the request ID of the record's
// context, when it has one, to each record.
type Handler struct{ slog.Handler }

// NewHandler returns h adding request IDs.
func NewHandler(h slog.Handler) *Handler { return &Handler{h} }

// Handle adds the context's request ID as request_id.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if id := RequestID(ctx); id != "" {
		r = r.Clone()
		r.AddAttrs(slog.String("request_id", id))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{h.Handler.WithAttrs(as)}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{h.Handler.WithGroup(name)}
}
