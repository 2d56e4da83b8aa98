package usage_test

import (
	"context"
	"testing"
	"time"

	"switchboard/ent/usagehour"
	"switchboard/internal/testenv"
	"switchboard/minutes"
	"switchboard/usage"
	"switchboard/viewer"
)

// The closer on both stores: an hour closes once its grace is over, with
// the count the change log gives then; a change that reaches the log later
// is counted as late, never in the billed minutes; closing again (another
// replica's closer) writes nothing new; tenants do not mix.
func TestCloserClosesOnceAndCountsLateMinutes(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		st := testenv.OpenStore(t, b.URL(t))
		A, B := newFixture(t, st.Client, "A"), newFixture(t, st.Client, "B")
		h := usage.HourOf(time.Now()) // the tenants were made in it; the closer runs in the future
		a := A.agents(t, 2)
		A.record(t, a[0], minutes.Change{At: h.Add(10 * time.Minute), Status: available}, minutes.Change{At: h.Add(40 * time.Minute), Status: offline})
		bAgents := B.agents(t, 1)
		B.record(t, bAgents[0], minutes.Change{At: h, Status: available})

		now := h.Add(time.Hour + 10*time.Minute) // within the grace
		c := &usage.Closer{Client: st.Client, Now: func() time.Time { return now }}
		row := func(f *fixture) (int, int, int) {
			t.Helper()
			r, err := st.Client.UsageHour.Query().Where(usagehour.Hour(h)).Only(viewer.NewContext(context.Background(), viewer.System(f.id, "usage")))
			if err != nil {
				return -1, -1, -1
			}
			return r.ActiveAgentMinutes, r.LateMinutes, r.ActiveAgents
		}
		if _, err := c.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
		if m, _, _ := row(A); m != -1 {
			t.Fatalf("closed within the grace: %d", m)
		}
		now = h.Add(time.Hour + 16*time.Minute)
		if _, err := c.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
		if m, late, n := row(A); m != 30 || late != 0 || n != 1 {
			t.Fatalf("A closed: %d minutes, %d late, %d agents", m, late, n)
		}
		if m, _, n := row(B); m != 60 || n != 1 {
			t.Fatalf("B closed: %d minutes, %d agents", m, n)
		}
		// A late event for the closed hour: counted late, billed minutes kept.
		A.record(t, a[1], minutes.Change{At: h.Add(50 * time.Minute), Status: lunch})
		other := &usage.Closer{Client: st.Client, Now: func() time.Time { return now.Add(time.Minute) }}
		if _, err := other.Step(context.Background()); err != nil {
			t.Fatal(err)
		}
		if m, late, n := row(A); m != 30 || late != 10 || n != 2 {
			t.Fatalf("after a late event: %d minutes, %d late, %d agents", m, late, n)
		}
		if n, err := c.Step(context.Background()); err != nil || n != 0 {
			t.Fatalf("closing again wrote %d rows: %v", n, err)
		}
		// The report shows the closed hour from its row.
		admin := A.admin
		hours, err := usage.Report(admin, st.Client, "", h, h.Add(time.Hour))
		if err != nil || len(hours) != 1 || hours[0].ActiveAgentMinutes != 40 || hours[0].Billed() != 30 || !hours[0].Closed {
			t.Fatalf("report: %+v, %v", hours, err)
		}
	})
}
