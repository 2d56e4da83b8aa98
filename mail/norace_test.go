//go:build !race

package mail_test

// raceEnabled reports that the race detector is on.
const raceEnabled = false
