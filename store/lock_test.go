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

// Locks: one session holds many keys; another set of locks (another
// replica) is refused them until they are released, or until the session
// holding them breaks, which Verify then notices; closing releases all.
func TestPostgresLocks(t *testing.T) {
	url := testenv.PostgresURL(t)
	st := testenv.OpenStore(t, url)
	other := testenv.OpenStore(t, url)
	ctx := context.Background()
	one, two := st.NewLocks(), other.NewLocks()
	defer one.Close()
	defer two.Close()
	keys := []int64{1 << 40, 7, 1<<62 + 5}
	for _, k := range keys {
		if ok, err := one.Try(ctx, k); err != nil || !ok {
			t.Fatalf("one takes %d: %v %v", k, ok, err)
		}
		if ok, err := one.Try(ctx, k); err != nil || !ok {
			t.Fatalf("one holds %d: %v %v", k, ok, err)
		}
		if ok, err := two.Try(ctx, k); err != nil || ok {
			t.Fatalf("two takes %d while one holds it: %v %v", k, ok, err)
		}
	}
	if err := one.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !one.Held(k) {
			t.Fatalf("Verify forgot %d, still held", k)
		}
	}
	one.Release(ctx, keys[0])
	if ok, err := two.Try(ctx, keys[0]); err != nil || !ok {
		t.Fatalf("two after release: %v %v", ok, err)
	}
	// One's session is killed: its locks go with it, and Verify sees so.
	// (Only this database's lock: other packages' tests share the server.)
	if _, err := other.DB.ExecContext(ctx, `SELECT pg_terminate_backend(l.pid) FROM pg_locks l
		WHERE l.locktype = 'advisory' AND l.classid = 0 AND l.objid = 7 AND l.objsubid = 1 AND l.granted
		AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
		t.Fatal(err)
	}
	// The session ends a moment after it is told to.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ok, err := two.Try(ctx, 7)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("two cannot take the lock of one's ended session")
		}
	}
	_ = one.Verify(ctx)
	if one.Held(7) || one.Held(keys[2]) {
		t.Fatal("one still believes it holds the locks of its ended session")
	}
	two.Close()
	if ok, err := one.Try(ctx, keys[2]); err != nil || !ok {
		t.Fatalf("after two closed: %v %v", ok, err)
	}
	// Two's session ends a moment after its connection is closed.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		var n int
		if err := st.DB.QueryRowContext(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND classid = 0 AND objid = 7 AND objsubid = 1
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("closing left %d locks of key 7", n)
		}
	}
}

// On SQLite every lock is taken at once: its one process is the only replica.
func TestSQLiteLocks(t *testing.T) {
	st := testenv.OpenStore(t, testenv.Backends()[0].URL(t))
	l := st.NewLocks()
	if ok, err := l.Try(context.Background(), 1); err != nil || !ok || !l.Held(1) {
		t.Fatalf("%v %v", ok, err)
	}
}
