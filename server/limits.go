package server

import "time"

// Limits bound each caller on one replica. A zero field takes its default;
// a negative one is no bound.
type Limits struct {
	// WSConnsPerPerson bounds the WebSocket connections of one person (the
	// token's tenant, subject and email, whichever token it is): a desktop
	// or wallboard in each of a few tabs.
	WSConnsPerPerson int
	// WSConnsPerTenant bounds a tenant's WebSocket connections: a replica
	// carries 10,000 subscribers (DESIGN.md), all of which may be one large
	// tenant's.
	WSConnsPerTenant int
	// RatePerPerson is the GraphQL requests a second one person may make,
	// over HTTP and WebSocket together, with BurstSeconds of it at once.
	RatePerPerson int
	// RatePerTenant is the same for all of a tenant's people: the status
	// changes of a large contact centre, and its wallboards' reads.
	RatePerTenant int
	// BodyTimeout bounds the wait for a request's body (an upload's:
	// UploadTimeout), so that clients dripping bodies hold no connection.
	BodyTimeout, UploadTimeout time.Duration
	// RequestTimeout bounds a GraphQL request over HTTP, from its body's
	// arrival to its answer.
	RequestTimeout time.Duration
}

// DefaultLimits are the bounds of a zero Limits.
var DefaultLimits = Limits{
	WSConnsPerPerson: 10,
	WSConnsPerTenant: 10_000,
	RatePerPerson:    20,
	RatePerTenant:    1_000,
	BodyTimeout:      10 * time.Second,
	UploadTimeout:    2 * time.Minute, // 40 MiB at 350 kB/s
	RequestTimeout:   30 * time.Second,
}

// withDefaults returns l with its zero fields set to the defaults.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	l.WSConnsPerPerson = orDefault(l.WSConnsPerPerson, d.WSConnsPerPerson)
	l.WSConnsPerTenant = orDefault(l.WSConnsPerTenant, d.WSConnsPerTenant)
	l.RatePerPerson = orDefault(l.RatePerPerson, d.RatePerPerson)
	l.RatePerTenant = orDefault(l.RatePerTenant, d.RatePerTenant)
	l.BodyTimeout = orDefault(l.BodyTimeout, d.BodyTimeout)
	l.UploadTimeout = orDefault(l.UploadTimeout, d.UploadTimeout)
	l.RequestTimeout = orDefault(l.RequestTimeout, d.RequestTimeout)
	return l
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
