package minutes_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"

	"switchboard/ent"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/minutes"
	"switchboard/seed"
	"switchboard/store"
)

// The history the size benchmark writes: 4 weeks (20 working days) of 500
// agents, each day as seed.WorkDay generates it.
const (
	benchAgents = 500
	benchDays   = 28
)

// benchFirst is the first day of the benchmark's history, a Monday.
var benchFirst = time.Date(2026, 2, 2, 0, 0, 0, 0, time.UTC)

// The projection: 13 months of 10,000 agents (a replica's planned load).
const (
	projAgents     = 10_000
	projAgentHours = projAgents * 13 * 365.25 / 12 * 24
)

// BenchmarkRecordSize measures what the minute record costs in the store:
// it writes 4 weeks of status history for 500 agents to the change log,
// records every day (minutes.Record), and reports the bytes per agent-hour
// of the agent_status_days table with its indexes (B/agent-hour), of the
// encoded payload alone (payload-B/agent-day), and, for comparison, of the
// agent_status_changes rows of the same history (changelog-B/agent-hour);
// and the projection of the day rows to 13 months of 10,000 agents
// (GB/13mo-10k-agents). The timed loop records one day of the 500 agents.
//
//	go test ./minutes -run '^$' -bench RecordSize -benchtime 1x
func BenchmarkRecordSize(b *testing.B) {
	for _, be := range testenv.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			if be.Name == "postgres" && os.Getenv(testenv.PostgresEnv) == "" {
				b.Skipf("the PostgreSQL figures need %s (a server URL), e.g. from scripts/pg.sh start DIR", testenv.PostgresEnv)
			}
			benchRecordSize(b, be)
		})
	}
}

func benchRecordSize(b *testing.B, be testenv.Backend) {
	st := testenv.OpenStore(b, be.URL(b))
	ctx := context.Background()
	f := newTenant(b, st.Client, "bench")
	agents := f.addAgents(b, "agent", benchAgents)

	changes := writeChangeLog(b, st, f, agents)
	changeBytes := testenv.MeasureTable(b, st, "agent_status_changes")

	t0 := time.Now()
	rows := 0
	for d := range benchDays {
		n, err := minutes.Record(ctx, st.Client, f.id, benchFirst.AddDate(0, 0, d))
		if err != nil {
			b.Fatal(err)
		}
		rows += n
	}
	recordAll := time.Since(t0)
	if rows != benchAgents*benchDays {
		b.Fatalf("recorded %d rows, want %d", rows, benchAgents*benchDays)
	}
	dayBytes := testenv.MeasureTable(b, st, "agent_status_days")

	var payload, workPayload, workDays int
	all, err := st.Client.AgentStatusDay.Query().All(f.sup)
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range all {
		payload += len(r.Minutes)
		if r.ActiveMinutes > 0 {
			workPayload += len(r.Minutes)
			workDays++
		}
	}

	agentHours := float64(benchAgents * benchDays * 24)
	perHour := float64(dayBytes.Total) / agentHours
	changePerHour := float64(changeBytes.Total) / agentHours

	// The timed part: recording one day of the 500 agents again.
	last := benchFirst.AddDate(0, 0, benchDays-1)
	for b.Loop() {
		if _, err := minutes.Record(ctx, st.Client, f.id, last); err != nil {
			b.Fatal(err)
		}
	}

	b.ReportMetric(perHour, "B/agent-hour")
	b.ReportMetric(float64(payload)/float64(len(all)), "payload-B/agent-day")
	b.ReportMetric(changePerHour, "changelog-B/agent-hour")
	b.ReportMetric(perHour*projAgentHours/1e9, "GB/13mo-10k-agents")
	b.Logf("%s: %d agents × %d days (%d working), %d changes; recorded in %v (%v per day)",
		be.Name, benchAgents, benchDays, workDays/benchAgents, changes, recordAll.Round(time.Millisecond),
		(recordAll / benchDays).Round(time.Millisecond))
	b.Logf("%s: payload %.1f B per agent-day on average, %.1f B per working day, %.1f B per day off",
		be.Name, float64(payload)/float64(len(all)), float64(workPayload)/float64(workDays),
		float64(payload-workPayload)/float64(len(all)-workDays))
	b.Logf("%s: agent_status_days: %s", be.Name, dayBytes.Describe(len(all)))
	b.Logf("%s: agent_status_changes: %s", be.Name, changeBytes.Describe(changes))
	b.Logf("%s: per agent-hour: minute record %.1f B, change log %.1f B (%.1f×)",
		be.Name, perHour, changePerHour, changePerHour/perHour)
	b.Logf("%s: 13 months × %d agents = %.1fM agent-hours: minute record %.2f GB, change log %.2f GB",
		be.Name, projAgents, projAgentHours/1e6, perHour*projAgentHours/1e9, changePerHour*projAgentHours/1e9)
}

// writeChangeLog appends the generated history of the agents to the change
// log, as the live status service would have, and returns the number of
// changes. It inserts with plain multi-row INSERTs: ent's hooks check each
// edge of each row with a query of its own, which would make 150,000 rows
// slow to write and changes nothing of what they weigh.
func writeChangeLog(b *testing.B, st *store.Store, f *tenantFixture, agents []*ent.Agent) int {
	b.Helper()
	const cols = 11
	const perInsert = 1000
	var (
		args []any
		n    int
	)
	flush := func() {
		if len(args) == 0 {
			return
		}
		var q strings.Builder
		q.WriteString(`INSERT INTO agent_status_changes (id, created_at, updated_at, agent_id, status_id, previous_status_id, changed_at, changed_by, source, connect_event_id, tenant_id) VALUES `)
		for i := 0; i < len(args)/cols; i++ {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteByte('(')
			for j := range cols {
				if j > 0 {
					q.WriteString(", ")
				}
				if st.Dialect == dialect.Postgres {
					fmt.Fprintf(&q, "$%d", i*cols+j+1)
				} else {
					q.WriteByte('?')
				}
			}
			q.WriteByte(')')
		}
		if _, err := st.DB.Exec(q.String(), args...); err != nil {
			b.Fatal(err)
		}
		args = args[:0]
	}
	for _, a := range agents {
		var prev any // nil: no previous status
		for d := range benchDays {
			for _, act := range seed.WorkDay(seed.AgentSeed(a.Email), benchFirst.AddDate(0, 0, d)) {
				status := f.status[act.Status]
				at := act.At.UTC()
				args = append(args, string(gid.New("SC")), at, at, string(a.ID), string(status), prev, at,
					a.Email, "DESKTOP", nil, string(f.id))
				prev = string(status)
				n++
				if len(args) == perInsert*cols {
					flush()
				}
			}
		}
	}
	flush()
	return n
}
