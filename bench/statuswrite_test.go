package bench_test

import (
	"context"
	"database/sql"
	"fmt"
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
