package gid_test

import (
	"bytes"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"

	"switchboard/gid"
)

func TestNewHasThePrefixAndIsValid(t *testing.T) {
	for _, prefix := range []string{"AG", "TN", "CT", "CV"} {
		id := gid.New(prefix)
		if !strings.HasPrefix(string(id), prefix) {
			t.Errorf("New(%q) = %q: no prefix", prefix, id)
		}
		if len(id) != gid.PrefixLen+ulid.EncodedSize {
			t.Errorf("New(%q) = %q: %d characters", prefix, id, len(id))
		}
		if got := id.Prefix(); got != prefix {
			t.Errorf("New(%q).Prefix() = %q", prefix, got)
		}
		if !id.Valid() {
			t.Errorf("New(%q) = %q is not Valid", prefix, id)
		}
	}
}

// TestNewSortsByCreationTime: IDs made one after another sort in that
// order, within one millisecond (the monotonic entropy) and across them,
// and their ULID carries the time they were made.
func TestNewSortsByCreationTime(t *testing.T) {
	before := time.Now().Add(-time.Millisecond)
	var ids []gid.ID
	for i := 0; i < 2000; i++ {
		ids = append(ids, gid.New("AG"))
	}
	time.Sleep(2 * time.Millisecond)
	ids = append(ids, gid.New("AG"))
	after := time.Now().Add(time.Millisecond)
	for i := 1; i < len(ids); i++ {
		if ids[i-1] >= ids[i] {
			t.Fatalf("ID %d %q does not sort after ID %d %q", i, ids[i], i-1, ids[i-1])
		}
	}
	if !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != len(ids) {
		t.Fatal("IDs are not unique and sorted")
	}
	for _, id := range []gid.ID{ids[0], ids[len(ids)-1]} {
		u, err := ulid.ParseStrict(string(id[gid.PrefixLen:]))
		if err != nil {
			t.Fatal(err)
		}
		if at := ulid.Time(u.Time()); at.Before(before) || at.After(after) {
			t.Errorf("%q was made at %v, not between %v and %v", id, at, before, after)
		}
	}
	// A later millisecond sorts later even when its random part is smaller:
	// the time comes first.
	if ids[len(ids)-1][:gid.PrefixLen+10] <= ids[0][:gid.PrefixLen+10] {
		t.Errorf("the timestamp of %q does not sort after that of %q", ids[len(ids)-1], ids[0])
	}
}

func TestNewIsSafeForConcurrentUse(t *testing.T) {
	const workers, each = 8, 500
	out := make(chan gid.ID, workers*each)
	done := make(chan struct{})
	for w := 0; w < workers; w++ {
		go func() {
			for i := 0; i < each; i++ {
				out <- gid.New("IN")
			}
			done <- struct{}{}
		}()
	}
	for w := 0; w < workers; w++ {
		<-done
	}
	close(out)
	seen := map[gid.ID]bool{}
	for id := range out {
		if seen[id] {
			t.Fatalf("%q made twice", id)
		}
		seen[id] = true
	}
	if len(seen) != workers*each {
		t.Fatalf("%d IDs", len(seen))
	}
}

func TestPrefixAndValid(t *testing.T) {
	good := gid.New("AG")
	ulidPart := string(good[gid.PrefixLen:])
	cases := []struct {
		name       string
		id         gid.ID
		wantPrefix string
		wantValid  bool
	}{
		{"fresh", good, "AG", true},
		{"another type", gid.ID("TN" + ulidPart), "TN", true},
		{"the zero ULID", gid.ID("CT00000000000000000000000000"), "CT", true},
		{"the largest ULID", gid.ID("CT7ZZZZZZZZZZZZZZZZZZZZZZZZZ"), "CT", true},
		{"empty", "", "", false},
		{"prefix only", "AG", "", false},
		{"bare ULID", gid.ID(ulidPart), "", false},
		{"one character short", good[:len(good)-1], "", false},
		{"one character long", good + "0", "", false},
		{"three-letter prefix", gid.ID("AGX" + ulidPart), "", false},
		{"I is not Crockford base32", gid.ID("AG" + ulidPart[:25] + "I"), "AG", false},
		{"L is not Crockford base32", gid.ID("AG" + ulidPart[:25] + "L"), "AG", false},
		{"O is not Crockford base32", gid.ID("AG" + ulidPart[:25] + "O"), "AG", false},
		{"U is not Crockford base32", gid.ID("AG" + ulidPart[:25] + "U"), "AG", false},
		{"punctuation", gid.ID("AG" + ulidPart[:25] + "-"), "AG", false},
		{"a space", gid.ID("AG" + ulidPart[:12] + " " + ulidPart[13:]), "AG", false},
		{"timestamp overflow", gid.ID("AG8ZZZZZZZZZZZZZZZZZZZZZZZZZ"), "AG", false},
		{"multi-byte character", gid.ID("AG" + ulidPart[:24] + "é"), "AG", false},
		// Crockford base32 reads either case, as oklog/ulid does: a
		// lower-case ULID is well formed (it just names no stored row).
		{"lower-case ULID", gid.ID("AG" + strings.ToLower(ulidPart)), "AG", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.id.Prefix(); got != c.wantPrefix {
				t.Errorf("Prefix(%q) = %q, want %q", c.id, got, c.wantPrefix)
			}
			if got := c.id.Valid(); got != c.wantValid {
				t.Errorf("Valid(%q) = %v, want %v", c.id, got, c.wantValid)
			}
		})
	}
}

func TestGraphQLRoundTrip(t *testing.T) {
	id := gid.New("CT")
	var buf bytes.Buffer
	id.MarshalGQL(&buf)
	if got, want := buf.String(), `"`+string(id)+`"`; got != want {
		t.Fatalf("MarshalGQL = %s, want %s", got, want)
	}
	var back gid.ID
	if err := back.UnmarshalGQL(strings.Trim(buf.String(), `"`)); err != nil || back != id {
		t.Fatalf("UnmarshalGQL: %q, %v", back, err)
	}
	var fromID gid.ID
	if err := fromID.UnmarshalGQL(id); err != nil || fromID != id {
		t.Fatalf("UnmarshalGQL(gid.ID): %q, %v", fromID, err)
	}

	// A string that needs quoting is quoted, not injected into the JSON.
	buf.Reset()
	gid.ID(`a"b\c`).MarshalGQL(&buf)
	if got := buf.String(); got != `"a\"b\\c"` {
		t.Fatalf("MarshalGQL of a quote = %s", got)
	}
}

func TestUnmarshalGQLRejectsNonStrings(t *testing.T) {
	for _, v := range []any{nil, 42, 4.2, true, []byte("AG01"), []any{"AG"}, map[string]any{"id": "AG"}} {
		id := gid.ID("kept")
		if err := id.UnmarshalGQL(v); err == nil {
			t.Errorf("UnmarshalGQL(%#v) accepted", v)
		}
		if id != "kept" {
			t.Errorf("UnmarshalGQL(%#v) changed the ID to %q", v, id)
		}
	}
}

func TestScanAndValue(t *testing.T) {
	id := gid.New("TN")
	var _ sql.Scanner = (*gid.ID)(nil)
	var _ driver.Valuer = gid.ID("")

	v, err := id.Value()
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := v.(string); !ok || s != string(id) {
		t.Fatalf("Value() = %#v, want the string %q", v, id)
	}
	for _, src := range []any{string(id), []byte(id), id} {
		var got gid.ID
		if err := got.Scan(src); err != nil || got != id {
			t.Errorf("Scan(%#v) = %q, %v", src, got, err)
		}
	}
	// NULL leaves the ID as it was.
	got := gid.ID("kept")
	if err := got.Scan(nil); err != nil || got != "kept" {
		t.Errorf("Scan(nil) = %q, %v", got, err)
	}
	for _, src := range []any{42, int64(42), 4.2, true, time.Now()} {
		got := gid.ID("kept")
		if err := got.Scan(src); err == nil {
			t.Errorf("Scan(%#v) accepted", src)
		}
	}
	// A scanned []byte is copied: the driver may reuse its buffer.
	b := []byte(id)
	var scanned gid.ID
	_ = scanned.Scan(b)
	b[2] = 'x'
	if scanned != id {
		t.Errorf("Scan kept the driver's buffer: %q", scanned)
	}
}

// MarshalGQL writes JSON: an ID New made as it is, between quotes; any
// other escaped as JSON escapes it, so that a response stays JSON whatever
// ID a client sent.
func TestMarshalGQLIsJSON(t *testing.T) {
	for _, id := range []gid.ID{gid.New("AG"), "", "AG 01", `with "quotes" and \\`, "é\u2028<tag>", "\x00\x1f"} {
		var buf bytes.Buffer
		id.MarshalGQL(&buf)
		var back string
		if err := json.Unmarshal(buf.Bytes(), &back); err != nil || back != string(id) {
			t.Errorf("%q wrote %s: %v", id, buf.Bytes(), err)
		}
	}
}
