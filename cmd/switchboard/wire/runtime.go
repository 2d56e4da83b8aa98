package wire

import (
	"os"
	"runtime/debug"
	"strings"
	"syscall"
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

// SmallStacks is the runtime setting under which new goroutines start at
// the minimum stack instead of the running average. A server holds several
// goroutines for each idle WebSocket; measured with 10,000 idle subscribed
// connections (server/wsgorilla BenchmarkIdleSubscribedConnMemory) this
// takes each from about 28 KB to about 24 KB.
const SmallStacks = "adaptivestackstart=0"

// ExecWithSmallStacks restarts the process in place with SmallStacks in
// GODEBUG, unless GODEBUG already decides adaptivestackstart. The runtime
// reads that setting only at start, so the process must begin with it.
// It returns only when it did not restart.
func ExecWithSmallStacks() {
	current := os.Getenv("GODEBUG")
	if strings.Contains(current, "adaptivestackstart=") {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	value := SmallStacks
	if current != "" {
		value = current + "," + SmallStacks
	}
	env := append(os.Environ(), "GODEBUG="+value)
	_ = syscall.Exec(exe, os.Args, env) // on success, does not return
}
