package gid_test

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"testing"

	"entgo.io/contrib/entgql"

	"switchboard/gid"
)

// FuzzCursor feeds the decoding of a connection's after and before
// arguments (entgql.Cursor[gid.ID], what every page of the API takes)
// arbitrary strings: it never panics, and what it decodes encodes to a
// cursor that decodes to the same cursor, and encodes alike again. The
// one loss: entgql leaves an empty value (msgpack's omitempty: "", 0,
// false, an empty list or map) out of the encoding, so it comes back nil.
func FuzzCursor(f *testing.F) {
	for _, s := range []string{
		"gaFpvEFHMDFBUlozTkRFS1RTVjRSUkZGUTY5RzVGQVY",                    // an agent's ID alone
		"gqFpvEFHMDFBUlozTkRFS1RTVjRSUkZGUTY5RzVGQVahdqlBbm4gU21pdGg",    // with its name
		"gqFpvENUMDFBUlozTkRFS1RTVjRSUkZGUTY5RzVGQVahdqsxfGFubiBzbWl0aA", // a contact search's "phase|name"
		"gqFpvFROMDFBUlozTkRFS1RTVjRSUkZGUTY5RzVGQVahdtMAAAAAAAAAKg",     // with a number
		"garbage", "x", "%%%", "", "gA", "gaFpwA", "kwEC",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var c entgql.Cursor[gid.ID]
		if err := c.UnmarshalGQL(s); err != nil {
			return
		}
		_, _ = c.ID.Prefix(), c.ID.Valid()
		enc := marshal(t, c)
		var again entgql.Cursor[gid.ID]
		if err := again.UnmarshalGQL(enc); err != nil {
			t.Fatalf("%q decodes to %#v, which encodes to %q, which does not decode: %v", s, c, enc, err)
		}
		want := c
		if empty(want.Value) {
			want.Value = nil
		}
		// %#v spells NaN alike, which DeepEqual does not take as equal.
		if !reflect.DeepEqual(want, again) && fmt.Sprintf("%#v", want) != fmt.Sprintf("%#v", again) {
			t.Fatalf("%q decodes to %#v, which encodes to %q, which decodes to %#v", s, c, enc, again)
		}
		if enc2 := marshal(t, again); enc2 != enc {
			t.Fatalf("%q decodes to %#v, which encodes to %q, then to %q", s, c, enc, enc2)
		}
	})
}

// marshal returns the cursor as a client receives it: the GraphQL string's value.
func marshal(t *testing.T, c entgql.Cursor[gid.ID]) string {
	t.Helper()
	var b bytes.Buffer
	c.MarshalGQL(&b)
	s, err := strconv.Unquote(b.String())
	if err != nil {
		t.Fatalf("%#v encodes to %s, not a string", c, b.String())
	}
	return s
}

// empty reports whether msgpack's omitempty leaves v out.
func empty(v any) bool {
	if v == nil {
		return true
	}
	if z, ok := v.(interface{ IsZero() bool }); ok {
		return z.IsZero()
	}
	switch r := reflect.ValueOf(v); r.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return r.Len() == 0
	case reflect.Bool:
		return !r.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return r.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return r.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return r.Float() == 0
	}
	return false
}
