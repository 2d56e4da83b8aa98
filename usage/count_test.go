package usage_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"switchboard/ent"
	"switchboard/ent/agentstatus"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/minutes"
	"switchboard/usage"
	"switchboard/viewer"
)

// history is one agent's changes, in any order.
type history []minutes.Change

// reference counts active agent minutes by brute force: for each second of
// the span (changes fall on whole seconds), the status in force is that of
// the latest change at or before it; a minute is active when any of its
// seconds is in an active status.
func reference(from time.Time, hours int, atStart gid.ID, h history, active func(gid.ID) bool) []usage.Hour {
	sorted := append(history(nil), h...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].At.Before(sorted[j].At) })
	out := make([]usage.Hour, hours)
	for hr := range out {
		out[hr].Hour = from.Add(time.Duration(hr) * time.Hour)
		for m := 0; m < 60; m++ {
			activeMinute := false
			for s := 0; s < 60 && !activeMinute; s++ {
				at := out[hr].Hour.Add(time.Duration(m)*time.Minute + time.Duration(s)*time.Second)
				cur := atStart
				for _, c := range sorted {
					if !c.At.After(at) {
						cur = c.Status
					}
				}
				activeMinute = active(cur)
			}
			if activeMinute {
				out[hr].ActiveAgentMinutes++
			}
		}
		if out[hr].ActiveAgentMinutes > 0 {
			out[hr].ActiveAgents = 1
		}
	}
	return out
}

// randomHistory returns changes on distinct whole seconds across the span,
// clustered so that some minutes hold several changes (excursions shorter
// than a minute) and some changes fall on a minute's first second.
func randomHistory(r *rand.Rand, from time.Time, hours int, statuses []gid.ID) history {
	n := r.IntN(12)
	seen := map[int]bool{}
	var h history
	for len(h) < n {
		var sec int
		switch r.IntN(3) {
		case 0:
			sec = r.IntN(hours*3600/60) * 60 // a minute's first second
		case 1:
			if len(h) > 0 { // close to another change
				sec = int(h[r.IntN(len(h))].At.Sub(from)/time.Second) + r.IntN(90) - 45
				break
			}
			fallthrough
		default:
			sec = r.IntN(hours * 3600)
		}
		if sec < 0 || sec >= hours*3600 || seen[sec] {
			continue
		}
		seen[sec] = true
		h = append(h, minutes.Change{At: from.Add(time.Duration(sec) * time.Second), Status: statuses[r.IntN(len(statuses))]})
	}
	return h
}

var (
	available = gid.ID("AS01ARZ3NDEKTSV4RRFFQ69G5FAV")
	offline   = gid.ID("AS01ARZ3NDEKTSV4RRFFQ69G5FAW")
	lunch     = gid.ID("AS01ARZ3NDEKTSV4RRFFQ69G5FAX")
)

func isActive(s gid.ID) bool { return s != "" && s != offline }

// The arithmetic against the brute-force reference, over random histories
// across midnight: changes mid-minute, OFFLINE in between, no status at all.
func TestAddAgentMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	from := time.Date(2026, 11, 30, 22, 0, 0, 0, time.UTC) // 22:00 to 01:00, over a day and month boundary
	const hours = 3
	for i := range 400 {
		starts := []gid.ID{"", offline, available, lunch}
		atStart := starts[r.IntN(len(starts))]
		h := randomHistory(r, from, hours, []gid.ID{available, offline, lunch, offline})
		sorted := append(history(nil), h...)
		sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].At.Before(sorted[j].At) })
		got := make([]usage.Hour, hours)
		for k := range got {
			got[k].Hour = from.Add(time.Duration(k) * time.Hour)
		}
		usage.AddAgent(got, from, atStart, sorted, isActive)
		want := reference(from, hours, atStart, h, isActive)
		for k := range want {
			if got[k] != want[k] {
				t.Fatalf("case %d (start %q, changes %v): hour %d: got %+v, want %+v", i, atStart, sorted, k, got[k], want[k])
			}
		}
	}
}

// Edge cases by hand, each a rule of the definition.
func TestActiveMinuteRules(t *testing.T) {
	from := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	at := func(m, s int) time.Time { return from.Add(time.Duration(m)*time.Minute + time.Duration(s)*time.Second) }
	cases := []struct {
		name    string
		start   gid.ID
		changes history
		want    int
	}{
		{"online mid-minute counts that minute", offline, history{{At: at(10, 30), Status: available}, {At: at(20, 0), Status: offline}}, 10},
		{"offline on the minute leaves that minute out", offline, history{{At: at(10, 0), Status: available}, {At: at(20, 0), Status: offline}}, 10},
		{"offline a second into the minute keeps it", offline, history{{At: at(10, 0), Status: available}, {At: at(20, 1), Status: offline}}, 11},
		{"a ten-second excursion is one minute", offline, history{{At: at(5, 10), Status: lunch}, {At: at(5, 20), Status: offline}}, 1},
		{"no status is not active", "", nil, 0},
		{"all hour in a status", available, nil, 60},
		{"a status held for no time counts nothing", offline, history{{At: at(5, 0), Status: available}, {At: at(5, 0), Status: offline}}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := []usage.Hour{{Hour: from}}
			usage.AddAgent(got, from, c.start, c.changes, isActive)
			if got[0].ActiveAgentMinutes != c.want {
				t.Fatalf("%d active minutes, want %d", got[0].ActiveAgentMinutes, c.want)
			}
		})
	}
}

// fixture is a tenant with an Available, an Offline and a Lunch status.
type fixture struct {
	client *ent.Client
	id     gid.ID
	admin  context.Context
	status map[gid.ID]gid.ID // the test's status IDs to the tenant's
}

func newFixture(t testing.TB, c *ent.Client, name string) *fixture {
	t.Helper()
	op := viewer.NewContext(context.Background(), &viewer.Viewer{Email: "op@switchboard", Role: viewer.RoleOperator})
	tn, err := c.Tenant.Create().SetName(name).Save(op)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{client: c, id: tn.ID, status: map[gid.ID]gid.ID{},
		admin: viewer.NewContext(context.Background(), &viewer.Viewer{Email: "admin@" + name, Role: viewer.RoleAdmin, TenantID: tn.ID})}
	for name, s := range map[string]struct {
		id  gid.ID
		typ agentstatus.Type
	}{"Available": {available, agentstatus.TypeROUTABLE}, "Offline": {offline, agentstatus.TypeOFFLINE}, "Lunch": {lunch, agentstatus.TypeCUSTOM}} {
		st, err := c.AgentStatus.Create().SetName(name).SetType(s.typ).Save(f.admin)
		if err != nil {
			t.Fatal(err)
		}
		f.status[s.id] = st.ID
	}
	return f
}

func (f *fixture) agents(t testing.TB, n int) []gid.ID {
	t.Helper()
	var creates []*ent.AgentCreate
	for i := range n {
		creates = append(creates, f.client.Agent.Create().SetName(fmt.Sprintf("Agent %d", i)).SetEmail(fmt.Sprintf("a%d@%s.example", i, f.id)))
	}
	ids, err := f.client.Agent.CreateBulk(creates...).Save(f.admin)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]gid.ID, len(ids))
	for i, a := range ids {
		out[i] = a.ID
	}
	return out
}

// record appends changes to the log, in the order given.
func (f *fixture) record(t testing.TB, agentID gid.ID, changes ...minutes.Change) {
	t.Helper()
	for _, c := range changes {
		if err := f.client.AgentStatusChange.Create().SetAgentID(agentID).SetStatusID(f.status[c.Status]).
			SetChangedAt(c.At).SetChangedBy("test").Exec(f.admin); err != nil {
			t.Fatal(err)
		}
	}
}

// Count over the real change log on both stores: random histories written
// out of order, for several agents, with another tenant's busy agents
// beside them that must not count.
func TestCountMatchesReference(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		st := testenv.OpenStore(t, b.URL(t))
		A, B := newFixture(t, st.Client, "A"), newFixture(t, st.Client, "B")
		from := time.Date(2026, 11, 30, 22, 0, 0, 0, time.UTC)
		const hours = 3
		r := rand.New(rand.NewPCG(3, 4))
		want := make([]usage.Hour, hours)
		for _, id := range A.agents(t, 12) {
			// a status before the span, then the span's history, written
			// in random order (Connect delivers out of order)
			before := []gid.ID{available, offline, lunch}[r.IntN(3)]
			h := randomHistory(r, from, hours, []gid.ID{available, offline, lunch})
			shuffled := append(history{{At: from.Add(-time.Duration(1+r.IntN(5000)) * time.Second), Status: before}}, h...)
			r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			A.record(t, id, shuffled...)
			for k, hr := range reference(from, hours, before, h, isActive) {
				want[k].Hour = hr.Hour
				want[k].ActiveAgentMinutes += hr.ActiveAgentMinutes
				want[k].ActiveAgents += hr.ActiveAgents
			}
		}
		for _, id := range B.agents(t, 3) {
			B.record(t, id, minutes.Change{At: from.Add(-time.Hour), Status: available})
		}
		sys := viewer.NewContext(context.Background(), viewer.System(A.id, "usage"))
		got, err := usage.Count(sys, st.Client, A.id, from, from.Add(hours*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != hours {
			t.Fatalf("%d hours", len(got))
		}
		for k := range want {
			if got[k] != want[k] {
				t.Errorf("hour %d: got %+v, want %+v", k, got[k], want[k])
			}
		}
		gotB, err := usage.Count(viewer.NewContext(context.Background(), viewer.System(B.id, "usage")), st.Client, B.id, from, from.Add(time.Hour))
		if err != nil || gotB[0].ActiveAgentMinutes != 3*60 || gotB[0].ActiveAgents != 3 {
			t.Fatalf("tenant B: %+v, %v", gotB, err)
		}
	})
}
