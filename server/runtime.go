package server

import (
	"os"
	"runtime/debug"
)

// GCPercent is the garbage collector's target that serve runs with: a
// status change fanned out to thousands of WebSockets allocates a burst of
// short-lived frames, and collecting after each small growth of the heap
// puts collection pauses and assists on the tail of the fan-out (measured
// by bench's BenchmarkFanout: p99 at 1,000 subscribers about 2.7x the raw
// broadcast with the default 100, 1.4x with 400). The live heap, and so the
// memory an idle connection holds, does not change; set GOMEMLIMIT to bound
// the heap's growth on a small machine.
const GCPercent = 400

// TuneRuntime applies GCPercent unless GOGC is set.
func TuneRuntime() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
}
