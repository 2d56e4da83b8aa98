package bench_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"

	"switchboard/auth"
	"switchboard/contacts"
	"switchboard/ent"
	"switchboard/ent/contact"
	"switchboard/ent/schema"
	"switchboard/ent/schema/schematype"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/viewer"
)

// BenchmarkSearchContacts: searchContacts latency (contacts.ParseQuery and
// contacts.Search with an agent's privacy rules, over ent) on PostgreSQL
// with 100,000 organisation contacts in the tenant and 10,000 in another,
// beside the very statements it sends run bare through database/sql, in
// the same run. Target: search p99 at most 1.5 times the bare p99.
func BenchmarkSearchContacts(b *testing.B) {
	if os.Getenv(testenv.PostgresEnv) == "" && os.Getenv(testenv.RequirePostgresEnv) != "1" {
		b.Skipf("BenchmarkSearchContacts needs PostgreSQL: set %s to a server URL, or run `make bench`, which starts one", testenv.PostgresEnv)
	}
	url := testenv.PostgresURL(b)
	s := testenv.NewServerOn(b, url)
	ctx := context.Background()

	big := newRegionTenant(b, s, "Bench Directory", "AU")
	other := newRegionTenant(b, s, "Other Directory", "AU")
	agentID, _ := s.NewAgent(b, big, "Agent Search", "agent.search@bench.example", auth.RoleAgent)

	const bigN, otherN = 100_000, 10_000
	start := time.Now()
	gen := newContactGen(1)
	loadContacts(b, s.Store.DB, gid.ID(big.ID), gen, bigN)
	loadContacts(b, s.Store.DB, gid.ID(other.ID), newContactGen(2), otherN)
	// The steady state of a directory: the GIN pending lists merged, the
	// visibility map set, statistics current.
	if _, err := s.Store.DB.Exec(`VACUUM ANALYZE contacts`); err != nil {
		b.Fatal(err)
	}
	load := time.Since(start)
	checkHookEquivalence(b, s, gid.ID(other.ID), newContactGen(3))

	// Search runs over a client of its own on the same pool, whose driver
	// records the statements it sends.
	rec := &recorder{}
	client := ent.NewClient(ent.Driver(rec.wrap(entsql.OpenDB(dialect.Postgres, s.Store.DB))))
	agent := viewer.NewContext(ctx, &viewer.Viewer{
		Role: viewer.RoleAgent, TenantID: gid.ID(big.ID), AgentID: gid.ID(agentID), Email: "agent.search@bench.example",
	})

	cases := []struct{ name, q string }{
		{"name prefix", "jor"},
		{"mid-word", "ams"},
		{"surname", "nguyen"},
		{"email fragment", "@northwind"},
		{"4 digits", "9876"},
		{"formatted number", "+61 2 9876"},
		{"no match", "qxzv"},
	}
	const warmup, runs = 5, 50
	first := 20
	search := func(q string) (*ent.ContactConnection, error) {
		pq, err := contacts.ParseQuery(q, "AU")
		if err != nil {
			return nil, err
		}
		return contacts.Search(agent, client, pq, &first, nil)
	}

	var allSearch, allBare []time.Duration
	var table strings.Builder
	fmt.Fprintf(&table, "\n%-17s %-12s %6s %5s %10s %10s %10s %10s %7s\n",
		"case", "query", "total", "stmts", "search-p50", "search-p99", "sql-p50", "sql-p99", "p99-x")
	b.ResetTimer()
	for _, c := range cases {
		// What Search sends for this query, and a check of what it finds.
		stmts := rec.capture(func() {
			conn, err := search(c.q)
			if err != nil {
				b.Fatalf("%s: %v", c.name, err)
			}
			checkPage(b, c.name, c.q, conn, gid.ID(big.ID))
		})
		for i := 0; i < warmup; i++ {
			if _, err := search(c.q); err != nil {
				b.Fatal(err)
			}
			replay(b, s.Store.DB, stmts)
		}
		conn, _ := search(c.q)
		// Interleave the two, alternating which goes first, so that noise
		// and cache state fall on both alike.
		var sd, bd []time.Duration
		for i := 0; i < runs; i++ {
			timeSearch := func() {
				t0 := time.Now()
				if _, err := search(c.q); err != nil {
					b.Fatal(err)
				}
				sd = append(sd, time.Since(t0))
			}
			timeBare := func() {
				t0 := time.Now()
				replay(b, s.Store.DB, stmts)
				bd = append(bd, time.Since(t0))
			}
			if i%2 == 0 {
				timeSearch()
				timeBare()
			} else {
				timeBare()
				timeSearch()
			}
		}
		allSearch = append(allSearch, sd...)
		allBare = append(allBare, bd...)
		fmt.Fprintf(&table, "%-17s %-12q %6d %5d %10s %10s %10s %10s %7.2f\n",
			c.name, c.q, conn.TotalCount, len(stmts), ms(percentile(sd, 0.50)), ms(percentile(sd, 0.99)),
			ms(percentile(bd, 0.50)), ms(percentile(bd, 0.99)),
			float64(percentile(sd, 0.99))/float64(percentile(bd, 0.99)))
	}
	b.StopTimer()

	sp50, sp99 := percentile(allSearch, 0.50), percentile(allSearch, 0.99)
	bp50, bp99 := percentile(allBare, 0.50), percentile(allBare, 0.99)
	ratio := float64(sp99) / float64(bp99)
	fmt.Fprintf(&table, "%-17s %-12s %6s %5s %10s %10s %10s %10s %7.2f\n",
		"all", "", "", "", ms(sp50), ms(sp99), ms(bp50), ms(bp99), ratio)
	b.ReportMetric(millis(sp50), "search-p50-ms")
	b.ReportMetric(millis(sp99), "search-p99-ms")
	b.ReportMetric(millis(bp50), "sql-p50-ms")
	b.ReportMetric(millis(bp99), "sql-p99-ms")
	b.ReportMetric(ratio, "p99-ratio")
	b.Logf("%d + %d contacts loaded and analysed in %s; %d runs per query after %d warm-up%s",
		bigN, otherN, load.Round(time.Millisecond), runs, warmup, table.String())
	b.Logf("searchContacts p99 %.2f ms, its bare SQL p99 %.2f ms, ratio %.2f (target ≤ 1.5)", millis(sp99), millis(bp99), ratio)
}
