package main

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sample = `goos: linux
goarch: amd64
pkg: switchboard/bench
BenchmarkReads/Wallboard-2   	       1	30000000000 ns/op	       75.00 bare-p99-ms	      1200 bare-req/s	         0.5100 req/s-ratio	       116.0 switchboard-p99-ms	       614.0 switchboard-req/s
--- BENCH: BenchmarkReads/Wallboard-2
    reads_test.go:211: Wallboard, ...
BenchmarkFanout/subscribers=1000-2   	       1	 900000000 ns/op	         1.400 p99-ratio	         2.000 raw-p50-ms	         3.000 raw-p99-ms	         2.500 switchboard-p50-ms	         4.200 switchboard-p99-ms
BenchmarkSchedulesAt-2   	 5000000	       200.0 ns/op	       0 B/op	       0 allocs/op
PASS
ok  	switchboard/bench	30.1s
`

// The report lists every figure of every benchmark, the ratios each
// reported and those of its paired figures, and plots them in a PNG.
func TestReport(t *testing.T) {
	benches, err := read(strings.NewReader(sample), "sample")
	if err != nil {
		t.Fatal(err)
	}
	if len(benches) != 3 || benches[0].name != "BenchmarkReads/Wallboard" || len(benches[0].figures) != 6 {
		t.Fatalf("read %+v", benches)
	}
	ratios := ratiosOf(benches)
	got := map[string]float64{}
	for _, r := range ratios {
		got[r.bench+" "+r.what] = r.value
	}
	want := map[string]float64{
		"BenchmarkReads/Wallboard req/s-ratio":                             0.51,
		"BenchmarkReads/Wallboard switchboard-p99-ms / bare-p99-ms":        116.0 / 75,
		"BenchmarkReads/Wallboard switchboard-req/s / bare-req/s":          614.0 / 1200,
		"BenchmarkFanout/subscribers=1000 p99-ratio":                       1.4,
		"BenchmarkFanout/subscribers=1000 switchboard-p99-ms / raw-p99-ms": 1.4,
		"BenchmarkFanout/subscribers=1000 switchboard-p50-ms / raw-p50-ms": 1.25,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g < v-1e-9 || g > v+1e-9 {
			t.Errorf("%s: %v (%v), want %v", k, g, ok, v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("ratios %v", got)
	}
	md := markdown(benches, ratios)
	for _, s := range []string{"| BenchmarkSchedulesAt | ns/op | 200 |", "| BenchmarkReads/Wallboard | req/s-ratio | 0.51 |", "![ratios](report.png)"} {
		if !strings.Contains(md, s) {
			t.Errorf("the report lacks %q:\n%s", s, md)
		}
	}
	path := filepath.Join(t.TempDir(), "report.png")
	if err := plotRatios(ratios, path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil || img.Bounds().Dy() < 100 {
		t.Fatalf("the plot: %v %v", img, err)
	}
}
