package bench_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"switchboard/cmd/switchboard/wire"
	"switchboard/flows"
	"switchboard/internal/testenv"
)

// BenchmarkFlows: POST /flows latency through the whole server (the key's
// lookup, the lifecycle gate, the schedule read and its answer; read again
// each second, flows.DefaultRecheck, so the figures include those reads) on
// each store, beside a bare handler on the same HTTP stack that returns a fixed
// map, in the same run. Target: p99 within twice the bare handler's and
// under 5 ms.
func BenchmarkFlows(b *testing.B) {
	for _, be := range testenv.Backends() {
		b.Run(be.Name, func(b *testing.B) {
			if be.Name == "postgres" && os.Getenv(testenv.PostgresEnv) == "" {
				b.Skipf("the PostgreSQL figures need %s", testenv.PostgresEnv)
			}
			benchFlows(b, be)
		})
	}
}

func benchFlows(b *testing.B, be testenv.Backend) {
	// Quiet: the access log of every call would weigh on what is measured.
	s := testenv.NewServer(b, be, func(c *wire.Config) { c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil)) })
	A := s.NewTenant(b, "Acme")
	var week []map[string]any
	for _, d := range []string{"MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY"} {
		week = append(week, map[string]any{"day": d, "opens": "08:00", "closes": "12:00"}, map[string]any{"day": d, "opens": "13:00", "closes": "18:00"})
	}
	var holidays []map[string]any
	for m := 1; m <= 12; m++ {
		holidays = append(holidays, map[string]any{"date": time.Date(2027, time.Month(m), 1, 0, 0, 0, 0, time.UTC).Format("2006-01-02"), "name": "Holiday", "closed": true})
	}
	s.MustDo(b, A.AdminToken, testenv.ContractOperation(b, "CreateSchedule"), map[string]any{"input": map[string]any{
		"name": "Main line", "timeZone": "Australia/Sydney", "weeklyHours": week, "exceptions": holidays}}, nil)
	var key struct {
		RotateFlowsKey struct{ Key string } `json:"rotateFlowsKey"`
	}
	s.MustDo(b, A.AdminToken, testenv.ContractOperation(b, "RotateFlowsKey"), nil, &key)
	body := `{"Details": {"ContactData": {"Channel": "VOICE", "ContactId": "c-1"}, "Parameters": {"action": "schedule", "schedule": "Main line"}}, "Name": "ContactFlowEvent"}`

	fixed := map[string]string{"open": "true", "reason": "opening hours", "nextChangeAt": "2026-12-03T18:00:00+11:00", "schedule": "Main line"}
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(fixed)
	}))
	b.Cleanup(bare.Close)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	call := func(url string) time.Duration {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(flows.KeyHeader, key.RotateFlowsKey.Key)
		t0 := time.Now()
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		var out map[string]string
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		d := time.Since(t0)
		if err != nil || resp.StatusCode != http.StatusOK || out["schedule"] != "Main line" {
			b.Fatalf("%s: %d %v %v", url, resp.StatusCode, out, err)
		}
		return d
	}
	const warm, n = 200, 3000
	var flowsTimes, bareTimes []time.Duration
	for i := range warm + n {
		// Interleaved, so that both see the same machine.
		f, bt := call(s.URL+flows.Path), call(bare.URL)
		if i >= warm {
			flowsTimes, bareTimes = append(flowsTimes, f), append(bareTimes, bt)
		}
	}
	for b.Loop() {
		call(s.URL + flows.Path)
	}
	fp50, fp99 := percentile(flowsTimes, 0.50), percentile(flowsTimes, 0.99)
	bp50, bp99 := percentile(bareTimes, 0.50), percentile(bareTimes, 0.99)
	us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 }
	b.ReportMetric(us(fp50), "flows-p50-µs")
	b.ReportMetric(us(fp99), "flows-p99-µs")
	b.ReportMetric(us(bp50), "bare-p50-µs")
	b.ReportMetric(us(bp99), "bare-p99-µs")
	b.ReportMetric(float64(fp99)/float64(bp99), "p99-x")
	b.Logf("%s: /flows p50 %v p99 %v; bare handler p50 %v p99 %v (%d calls each)", be.Name, fp50, fp99, bp50, bp99, n)
}
