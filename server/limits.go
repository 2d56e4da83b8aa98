package server

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
}

// DefaultLimits are the bounds of a zero Limits.
var DefaultLimits = Limits{
	WSConnsPerPerson: 10,
	WSConnsPerTenant: 10_000,
	RatePerPerson:    20,
	RatePerTenant:    1_000,
}

// withDefaults returns l with its zero fields set to the defaults.
func (l Limits) withDefaults() Limits {
	pick := func(v, def int) int {
		if v == 0 {
			return def
		}
		return v
	}
	l.WSConnsPerPerson = pick(l.WSConnsPerPerson, DefaultLimits.WSConnsPerPerson)
	l.WSConnsPerTenant = pick(l.WSConnsPerTenant, DefaultLimits.WSConnsPerTenant)
	l.RatePerPerson = pick(l.RatePerPerson, DefaultLimits.RatePerPerson)
	l.RatePerTenant = pick(l.RatePerTenant, DefaultLimits.RatePerTenant)
	return l
}
