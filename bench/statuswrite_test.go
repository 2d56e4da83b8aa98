package bench_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"switchboard/auth"
	"switchboard/ent/agentstatus"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/viewer"
)

// BenchmarkStatusWrites: setAgentStatus per second on PostgreSQL (the live
// status service with its transaction, privacy checks, history row and
// LISTEN/NOTIFY relay) beside a bare loop of one INSERT and one NOTIFY per
// transaction, in the same run. Target: at least half the bare rate.
func BenchmarkStatusWrites(b *testing.B) {
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

	if _, err := s.Store.DB.Exec(`CREATE TABLE bench_changes (id varchar(28) PRIMARY KEY, tenant_id varchar(28) NOT NULL,
		agent_id varchar(28) NOT NULL, status_id varchar(28) NOT NULL, changed_at timestamptz NOT NULL)`); err != nil {
		b.Fatal(err)
	}
	// Alternate blocks of each so that a noisy neighbour slows both alike.
	const blocks, perBlock = 8, 250
	statuses := []gid.ID{st1.ID, st2.ID}
	var serviceTime, bareTime time.Duration
	i := 0
	for block := 0; block < blocks; block++ {
		start := time.Now()
		for k := 0; k < perBlock; k++ {
			agent := ids[i%agents]
			if _, err := s.App.Status().SetStatus(sup, &agent, statuses[(i/agents)%2]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		serviceTime += time.Since(start)

		start = time.Now()
		for k := 0; k < perBlock; k++ {
			tx, err := s.Store.DB.Begin()
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
		bareTime += time.Since(start)
	}
	service := float64(blocks*perBlock) / serviceTime.Seconds()
	bare := float64(blocks*perBlock) / bareTime.Seconds()

	b.ReportMetric(service, "setAgentStatus/s")
	b.ReportMetric(bare, "bare-insert-notify/s")
	b.ReportMetric(service/bare, "ratio")
	b.Logf("setAgentStatus %.0f/s, bare INSERT+NOTIFY %.0f/s, ratio %.2f (target ≥ 0.5)", service, bare, service/bare)
}
