package bench_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/lib/pq"

	"switchboard/auth"
	"switchboard/ent/agentstatus"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/viewer"
)

// BenchmarkWallboard: the contract's Wallboard (a page of 100 agents with
// their statuses) over HTTP on PostgreSQL, ten tenants of 100 agents read
// by 40 supervisors in turn at 32 requests at once, beside a bare net/http
// handler that sends the statements switchboard sends (the count, the page,
// the statuses) through database/sql and writes the very same bytes
// (checked byte for byte first). Rounds alternate between the two, so
// that drift hits both alike; it prints requests a second, p50, p99 and
// CPU time per request of each, and their ratios.
func BenchmarkWallboard(b *testing.B) {
	if os.Getenv(testenv.PostgresEnv) == "" && os.Getenv(testenv.RequirePostgresEnv) != "1" {
		b.Skipf("BenchmarkWallboard needs PostgreSQL: set %s, or run `make bench`, which starts one", testenv.PostgresEnv)
	}
	s := testenv.NewServerOn(b, testenv.PostgresURL(b))
	const tenants, agents, viewers = 10, 100, 4
	type caller struct {
		token  string
		tenant gid.ID
	}
	var callers []caller
	for n := range tenants {
		tn := s.NewTenant(b, fmt.Sprintf("Tenant %02d", n))
		admin := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: gid.ID(tn.ID), Email: "admin@bench.example"})
		var statuses []gid.ID
		for i, name := range []string{"Available", "Lunch", "Training", "Offline"} {
			typ := agentstatus.TypeCUSTOM
			if i == 0 {
				typ = agentstatus.TypeROUTABLE
			}
			statuses = append(statuses, s.Store.Client.AgentStatus.Create().SetName(name).SetType(typ).SaveX(admin).ID)
		}
		for i := range agents {
			a := s.Store.Client.Agent.Create().SetName(fmt.Sprintf("Agent %03d of %02d", i, n)).
				SetEmail(fmt.Sprintf("agent%03d@t%02d.example", i, n)).SaveX(admin)
			if i%10 != 9 { // some have never set a status
				if _, err := s.App.Status().SetStatus(admin, &a.ID, statuses[i%len(statuses)]); err != nil {
					b.Fatal(err)
				}
			}
		}
		for v := range viewers {
			tok := s.Token(b, auth.Claims{Email: fmt.Sprintf("sup%d@t%02d.example", v, n), Tenant: tn.ID, Role: auth.RoleSupervisor})
			callers = append(callers, caller{tok, gid.ID(tn.ID)})
		}
	}
	if _, err := s.Store.DB.Exec(`VACUUM ANALYZE agents, agent_status`); err != nil {
		b.Fatal(err)
	}
	query := testenv.ContractOperation(b, "Wallboard")
	body, _ := json.Marshal(map[string]any{"query": query})

	tenantOf := map[string]gid.ID{}
	for _, c := range callers {
		tenantOf["Bearer "+c.token] = c.tenant
	}
	bare := httptest.NewServer(bareWallboard(s.Store.DB, tenantOf))
	b.Cleanup(bare.Close)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
	post := func(url, token string) ([]byte, error) {
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := client.Do(req)
		if err != nil {
			return nil, err
		}
		defer res.Body.Close()
		out, err := io.ReadAll(res.Body)
		if err == nil && res.StatusCode != http.StatusOK {
			err = fmt.Errorf("HTTP %d: %s", res.StatusCode, out)
		}
		return out, err
	}
	for _, c := range callers[:viewers*2] {
		want, err := post(s.URL+"/query", c.token)
		if err != nil {
			b.Fatal(err)
		}
		got, err := post(bare.URL, c.token)
		if err != nil {
			b.Fatal(err)
		}
		if !bytes.Equal(want, got) {
			b.Fatalf("the bare handler's bytes differ from switchboard's:\n%s\n%s", want, got)
		}
		if !bytes.Contains(want, []byte(`"totalCount":100`)) {
			b.Fatalf("a page of %s", want[:min(len(want), 200)])
		}
	}

	const conc, rounds = 32, 3
	perRound := envDuration(b, "SWITCHBOARD_BENCH_WALLBOARD_FOR", 5*time.Second)
	run := func(url string) (requests int, lat []time.Duration, cpu time.Duration) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		start, cpu0 := time.Now(), cpuTime()
		for w := range conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []time.Duration
				for i := w; time.Since(start) < perRound; i += conc {
					t0 := time.Now()
					if _, err := post(url, callers[i%len(callers)].token); err != nil {
						b.Error(err)
						return
					}
					mine = append(mine, time.Since(t0))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			}()
		}
		wg.Wait()
		return len(lat), lat, cpuTime() - cpu0
	}
	type side struct {
		requests int
		lat      []time.Duration
		cpu      time.Duration
		elapsed  time.Duration
	}
	var sw, raw side
	run(s.URL + "/query") // warm both
	run(bare.URL)
	b.ResetTimer()
	for range rounds {
		for _, x := range []struct {
			s   *side
			url string
		}{{&sw, s.URL + "/query"}, {&raw, bare.URL}} {
			t0 := time.Now()
			n, lat, cpu := run(x.url)
			x.s.requests += n
			x.s.lat = append(x.s.lat, lat...)
			x.s.cpu += cpu
			x.s.elapsed += time.Since(t0)
		}
	}
	b.StopTimer()
	pct := func(l []time.Duration, p float64) time.Duration {
		slices.Sort(l)
		return l[min(len(l)-1, int(float64(len(l))*p))]
	}
	rps := func(x side) float64 { return float64(x.requests) / x.elapsed.Seconds() }
	cpuPer := func(x side) time.Duration { return x.cpu / time.Duration(max(x.requests, 1)) }
	b.ReportMetric(rps(sw), "switchboard-req/s")
	b.ReportMetric(rps(raw), "bare-req/s")
	b.ReportMetric(rps(sw)/rps(raw), "req/s-ratio")
	b.ReportMetric(float64(pct(sw.lat, 0.99).Microseconds())/1000, "switchboard-p99-ms")
	b.ReportMetric(float64(pct(raw.lat, 0.99).Microseconds())/1000, "bare-p99-ms")
	b.Logf("Wallboard, %d at once, %d tenants × %d agents, %d supervisors: switchboard %.0f req/s (p50 %v, p99 %v, CPU %v a request); "+
		"bare handler %.0f req/s (p50 %v, p99 %v, CPU %v a request); switchboard %.2f× the bare req/s, p99 %.2f× (load generator's CPU included in both)",
		conc, tenants, agents, len(callers), rps(sw), pct(sw.lat, 0.5), pct(sw.lat, 0.99), cpuPer(sw),
		rps(raw), pct(raw.lat, 0.5), pct(raw.lat, 0.99), cpuPer(raw), rps(sw)/rps(raw),
		float64(pct(sw.lat, 0.99))/float64(pct(raw.lat, 0.99)))
}

// cpuTime is the process's CPU time so far, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// bareWallboard answers the Wallboard as switchboard does, with its
// statements and its bytes, and nothing else: the caller's tenant is known
// by its header (as switchboard's caches know it), no GraphQL is parsed.
func bareWallboard(db *sql.DB, tenantOf map[string]gid.ID) http.Handler {
	const agentCols = `"agents"."id", "agents"."created_at", "agents"."updated_at", "agents"."tenant_id", "agents"."email", "agents"."name", ` +
		`"agents"."connect_username", "agents"."connect_user_id", "agents"."connect_routing_profile", "agents"."role", "agents"."current_status_id", "agents"."status_since"`
	type row struct {
		id, email, name string
		status          sql.NullString
		since           pq.NullTime
	}
	type status struct{ name, typ string }
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		tenant, ok := tenantOf[r.Header.Get("Authorization")]
		if !ok {
			http.Error(w, "who?", http.StatusUnauthorized)
			return
		}
		ctx := r.Context()
		var total int
		if err := db.QueryRowContext(ctx, `SELECT COUNT("agents"."id") FROM "agents" WHERE "agents"."tenant_id" = $1`, tenant).Scan(&total); err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		rows, err := db.QueryContext(ctx, `SELECT `+agentCols+` FROM "agents" WHERE "agents"."tenant_id" = $1 ORDER BY "agents"."name", "agents"."id" LIMIT 101`, tenant)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		var page []row
		var ids []string
		for rows.Next() {
			var a row
			var created, updated time.Time
			var tn string
			var cu, cid, crp sql.NullString
			var role string
			if err := rows.Scan(&a.id, &created, &updated, &tn, &a.email, &a.name, &cu, &cid, &crp, &role, &a.status, &a.since); err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			page = append(page, a)
			if a.status.Valid && !slices.Contains(ids, a.status.String) {
				ids = append(ids, a.status.String)
			}
		}
		rows.Close()
		more := len(page) > 100
		page = page[:min(len(page), 100)]
		byID := map[string]status{}
		if len(ids) > 0 {
			srows, err := db.QueryContext(ctx, `SELECT "agent_status"."id", "agent_status"."created_at", "agent_status"."updated_at", "agent_status"."tenant_id", `+
				`"agent_status"."name", "agent_status"."type", "agent_status"."display_order", "agent_status"."enabled", "agent_status"."connect_status_id", "agent_status"."connect_status_arn" `+
				`FROM "agent_status" WHERE "agent_status"."tenant_id" = $1 AND "agent_status"."id" = ANY($2)`, tenant, pq.Array(ids))
			if err != nil {
				http.Error(w, err.Error(), 500)
				return
			}
			for srows.Next() {
				var id, tn, name, typ string
				var created, updated time.Time
				var order int
				var enabled bool
				var csid, csarn sql.NullString
				if err := srows.Scan(&id, &created, &updated, &tn, &name, &typ, &order, &enabled, &csid, &csarn); err != nil {
					http.Error(w, err.Error(), 500)
					return
				}
				byID[id] = status{name, typ}
			}
			srows.Close()
		}
		var out bytes.Buffer
		cursor := func(a row) string {
			var c bytes.Buffer
			entgql.Cursor[gid.ID]{ID: gid.ID(a.id), Value: a.name}.MarshalGQL(&c)
			return c.String()
		}
		quote := func(s string) string { q, _ := json.Marshal(s); return string(q) }
		out.WriteString(`{"data":{"agents":{"totalCount":` + strconv.Itoa(total) + `,"pageInfo":{"hasNextPage":` + strconv.FormatBool(more) + `,"endCursor":`)
		if len(page) > 0 {
			out.WriteString(cursor(page[len(page)-1]))
		} else {
			out.WriteString("null")
		}
		out.WriteString(`},"edges":[`)
		for i, a := range page {
			if i > 0 {
				out.WriteByte(',')
			}
			out.WriteString(`{"cursor":` + cursor(a) + `,"node":{"id":` + quote(a.id) + `,"name":` + quote(a.name) + `,"email":` + quote(a.email) + `,"currentStatus":`)
			if st, ok := byID[a.status.String]; ok && a.status.Valid && a.since.Valid {
				out.WriteString(`{"status":{"id":` + quote(a.status.String) + `,"name":` + quote(st.name) + `,"type":` + quote(st.typ) +
					`},"since":` + quote(a.since.Time.Format(time.RFC3339Nano)) + `}`)
			} else {
				out.WriteString("null")
			}
			out.WriteString(`}}`)
		}
		out.WriteString(`]}}}`)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out.Bytes())
	})
}
