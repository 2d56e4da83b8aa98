package store_test

import (
	"context"
	"testing"
	"time"

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

// WaitLock: it gives up after its wait while another session holds the
// key, and takes it once that session lets go within the wait.
func TestPostgresWaitLock(t *testing.T) {
	st := testenv.OpenStore(t, testenv.PostgresURL(t))
	ctx := context.Background()
	held, ok, err := st.TryLock(ctx, 44)
	if err != nil || !ok {
		t.Fatalf("first: %v, %v", ok, err)
	}
	start := time.Now()
	if _, ok, err := st.WaitLock(ctx, 44, 300*time.Millisecond); err != nil || ok {
		t.Fatalf("while held: %v, %v", ok, err)
	}
	if waited := time.Since(start); waited < 300*time.Millisecond {
		t.Fatalf("gave up after %v, before its wait", waited)
	}
	go func() {
		time.Sleep(200 * time.Millisecond)
		held()
	}()
	release, ok, err := st.WaitLock(ctx, 44, 30*time.Second)
	if err != nil || !ok {
		t.Fatalf("after the holder let go: %v, %v", ok, err)
	}
	release()
}
