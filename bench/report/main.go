// Command report turns the output of `go test -bench` (make bench) into a
// report a reader takes in at a glance: a Markdown table of every
// benchmark's figures, and a plot (PNG) of how each stands against the
// baseline it was measured beside, as a ratio (1 is the baseline).
//
//	go run ./bench/report -in bench/results/bench.txt -out bench/results
//
// writes report.md and report.png there. A benchmark's ratios are the
// figures it reports as ratios (units ending in "ratio", or "-x"), and
// those derived from pairs of figures of one unit measured on both sides
// (switchboard-p99-ms beside bare-p99-ms or raw-p99-ms, search-* beside
// sql-*, flows-* beside bare-*, max-calls beside allowed-calls).
package main

import (
	"cmp"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"golang.org/x/perf/benchfmt"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// figure is one value a benchmark reported.
type figure struct {
	unit  string
	value float64
}

// bench is one benchmark's figures, in the order reported.
type bench struct {
	name    string
	figures []figure
}

var procs = regexp.MustCompile(`-\d+$`)

// ratio is how a benchmark stands against its baseline on one figure.
type ratio struct {
	bench, what string
	value       float64
}

// pairs name the figures measured on both sides: ours, then the baseline's
// prefix, for one unit after them.
var pairs = [][2]string{
	{"switchboard-", "bare-"}, {"switchboard-", "raw-"}, {"search-", "sql-"},
	{"flows-", "bare-"}, {"max-calls", "allowed-calls"},
}

func main() {
	in := flag.String("in", "-", "the benchmark output to read; - for stdin")
	out := flag.String("out", ".", "the folder to write report.md and report.png in")
	flag.Parse()
	r := io.Reader(os.Stdin)
	if *in != "-" {
		f, err := os.Open(*in)
		if err != nil {
			fail(err)
		}
		defer f.Close()
		r = f
	}
	benches, err := read(r, *in)
	if err != nil {
		fail(err)
	}
	if len(benches) == 0 {
		fail(fmt.Errorf("%s has no benchmark results", *in))
	}
	ratios := ratiosOf(benches)
	if err := os.WriteFile(filepath.Join(*out, "report.md"), []byte(markdown(benches, ratios)), 0o644); err != nil {
		fail(err)
	}
	if err := plotRatios(ratios, filepath.Join(*out, "report.png")); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "report:", err)
	os.Exit(1)
}

// read parses benchmark results with golang.org/x/perf's reader.
func read(r io.Reader, name string) ([]bench, error) {
	br := benchfmt.NewReader(r, name)
	var out []bench
	for br.Scan() {
		res, ok := br.Result().(*benchfmt.Result)
		if !ok {
			continue // a syntax error or unit line: not a result
		}
		// The name without its -GOMAXPROCS suffix, as go test printed it.
		b := bench{name: "Benchmark" + procs.ReplaceAllString(string(res.Name.Full()), "")}
		for _, v := range res.Values {
			f := figure{unit: v.OrigUnit, value: v.OrigValue}
			if f.unit == "" { // not normalised: as printed
				f = figure{unit: v.Unit, value: v.Value}
			}
			b.figures = append(b.figures, f)
		}
		out = append(out, b)
	}
	return out, br.Err()
}

// ratiosOf returns each benchmark's ratios to its baseline.
func ratiosOf(benches []bench) []ratio {
	var out []ratio
	for _, b := range benches {
		values := map[string]float64{}
		for _, f := range b.figures {
			values[f.unit] = f.value
		}
		for _, f := range b.figures {
			switch {
			case strings.HasSuffix(f.unit, "ratio") || strings.HasSuffix(f.unit, "-x"):
				out = append(out, ratio{b.name, f.unit, f.value})
			default:
				for _, p := range pairs {
					rest, ok := strings.CutPrefix(f.unit, p[0])
					if !ok {
						continue
					}
					if base, ok := values[p[1]+rest]; ok && base != 0 {
						out = append(out, ratio{b.name, f.unit + " / " + p[1] + rest, f.value / base})
					}
				}
			}
		}
	}
	return out
}

// markdown is the report's text: the ratios first, then every figure.
func markdown(benches []bench, ratios []ratio) string {
	var s strings.Builder
	s.WriteString("# Benchmarks\n\nWritten by `make bench` (bench/report) from one run on one machine; every figure is beside a baseline measured in the same run.\n\n")
	s.WriteString("## Against the baseline\n\n![ratios](report.png)\n\n| benchmark | figure | ratio |\n| --- | --- | ---: |\n")
	for _, r := range ratios {
		fmt.Fprintf(&s, "| %s | %s | %.2f |\n", r.bench, r.what, r.value)
	}
	s.WriteString("\n## Every figure\n\n| benchmark | figure | value |\n| --- | --- | ---: |\n")
	for _, b := range benches {
		for _, f := range b.figures {
			fmt.Fprintf(&s, "| %s | %s | %s |\n", b.name, f.unit, number(f.value))
		}
	}
	return s.String()
}

func number(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.4g", v)
}

// plotRatios draws each ratio as a horizontal bar, the baseline (1) as a
// line across them.
func plotRatios(ratios []ratio, path string) error {
	p := plot.New()
	p.Title.Text = "switchboard against its baselines (1 = the baseline)"
	p.X.Label.Text = "ratio"
	values := make(plotter.Values, len(ratios))
	names := make([]string, len(ratios))
	top := 1.0
	for i, r := range ratios {
		values[i] = r.value
		names[i] = strings.TrimPrefix(r.bench, "Benchmark") + ": " + r.what
		top = max(top, r.value)
	}
	if len(ratios) > 0 {
		bars, err := plotter.NewBarChart(values, vg.Points(10))
		if err != nil {
			return err
		}
		bars.Horizontal = true
		p.Add(bars)
		p.NominalY(names...)
	}
	one, err := plotter.NewLine(plotter.XYs{{X: 1, Y: -0.5}, {X: 1, Y: float64(len(ratios)) - 0.5}})
	if err != nil {
		return err
	}
	one.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(one)
	p.X.Min, p.X.Max = 0, cmp.Or(top*1.1, 1.1)
	longest := slices.MaxFunc(append(names, ""), func(a, b string) int { return cmp.Compare(len(a), len(b)) })
	width := vg.Length(480 + 6*len(longest))
	return p.Save(width, vg.Length(120+18*len(ratios)), path)
}
