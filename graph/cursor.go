package graph

import (
	"encoding/base64"
	"io"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"

	"switchboard/gid"
)

// MarshalCursor writes a page's cursor as entgql.Cursor's MarshalGQL does,
// byte for byte (quoted base64, without padding, of its MessagePack), but
// for the common cursor, a global ID and a string or no value, without a
// MessagePack encoder and a base64 stream a cursor: each page of 100 made
// 101 of them, an eighth of a wallboard page's CPU. Any other cursor is
// entgql's own.
func MarshalCursor(c entgql.Cursor[gid.ID]) graphql.Marshaler {
	value, isString := c.Value.(string)
	if (c.Value != nil && !isString) || len(c.ID) > 0xffff || len(value) > 0xffff {
		return c
	}
	return graphql.WriterFunc(func(w io.Writer) {
		pack := make([]byte, 0, 8+len(c.ID)+len(value))
		if value == "" { // none, or empty: left out (omitempty)
			pack = append(pack, 0x81) // a map of one: "i"
		} else {
			pack = append(pack, 0x82) // "i" and "v"
		}
		pack = appendString(append(pack, 0xa1, 'i'), string(c.ID))
		if value != "" {
			pack = appendString(append(pack, 0xa1, 'v'), value)
		}
		out := make([]byte, 0, base64.RawStdEncoding.EncodedLen(len(pack))+2)
		out = append(out, '"')
		out = base64.RawStdEncoding.AppendEncode(out, pack)
		out = append(out, '"')
		_, _ = w.Write(out)
	})
}

// appendString appends s as a MessagePack string, as the shortest form
// of its length: fixstr, str8 or str16 (s is at most 0xffff bytes).
func appendString(b []byte, s string) []byte {
	switch n := len(s); {
	case n < 32:
		b = append(b, 0xa0|byte(n))
	case n <= 0xff:
		b = append(b, 0xd9, byte(n))
	default:
		b = append(b, 0xda, byte(n>>8), byte(n))
	}
	return append(b, s...)
}

// UnmarshalCursor reads a cursor as entgql.Cursor's UnmarshalGQL does.
func UnmarshalCursor(v any) (entgql.Cursor[gid.ID], error) {
	var c entgql.Cursor[gid.ID]
	err := c.UnmarshalGQL(v)
	return c, err
}
