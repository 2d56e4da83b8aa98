package bench_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
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

// reader is who sends a read: a token, its tenant, and for an agent its
// agent record.
type reader struct {
	token  string
	tenant gid.ID
	agent  gid.ID
	email  string
	name   string
}

// BenchmarkReads: the contract's Wallboard (a page of 100 agents with
// their statuses, by 40 supervisors) and DesktopBootstrap (by 100 agents)
// over HTTP on PostgreSQL, ten tenants of 100 agents, 32 requests at once,
// each beside a bare net/http handler that sends the statements
// switchboard sends through database/sql and writes the very same bytes
// (checked byte for byte first). Rounds alternate between the two, so
// that drift hits both alike; each prints requests a second, p50, p99 and
// CPU time per request of both, and their ratios. Targets (issue 15):
// switchboard at least 0.5x the bare requests a second, its p99 at most
// 1.5x the bare p99.
func BenchmarkReads(b *testing.B) {
	if os.Getenv(testenv.PostgresEnv) == "" && os.Getenv(testenv.RequirePostgresEnv) != "1" {
		b.Skipf("BenchmarkReads needs PostgreSQL: set %s, or run `make bench`, which starts one", testenv.PostgresEnv)
	}
	s := testenv.NewServerOn(b, testenv.PostgresURL(b))
	const tenants, agents, supervisors = 10, 100, 4
	var sups, desks []reader
	for n := range tenants {
		tn := s.NewTenant(b, fmt.Sprintf("Tenant %02d", n))
		admin := viewer.NewContext(context.Background(), &viewer.Viewer{Role: viewer.RoleAdmin, TenantID: gid.ID(tn.ID), Email: "admin@bench.example"})
		var statuses []gid.ID
		for i, name := range []string{"Available", "Lunch", "Training", "Offline"} {
			typ := agentstatus.TypeCUSTOM
			if i == 0 {
				typ = agentstatus.TypeROUTABLE
			}
			statuses = append(statuses, s.Store.Client.AgentStatus.Create().SetName(name).SetType(typ).SetDisplayOrder(i+1).SaveX(admin).ID)
		}
		for i, name := range []string{"CRM", "Knowledge base"} {
			s.Store.Client.Module.Create().SetName(name).SetURL(fmt.Sprintf("https://m%d.t%02d.example", i, n)).SetPosition(i).SaveX(admin)
		}
		for i := range agents {
			name, email := fmt.Sprintf("Agent %03d of %02d", i, n), fmt.Sprintf("agent%03d@t%02d.example", i, n)
			a := s.Store.Client.Agent.Create().SetName(name).SetEmail(email).SaveX(admin)
			if i%10 != 9 { // some have never set a status
				if _, err := s.App.Status().SetStatus(admin, &a.ID, statuses[i%len(statuses)]); err != nil {
					b.Fatal(err)
				}
			}
			if i%10 == 0 {
				tok := s.Token(b, auth.Claims{Email: email, Tenant: tn.ID, Role: auth.RoleAgent})
				desks = append(desks, reader{token: tok, tenant: gid.ID(tn.ID), agent: a.ID, email: email, name: name})
			}
		}
		for v := range supervisors {
			tok := s.Token(b, auth.Claims{Email: fmt.Sprintf("sup%d@t%02d.example", v, n), Tenant: tn.ID, Role: auth.RoleSupervisor})
			sups = append(sups, reader{token: tok, tenant: gid.ID(tn.ID)})
		}
	}
	if _, err := s.Store.DB.Exec(`VACUUM ANALYZE agents, agent_status, modules, tenants, branding_images`); err != nil {
		b.Fatal(err)
	}
	pgl := startPostGraphile(b, s.Store.URL)
	b.Run("Wallboard", func(b *testing.B) {
		compareReads(b, s.URL+"/query", "Wallboard", sups, bareWallboard(s.Store.DB, byHeader(sups)), pgl.asking(
			`query($t: String!) { allAgents(first: 100, orderBy: [NAME_ASC, PRIMARY_KEY_ASC], condition: {tenantId: $t}) {
			  totalCount pageInfo { hasNextPage endCursor }
			  edges { cursor node { rowId name email statusSince agentStatusByCurrentStatusId { rowId name type } } } } }`,
			func(r reader) map[string]any { return map[string]any{"t": r.tenant} }))
	})
	b.Run("DesktopBootstrap", func(b *testing.B) {
		compareReads(b, s.URL+"/query", "DesktopBootstrap", desks, bareBootstrap(s.Store.DB, byHeader(desks)), pgl.asking(
			`query($a: String!) { agentByRowId(rowId: $a) { rowId email name role connectUsername statusSince
			  agentStatusByCurrentStatusId { rowId name type }
			  tenantByTenantId { rowId name brandingImagesByTenantId { nodes { kind sha256 } }
			    modulesByTenantId { nodes { rowId name url position } }
			    agentStatusesByTenantId { nodes { rowId name type enabled displayOrder } } } } }`,
			func(r reader) map[string]any { return map[string]any{"a": r.agent} }))
	})
}

// postGraphile is PostGraphile 5 (bench/postgraphile, which scripts/bench.sh
// installs) serving the benchmark's database: the peer switchboard is
// measured beside. The zero value is none.
type postGraphile struct {
	url string
	pid int
}

// peer is what one operation asks PostGraphile: its query and each
// reader's variables.
type peer struct {
	*postGraphile
	bodies func(reader) []byte
}

func (p *postGraphile) asking(query string, vars func(reader) map[string]any) *peer {
	if p == nil {
		return nil
	}
	return &peer{p, func(r reader) []byte {
		b, _ := json.Marshal(map[string]any{"query": query, "variables": vars(r)})
		return b
	}}
}

// startPostGraphile runs PostGraphile over the store at dbURL until the
// benchmark ends, or returns nil, saying so, when it is not installed.
func startPostGraphile(b *testing.B, dbURL string) *postGraphile {
	bin, err := filepath.Abs("postgraphile/node_modules/.bin/postgraphile")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		b.Logf("PostGraphile is not installed (scripts/bench.sh runs npm ci in bench/postgraphile where Node.js is 22 or newer): measured without it")
		return nil
	}
	if major := nodeMajor(); major < 22 {
		b.Logf("PostGraphile 5 needs Node.js 22 or newer, this machine has %d: measured without it", major)
		return nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "-P", "postgraphile/presets/amber", "-c", dbURL, "-s", "public", "-n", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Dir = "postgraphile"
	cmd.Env = append(os.Environ(), "GRAPHILE_ENV=production")
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() })
	url := fmt.Sprintf("http://127.0.0.1:%d/graphql", port)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		res, err := http.Post(url, "application/json", strings.NewReader(`{"query":"{ __typename }"}`))
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("PostGraphile did not start: %v\n%s", err, log.String())
		}
	}
	return &postGraphile{url: url, pid: cmd.Process.Pid}
}

// nodeMajor is the major version of the machine's Node.js, 0 without one.
func nodeMajor() int {
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return 0
	}
	v, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(string(out)), "v"), ".")
	n, _ := strconv.Atoi(v)
	return n
}

// procCPU is the CPU time the process pid has used, user and system, from
// /proc/<pid>/stat; and its peak resident memory, from /proc/<pid>/status.
func procCPU(pid int) (cpu time.Duration, peakRSS int64) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+2:]))
	if len(fields) > 13 {
		ut, _ := strconv.ParseInt(fields[11], 10, 64)
		st, _ := strconv.ParseInt(fields[12], 10, 64)
		cpu = time.Duration(ut+st) * (time.Second / 100) // USER_HZ
	}
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			peakRSS = kb << 10
		}
	}
	return cpu, peakRSS
}

func byHeader(rs []reader) map[string]reader {
	m := map[string]reader{}
	for _, r := range rs {
		m["Bearer "+r.token] = r
	}
	return m
}

// compareReads checks that the bare handler writes switchboard's bytes
// (and that PostGraphile, when there, answers its own query of the same
// rows without errors), then loads them in alternate rounds and reports
// the figures: requests a second, p50 and p99 of each, CPU per request
// (switchboard's and the bare handler's with the load generator's, which
// shares their process; PostGraphile's its process's own) and
// PostGraphile's peak resident memory.
func compareReads(b *testing.B, url, operation string, readers []reader, bareHandler http.Handler, pgl *peer) {
	bare := httptest.NewServer(bareHandler)
	defer bare.Close()
	body, _ := json.Marshal(map[string]any{"query": testenv.ContractOperation(b, operation)})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64}}
	defer client.CloseIdleConnections()
	post := func(url, token string, body []byte) ([]byte, error) {
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
	for _, r := range readers[:min(len(readers), 8)] {
		want, err := post(url, r.token, body)
		if err != nil {
			b.Fatal(err)
		}
		got, err := post(bare.URL, r.token, body)
		if err != nil {
			b.Fatal(err)
		}
		if !bytes.Equal(want, got) {
			b.Fatalf("the bare handler's bytes differ from switchboard's:\n%s\n%s", want, got)
		}
		if bytes.Contains(want, []byte(`"errors"`)) {
			b.Fatalf("%s answered %s", operation, want)
		}
		if pgl != nil {
			if got, err := post(pgl.url, r.token, pgl.bodies(r)); err != nil || bytes.Contains(got, []byte(`"errors"`)) || len(got) < len(want)/4 {
				b.Fatalf("PostGraphile answered %s: %v", got, err)
			}
		}
	}

	// side is one server under load: where, each reader's request, and
	// the process whose CPU is its own (0: this one).
	type side struct {
		name     string
		url      string
		body     func(reader) []byte
		pid      int
		requests int
		lat      []time.Duration
		cpu      time.Duration
		elapsed  time.Duration
	}
	same := func(reader) []byte { return body }
	sides := []*side{{name: "switchboard", url: url, body: same}, {name: "bare", url: bare.URL, body: same}}
	if pgl != nil {
		sides = append(sides, &side{name: "postgraphile", url: pgl.url, body: pgl.bodies, pid: pgl.pid})
	}
	const conc, rounds = 32, 3
	perRound := envDuration(b, "SWITCHBOARD_BENCH_READS_FOR", 5*time.Second)
	cpuOf := func(x *side) time.Duration {
		if x.pid == 0 {
			return cpuTime()
		}
		c, _ := procCPU(x.pid)
		return c
	}
	run := func(x *side, count bool) {
		var mu sync.Mutex
		var wg sync.WaitGroup
		var lat []time.Duration
		start, cpu0 := time.Now(), cpuOf(x)
		for w := range conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var mine []time.Duration
				for i := w; time.Since(start) < perRound; i += conc {
					r := readers[i%len(readers)]
					t0 := time.Now()
					if _, err := post(x.url, r.token, x.body(r)); err != nil {
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
		if count {
			x.requests += len(lat)
			x.lat = append(x.lat, lat...)
			x.cpu += cpuOf(x) - cpu0
			x.elapsed += time.Since(start)
		}
	}
	for _, x := range sides {
		run(x, false) // warm each
	}
	b.ResetTimer()
	for range rounds {
		for _, x := range sides {
			run(x, true)
		}
	}
	b.StopTimer()
	pct := func(x *side, p float64) time.Duration {
		slices.Sort(x.lat)
		return x.lat[min(len(x.lat)-1, int(float64(len(x.lat))*p))]
	}
	rps := func(x *side) float64 { return float64(x.requests) / x.elapsed.Seconds() }
	cpuPer := func(x *side) time.Duration { return x.cpu / time.Duration(max(x.requests, 1)) }
	sw, raw := sides[0], sides[1]
	line := fmt.Sprintf("%s, %d at once, %d readers:", operation, conc, len(readers))
	for _, x := range sides {
		b.ReportMetric(rps(x), x.name+"-req/s")
		b.ReportMetric(float64(pct(x, 0.5).Microseconds())/1000, x.name+"-p50-ms")
		b.ReportMetric(float64(pct(x, 0.99).Microseconds())/1000, x.name+"-p99-ms")
		b.ReportMetric(float64(cpuPer(x).Microseconds())/1000, x.name+"-cpu-ms/req")
		line += fmt.Sprintf(" %s %.0f req/s (p50 %v, p99 %v, CPU %v a request);", x.name, rps(x), pct(x, 0.5), pct(x, 0.99), cpuPer(x))
	}
	b.ReportMetric(rps(sw)/rps(raw), "req/s-ratio")
	b.ReportMetric(float64(pct(sw, 0.99))/float64(pct(raw, 0.99)), "p99-ratio")
	line += fmt.Sprintf(" switchboard %.2fx the bare req/s (target >= 0.5), p99 %.2fx (target <= 1.5)",
		rps(sw)/rps(raw), float64(pct(sw, 0.99))/float64(pct(raw, 0.99)))
	if len(sides) == 3 {
		pg := sides[2]
		_, peak := procCPU(pg.pid)
		b.ReportMetric(rps(sw)/rps(pg), "peer-req/s-ratio")
		b.ReportMetric(float64(peak>>20), "postgraphile-peak-rss-MiB")
		line += fmt.Sprintf("; %.2fx PostGraphile's req/s (target >= 2), its peak RSS %d MiB", rps(sw)/rps(pg), peak>>20)
	}
	b.Log(line)
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
func bareWallboard(db *sql.DB, readers map[string]reader) http.Handler {
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
		who, ok := readers[r.Header.Get("Authorization")]
		if !ok {
			http.Error(w, "who?", http.StatusUnauthorized)
			return
		}
		tenant := who.tenant
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

// bareBootstrap answers DesktopBootstrap as switchboard does, with its
// statements (the tenant, its branding, the modules for the viewer's
// role, the agent and its status, the statuses to choose from) and its
// bytes: the caller is known by its header.
func bareBootstrap(db *sql.DB, readers map[string]reader) http.Handler {
	quote := func(s string) string { q, _ := json.Marshal(s); return string(q) }
	fail := func(w http.ResponseWriter, err error) { http.Error(w, err.Error(), 500) }
	const statusCols = `"agent_status"."id", "agent_status"."created_at", "agent_status"."updated_at", "agent_status"."tenant_id", "agent_status"."name", ` +
		`"agent_status"."type", "agent_status"."display_order", "agent_status"."enabled", "agent_status"."connect_status_id", "agent_status"."connect_status_arn"`
	type status struct{ id, name, typ string }
	scanStatus := func(rows *sql.Rows) (status, error) {
		var st status
		var created, updated time.Time
		var tn string
		var order int
		var enabled bool
		var csid, csarn sql.NullString
		err := rows.Scan(&st.id, &created, &updated, &tn, &st.name, &st.typ, &order, &enabled, &csid, &csarn)
		return st, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		who, ok := readers[r.Header.Get("Authorization")]
		if !ok {
			http.Error(w, "who?", http.StatusUnauthorized)
			return
		}
		ctx := r.Context()
		var tenantName string
		{
			var id, product, lifecycle string
			var contactName, contactEmail, contactPhone, region sql.NullString
			var created, updated time.Time
			var seats sql.NullInt64
			var unsub pq.NullTime
			var mci, maid, mpc, mla sql.NullString
			err := db.QueryRowContext(ctx, `SELECT "tenants"."id", "tenants"."created_at", "tenants"."updated_at", "tenants"."name", "tenants"."contact_name", `+
				`"tenants"."contact_email", "tenants"."contact_phone", "tenants"."product", "tenants"."seats", "tenants"."lifecycle", "tenants"."unsubscribed_at", `+
				`"tenants"."marketplace_customer_identifier", "tenants"."marketplace_aws_account_id", "tenants"."marketplace_product_code", "tenants"."marketplace_license_arn", `+
				`"tenants"."default_region" FROM "tenants" WHERE "tenants"."id" = $1 AND "tenants"."id" = $2 LIMIT 2`, who.tenant, who.tenant).
				Scan(&id, &created, &updated, &tenantName, &contactName, &contactEmail, &contactPhone, &product, &seats, &lifecycle, &unsub, &mci, &maid, &mpc, &mla, &region)
			if err != nil {
				fail(w, err)
				return
			}
		}
		images, err := db.QueryContext(ctx, `SELECT "branding_images"."id", "branding_images"."kind", "branding_images"."sha256", "branding_images"."content_type", `+
			`"branding_images"."tenant_id" FROM "branding_images" WHERE "branding_images"."tenant_id" = $1 AND "branding_images"."tenant_id" = $2`, who.tenant, who.tenant)
		if err != nil {
			fail(w, err)
			return
		}
		branded := images.Next()
		images.Close()
		if branded {
			fail(w, fmt.Errorf("the bare handler writes no branding"))
			return
		}
		mods, err := db.QueryContext(ctx, `SELECT DISTINCT "modules"."id", "modules"."created_at", "modules"."updated_at", "modules"."tenant_id", "modules"."name", `+
			`"modules"."url", "modules"."position", "modules"."roles" FROM "modules" WHERE ("tenant_id" = $1 AND "modules"."tenant_id" = $2) AND `+
			`("modules"."roles" IS NULL OR JSONB_ARRAY_LENGTH("modules"."roles") = $3 OR "modules"."roles" @> $4) ORDER BY "modules"."position", "modules"."name"`,
			who.tenant, who.tenant, 0, `"AGENT"`)
		if err != nil {
			fail(w, err)
			return
		}
		var modules bytes.Buffer
		for mods.Next() {
			var id, tn, name, url string
			var created, updated time.Time
			var pos int
			var roles []byte
			if err := mods.Scan(&id, &created, &updated, &tn, &name, &url, &pos, &roles); err != nil {
				fail(w, err)
				return
			}
			if modules.Len() > 0 {
				modules.WriteByte(',')
			}
			modules.WriteString(`{"id":` + quote(id) + `,"name":` + quote(name) + `,"url":` + quote(url) + `}`)
		}
		mods.Close()
		var agentName, agentEmail string
		var username, cuid, crp sql.NullString
		var statusID sql.NullString
		var since pq.NullTime
		{
			var id, tn, role string
			var created, updated time.Time
			err := db.QueryRowContext(ctx, `SELECT "agents"."id", "agents"."created_at", "agents"."updated_at", "agents"."tenant_id", "agents"."email", "agents"."name", `+
				`"agents"."connect_username", "agents"."connect_user_id", "agents"."connect_routing_profile", "agents"."role", "agents"."current_status_id", "agents"."status_since" `+
				`FROM "agents" WHERE "agents"."id" = $1 AND "agents"."tenant_id" = $2 LIMIT 2`, who.agent, who.tenant).
				Scan(&id, &created, &updated, &tn, &agentEmail, &agentName, &username, &cuid, &crp, &role, &statusID, &since)
			if err != nil {
				fail(w, err)
				return
			}
		}
		current := "null"
		if statusID.Valid {
			rows, err := db.QueryContext(ctx, `SELECT `+statusCols+` FROM "agent_status" WHERE "agent_status"."id" IN ($1) AND "agent_status"."tenant_id" = $2`, statusID.String, who.tenant)
			if err != nil {
				fail(w, err)
				return
			}
			for rows.Next() {
				st, err := scanStatus(rows)
				if err != nil {
					fail(w, err)
					return
				}
				current = `{"status":{"id":` + quote(st.id) + `,"name":` + quote(st.name) + `,"type":` + quote(st.typ) + `},"since":` + quote(since.Time.Format(time.RFC3339Nano)) + `}`
			}
			rows.Close()
		}
		rows, err := db.QueryContext(ctx, `SELECT `+statusCols+` FROM "agent_status" WHERE "agent_status"."enabled" AND "agent_status"."tenant_id" = $1 `+
			`ORDER BY "agent_status"."display_order", "agent_status"."name"`, who.tenant)
		if err != nil {
			fail(w, err)
			return
		}
		var choices bytes.Buffer
		for rows.Next() {
			st, err := scanStatus(rows)
			if err != nil {
				fail(w, err)
				return
			}
			if choices.Len() > 0 {
				choices.WriteByte(',')
			}
			choices.WriteString(`{"id":` + quote(st.id) + `,"name":` + quote(st.name) + `,"type":` + quote(st.typ) + `}`)
		}
		rows.Close()
		var out bytes.Buffer
		out.WriteString(`{"data":{"viewer":{"id":` + quote(string(who.agent)) + `,"email":` + quote(who.email) + `,"name":` + quote(agentName) +
			`,"role":"AGENT","tenant":{"id":` + quote(string(who.tenant)) + `,"name":` + quote(tenantName) + `,"branding":null,"modules":[` + modules.String() +
			`]},"agent":{"id":` + quote(string(who.agent)) + `,"connectUsername":` + quote(username.String) + `,"currentStatus":` + current +
			`}},"agentStatuses":[` + choices.String() + `]}}`)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out.Bytes())
	})
}
