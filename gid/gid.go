// Package gid implements switchboard's global identifiers: a short type
// prefix followed by a ULID, so that an ID names its entity type, sorts by
// creation time and is the same on every store.
package gid

import (
	"crypto/rand"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// PrefixLen is the length of the type prefix of every ID.
const PrefixLen = 2

// ID is a global identifier: a two-letter type prefix and a ULID.
type ID string

var (
	mu      sync.Mutex
	entropy = ulid.Monotonic(rand.Reader, 0)
)

// New returns a fresh ID with the given type prefix.
func New(prefix string) ID {
	mu.Lock()
	defer mu.Unlock()
	return ID(prefix + ulid.MustNew(ulid.Timestamp(time.Now()), entropy).String())
}

// Prefix returns the ID's type prefix, or "" for a malformed ID.
func (id ID) Prefix() string {
	if len(id) != PrefixLen+ulid.EncodedSize {
		return ""
	}
	return string(id[:PrefixLen])
}

// Valid reports whether the ID is well formed.
func (id ID) Valid() bool {
	if id.Prefix() == "" {
		return false
	}
	_, err := ulid.ParseStrict(string(id[PrefixLen:]))
	return err == nil
}

// UnmarshalGQL implements graphql.Unmarshaler.
func (id *ID) UnmarshalGQL(v any) error {
	switch v := v.(type) {
	case string:
		*id = ID(v)
	case ID:
		*id = v
	default:
		return fmt.Errorf("an ID is a string, not %T", v)
	}
	return nil
}

// MarshalGQL implements graphql.Marshaler: the ID as a JSON string. An
// ID of letters and digits, as every one New makes, is written as it is
// between quotes; any other (one a client sent) is escaped as JSON.
func (id ID) MarshalGQL(w io.Writer) {
	var buf [40]byte
	b := append(buf[:0], '"')
	for i := 0; i < len(id); i++ {
		c := id[i]
		if ('0' <= c && c <= '9') || ('A' <= c && c <= 'Z') || ('a' <= c && c <= 'z') {
			continue
		}
		q, _ := json.Marshal(string(id))
		_, _ = w.Write(q)
		return
	}
	b = append(b, id...)
	_, _ = w.Write(append(b, '"'))
}

// Scan implements sql.Scanner.
func (id *ID) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		return nil
	case string:
		*id = ID(v)
	case []byte:
		*id = ID(v)
	case ID:
		*id = v
	default:
		return fmt.Errorf("gid: unexpected type %T", src)
	}
	return nil
}

// Value implements driver.Valuer.
func (id ID) Value() (driver.Value, error) { return string(id), nil }
