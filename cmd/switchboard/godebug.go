package main

import (
	"os"
	"strings"
	"syscall"
)

// smallStacks is the runtime setting under which new goroutines start at
// the minimum stack instead of the running average. A server holds several
// goroutines for each idle WebSocket; measured with 10,000 idle subscribed
// connections (server/wsgorilla BenchmarkIdleSubscribedConnMemory) this
// takes each from about 28 KB to about 24 KB.
const smallStacks = "adaptivestackstart=0"

// execWithSmallStacks restarts the process in place with smallStacks in
// GODEBUG, unless GODEBUG already decides adaptivestackstart. The runtime
// reads that setting only at start, so the process must begin with it.
// It returns only when it did not restart.
func execWithSmallStacks() {
	current := os.Getenv("GODEBUG")
	if strings.Contains(current, "adaptivestackstart=") {
		return
	}
	exe, err := os.Executable()
	if err != nil {
		return
	}
	value := smallStacks
	if current != "" {
		value = current + "," + smallStacks
	}
	env := append(os.Environ(), "GODEBUG="+value)
	_ = syscall.Exec(exe, os.Args, env) // on success, does not return
}
