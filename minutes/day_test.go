package minutes_test

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"switchboard/gid"
	"switchboard/minutes"
)

var (
	available = gid.ID("AS01JQ0000000000000000000001")
	lunch     = gid.ID("AS01JQ0000000000000000000002")
	offline   = gid.ID("AS01JQ0000000000000000000003")
)

func TestEncodeKnownBytes(t *testing.T) {
	d := minutes.Day{
		Statuses: []gid.ID{offline, available},
		Runs: []minutes.Run{
			{Status: 1, Minutes: 480},
			{Status: 2, Minutes: 720},
			{Status: 1, Minutes: 240},
		},
	}
	b, err := minutes.Encode(d)
	if err != nil {
		t.Fatal(err)
	}
	want := "01" + "02" + // version, two statuses
		"0195c000000000000000000000000003" + // offline's ULID
		"0195c000000000000000000000000001" + // available's
		"01e003" + "02d005" + "01f001" // (1, 480) (2, 720) (1, 240)
	if got := hex.EncodeToString(b); got != want {
		t.Fatalf("encoding\n got %s\nwant %s", got, want)
	}
	back, err := minutes.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, d) {
		t.Fatalf("decoded %+v, want %+v", back, d)
	}
	if got := back.StatusAt(0); got != offline {
		t.Errorf("minute 0: %s", got)
	}
	if got := back.StatusAt(480); got != available {
		t.Errorf("minute 480: %s", got)
	}
	if got := back.StatusAt(1199); got != available {
		t.Errorf("minute 1199: %s", got)
	}
	if got := back.StatusAt(1200); got != offline {
		t.Errorf("minute 1200: %s", got)
	}
	for _, m := range []int{-1, 1440} {
		if got := back.StatusAt(m); got != "" {
			t.Errorf("minute %d: %s, want none", m, got)
		}
	}
	if back.Minutes(offline) != 720 || back.Minutes(available) != 720 || back.Minutes(lunch) != 0 || back.Minutes("") != 0 {
		t.Errorf("minutes per status: %d %d %d %d", back.Minutes(offline), back.Minutes(available), back.Minutes(lunch), back.Minutes(""))
	}
}

func TestEncodeIsCanonical(t *testing.T) {
	// The same minutes, told three ways: split runs, an unused and a
	// repeated status, a dictionary out of order.
	days := []minutes.Day{
		{Statuses: []gid.ID{available, lunch}, Runs: []minutes.Run{{0, 500}, {1, 400}, {2, 40}, {1, 500}}},
		{Statuses: []gid.ID{offline, available, lunch, available}, Runs: []minutes.Run{{0, 200}, {0, 300}, {2, 400}, {3, 40}, {4, 250}, {2, 250}}},
		{Statuses: []gid.ID{lunch, available}, Runs: []minutes.Run{{0, 500}, {2, 100}, {2, 300}, {1, 40}, {2, 500}}},
	}
	var first []byte
	for i, d := range days {
		b, err := minutes.Encode(d)
		if err != nil {
			t.Fatalf("day %d: %v", i, err)
		}
		if i == 0 {
			first = b
		} else if !bytes.Equal(b, first) {
			t.Fatalf("day %d encodes as %x, day 0 as %x", i, b, first)
		}
	}
	d, err := minutes.Decode(first)
	if err != nil {
		t.Fatal(err)
	}
	want := minutes.Day{Statuses: []gid.ID{available, lunch}, Runs: []minutes.Run{{0, 500}, {1, 400}, {2, 40}, {1, 500}}}
	if !reflect.DeepEqual(d, want) {
		t.Fatalf("decoded %+v", d)
	}
	if d.Minutes("") != 500 || d.StatusAt(499) != "" || d.StatusAt(500) != available {
		t.Fatal("no-status minutes are not told apart")
	}
}

func TestEncodeRefusesInvalidDays(t *testing.T) {
	full := []minutes.Run{{1, minutes.PerDay}}
	for name, d := range map[string]minutes.Day{
		"no runs":          {},
		"short":            {Statuses: []gid.ID{available}, Runs: []minutes.Run{{1, 1439}}},
		"long":             {Statuses: []gid.ID{available}, Runs: []minutes.Run{{1, 1439}, {0, 2}}},
		"index too high":   {Statuses: []gid.ID{available}, Runs: []minutes.Run{{2, minutes.PerDay}}},
		"negative index":   {Statuses: []gid.ID{available}, Runs: []minutes.Run{{-1, minutes.PerDay}}},
		"empty run":        {Statuses: []gid.ID{available}, Runs: []minutes.Run{{1, 0}, {1, minutes.PerDay}}},
		"negative run":     {Statuses: []gid.ID{available}, Runs: []minutes.Run{{1, -10}, {1, 1450}}},
		"not a status ID":  {Statuses: []gid.ID{"AG01JQ0000000000000000000001"}, Runs: full},
		"malformed ID":     {Statuses: []gid.ID{"AS01JQ"}, Runs: full},
		"overflowing ULID": {Statuses: []gid.ID{"AS81JQ0000000000000000000001"}, Runs: full},
	} {
		if b, err := minutes.Encode(d); err == nil {
			t.Errorf("%s: encoded as %x", name, b)
		}
	}
}

func TestDecodeRefusesMalformedInput(t *testing.T) {
	valid, err := minutes.Encode(minutes.Day{
		Statuses: []gid.ID{offline, available},
		Runs:     []minutes.Run{{1, 480}, {2, 720}, {1, 240}},
	})
	if err != nil {
		t.Fatal(err)
	}
	head := valid[:2+32] // version, count, dictionary
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	for name, b := range map[string][]byte{
		"empty":                  nil,
		"unknown version":        cat([]byte{2}, valid[1:]),
		"version 0":              cat([]byte{0}, valid[1:]),
		"no dictionary size":     {1},
		"dictionary past end":    {1, 5, 0, 0},
		"huge dictionary":        {1, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"no runs":                head,
		"truncated run":          cat(head, []byte{1, 0xe0}),
		"runs short":             valid[:len(valid)-3],
		"runs long":              cat(valid, []byte{1, 1}),
		"index out of range":     cat(head, []byte{3, 0xa0, 0x0b}),
		"empty run":              cat(head, []byte{1, 0}, valid[len(head):]),
		"adjacent equal runs":    cat(head, []byte{1, 0xdf, 0x03, 1, 1}, valid[len(head)+3:]),
		"dictionary out of use":  cat(head, []byte{2, 0xe0, 0x03, 1, 0xd0, 0x05, 2, 0xf0, 0x01}),
		"unused status":          cat(head, []byte{1, 0xa0, 0x0b}),
		"non-minimal uvarint":    cat(head, []byte{0x81, 0x00, 0xe0, 0x03}, valid[len(head)+3:]),
		"run past the day":       cat(head, []byte{1, 0xa1, 0x0b}),
		"overflowing uvarint":    cat(head, bytes.Repeat([]byte{0xff}, 11)),
		"duplicated status":      cat([]byte{1, 2}, valid[2:18], valid[2:18], []byte{1, 0xe0, 0x03, 2, 0xd0, 0x05, 1, 0xf0, 0x01}),
		"truncated dictionary":   {1, 1, 0xa0, 0x0b},
		"trailing half of a run": cat(valid, []byte{1}),
	} {
		d, err := minutes.Decode(b)
		if err == nil {
			t.Errorf("%s: decoded %x as %+v", name, b, d)
			continue
		}
		if !errors.Is(err, minutes.ErrFormat) {
			t.Errorf("%s: error %v does not wrap ErrFormat", name, err)
		}
	}
	// A day with no status at all is valid, and small.
	b, err := minutes.Encode(minutes.Day{Runs: []minutes.Run{{0, minutes.PerDay}}})
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(b) != "0100"+"00a00b" {
		t.Fatalf("an empty day encodes as %x", b)
	}
}

func TestBuild(t *testing.T) {
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	at := func(h, m, s int) time.Time {
		return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
	}
	t.Run("minute starts", func(t *testing.T) {
		d := minutes.Build(day, offline, []minutes.Change{
			{At: at(9, 0, 0), Status: available},                                  // exactly at 09:00: from minute 540
			{At: at(12, 0, 1), Status: lunch},                                     // a second late: from minute 721
			{At: at(12, 30, 0), Status: available},                                // on the minute
			{At: at(17, 59, 59), Status: lunch},                                   // both start minute 1080:
			{At: at(17, 59, 59).Add(999_999 * time.Microsecond), Status: offline}, // the later one wins
		})
		checkTotal(t, d)
		want := map[int]gid.ID{0: offline, 539: offline, 540: available, 720: available, 721: lunch, 749: lunch, 750: available, 1079: available, 1080: offline, 1439: offline}
		for m, s := range want {
			if got := d.StatusAt(m); got != s {
				t.Errorf("minute %d: %s, want %s", m, got, s)
			}
		}
		if d.Minutes(lunch) != 29 {
			t.Errorf("lunch %d minutes, want 29", d.Minutes(lunch))
		}
	})
	t.Run("no status before the first change", func(t *testing.T) {
		d := minutes.Build(day, "", []minutes.Change{{At: at(8, 15, 30), Status: available}})
		checkTotal(t, d)
		if d.Minutes("") != 8*60+16 || d.StatusAt(496) != available || d.StatusAt(495) != "" {
			t.Fatalf("%+v", d)
		}
		b, err := minutes.Encode(d)
		if err != nil {
			t.Fatal(err)
		}
		if back, err := minutes.Decode(b); err != nil || !reflect.DeepEqual(back, d) {
			t.Fatalf("round trip: %+v, %v", back, err)
		}
	})
	t.Run("no change", func(t *testing.T) {
		d := minutes.Build(day, offline, nil)
		want := minutes.Day{Statuses: []gid.ID{offline}, Runs: []minutes.Run{{1, minutes.PerDay}}}
		if !reflect.DeepEqual(d, want) {
			t.Fatalf("%+v", d)
		}
		d = minutes.Build(day, "", nil)
		if !reflect.DeepEqual(d, minutes.Day{Runs: []minutes.Run{{0, minutes.PerDay}}}) {
			t.Fatalf("%+v", d)
		}
	})
	t.Run("several changes in one minute", func(t *testing.T) {
		d := minutes.Build(day, offline, []minutes.Change{
			{At: at(10, 0, 10), Status: available},
			{At: at(10, 0, 20), Status: lunch},
			{At: at(10, 0, 20), Status: available}, // same instant: the later one listed wins
			{At: at(10, 0, 50), Status: offline},
		})
		checkTotal(t, d)
		if len(d.Statuses) != 1 || d.Minutes(offline) != minutes.PerDay {
			t.Fatalf("a status held within one minute leaves a trace: %+v", d)
		}
	})
	t.Run("changes outside the day and unsorted", func(t *testing.T) {
		d := minutes.Build(day, "", []minutes.Change{
			{At: at(13, 0, 0), Status: offline},
			{At: day.Add(-time.Hour), Status: lunch},     // before the day: held at 00:00
			{At: day.Add(24 * time.Hour), Status: lunch}, // the next day's
			{At: at(9, 0, 0), Status: available},
			{At: day.Add(23*time.Hour + 59*time.Minute + time.Second), Status: available}, // starts no minute
		})
		checkTotal(t, d)
		if d.StatusAt(0) != lunch || d.StatusAt(540) != available || d.StatusAt(780) != offline || d.StatusAt(1439) != offline {
			t.Fatalf("%+v", d)
		}
		if d.Statuses[0] != lunch {
			t.Fatalf("dictionary not in order of first use: %v", d.Statuses)
		}
	})
	t.Run("a change at midnight", func(t *testing.T) {
		d := minutes.Build(day, offline, []minutes.Change{{At: day, Status: available}})
		if d.Minutes(available) != minutes.PerDay {
			t.Fatalf("%+v", d)
		}
	})
}

func checkTotal(t *testing.T, d minutes.Day) {
	t.Helper()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
}

// FuzzDecode: Decode never panics, and what it accepts is a valid day whose
// encoding is the input itself (the format is canonical).
func FuzzDecode(f *testing.F) {
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	for _, d := range []minutes.Day{
		minutes.Build(day, "", nil),
		minutes.Build(day, offline, nil),
		minutes.Build(day, offline, []minutes.Change{
			{At: day.Add(8 * time.Hour), Status: available},
			{At: day.Add(12 * time.Hour), Status: lunch},
			{At: day.Add(12*time.Hour + 40*time.Minute), Status: available},
			{At: day.Add(17 * time.Hour), Status: offline},
		}),
	} {
		b, err := minutes.Encode(d)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add([]byte{1, 0, 0, 0xa0, 0x0b})
	f.Add([]byte(strings.Repeat("\x01\x81", 20)))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := minutes.Decode(b)
		if err != nil {
			if !errors.Is(err, minutes.ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		if err := d.Validate(); err != nil {
			t.Fatalf("decoded an invalid day: %v", err)
		}
		again, err := minutes.Encode(d)
		if err != nil {
			t.Fatalf("re-encoding: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("accepted a non-canonical encoding:\n in %x\nout %x", b, again)
		}
		total := 0
		for m := range minutes.PerDay {
			if d.StatusAt(m) == "" {
				total++
			}
		}
		if total != d.Minutes("") {
			t.Fatalf("StatusAt and Minutes disagree: %d and %d minutes without status", total, d.Minutes(""))
		}
	})
}
