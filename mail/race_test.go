//go:build race

package mail_test

// raceEnabled reports that the race detector is on: it changes how much is
// allocated (sync.Pool drops what it holds), so heap figures mean nothing.
const raceEnabled = true
