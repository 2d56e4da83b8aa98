package store_test

import (
	"context"
	"testing"

	"switchboard/internal/testenv"
)

// TryLock: one session at a time holds a key on PostgreSQL.
func TestPostgresTryLock(t *testing.T) {
	st := testenv.OpenStore(t, testenv.PostgresURL(t))
	ctx := context.Background()
	release, ok, err := st.TryLock(ctx, 42)
	if err != nil || !ok {
		t.Fatalf("first: %v, %v", ok, err)
	}
	if _, ok, err := st.TryLock(ctx, 42); err != nil || ok {
		t.Fatalf("second, while held: %v, %v", ok, err)
	}
	other, ok, err := st.TryLock(ctx, 43)
	if err != nil || !ok {
		t.Fatalf("another key: %v, %v", ok, err)
	}
	other()
	release()
	again, ok, err := st.TryLock(ctx, 42)
	if err != nil || !ok {
		t.Fatalf("after release: %v, %v", ok, err)
	}
	again()
}
