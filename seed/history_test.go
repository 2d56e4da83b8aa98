package seed_test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"switchboard/ent"
	"switchboard/ent/agentstatus"
	"switchboard/ent/agentstatuschange"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/minutes"
	"switchboard/seed"
	"switchboard/viewer"
)

// tenant creates a tenant with the demo's statuses and agents: one admin
// and n others.
func tenant(t *testing.T, c *ent.Client, name string, n int) (gid.ID, context.Context) {
	t.Helper()
	op := viewer.NewContext(context.Background(), &viewer.Viewer{Email: "op@switchboard", Role: viewer.RoleOperator})
	tn, err := c.Tenant.Create().SetName(name).Save(op)
	if err != nil {
		t.Fatal(err)
	}
	admin := viewer.NewContext(context.Background(), &viewer.Viewer{Email: "admin@x.example", Role: viewer.RoleAdmin, TenantID: tn.ID})
	for i, s := range []struct {
		name string
		typ  agentstatus.Type
	}{
		{"Available", agentstatus.TypeROUTABLE}, {"Offline", agentstatus.TypeOFFLINE}, {"Lunch", agentstatus.TypeCUSTOM},
		{"Break", agentstatus.TypeCUSTOM}, {"Training", agentstatus.TypeCUSTOM}, {"Meeting", agentstatus.TypeCUSTOM},
	} {
		if err := c.AgentStatus.Create().SetName(s.name).SetType(s.typ).SetDisplayOrder(i + 1).Exec(admin); err != nil {
			t.Fatal(err)
		}
	}
	err = c.Agent.Create().SetName("Admin").SetEmail("admin@" + name + ".example").SetRole(viewer.RoleAdmin).Exec(admin)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		role := viewer.RoleAgent
		if i == 0 {
			role = viewer.RoleSupervisor
		}
		err := c.Agent.Create().SetName(fmt.Sprintf("Agent %d", i)).SetEmail(fmt.Sprintf("agent%d@%s.example", i, name)).SetRole(role).Exec(admin)
		if err != nil {
			t.Fatal(err)
		}
	}
	return tn.ID, viewer.NewContext(context.Background(), &viewer.Viewer{Email: "sup@x.example", Role: viewer.RoleSupervisor, TenantID: tn.ID})
}

type dayKey struct {
	email string
	day   time.Time
}

// checkDays checks every day row of the tenant: it decodes, covers the
// day, and is a plausible working day (7 to 9.5 hours active, in a status
// at 10:00 and 17:00, Offline at 03:00 but on the first day) or weekend
// (Offline all day). It returns the active minutes by agent and day.
func checkDays(t *testing.T, c *ent.Client, ctx context.Context, first time.Time) map[dayKey]int {
	t.Helper()
	agents, err := c.Agent.Query().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	email := map[gid.ID]string{}
	for _, a := range agents {
		email[a.ID] = a.Email
	}
	offline, err := c.AgentStatus.Query().Where(agentstatus.Name("Offline")).OnlyID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := c.AgentStatusDay.Query().All(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[dayKey]int{}
	for _, r := range rows {
		if email[r.AgentID] == "" {
			t.Fatalf("a row for agent %s, not of the tenant", r.AgentID)
		}
		d, err := minutes.Decode(r.Minutes)
		if err != nil {
			t.Fatalf("%s %s: %v", email[r.AgentID], r.Day, err)
		}
		if err := d.Validate(); err != nil {
			t.Fatal(err)
		}
		where := fmt.Sprintf("%s on %s", email[r.AgentID], r.Day.UTC().Format("Mon 2006-01-02"))
		active := d.CountMinutes(func(s gid.ID) bool { return s != "" && s != offline })
		if active != r.ActiveMinutes {
			t.Errorf("%s: %d active minutes recorded, %d in the record", where, r.ActiveMinutes, active)
		}
		switch wd := r.Day.UTC().Weekday(); {
		case wd == time.Saturday || wd == time.Sunday:
			if active != 0 || d.Minutes(offline) != minutes.PerDay {
				t.Errorf("%s: %d active minutes on a weekend", where, active)
			}
		default:
			if active < 7*60 || active > 570 {
				t.Errorf("%s: %d active minutes", where, active)
			}
			for _, m := range []int{600, 959} {
				if s := d.StatusAt(m); s == "" || s == offline {
					t.Errorf("%s: at minute %d: %q", where, m, s)
				}
			}
			if !r.Day.Equal(first) && d.StatusAt(180) != offline {
				t.Errorf("%s: not Offline at 03:00", where)
			}
		}
		out[dayKey{email[r.AgentID], r.Day.UTC()}] = r.ActiveMinutes
	}
	return out
}

func TestHistory(t *testing.T) {
	now := time.Date(2026, 3, 18, 10, 0, 0, 0, time.UTC) // a Wednesday
	const days, agents = 28, 10
	first := time.Date(2026, 2, 18, 0, 0, 0, 0, time.UTC)
	perBackend := map[string]map[dayKey]int{}
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		st := testenv.OpenStore(t, b.URL(t))
		c := st.Client
		ctx := context.Background()
		aID, aCtx := tenant(t, c, "a", agents)
		bID, bCtx := tenant(t, c, "b", 2)
		// Tenant B has a change log of its own.
		bAgent := c.Agent.Query().FirstX(bCtx)
		bAvail := c.AgentStatus.Query().Where(agentstatus.Name("Available")).OnlyIDX(bCtx)
		c.AgentStatusChange.Create().SetAgentID(bAgent.ID).SetStatusID(bAvail).SetChangedAt(now.Add(-time.Hour)).ExecX(bCtx)

		if err := seed.History(ctx, c, aID, days, now); err != nil {
			t.Fatal(err)
		}
		changes := c.AgentStatusChange.Query().Order(agentstatuschange.ByAgentID(), agentstatuschange.ByChangedAt()).AllX(aCtx)
		want := 0
		for i := range agents {
			for d := range days {
				want += len(seed.WorkDay(seed.AgentSeed(fmt.Sprintf("agent%d@a.example", i)), first.AddDate(0, 0, d)))
			}
		}
		if len(changes) != want {
			t.Fatalf("%d changes, want %d", len(changes), want)
		}
		for i, ch := range changes {
			if ch.Source != agentstatuschange.SourceSYSTEM || ch.ChangedBy != seed.HistoryActor {
				t.Fatalf("change %d: source %s by %q", i, ch.Source, ch.ChangedBy)
			}
			if ch.ChangedAt.Before(first) || !ch.ChangedAt.Before(minutes.DayStart(now)) {
				t.Fatalf("change %d at %s, outside the %d days before %s", i, ch.ChangedAt, days, now)
			}
			if i > 0 && changes[i-1].AgentID == ch.AgentID {
				if ch.PreviousStatusID == nil || *ch.PreviousStatusID != changes[i-1].StatusID {
					t.Fatalf("change %d: previous status %v, want %s", i, ch.PreviousStatusID, changes[i-1].StatusID)
				}
			} else if ch.PreviousStatusID != nil {
				t.Fatalf("change %d: an agent's first change has a previous status", i)
			}
		}
		active := checkDays(t, c, aCtx, first)
		if len(active) != agents*days {
			t.Fatalf("%d day rows, want %d (every agent but the admin, every day)", len(active), agents*days)
		}
		weekdays := 0
		for k, m := range active {
			if m > 0 {
				weekdays++
			}
			if k.day.Weekday() == time.Saturday && m != 0 {
				t.Fatalf("%v", k)
			}
		}
		if weekdays != agents*20 {
			t.Fatalf("%d agent-days worked, want %d", weekdays, agents*20)
		}
		perBackend[b.Name] = active

		// Tenant B is untouched.
		if n := c.AgentStatusChange.Query().CountX(bCtx); n != 1 {
			t.Fatalf("tenant B has %d changes", n)
		}
		if n := c.AgentStatusDay.Query().CountX(bCtx); n != 0 {
			t.Fatalf("tenant B has %d day rows", n)
		}

		// Again: nothing more, nothing changed.
		before := c.AgentStatusDay.Query().AllX(aCtx)
		if err := seed.History(ctx, c, aID, days, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if n := c.AgentStatusChange.Query().CountX(aCtx); n != want {
			t.Fatalf("after a second run: %d changes, want %d", n, want)
		}
		after := c.AgentStatusDay.Query().AllX(aCtx)
		if len(after) != len(before) {
			t.Fatalf("after a second run: %d day rows, want %d", len(after), len(before))
		}
		byID := map[gid.ID]*ent.AgentStatusDay{}
		for _, r := range before {
			byID[r.ID] = r
		}
		for _, r := range after {
			if b := byID[r.ID]; b == nil || !bytes.Equal(b.Minutes, r.Minutes) || !b.UpdatedAt.Equal(r.UpdatedAt) {
				t.Fatalf("day row %s changed", r.ID)
			}
		}

		// B's history is B's alone.
		if err := seed.History(ctx, c, bID, 7, now); err != nil {
			t.Fatal(err)
		}
		if n := c.AgentStatusDay.Query().CountX(bCtx); n != 2*7 {
			t.Fatalf("tenant B: %d day rows, want 14", n)
		}
		if n := c.AgentStatusDay.Query().CountX(aCtx); n != len(before) {
			t.Fatalf("tenant A: %d day rows after B's history", n)
		}
	})
	if len(perBackend) == 2 && !maps.Equal(perBackend["sqlite"], perBackend["postgres"]) {
		t.Fatal("the two stores hold different histories")
	}
}

// TestHistoryOneDay: a history of a single day, whose changes are all
// younger than 24 hours, is not written twice.
func TestHistoryOneDay(t *testing.T) {
	st := testenv.OpenStore(t, testenv.SQLiteURL(t))
	id, ctx := tenant(t, st.Client, "a", 3)
	now := time.Date(2026, 3, 17, 1, 0, 0, 0, time.UTC) // a Tuesday, an hour in
	for range 2 {
		if err := seed.History(context.Background(), st.Client, id, 1, now); err != nil {
			t.Fatal(err)
		}
	}
	want := 0
	for i := range 3 {
		want += len(seed.WorkDay(seed.AgentSeed(fmt.Sprintf("agent%d@a.example", i)), now.AddDate(0, 0, -1)))
	}
	if n := st.Client.AgentStatusChange.Query().CountX(ctx); n != want {
		t.Fatalf("%d changes, want %d", n, want)
	}
	if n := st.Client.AgentStatusDay.Query().CountX(ctx); n != 3 {
		t.Fatalf("%d day rows, want 3", n)
	}
}

// TestHistoryAfterDemo: the demo tenant's past, written after seed.Demo
// (or by it, once it calls History itself).
func TestHistoryAfterDemo(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		st := testenv.OpenStore(t, b.URL(t))
		ctx := context.Background()
		now := time.Now()
		res, err := seed.Demo(ctx, st.Client)
		if err != nil {
			t.Fatal(err)
		}
		const days = seed.DemoHistoryDays
		for range 2 {
			if err := seed.History(ctx, st.Client, res.TenantID, days, now); err != nil {
				t.Fatal(err)
			}
		}
		sup := viewer.NewContext(ctx, &viewer.Viewer{Role: viewer.RoleSupervisor, TenantID: res.TenantID})
		first := minutes.DayStart(now).AddDate(0, 0, -days)
		perAgent := 0 // the days from the first working day on
		for d := range days {
			day := first.AddDate(0, 0, d)
			if perAgent > 0 || (day.Weekday() != time.Saturday && day.Weekday() != time.Sunday) {
				perAgent++
			}
		}
		rows := st.Client.AgentStatusDay.Query().AllX(sup)
		if want := 7 * perAgent; len(rows) != want { // every agent but the admin
			t.Fatalf("%d day rows, want %d", len(rows), want)
		}
		for _, r := range rows {
			if _, err := minutes.Decode(r.Minutes); err != nil {
				t.Fatal(err)
			}
			if r.Day.Before(first) || !r.Day.Before(minutes.DayStart(now)) {
				t.Fatalf("a row for %s", r.Day)
			}
		}
		n := st.Client.AgentStatusChange.Query().Where(agentstatuschange.ChangedBy(seed.HistoryActor)).CountX(sup)
		if n < 7*days/2*8 {
			t.Fatalf("%d changes in %d days", n, days)
		}
	})
}

func TestWorkDayIsDeterministic(t *testing.T) {
	day := time.Date(2026, 3, 16, 0, 0, 0, 0, time.UTC) // a Monday
	a := seed.WorkDay(seed.AgentSeed("x@y.example"), day.Add(13*time.Hour))
	if len(a) < 8 {
		t.Fatalf("%d changes on a working day", len(a))
	}
	if b := seed.WorkDay(seed.AgentSeed("x@y.example"), day); !equalActivities(a, b) {
		t.Fatal("the same agent and day give two days")
	}
	if b := seed.WorkDay(seed.AgentSeed("z@y.example"), day); equalActivities(a, b) {
		t.Fatal("two agents share a day")
	}
	if b := seed.WorkDay(seed.AgentSeed("x@y.example"), day.AddDate(0, 0, 1)); len(b) < 8 || b[0].At.Sub(a[0].At) == 24*time.Hour {
		t.Fatal("two days alike")
	}
	if b := seed.WorkDay(seed.AgentSeed("x@y.example"), day.AddDate(0, 0, -1)); b != nil {
		t.Fatal("a working Sunday")
	}
	for i := 1; i < len(a); i++ {
		if !a[i-1].At.Before(a[i].At) || a[i-1].Status == a[i].Status {
			t.Fatalf("changes %d and %d: %+v %+v", i-1, i, a[i-1], a[i])
		}
	}
}

func equalActivities(a, b []seed.Activity) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].At.Equal(b[i].At) || a[i].Status != b[i].Status {
			return false
		}
	}
	return true
}
