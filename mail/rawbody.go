package mail

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// A raw message travels to SES base64-encoded inside SendEmail's JSON body,
// which the SDK builds in memory: the message's base64 and the JSON
// encoder's copies of it come to about three times the message, on top of
// the message itself. Instead, Send has the SDK serialise the request around
// rawPlaceholder, and streamRawMessage then puts a reader in the body's
// place that produces the same JSON with the message's base64 where the
// placeholder was, encoding it as it is read. The reader can seek, as
// SigV4's payload hash and the retryer need.

// rawPlaceholder stands for the raw message in SendEmail's input.
var rawPlaceholder = []byte("switchboard: the raw message goes here")

// streamRawMessage is the SendEmail option that streams raw as the
// Content.Raw.Data of a request serialised with rawPlaceholder in its place.
func streamRawMessage(raw []byte) func(*sesv2.Options) {
	token := []byte(`"` + base64.StdEncoding.EncodeToString(rawPlaceholder) + `"`)
	return func(o *sesv2.Options) {
		o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
			return stack.Serialize.Add(middleware.SerializeMiddlewareFunc("StreamRawMessage",
				func(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (
					middleware.SerializeOutput, middleware.Metadata, error,
				) {
					req, ok := in.Request.(*smithyhttp.Request)
					if !ok || req.GetStream() == nil {
						return middleware.SerializeOutput{}, middleware.Metadata{}, fmt.Errorf("mail: SendEmail has no request body (%T)", in.Request)
					}
					body, err := io.ReadAll(req.GetStream()) // the JSON around the placeholder: small
					if err != nil {
						return middleware.SerializeOutput{}, middleware.Metadata{}, err
					}
					i := bytes.Index(body, token)
					if i < 0 || bytes.Contains(body[i+len(token):], token) {
						return middleware.SerializeOutput{}, middleware.Metadata{}, errors.New("mail: SendEmail's body does not hold the raw message's placeholder once")
					}
					// Keep the quotes around the value.
					stream := newRawBody(body[:i+1], raw, body[i+len(token)-1:])
					if req, err = req.SetStream(stream); err != nil {
						return middleware.SerializeOutput{}, middleware.Metadata{}, err
					}
					in.Request = req
					return next.HandleSerialize(ctx, in)
				}), middleware.After) // after the SDK's serialiser
		})
	}
}

// rawBody reads as prefix, the standard base64 of raw, then suffix.
type rawBody struct {
	prefix, raw, suffix []byte
	encoded             int64 // the length of raw's base64
	off                 int64
}

func newRawBody(prefix, raw, suffix []byte) *rawBody {
	return &rawBody{prefix: prefix, raw: raw, suffix: suffix, encoded: int64(base64.StdEncoding.EncodedLen(len(raw)))}
}

// Len is what is left to read.
func (b *rawBody) Len() int { return int(b.size() - b.off) }

func (b *rawBody) size() int64 { return int64(len(b.prefix)) + b.encoded + int64(len(b.suffix)) }

// Seek implements io.Seeker.
func (b *rawBody) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += b.off
	case io.SeekEnd:
		offset += b.size()
	default:
		return 0, errors.New("mail: bad whence")
	}
	if offset < 0 {
		return 0, errors.New("mail: seek before the start")
	}
	b.off = offset
	return offset, nil
}

// Read implements io.Reader.
func (b *rawBody) Read(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		pre, enc := int64(len(b.prefix)), b.encoded
		var m int
		switch off := b.off; {
		case off < pre:
			m = copy(p, b.prefix[off:])
		case off < pre+enc:
			m = b.readEncoded(p, off-pre)
		case off < pre+enc+int64(len(b.suffix)):
			m = copy(p, b.suffix[off-pre-enc:])
		default:
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		}
		n += m
		p = p[m:]
		b.off += int64(m)
	}
	return n, nil
}

// readEncoded fills p from the base64 of raw at offset e, and returns how
// much it wrote: whole 4-byte groups encoded straight into p where they
// fit, one group through a scratch array where they do not.
func (b *rawBody) readEncoded(p []byte, e int64) int {
	group, within := e/4, e%4
	if within == 0 && len(p) >= 4 {
		groups := int64(len(p) / 4)
		from := group * 3
		to := min((group+groups)*3, int64(len(b.raw)))
		src := b.raw[from:to]
		w := base64.StdEncoding.EncodedLen(len(src))
		base64.StdEncoding.Encode(p[:w], src)
		return w
	}
	var scratch [4]byte
	from := group * 3
	to := min(from+3, int64(len(b.raw)))
	base64.StdEncoding.Encode(scratch[:], b.raw[from:to])
	return copy(p, scratch[within:])
}
