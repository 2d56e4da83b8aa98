package server

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/vektah/gqlparser/v2/gqlerror"
	"golang.org/x/time/rate"

	"switchboard/apierror"
	"switchboard/auth"
)

// rateLimits hold a token bucket for each person and each tenant that
// made a request lately: each GraphQL request over HTTP and each operation
// over a WebSocket takes one from both.
type rateLimits struct {
	person, tenant *buckets
}

func newRateLimits(l Limits) *rateLimits {
	return &rateLimits{person: newBuckets(l.RatePerPerson), tenant: newBuckets(l.RatePerTenant)}
}

// allow takes a request of person in tenant ("" for an operator) from
// their buckets, or says how long to wait when either is empty; a refused
// request takes nothing.
func (r *rateLimits) allow(person, tenant string, now time.Time) (wait time.Duration, ok bool) {
	p := r.person.reserve(person, now)
	if d := p.DelayFrom(now); d > 0 {
		p.CancelAt(now)
		return d, false
	}
	if tenant == "" {
		return 0, true
	}
	t := r.tenant.reserve(tenant, now)
	if d := t.DelayFrom(now); d > 0 {
		t.CancelAt(now)
		p.CancelAt(now)
		return d, false
	}
	return 0, true
}

// unbounded is the reservation of buckets with no bound: always granted,
// at once.
var unbounded = rate.NewLimiter(rate.Inf, 0)

// buckets are the token buckets of one kind of caller, each filled at
// perSecond and holding BurstSeconds of it. Buckets full and unused for a
// while are dropped: they would allow the same when made anew.
type buckets struct {
	limit rate.Limit
	burst int
	mu    sync.Mutex
	by    map[string]*bucket
	swept time.Time
}

type bucket struct {
	*rate.Limiter
	used time.Time
}

// BurstSeconds is how many seconds of its rate a caller may spend at once:
// a desktop's start sends a dozen queries together.
const BurstSeconds = 3

func newBuckets(perSecond int) *buckets {
	if perSecond < 0 {
		return &buckets{limit: rate.Inf}
	}
	return &buckets{limit: rate.Limit(perSecond), burst: BurstSeconds * perSecond, by: map[string]*bucket{}}
}

func (b *buckets) reserve(key string, now time.Time) *rate.Reservation {
	if b.limit == rate.Inf {
		return unbounded.ReserveN(now, 1)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.Sub(b.swept) > time.Minute {
		b.sweep(now)
	}
	e := b.by[key]
	if e == nil {
		e = &bucket{Limiter: rate.NewLimiter(b.limit, b.burst)}
		b.by[key] = e
	}
	e.used = now
	return e.ReserveN(now, 1)
}

// sweep drops the buckets unused for long enough to have filled up.
func (b *buckets) sweep(now time.Time) {
	full := time.Duration(float64(b.burst)/float64(b.limit)*float64(time.Second)) + time.Second
	for k, e := range b.by {
		if now.Sub(e.used) > full {
			delete(b.by, k)
		}
	}
	b.swept = now
}

// personKey names the person a token speaks for, whichever token it is.
func personKey(c auth.Claims) string { return c.Tenant + "/" + c.Subject + "/" + c.Email }

// retryAfter is the Retry-After of a wait: whole seconds, at least one.
func retryAfter(wait time.Duration) int { return int(math.Ceil(max(wait, time.Second).Seconds())) }

// rateLimited is the error of a request over its rate.
func rateLimited(wait time.Duration) *gqlerror.Error {
	s := retryAfter(wait)
	return &gqlerror.Error{
		Message:    fmt.Sprintf("too many requests; retry after %d s", s),
		Extensions: map[string]any{"code": string(apierror.RateLimited), "retryAfter": s},
	}
}

// tooManyRequests answers an HTTP request over its rate.
func tooManyRequests(w http.ResponseWriter, wait time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(retryAfter(wait)))
	writeJSON(w, http.StatusTooManyRequests, map[string]any{"errors": gqlerror.List{rateLimited(wait)}})
}
