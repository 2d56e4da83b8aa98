package minutes

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/oklog/ulid/v2"

	"switchboard/gid"
)

// PerDay is the number of minutes in a day's record.
const PerDay = 24 * 60

// Version is the format version Encode writes and Decode reads.
const Version = 1

// NoStatus is the dictionary index of "no status": the minutes before an
// agent's first status ever.
const NoStatus = 0

// StatusPrefix is the gid prefix of agent statuses, implied in the encoding.
const StatusPrefix = "AS"

// ulidSize is the size of a ULID in binary.
const ulidSize = len(ulid.ULID{})

// Run is a stretch of consecutive minutes in one status.
type Run struct {
	// Status is a dictionary index: NoStatus, or i ≥ 1 for Day.Statuses[i-1].
	Status int
	// Minutes is the length of the run, at least 1.
	Minutes int
}

// Day is one agent's record of one day: the statuses it held (the
// dictionary) and the runs of minutes in each, covering the day's 1,440
// minutes in order.
type Day struct {
	// Statuses is the dictionary: dictionary index i ≥ 1 is Statuses[i-1].
	Statuses []gid.ID
	// Runs cover the day's minutes in order.
	Runs []Run
}

// Status returns the status of dictionary index i, or "" for NoStatus or an
// index out of range.
func (d Day) Status(i int) gid.ID {
	if i < 1 || i > len(d.Statuses) {
		return ""
	}
	return d.Statuses[i-1]
}

// StatusAt returns the status held at the start of the given minute of the
// day (0 ≤ minute < PerDay), or "" for no status or a minute out of range.
func (d Day) StatusAt(minute int) gid.ID {
	if minute < 0 {
		return ""
	}
	for _, r := range d.Runs {
		if minute < r.Minutes {
			return d.Status(r.Status)
		}
		minute -= r.Minutes
	}
	return ""
}

// Minutes returns the minutes of the day spent in the given status; "" counts
// the minutes with no status.
func (d Day) Minutes(status gid.ID) int {
	return d.CountMinutes(func(s gid.ID) bool { return s == status })
}

// CountMinutes returns the minutes of the day whose status satisfies keep
// ("" for no status).
func (d Day) CountMinutes(keep func(status gid.ID) bool) int {
	n := 0
	for _, r := range d.Runs {
		if keep(d.Status(r.Status)) {
			n += r.Minutes
		}
	}
	return n
}

// Validate reports whether d is a well-formed record: valid status IDs,
// indices in range, runs of at least a minute covering exactly PerDay.
func (d Day) Validate() error {
	if len(d.Statuses) > PerDay {
		return fmt.Errorf("minutes: %d statuses in a day of %d minutes", len(d.Statuses), PerDay)
	}
	for _, id := range d.Statuses {
		if id.Prefix() != StatusPrefix || !id.Valid() {
			return fmt.Errorf("minutes: %q is not an agent status ID", id)
		}
	}
	total := 0
	for i, r := range d.Runs {
		if r.Status < 0 || r.Status > len(d.Statuses) {
			return fmt.Errorf("minutes: run %d: status index %d out of range [0, %d]", i, r.Status, len(d.Statuses))
		}
		if r.Minutes < 1 || r.Minutes > PerDay {
			return fmt.Errorf("minutes: run %d: %d minutes", i, r.Minutes)
		}
		total += r.Minutes
		if total > PerDay {
			return fmt.Errorf("minutes: runs exceed %d minutes", PerDay)
		}
	}
	if total != PerDay {
		return fmt.Errorf("minutes: runs cover %d minutes, not %d", total, PerDay)
	}
	return nil
}

// canonical returns d in canonical form: adjacent runs of one status
// merged, each status once in the dictionary in the order of its first
// run, unused statuses dropped. d must be valid.
func (d Day) canonical() Day {
	out := Day{Runs: make([]Run, 0, len(d.Runs))}
	index := make(map[gid.ID]int, len(d.Statuses))
	for _, r := range d.Runs {
		i := NoStatus
		if id := d.Status(r.Status); id != "" {
			var ok bool
			if i, ok = index[id]; !ok {
				out.Statuses = append(out.Statuses, id)
				i = len(out.Statuses)
				index[id] = i
			}
		}
		if n := len(out.Runs); n > 0 && out.Runs[n-1].Status == i {
			out.Runs[n-1].Minutes += r.Minutes
			continue
		}
		out.Runs = append(out.Runs, Run{Status: i, Minutes: r.Minutes})
	}
	return out
}

// Encode returns the canonical encoding of d (see the package comment). It
// merges adjacent runs of one status and orders and trims the dictionary,
// so days that hold the same statuses in the same minutes encode alike.
func Encode(d Day) ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	c := d.canonical()
	b := make([]byte, 0, 1+binary.MaxVarintLen16+ulidSize*len(c.Statuses)+4*len(c.Runs))
	b = append(b, Version)
	b = binary.AppendUvarint(b, uint64(len(c.Statuses)))
	for _, id := range c.Statuses {
		u, err := ulid.ParseStrict(string(id[gid.PrefixLen:]))
		if err != nil { // Validate has checked it
			return nil, fmt.Errorf("minutes: %q: %w", id, err)
		}
		b = append(b, u[:]...)
	}
	for _, r := range c.Runs {
		b = binary.AppendUvarint(b, uint64(r.Status))
		b = binary.AppendUvarint(b, uint64(r.Minutes))
	}
	return b, nil
}

// ErrFormat is wrapped by every error Decode returns for malformed input.
var ErrFormat = errors.New("minutes: malformed day record")

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// Decode reads a day encoded by Encode. It accepts only the canonical
// encoding of a valid day and returns an error wrapping ErrFormat for
// anything else; it never panics, whatever the input.
func Decode(b []byte) (Day, error) {
	var d Day
	if len(b) == 0 {
		return d, formatErr("empty")
	}
	if b[0] != Version {
		return d, formatErr("unknown version %d", b[0])
	}
	p := 1
	n, err := uvarint(b, &p, PerDay)
	if err != nil {
		return d, formatErr("dictionary size: %v", err)
	}
	if n*ulidSize > len(b)-p {
		return d, formatErr("dictionary of %d statuses runs past the end", n)
	}
	if n > 0 {
		d.Statuses = make([]gid.ID, n)
	}
	for i := range d.Statuses {
		var u ulid.ULID
		copy(u[:], b[p:p+ulidSize])
		p += ulidSize
		d.Statuses[i] = gid.ID(StatusPrefix + u.String())
	}
	// Canonical dictionary: each status once, in the order of first use.
	seen := make(map[gid.ID]bool, n)
	for _, id := range d.Statuses {
		if seen[id] {
			return Day{}, formatErr("status %s twice in the dictionary", id)
		}
		seen[id] = true
	}
	d.Runs = make([]Run, 0, min(PerDay, (len(b)-p)/2))
	total, next := 0, 1 // next: the dictionary index whose first use is due
	for p < len(b) {
		i, err := uvarint(b, &p, n)
		if err != nil {
			return Day{}, formatErr("run %d status: %v", len(d.Runs), err)
		}
		m, err := uvarint(b, &p, PerDay-total)
		if err != nil {
			return Day{}, formatErr("run %d length: %v", len(d.Runs), err)
		}
		if m == 0 {
			return Day{}, formatErr("run %d is empty", len(d.Runs))
		}
		if k := len(d.Runs); k > 0 && d.Runs[k-1].Status == i {
			return Day{}, formatErr("runs %d and %d share status %d", k-1, k, i)
		}
		switch {
		case i == next:
			next++
		case i > next:
			return Day{}, formatErr("run %d uses status %d before status %d", len(d.Runs), i, next)
		}
		total += m
		d.Runs = append(d.Runs, Run{Status: i, Minutes: m})
	}
	if total != PerDay {
		return Day{}, formatErr("runs cover %d minutes, not %d", total, PerDay)
	}
	if next != n+1 {
		return Day{}, formatErr("dictionary status %d is never used", next)
	}
	return d, nil
}

// uvarint reads a minimal uvarint no greater than max at b[*p:] and
// advances *p past it.
func uvarint(b []byte, p *int, max int) (int, error) {
	v, k := binary.Uvarint(b[*p:])
	switch {
	case k == 0:
		return 0, errors.New("truncated")
	case k < 0:
		return 0, errors.New("overflows 64 bits")
	case k != uvarintLen(v):
		return 0, errors.New("not minimally encoded")
	case v > uint64(max):
		return 0, fmt.Errorf("%d exceeds %d", v, max)
	}
	*p += k
	return int(v), nil
}

// uvarintLen is the length of the minimal uvarint encoding of v.
func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}
