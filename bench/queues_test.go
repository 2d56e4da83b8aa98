package bench_test

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"switchboard/auth"
	"switchboard/cmd/switchboard/wire"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
)

// envDuration reads a duration from the environment, or def.
func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	return d
}

// BenchmarkQueueMetrics: 1,000 queueMetricsChanged subscriptions over ten
// tenants, on two replicas sharing one PostgreSQL, for a minute
// (SWITCHBOARD_BENCH_QUEUES_FOR; interval SWITCHBOARD_BENCH_QUEUES_EVERY,
// 1s). It prints the GetCurrentMetricData calls each tenant's account
// received a minute, beside the one-per-interval the design allows and
// the one-per-watcher a naive poller would cost, the calls Connect
// throttled, and the delay from Connect's answer (its DataSnapshotTime) to
// a subscriber's receipt, on the polling replica and the other alike.
func BenchmarkQueueMetrics(b *testing.B) {
	url := testenv.PostgresURL(b)
	interval := envDuration(b, "SWITCHBOARD_BENCH_QUEUES_EVERY", time.Second)
	window := envDuration(b, "SWITCHBOARD_BENCH_QUEUES_FOR", time.Minute)
	sts, fc, aws := testenv.FakeConnect(b, interval)
	quiet := func(c *wire.Config) { c.WSPingInterval = time.Minute }
	replicas := []*testenv.Server{testenv.NewServerOn(b, url, aws, quiet), testenv.NewServerOn(b, url, aws, quiet)}
	replicas[1].Secret = replicas[0].Secret
	one := replicas[0]

	const tenants, people, perConn = 10, 10, 10
	var instances []string
	var conns []*websocket.Conn
	var connReplica []int
	for n := range tenants {
		account := fmt.Sprintf("%012d", 300000000000+n)
		role := "arn:aws:iam::" + account + ":role/SwitchboardAccess"
		sts.AllowRole(role, "ext")
		id := fmt.Sprintf("%08d-2222-3333-4444-555555555555", 300+n)
		fc.AddInstance(id)
		instances = append(instances, id)
		tn := one.NewTenant(b, fmt.Sprintf("Tenant %d", n))
		one.MustDo(b, tn.AdminToken, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`, map[string]any{"in": map[string]any{
			"instanceArn": "arn:aws:connect:eu-west-2:" + account + ":instance/" + id, "region": "eu-west-2", "roleArn": role, "externalId": "ext",
		}}, nil)
		var queues []fakeaws.Queue
		for q := range 20 {
			queues = append(queues, fakeaws.Queue{ID: fmt.Sprintf("t%d-q%d", n, q), Name: fmt.Sprintf("Queue %02d", q), Type: "STANDARD"})
			fc.SetQueueMetrics(id, queues[q].ID, fakeaws.QueueMetrics{AgentsOnline: q, ContactsInQueue: n})
		}
		fc.SetQueues(id, queues...)
		for p := range people {
			_, tok := one.NewAgent(b, tn, fmt.Sprintf("Agent %d", p), fmt.Sprintf("a%d@t%d.example", p, n), auth.RoleAgent)
			ws := replicas[p%2].DialWS(b, tok)
			for i := range perConn {
				ws.Subscribe(fmt.Sprint("q", i), `subscription { queueMetricsChanged { queue { id name } agentsOnline agentsAvailable agentsOnContact contactsInQueue oldestContactAgeSeconds updatedAt } }`, nil)
			}
			conns = append(conns, ws.Conn)
			connReplica = append(connReplica, p%2)
		}
	}

	var (
		mu       sync.Mutex
		counting bool
		lat      latencies
		pushes   [2]int
	)
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = c.SetReadDeadline(time.Time{}) // DialWS's, for the handshake
			for {
				var m struct {
					Type    string
					Payload struct {
						Data struct {
							QueueMetricsChanged []struct{ UpdatedAt time.Time } `json:"queueMetricsChanged"`
						}
					}
				}
				if err := c.ReadJSON(&m); err != nil {
					return
				}
				if m.Type == "ping" {
					_ = c.WriteJSON(map[string]string{"type": "pong"})
				}
				if m.Type != "next" || len(m.Payload.Data.QueueMetricsChanged) == 0 {
					continue
				}
				d := time.Since(m.Payload.Data.QueueMetricsChanged[0].UpdatedAt)
				mu.Lock()
				if counting {
					lat.add(d)
					pushes[connReplica[i]]++
				}
				mu.Unlock()
			}
		}()
	}
	time.Sleep(3 * interval) // every subscription has had its first figures
	before := make([]int, tenants)
	throttledBefore := 0
	for n, id := range instances {
		before[n], throttledBefore = fc.MetricCalls(id), throttledBefore+fc.Throttled(id)
	}
	mu.Lock()
	counting = true
	mu.Unlock()
	b.ResetTimer()
	time.Sleep(window)
	b.StopTimer()
	mu.Lock()
	counting = false
	got := pushes
	mu.Unlock()
	minutes := window.Minutes()
	lo, hi, throttled := 1e9, 0.0, -throttledBefore
	for n, id := range instances {
		perMin := float64(fc.MetricCalls(id)-before[n]) / minutes
		lo, hi = min(lo, perMin), max(hi, perMin)
		throttled += fc.Throttled(id)
	}
	for _, c := range conns {
		_ = c.Close()
	}
	wg.Wait()
	ideal := time.Minute.Seconds() / interval.Seconds()
	b.ReportMetric(hi, "max-calls/tenant/min")
	b.ReportMetric(ideal, "allowed-calls/tenant/min")
	b.ReportMetric(float64(throttled), "throttled")
	b.ReportMetric(float64(lat.percentile(0.50).Microseconds())/1000, "answer-to-receipt-p50-ms")
	b.ReportMetric(float64(lat.percentile(0.99).Microseconds())/1000, "answer-to-receipt-p99-ms")
	b.Logf("1,000 subscriptions, 10 tenants, 2 replicas, %v at one poll per %v: GetCurrentMetricData per tenant a minute %.1f–%.1f "+
		"(allowed %.0f; a poll per watcher would be %.0f), %d throttled; pushes received on each replica %v; Connect's answer to receipt p50 %v p99 %v",
		window, interval, lo, hi, ideal, ideal*people*perConn, throttled, got, lat.percentile(0.50), lat.percentile(0.99))
	if hi > ideal*1.05+1 {
		b.Errorf("a tenant was asked %.1f times a minute, beyond one per interval (%.0f)", hi, ideal)
	}
}
