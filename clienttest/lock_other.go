//go:build !unix

package clienttest

// lockDir does not lock across processes on this platform: concurrent test
// binaries installing at the same time may need a second run.
func lockDir(string) (func(), error) { return func() {}, nil }
