package bench_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"switchboard/auth"
	"switchboard/cmd/switchboard/wire"
	"switchboard/ent/agentstatus"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/viewer"
)

// BenchmarkStatusWrites: setAgentStatus per second on PostgreSQL (the live
// status service: its checks, the agent moved, the change appended, the
// event published locally and to the LISTEN/NOTIFY relay) beside a bare
// loop of one INSERT and one NOTIFY per transaction, in the same run, on the
// same connection pool (which keeps statements prepared, store/prepared.go).
// Target: at least half the bare rate.
//
// For information it also prints the same bare loop through lib/pq's
// defaults (a statement with parameters prepared unnamed each time: two
// round trips), and the contract's SetAgentStatus mutation over HTTP, whose
// rate includes the HTTP request, the token and the GraphQL execution.
func BenchmarkStatusWrites(b *testing.B) {
	wire.TuneRuntime() // as serve runs; both sides of the comparison share it
	url := testenv.PostgresURL(b)
	s := testenv.NewServerOn(b, url)
	tn := s.NewTenant(b, "Bench")
	const agents = 50
	var ids []gid.ID
	for i := 0; i < agents; i++ {
		id, _ := s.NewAgent(b, tn, fmt.Sprintf("Agent %02d", i), fmt.Sprintf("a%02d@bench.example", i), auth.RoleAgent)
		ids = append(ids, gid.ID(id))
	}
	admin := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: gid.ID(tn.ID), Email: "admin@bench.example"})
	st1 := s.Store.Client.AgentStatus.Create().SetName("Available").SetType(agentstatus.TypeROUTABLE).SaveX(admin)
	st2 := s.Store.Client.AgentStatus.Create().SetName("Lunch").SetType(agentstatus.TypeCUSTOM).SaveX(admin)
	sup := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleSupervisor, TenantID: gid.ID(tn.ID), Email: "sup@bench.example"})
	supToken := s.Token(b, auth.Claims{Email: "sup@bench.example", Tenant: tn.ID, Role: auth.RoleSupervisor})
	mutation := testenv.ContractOperation(b, "SetAgentStatus")

	if _, err := s.Store.DB.Exec(`CREATE TABLE bench_changes (id varchar(28) PRIMARY KEY, tenant_id varchar(28) NOT NULL,
		agent_id varchar(28) NOT NULL, status_id varchar(28) NOT NULL, changed_at timestamptz NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	plain, err := sql.Open("postgres", url) // lib/pq as it comes
	if err != nil {
		b.Fatal(err)
	}
	defer plain.Close()
	statuses := []gid.ID{st1.ID, st2.ID}
	bare := func(db *sql.DB, k int) {
		tx, err := db.Begin()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(`INSERT INTO bench_changes VALUES ($1, $2, $3, $4, $5)`,
			string(gid.New("SC")), tn.ID, string(ids[k%agents]), string(statuses[k%2]), time.Now()); err != nil {
			b.Fatal(err)
		}
		if _, err := tx.Exec(`SELECT pg_notify('bench_changes', $1)`, string(ids[k%agents])); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	i := 0 // every change moves an agent: each pass over the agents swaps the status
	next := func() (gid.ID, gid.ID) {
		agent, status := ids[i%agents], statuses[(i/agents)%2]
		i++
		return agent, status
	}
	loops := []struct {
		name string
		run  func(k int)
	}{
		{"setAgentStatus", func(int) {
			agent, status := next()
			if _, err := s.App.Status().SetStatus(sup, &agent, status); err != nil {
				b.Fatal(err)
			}
		}},
		{"bare", func(k int) { bare(s.Store.DB, k) }},
		{"bare-libpq-defaults", func(k int) { bare(plain, k) }},
		{"mutation-over-http", func(int) {
			agent, status := next()
			r := s.Do(b, supToken, mutation, map[string]any{"agentId": agent, "statusId": status})
			if len(r.Errors) > 0 {
				b.Fatal(r.Errors)
			}
		}},
	}
	// Alternate blocks of each so that a noisy neighbour slows all alike.
	const blocks, perBlock = 8, 250
	took := make([]time.Duration, len(loops))
	for block := 0; block < blocks; block++ {
		for l, loop := range loops {
			start := time.Now()
			for k := 0; k < perBlock; k++ {
				loop.run(k)
			}
			took[l] += time.Since(start)
		}
	}
	rate := make(map[string]float64, len(loops))
	for l, loop := range loops {
		rate[loop.name] = float64(blocks*perBlock) / took[l].Seconds()
		b.ReportMetric(rate[loop.name], loop.name+"/s")
	}
	ratio := rate["setAgentStatus"] / rate["bare"]
	b.ReportMetric(ratio, "ratio")
	b.Logf("setAgentStatus %.0f/s, bare INSERT+NOTIFY %.0f/s, ratio %.2f (target ≥ 0.5); for information: the bare loop with lib/pq's defaults %.0f/s, the mutation over HTTP %.0f/s",
		rate["setAgentStatus"], rate["bare"], ratio, rate["bare-libpq-defaults"], rate["mutation-over-http"])
}

// BenchmarkStatusWritesConcurrent: setAgentStatus with 32 writers at once
// on PostgreSQL, each for agents of its own, beside the bare loop (one
// INSERT and one NOTIFY a transaction) run by 32 writers at once, on the
// same pool, in alternating rounds. Under many writers the live status
// service makes many changes a statement, one commit (batch_pg.go); the
// bare loop commits each row. Target (issue 15): at least 3x the bare rate.
func BenchmarkStatusWritesConcurrent(b *testing.B) {
	wire.TuneRuntime()
	url := testenv.PostgresURL(b)
	s := testenv.NewServerOn(b, url)
	tn := s.NewTenant(b, "Bench")
	const writers, perWriter = 32, 4
	admin := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: gid.ID(tn.ID), Email: "admin@bench.example"})
	statuses := []gid.ID{
		s.Store.Client.AgentStatus.Create().SetName("Available").SetType(agentstatus.TypeROUTABLE).SaveX(admin).ID,
		s.Store.Client.AgentStatus.Create().SetName("Lunch").SetType(agentstatus.TypeCUSTOM).SaveX(admin).ID,
	}
	var ids []gid.ID
	for i := range writers * perWriter {
		ids = append(ids, s.Store.Client.Agent.Create().SetName(fmt.Sprintf("Agent %03d", i)).SetEmail(fmt.Sprintf("a%03d@bench.example", i)).SaveX(admin).ID)
	}
	if _, err := s.Store.DB.Exec(`CREATE TABLE bench_changes (id varchar(28) PRIMARY KEY, tenant_id varchar(28) NOT NULL,
		agent_id varchar(28) NOT NULL, status_id varchar(28) NOT NULL, changed_at timestamptz NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	sup := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleSupervisor, TenantID: gid.ID(tn.ID), Email: "sup@bench.example"})
	set := func(w, k int) error {
		agent := ids[w*perWriter+k%perWriter]
		_, err := s.App.Status().SetStatus(sup, &agent, statuses[(k/perWriter)%2])
		return err
	}
	bare := func(w, k int) error {
		tx, err := s.Store.DB.Begin()
		if err != nil {
			return err
		}
		agent := string(ids[w*perWriter+k%perWriter])
		if _, err := tx.Exec(`INSERT INTO bench_changes VALUES ($1, $2, $3, $4, $5)`,
			string(gid.New("SC")), tn.ID, agent, string(statuses[(k/perWriter)%2]), time.Now()); err != nil {
			_ = tx.Rollback()
			return err
		}
		if _, err := tx.Exec(`SELECT pg_notify('bench_changes', $1)`, agent); err != nil {
			_ = tx.Rollback()
			return err
		}
		return tx.Commit()
	}
	perRound := envDuration(b, "SWITCHBOARD_BENCH_WRITES_FOR", 3*time.Second)
	run := func(f func(w, k int) error) (int, time.Duration) {
		var wg sync.WaitGroup
		var total atomic.Int64
		start := time.Now()
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				k := 0
				for ; time.Since(start) < perRound; k++ {
					if err := f(w, k); err != nil {
						b.Error(err)
						return
					}
				}
				total.Add(int64(k))
			}()
		}
		wg.Wait()
		return int(total.Load()), time.Since(start)
	}
	run(set) // warm both
	run(bare)
	statements0, changes0 := s.App.Status().BatchStats()
	b.ResetTimer()
	var n [2]int
	var took [2]time.Duration
	for range 3 {
		for i, f := range []func(w, k int) error{set, bare} {
			c, d := run(f)
			n[i] += c
			took[i] += d
		}
	}
	b.StopTimer()
	statements, changes := s.App.Status().BatchStats()
	sw, raw := float64(n[0])/took[0].Seconds(), float64(n[1])/took[1].Seconds()
	b.ReportMetric(sw, "setAgentStatus/s")
	b.ReportMetric(raw, "bare/s")
	b.ReportMetric(sw/raw, "ratio")
	b.ReportMetric(float64(changes-changes0)/float64(max(statements-statements0, 1)), "changes/statement")
	b.Logf("%d writers at once: setAgentStatus %.0f/s (%.1f changes a statement), bare INSERT+NOTIFY %.0f/s, ratio %.2f (target >= 3)",
		writers, sw, float64(changes-changes0)/float64(max(statements-statements0, 1)), raw, sw/raw)
}
