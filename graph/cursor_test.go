package graph

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"entgo.io/contrib/entgql"

	"switchboard/gid"
)

// MarshalCursor writes entgql's bytes for every cursor, those it writes
// itself (IDs and string values of each MessagePack length form, none,
// empty, multi-byte) and those it leaves to entgql (other values), and
// what it writes reads back.
func TestMarshalCursorAsEntgql(t *testing.T) {
	id := gid.New("AG")
	for name, c := range map[string]entgql.Cursor[gid.ID]{
		"no value":    {ID: id},
		"empty value": {ID: id, Value: ""},
		"a name":      {ID: id, Value: "Agent 007 of 01"},
		"31 bytes":    {ID: id, Value: strings.Repeat("x", 31)},
		"32 bytes":    {ID: id, Value: strings.Repeat("x", 32)},
		"255 bytes":   {ID: id, Value: strings.Repeat("é", 127) + "x"},
		"256 bytes":   {ID: id, Value: strings.Repeat("é", 128)},
		"65535 bytes": {ID: id, Value: strings.Repeat("y", 0xffff)},
		"65536 bytes": {ID: id, Value: strings.Repeat("y", 0x10000)},
		"a long ID":   {ID: gid.ID(strings.Repeat("Z", 40)), Value: "Zoë"},
		"an empty ID": {Value: "x"},
		"a time":      {ID: id, Value: time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)},
		"a number":    {ID: id, Value: 42},
	} {
		var want, got bytes.Buffer
		c.MarshalGQL(&want)
		MarshalCursor(c).MarshalGQL(&got)
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Errorf("%s: %.80s, entgql %.80s", name, got.String(), want.String())
			continue
		}
		back, err := UnmarshalCursor(strings.Trim(got.String(), `"`))
		if err != nil || back.ID != c.ID {
			t.Errorf("%s: read back %+v, %v", name, back.ID, err)
		}
	}
}
