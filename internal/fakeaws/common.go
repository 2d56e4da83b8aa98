package fakeaws

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
)

// Failure is an error response a fake sends instead of serving a request.
type Failure struct {
	Status  int    // HTTP status, e.g. 400, 404, 429, 500
	Code    string // the AWS error code, e.g. "ResourceNotFoundException"
	Message string // the error message
	// Times is how many requests fail this way before the fake serves
	// normally again; 0 fails every request until ClearFailures.
	Times int
}

// failures is a set of queued failures per operation.
type failures struct {
	mu    sync.Mutex
	queue map[string][]*Failure
}

func (f *failures) add(operation string, fl Failure) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.queue == nil {
		f.queue = map[string][]*Failure{}
	}
	f.queue[operation] = append(f.queue[operation], &fl)
}

func (f *failures) clear() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queue = nil
}

// next returns the failure the next request to operation gets, if any.
func (f *failures) next(operation string) (Failure, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queue[operation]
	if len(q) == 0 {
		return Failure{}, false
	}
	fl := *q[0]
	if q[0].Times > 0 {
		q[0].Times--
		if q[0].Times == 0 {
			f.queue[operation] = q[1:]
		}
	}
	return fl, true
}

// randomHex returns n random bytes, hex-encoded.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never returns an error (Go 1.24 and later)
	return hex.EncodeToString(b)
}

// newUUID returns a random version 4 UUID.
func newUUID() string {
	b := make([]byte, 16)
	rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
