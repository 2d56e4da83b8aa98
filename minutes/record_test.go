package minutes_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"switchboard/ent"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/minutes"
	"switchboard/store"
	"switchboard/viewer"
)

func TestRecord(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		st := testenv.OpenStore(t, b.URL(t))
		ctx := context.Background()
		day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
		at := func(h, m, s int) time.Time {
			return day.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
		}
		A := newTenant(t, st.Client, "A")
		B := newTenant(t, st.Client, "B")
		// Interleave the tenants' agents, so that B's IDs fall inside the
		// range of A's.
		a1 := A.addAgents(t, "a1", 1)[0]
		a2 := A.addAgents(t, "a2", 1)[0]
		b1 := B.addAgents(t, "b1", 1)[0]
		a3 := A.addAgents(t, "a3", 1)[0]
		a4 := A.addAgents(t, "a4", 1)[0]

		// a1: offline since two days before, a working day, then the next day.
		A.change(t, a1.ID, "Offline", day.AddDate(0, 0, -2).Add(17*time.Hour))
		A.change(t, a1.ID, "Available", at(8, 0, 30))
		A.change(t, a1.ID, "Lunch", at(12, 0, 0))
		A.change(t, a1.ID, "Available", at(12, 30, 0))
		A.change(t, a1.ID, "Offline", at(17, 0, 0))
		A.change(t, a1.ID, "Available", day.AddDate(0, 0, 1).Add(8*time.Hour))
		// a2: Available since the evening before, Lunch from midnight on the dot.
		A.change(t, a2.ID, "Available", day.Add(-2*time.Hour))
		A.change(t, a2.ID, "Lunch", day)
		A.change(t, a2.ID, "Offline", at(1, 0, 0))
		// a3: no status ever. a4: its first status on the day.
		A.change(t, a4.ID, "Available", at(10, 0, 10))
		// b1: busy all day in tenant B.
		B.change(t, b1.ID, "Available", day.Add(-time.Hour))

		rows, err := minutes.Record(ctx, st.Client, A.id, at(15, 0, 0)) // any time of the day will do
		if err != nil {
			t.Fatal(err)
		}
		if rows != 3 {
			t.Fatalf("recorded %d rows, want 3 (a1, a2, a4)", rows)
		}
		got := A.days(t, day)
		if len(got) != 3 || got[a3.ID] != nil || got[b1.ID] != nil {
			t.Fatalf("rows for agents %v", keys(got))
		}
		want := map[gid.ID]struct {
			active int
			at     map[int]string // minute → status name ("" for none)
		}{
			a1.ID: {539, map[int]string{0: "Offline", 480: "Offline", 481: "Available", 719: "Available", 720: "Lunch", 750: "Available", 1019: "Available", 1020: "Offline", 1439: "Offline"}},
			a2.ID: {60, map[int]string{0: "Lunch", 59: "Lunch", 60: "Offline", 1439: "Offline"}},
			a4.ID: {839, map[int]string{0: "", 600: "", 601: "Available", 1439: "Available"}},
		}
		for id, w := range want {
			row := got[id]
			if row.ActiveMinutes != w.active {
				t.Errorf("agent %s: %d active minutes, want %d", id, row.ActiveMinutes, w.active)
			}
			if row.ID.Prefix() != "SD" || !row.ID.Valid() {
				t.Errorf("agent %s: row ID %q", id, row.ID)
			}
			if !row.Day.Equal(day) {
				t.Errorf("agent %s: day %v", id, row.Day)
			}
			d := decode(t, row)
			for m, name := range w.at {
				if s := d.StatusAt(m); s != A.status[name] {
					t.Errorf("agent %s minute %d: %q, want %s", id, m, s, name)
				}
			}
		}

		// Again: the same rows.
		rows, err = minutes.Record(ctx, st.Client, A.id, day)
		if err != nil || rows != 3 {
			t.Fatalf("second run: %d rows, %v", rows, err)
		}
		again := A.days(t, day)
		if len(again) != 3 {
			t.Fatalf("second run: %d rows", len(again))
		}
		for id, r := range got {
			r2 := again[id]
			if r2 == nil || r2.ID != r.ID || !bytes.Equal(r2.Minutes, r.Minutes) || r2.ActiveMinutes != r.ActiveMinutes {
				t.Fatalf("agent %s: the row changed: %+v then %+v", id, r, r2)
			}
		}

		// Tenant B saw nothing of it; recording B writes B's row only.
		if n := len(B.days(t, day)); n != 0 {
			t.Fatalf("tenant B has %d rows", n)
		}
		if rows, err := minutes.Record(ctx, st.Client, B.id, day); err != nil || rows != 1 {
			t.Fatalf("tenant B: %d rows, %v", rows, err)
		}
		bRows := B.days(t, day)
		if len(bRows) != 1 || bRows[b1.ID] == nil || bRows[b1.ID].ActiveMinutes != minutes.PerDay {
			t.Fatalf("tenant B's rows: %v", bRows)
		}
		if n := len(A.days(t, day)); n != 3 {
			t.Fatalf("tenant A has %d rows after B's recording", n)
		}
		var total int
		if err := st.DB.QueryRow(`SELECT COUNT(*) FROM agent_status_days`).Scan(&total); err != nil || total != 4 {
			t.Fatalf("%d rows in all, %v", total, err)
		}

		// The next day: a1 starts Offline (held from 17:00), then Available from 08:00.
		if rows, err := minutes.Record(ctx, st.Client, A.id, day.AddDate(0, 0, 1)); err != nil || rows != 3 {
			t.Fatalf("next day: %d rows, %v", rows, err)
		}
		next := A.days(t, day.AddDate(0, 0, 1))
		if d := decode(t, next[a1.ID]); d.StatusAt(479) != A.status["Offline"] || d.StatusAt(480) != A.status["Available"] {
			t.Fatalf("a1's next day: %+v", d)
		}
		if next[a2.ID].ActiveMinutes != 0 || next[a4.ID].ActiveMinutes != minutes.PerDay {
			t.Fatalf("next day's active minutes: a2 %d, a4 %d", next[a2.ID].ActiveMinutes, next[a4.ID].ActiveMinutes)
		}
	})
}

func TestRecordRefusesOtherViewers(t *testing.T) {
	st := testenv.OpenStore(t, testenv.SQLiteURL(t))
	A := newTenant(t, st.Client, "A")
	B := newTenant(t, st.Client, "B")
	a := A.addAgents(t, "a", 1)[0]
	A.change(t, a.ID, "Available", time.Date(2026, 3, 9, 9, 0, 0, 0, time.UTC))
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	for name, ctx := range map[string]context.Context{
		"B's supervisor": B.sup,
		"A's agent":      viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAgent, TenantID: A.id, AgentID: a.ID}),
		"an operator":    viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleOperator}),
	} {
		if rows, err := minutes.Record(ctx, st.Client, A.id, day); err == nil {
			t.Errorf("%s recorded %d rows of tenant A", name, rows)
		}
	}
	if rows, err := minutes.Record(A.admin, st.Client, A.id, day); err != nil || rows != 1 {
		t.Fatalf("A's admin: %d rows, %v", rows, err)
	}
	if _, err := minutes.Record(context.Background(), st.Client, "", day); err == nil {
		t.Fatal("recorded no tenant")
	}
}

// TestRecordStatements: recording a day takes the same few statements for
// 3 agents as for 120: no query per agent.
func TestRecordStatements(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		wrap, counter := testenv.CountStatements()
		st := testenv.OpenStore(t, b.URL(t), store.WithDriver(wrap))
		day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
		counts := map[int]int64{}
		for _, n := range []int{3, 120} {
			f := newTenant(t, st.Client, fmt.Sprintf("T%d", n))
			agents := f.addAgents(t, "agent", n)
			var creates []*entChange
			for i, a := range agents {
				creates = append(creates,
					&entChange{a.ID, "Offline", day.Add(-time.Duration(i+1) * time.Minute)},
					&entChange{a.ID, "Available", day.Add(8*time.Hour + time.Duration(i)*time.Second)},
					&entChange{a.ID, "Lunch", day.Add(12 * time.Hour)},
					&entChange{a.ID, "Offline", day.Add(17 * time.Hour)})
			}
			f.bulkChanges(t, creates)
			before := counter.Count()
			rows, err := minutes.Record(context.Background(), st.Client, f.id, day)
			if err != nil || rows != n {
				t.Fatalf("%d agents: %d rows, %v", n, rows, err)
			}
			counts[n] = counter.Count() - before
		}
		t.Logf("statements: %v", counts)
		if counts[3] != counts[120] {
			t.Fatalf("statements grow with agents: %v", counts)
		}
	})
}

type entChange struct {
	agent  gid.ID
	status string
	at     time.Time
}

func (f *tenantFixture) bulkChanges(t testing.TB, changes []*entChange) {
	t.Helper()
	for len(changes) > 0 {
		batch := changes[:min(500, len(changes))]
		changes = changes[len(batch):]
		creates := make([]*ent.AgentStatusChangeCreate, 0, len(batch))
		for _, c := range batch {
			creates = append(creates, f.client.AgentStatusChange.Create().
				SetAgentID(c.agent).SetStatusID(f.status[c.status]).SetChangedAt(c.at).SetChangedBy("test"))
		}
		if err := f.client.AgentStatusChange.CreateBulk(creates...).Exec(f.sup); err != nil {
			t.Fatal(err)
		}
	}
}

func keys[K comparable, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestRecorder(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		st := testenv.OpenStore(t, b.URL(t))
		day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
		A := newTenant(t, st.Client, "A")
		B := newTenant(t, st.Client, "B")
		for _, f := range []*tenantFixture{A, B} {
			for _, a := range f.addAgents(t, "agent", 2) {
				f.change(t, a.ID, "Available", day.Add(-30*time.Hour)) // the day before's morning
			}
		}
		now := day.Add(24*time.Hour + 10*time.Minute) // 00:10 the day after: the day is not yet due
		r := &minutes.Recorder{Client: st.Client, Now: func() time.Time { return now }}
		rows, err := r.Step(context.Background())
		if err != nil || rows != 2*2*2 { // two days before, two tenants, two agents
			t.Fatalf("first step: %d rows, %v", rows, err)
		}
		if n := len(A.days(t, day)); n != 0 {
			t.Fatalf("the day recorded within its grace: %d rows", n)
		}
		if rows, err := r.Step(context.Background()); err != nil || rows != 0 {
			t.Fatalf("step again: %d rows, %v", rows, err)
		}
		now = now.Add(10 * time.Minute)
		if rows, err := r.Step(context.Background()); err != nil || rows != 2*2*2 {
			t.Fatalf("once due: %d rows, %v", rows, err)
		}
		for _, f := range []*tenantFixture{A, B} {
			for _, row := range f.days(t, day) {
				if row.ActiveMinutes != minutes.PerDay {
					t.Fatalf("tenant %s: %d active minutes", f.id, row.ActiveMinutes)
				}
			}
			if n := len(f.days(t, day)); n != 2 {
				t.Fatalf("tenant %s: %d rows", f.id, n)
			}
		}
	})
}

// With the store's lock, a recorder leaves a day to the replica holding the
// lock on PostgreSQL, and records it when it takes the lock itself; SQLite's
// lock is always free.
func TestRecorderLock(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		st := testenv.OpenStore(t, b.URL(t))
		day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
		A := newTenant(t, st.Client, "A")
		for _, a := range A.addAgents(t, "agent", 2) {
			A.change(t, a.ID, "Available", day.Add(-2*time.Hour))
		}
		now := day.Add(24*time.Hour + time.Hour)
		lock := func(ctx context.Context) (func(), bool, error) { return st.TryLock(ctx, minutes.LockKey) }
		newRecorder := func() *minutes.Recorder {
			return &minutes.Recorder{Client: st.Client, Now: func() time.Time { return now }, Lock: lock}
		}

		held, ok, err := st.TryLock(context.Background(), minutes.LockKey) // another replica, recording
		if err != nil || !ok {
			t.Fatalf("taking the lock: %v, %v", ok, err)
		}
		rows, err := newRecorder().Step(context.Background())
		held()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"sqlite": 4, "postgres": 0}[b.Name] // two days, two agents
		if rows != want {
			t.Fatalf("with the lock held elsewhere: %d rows, want %d", rows, want)
		}
		if rows, err := newRecorder().Step(context.Background()); err != nil || rows != 4 {
			t.Fatalf("with the lock free: %d rows, %v", rows, err)
		}
	})
}
