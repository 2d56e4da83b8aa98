package usage_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"switchboard/ent/schema"
	"switchboard/ent/usagehour"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/minutes"
	"switchboard/seed"
	"switchboard/store"
	"switchboard/usage"
	"switchboard/viewer"
)

// benchHour is the hour the benchmark closes: a Tuesday afternoon.
var benchHour = time.Date(2026, 3, 3, 14, 0, 0, 0, time.UTC)

const (
	// benchAgents work in the one tenant whose hour is closed.
	benchAgents = 10_000
	// benchHistoryDays are the days of history (seed.WorkDay) each agent
	// has in the log before the day of the closed hour. A close need not
	// read them; raise it to see whether it does.
	benchHistoryDays = 30
	// The size figure: sizeTenants tenants of sizeAgents agents each, every
	// hour of sizeDays days closed.
	sizeTenants = 20
	sizeAgents  = 5
	sizeDays    = 31
)

// BenchmarkCloseHour measures the closer on each store. The timed loop
// closes one hour of one tenant with 10,000 agents (ms/hour-close), each
// agent with benchHistoryDays of history before it and several changes
// within it; baseline-ms is, in the same run, one plain SQL read of that
// hour's change-log rows of the tenant, the floor any closer pays. Each
// close is checked against active agent minutes counted independently (by
// brute force, second by second) from the rows the benchmark wrote. Then,
// on a store of its own, it closes 31 days of hours for 20 tenants and
// reports the bytes of usage_hours, table and indexes, per tenant-hour: as
// closed (B/tenant-hour) and once metered, with each hour's metered_at set
// and its billing_log_entries row (metered-B/tenant-hour, billing-B/record).
//
//	go test ./usage -run '^$' -bench CloseHour -benchtime 1x -v
func BenchmarkCloseHour(b *testing.B) {
	for _, be := range testenv.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			if be.Name == "postgres" && os.Getenv(testenv.PostgresEnv) == "" {
				b.Skipf("the PostgreSQL figures need %s (a server URL), e.g. from scripts/pg.sh start DIR", testenv.PostgresEnv)
			}
			benchCloseHour(b, be)
		})
	}
}

func benchCloseHour(b *testing.B, be testenv.Backend) {
	ctx := context.Background()
	st := testenv.OpenStore(b, be.URL(b))
	f := newFixture(b, st.Client, "bench")
	agents := insertAgents(b, st, f, "bench", benchAgents)

	// The change log, and what the hour must count.
	r := rand.New(rand.NewPCG(5, 6))
	want := usage.Hour{Hour: benchHour}
	var rows [][]any
	inHour := 0
	for _, a := range agents {
		var atStart gid.ID
		var during history
		var prev any // nil: no previous status
		for _, c := range agentHistory(r, a.email) {
			switch {
			case c.At.Before(benchHour):
				atStart = c.Status
			case c.At.Before(benchHour.Add(time.Hour)):
				during = append(during, c)
			}
			rows = append(rows, changeRow(f, a.id, c, prev))
			prev = string(f.status[c.Status])
		}
		h := reference(benchHour, 1, atStart, during, isActive)[0]
		want.ActiveAgentMinutes += h.ActiveAgentMinutes
		want.ActiveAgents += h.ActiveAgents
		inHour += len(during)
	}
	insertRows(b, st, "agent_status_changes", changeColumns, rows)
	// The planner's statistics, as autovacuum would have them by the time
	// an hour closes: without them PostgreSQL plans for empty tables.
	if _, err := st.DB.Exec(`ANALYZE`); err != nil {
		b.Fatal(err)
	}
	if want.ActiveAgentMinutes == 0 {
		b.Fatal("the generated hour has no active minute")
	}

	closer := &usage.Closer{Client: st.Client, Now: func() time.Time { return benchHour.Add(time.Hour + 16*time.Minute) }}
	sys := viewer.NewContext(ctx, viewer.System(f.id, schema.UsageService))
	closeHour := func() {
		if n, err := closer.CloseTenant(ctx, f.id, benchHour); err != nil || n != 1 {
			b.Fatalf("closing the hour wrote %d rows: %v", n, err)
		}
	}
	checkAndReopen := func() {
		row, err := st.Client.UsageHour.Query().Where(usagehour.Hour(benchHour)).Only(sys)
		if err != nil {
			b.Fatal(err)
		}
		if row.ActiveAgentMinutes != want.ActiveAgentMinutes || row.ActiveAgents != want.ActiveAgents {
			b.Fatalf("closed with %d active agent minutes of %d agents, want %d of %d",
				row.ActiveAgentMinutes, row.ActiveAgents, want.ActiveAgentMinutes, want.ActiveAgents)
		}
		if _, err := st.DB.Exec(`DELETE FROM usage_hours WHERE tenant_id = `+placeholder(st, 1), string(f.id)); err != nil {
			b.Fatal(err)
		}
	}

	// Once untimed, the first close after the writes.
	t0 := time.Now()
	closeHour()
	firstClose := time.Since(t0)
	checkAndReopen()

	var baseline time.Duration
	closes := 0
	for b.Loop() {
		closeHour()
		b.StopTimer()
		closes++
		checkAndReopen()
		t0 := time.Now()
		if n := readHour(b, st, f.id); n != inHour {
			b.Fatalf("the plain read found %d changes in the hour, want %d", n, inHour)
		}
		baseline += time.Since(t0)
		b.StartTimer()
	}
	perClose := b.Elapsed() / time.Duration(closes)

	closed, metered, billing, tenantHours := sizeHours(b, be)

	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(perClose), "ms/hour-close")
	b.ReportMetric(ms(baseline/time.Duration(closes)), "baseline-ms")
	b.ReportMetric(float64(closed.Total)/float64(tenantHours), "B/tenant-hour")
	b.ReportMetric(float64(metered.Total)/float64(tenantHours), "metered-B/tenant-hour")
	b.ReportMetric(float64(billing.Total)/float64(tenantHours), "billing-B/record")
	b.Logf("%s: %d agents, %d changes in the log, %d in the hour; %d active agent minutes of %d agents",
		be.Name, benchAgents, len(rows), inHour, want.ActiveAgentMinutes, want.ActiveAgents)
	b.Logf("%s: close %.0f ms (first, untimed: %.0f ms); plain read of the hour's changes %.0f ms (%.1f×)",
		be.Name, ms(perClose), ms(firstClose), ms(baseline/time.Duration(closes)), float64(perClose)/float64(baseline/time.Duration(closes)))
	b.Logf("%s: usage_hours as closed: %s", be.Name, closed.Describe(tenantHours))
	b.Logf("%s: usage_hours metered: %s", be.Name, metered.Describe(tenantHours))
	b.Logf("%s: billing_log_entries, one per hour: %s", be.Name, billing.Describe(tenantHours))
}

// agentHistory returns one agent's changes in order of time, on whole
// seconds: the working days before benchHour's (seed.WorkDay), then for
// most agents a status taken in the hours before benchHour and several
// changes within it (Offline among them), and for some a change after it.
func agentHistory(r *rand.Rand, email string) history {
	var h history
	for d := benchHistoryDays; d >= 1; d-- {
		for _, act := range seed.WorkDay(seed.AgentSeed(email), benchHour.AddDate(0, 0, -d)) {
			h = append(h, minutes.Change{At: act.At.Truncate(time.Second), Status: seedStatus(act.Status)})
		}
	}
	pick := func(cur gid.ID) gid.ID { // a status other than cur: Available most of the time
		for {
			s := []gid.ID{available, available, lunch, offline}[r.IntN(4)]
			if s != cur {
				return s
			}
		}
	}
	cur := offline
	if r.IntN(10) > 0 {
		cur = pick("")
		h = append(h, minutes.Change{At: benchHour.Add(-time.Duration(1+r.IntN(4*3600)) * time.Second), Status: cur})
	}
	if r.IntN(10) > 0 {
		secs, n := map[int]bool{}, 2+r.IntN(6)
		for len(secs) < n {
			secs[r.IntN(3600)] = true
		}
		var in []int
		for s := range 3600 {
			if secs[s] {
				in = append(in, s)
			}
		}
		for _, s := range in {
			cur = pick(cur)
			h = append(h, minutes.Change{At: benchHour.Add(time.Duration(s) * time.Second), Status: cur})
		}
	}
	if r.IntN(2) == 0 {
		h = append(h, minutes.Change{At: benchHour.Add(time.Hour + time.Duration(r.IntN(1800))*time.Second), Status: pick(cur)})
	}
	return h
}

// seedStatus is the fixture's status for one that seed.WorkDay names: its
// Break, Meeting and Training are Lunch, another custom status.
func seedStatus(name string) gid.ID {
	switch name {
	case seed.StatusAvailable:
		return available
	case seed.StatusOffline:
		return offline
	}
	return lunch
}

// sizeHours closes sizeDays days of hours for each of sizeTenants tenants
// on a store of its own, whose agents work the days seed.WorkDay gives,
// and measures usage_hours as closed; then it marks every hour metered,
// with the billing log record AWS's answer leaves, and measures both
// tables again, compacted (as steady use, which reuses the space of the
// updated rows, keeps them).
func sizeHours(b *testing.B, be testenv.Backend) (closed, metered, billing testenv.TableSize, tenantHours int) {
	ctx := context.Background()
	st := testenv.OpenStore(b, be.URL(b))
	first := benchHour.AddDate(0, 0, -sizeDays)
	closer := &usage.Closer{Client: st.Client, Now: func() time.Time { return benchHour.Add(16 * time.Minute) }}
	var tenants []gid.ID
	for i := range sizeTenants {
		f := newFixture(b, st.Client, fmt.Sprintf("size%d", i))
		var rows [][]any
		for _, a := range insertAgents(b, st, f, fmt.Sprintf("size%d", i), sizeAgents) {
			var prev any
			for d := range sizeDays {
				for _, act := range seed.WorkDay(seed.AgentSeed(a.email), first.AddDate(0, 0, d)) {
					s := seedStatus(act.Status)
					rows = append(rows, changeRow(f, a.id, minutes.Change{At: act.At, Status: s}, prev))
					prev = string(f.status[s])
				}
			}
		}
		insertRows(b, st, "agent_status_changes", changeColumns, rows)
		n, err := closer.CloseTenant(ctx, f.id, first)
		if err != nil || n != sizeDays*24 {
			b.Fatalf("closed %d hours, want %d: %v", n, sizeDays*24, err)
		}
		tenants = append(tenants, f.id)
		tenantHours += n
	}
	closed = testenv.MeasureTable(b, st, "usage_hours")

	sentAt := benchHour.Add(20 * time.Minute)
	if _, err := st.DB.Exec(`UPDATE usage_hours SET metered_at = `+placeholder(st, 1)+`, updated_at = `+placeholder(st, 2), sentAt, sentAt); err != nil {
		b.Fatal(err)
	}
	uuid := func() string {
		return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", rand.Uint32(), rand.Uint32()&0xffff, rand.Uint32()&0xffff, rand.Uint32()&0xffff, rand.Uint64()&0xffffffffffff)
	}
	var entries [][]any
	for _, id := range tenants {
		hours, err := st.Client.UsageHour.Query().All(viewer.NewContext(ctx, viewer.System(id, schema.UsageService)))
		if err != nil {
			b.Fatal(err)
		}
		for _, h := range hours {
			entries = append(entries, []any{string(gid.New("BL")), sentAt, sentAt, sentAt, h.Hour, usage.DefaultDimension,
				h.ActiveAgentMinutes, "SUCCESS", uuid(), uuid(), nil, 1, string(id)})
		}
	}
	insertRows(b, st, "billing_log_entries", []string{"id", "created_at", "updated_at", "sent_at", "hour", "dimension",
		"quantity", "status", "metering_record_id", "request_id", "error", "attempt", "tenant_id"}, entries)
	compact := `VACUUM`
	if st.Dialect == dialect.Postgres {
		compact = `VACUUM FULL usage_hours`
	}
	if _, err := st.DB.Exec(compact); err != nil {
		b.Fatal(err)
	}
	return closed, testenv.MeasureTable(b, st, "usage_hours"), testenv.MeasureTable(b, st, "billing_log_entries"), tenantHours
}

// benchAgent is an agent the benchmark wrote.
type benchAgent struct {
	id    gid.ID
	email string
}

// insertAgents writes n agents of the tenant, their emails at domain (the
// seed of their days), with plain multi-row INSERTs, as ent's hooks would
// take long for 10,000.
func insertAgents(b testing.TB, st *store.Store, f *fixture, domain string, n int) []benchAgent {
	b.Helper()
	now := time.Now().UTC()
	out := make([]benchAgent, n)
	rows := make([][]any, n)
	for i := range n {
		out[i] = benchAgent{id: gid.New("AG"), email: fmt.Sprintf("agent%05d@%s.example", i, domain)}
		rows[i] = []any{string(out[i].id), now, now, out[i].email, fmt.Sprintf("Agent %d", i), "AGENT", string(f.id)}
	}
	insertRows(b, st, "agents", []string{"id", "created_at", "updated_at", "email", "name", "role", "tenant_id"}, rows)
	return out
}

var changeColumns = []string{"id", "created_at", "updated_at", "agent_id", "status_id", "previous_status_id",
	"changed_at", "changed_by", "source", "connect_event_id", "tenant_id"}

// changeRow is the agent_status_changes row of c, as the live status
// service writes it; prev is the previous status's ID or nil.
func changeRow(f *fixture, agentID gid.ID, c minutes.Change, prev any) []any {
	at := c.At.UTC()
	return []any{string(gid.New("SC")), at, at, string(agentID), string(f.status[c.Status]), prev, at,
		"bench", "DESKTOP", nil, string(f.id)}
}

// insertRows writes rows to table with plain multi-row INSERTs: ent's hooks
// check each edge of each row with a query of their own.
func insertRows(b testing.TB, st *store.Store, table string, cols []string, rows [][]any) {
	b.Helper()
	perInsert := 10_000 / len(cols) // parameters well under both stores' limits
	for len(rows) > 0 {
		batch := rows[:min(perInsert, len(rows))]
		rows = rows[len(batch):]
		var q strings.Builder
		fmt.Fprintf(&q, `INSERT INTO %s (%s) VALUES `, table, strings.Join(cols, ", "))
		args := make([]any, 0, len(batch)*len(cols))
		for i, row := range batch {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteByte('(')
			for j := range row {
				if j > 0 {
					q.WriteString(", ")
				}
				q.WriteString(placeholder(st, len(args)+1))
				args = append(args, row[j])
			}
			q.WriteByte(')')
		}
		if _, err := st.DB.Exec(q.String(), args...); err != nil {
			b.Fatalf("%s: %v", table, err)
		}
	}
}

func placeholder(st *store.Store, n int) string {
	if st.Dialect == dialect.Postgres {
		return fmt.Sprintf("$%d", n)
	}
	return "?"
}

// readHour is the floor of any closer: one plain read of the tenant's
// changes within benchHour, every row scanned. It returns their number.
func readHour(b *testing.B, st *store.Store, tenantID gid.ID) int {
	b.Helper()
	rows, err := st.DB.Query(fmt.Sprintf(`SELECT agent_id, status_id, changed_at FROM agent_status_changes
		WHERE tenant_id = %s AND changed_at >= %s AND changed_at < %s`, placeholder(st, 1), placeholder(st, 2), placeholder(st, 3)),
		string(tenantID), benchHour, benchHour.Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var agent, status string
		var at time.Time
		if err := rows.Scan(&agent, &status, &at); err != nil {
			b.Fatal(err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}
