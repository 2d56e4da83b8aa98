package minutes

import (
	"slices"
	"time"

	"switchboard/gid"
)

// Change is one change of an agent's status: from At on, the agent holds
// Status.
type Change struct {
	At     time.Time
	Status gid.ID
}

// Build returns the record of the day starting at dayStart for an agent who
// held atStart at dayStart ("" for none yet) and then changed status as
// changes say. Each minute holds the status of the latest change at or
// before its start; of changes at the same instant, the last one listed
// wins. Changes should be sorted by time (unsorted ones are sorted, keeping
// the order of equal times) and within the day: one before dayStart counts
// as the status held at dayStart, and one past the day's last minute is
// ignored. The result is canonical (see Encode).
func Build(dayStart time.Time, atStart gid.ID, changes []Change) Day {
	byTime := func(a, b Change) int { return a.At.Compare(b.At) }
	if !slices.IsSortedFunc(changes, byTime) {
		changes = slices.Clone(changes)
		slices.SortStableFunc(changes, byTime)
	}
	var d Day
	index := map[gid.ID]int{"": NoStatus}
	indexOf := func(id gid.ID) int {
		i, ok := index[id]
		if !ok {
			d.Statuses = append(d.Statuses, id)
			i = len(d.Statuses)
			index[id] = i
		}
		return i
	}
	emit := func(status gid.ID, minutes int) {
		if minutes == 0 {
			return
		}
		i := indexOf(status)
		if n := len(d.Runs); n > 0 && d.Runs[n-1].Status == i {
			d.Runs[n-1].Minutes += minutes
			return
		}
		d.Runs = append(d.Runs, Run{Status: i, Minutes: minutes})
	}
	const last = (PerDay - 1) * time.Minute
	cur, pos := atStart, 0 // the status held from minute pos on
	for _, c := range changes {
		since := c.At.Sub(dayStart)
		if since > last {
			break // starts no minute of this day
		}
		m := 0 // the first minute whose start is at or after c.At
		if since > 0 {
			m = int((since + time.Minute - 1) / time.Minute)
		}
		emit(cur, m-pos)
		cur, pos = c.Status, m
	}
	emit(cur, PerDay-pos)
	return d
}
