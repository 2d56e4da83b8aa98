package server

import (
	"testing"
	"time"
)

// TestRateLimits holds the buckets to a clock: a person's burst, then one
// a second; a refusal takes nothing from the tenant; the tenant's bucket
// bounds its people together and no other tenant's.
func TestRateLimits(t *testing.T) {
	r := newRateLimits(Limits{RatePerPerson: 1, RatePerTenant: 2})
	now := time.Unix(1_800_000_000, 0)
	take := func(person, tenant string) bool {
		_, ok := r.allow(person, tenant, now)
		return ok
	}
	for i := range BurstSeconds {
		if !take("a/ann", "a") {
			t.Fatalf("ann's request %d of her burst refused", i+1)
		}
	}
	wait, ok := r.allow("a/ann", "a", now)
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("ann over her burst: ok %v, wait %v", ok, wait)
	}
	for range 5 {
		take("a/ann", "a") // refused: none of these takes from the tenant
	}
	for i := range BurstSeconds {
		if !take("a/bo", "a") {
			t.Fatalf("bo's request %d refused: ann's refusals were taken from the tenant", i+1)
		}
	}
	if take("a/cy", "a") {
		t.Fatal("the tenant's burst of 6 allowed a seventh")
	}
	if !take("b/di", "b") || !take("operator", "") {
		t.Fatal("another tenant, or an operator, was refused for tenant a's use")
	}
	now = now.Add(time.Second)
	if !take("a/ann", "a") || take("a/ann", "a") {
		t.Fatal("a second later ann should have exactly one request")
	}
	now = now.Add(time.Hour)
	r.person.reserve("b/di", now) // sweeps
	if n := len(r.person.by); n != 1 {
		t.Fatalf("%d person buckets kept after an hour idle, want only the one just used", n)
	}
}

func TestRateLimitsOff(t *testing.T) {
	r := newRateLimits(Limits{RatePerPerson: -1, RatePerTenant: -1})
	for range 10_000 {
		if _, ok := r.allow("a/ann", "a", time.Now()); !ok {
			t.Fatal("refused with no bound")
		}
	}
}
