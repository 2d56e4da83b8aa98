package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"sync"

	"entgo.io/ent/dialect"
)

// Locks holds many PostgreSQL advisory locks on one session of its own, for
// work that one replica at a time does for each of many things (polling a
// tenant's Connect): a connection per lock would not scale with them. On
// SQLite, whose one process is the only replica, every lock is taken at
// once. It is safe for concurrent use.
//
// A lock lasts as long as the session: if the connection breaks, the
// server drops its locks and another replica may take them. Verify finds
// that out, so that a holder stops believing it holds them within one of
// its rounds.
type Locks struct {
	s *Store

	mu   sync.Mutex
	conn *sql.Conn // nil until the first lock, and after a failure
	held map[int64]bool
}

// NewLocks returns an empty set of locks on the store.
func (s *Store) NewLocks() *Locks { return &Locks{s: s, held: map[int64]bool{}} }

// Try takes key, if no other session holds it, and reports whether this
// one holds it now.
func (l *Locks) Try(ctx context.Context, key int64) (bool, error) {
	if l.s.Dialect != dialect.Postgres {
		return true, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[key] {
		return true, nil
	}
	if l.conn == nil {
		conn, err := l.s.DB.Conn(ctx)
		if err != nil {
			return false, err
		}
		l.conn = conn
	}
	var ok bool
	if err := l.conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil {
		l.reset()
		return false, err
	}
	if ok {
		l.held[key] = true
	}
	return ok, nil
}

// Release gives key up, if held.
func (l *Locks) Release(ctx context.Context, key int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.held[key] || l.conn == nil {
		return
	}
	delete(l.held, key)
	if _, err := l.conn.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, key); err != nil {
		l.reset()
	}
}

// Held reports whether this session holds key, as far as it knows.
func (l *Locks) Held(key int64) bool {
	if l.s.Dialect != dialect.Postgres {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held[key]
}

// Verify asks the server which of the locks the session still holds, and
// forgets the rest: all of them when the session has broken.
func (l *Locks) Verify(ctx context.Context) error {
	if l.s.Dialect != dialect.Postgres {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil || len(l.held) == 0 {
		return nil
	}
	// A bigint key is held as classid (high 32 bits) and objid (low).
	rows, err := l.conn.QueryContext(ctx, `SELECT (classid::bigint << 32) | objid::bigint FROM pg_locks
		WHERE locktype = 'advisory' AND objsubid = 1 AND granted AND pid = pg_backend_pid()`)
	if err != nil {
		l.reset()
		return err
	}
	defer rows.Close()
	still := map[int64]bool{}
	for rows.Next() {
		var k int64
		if err := rows.Scan(&k); err != nil {
			l.reset()
			return err
		}
		still[k] = true
	}
	if err := rows.Err(); err != nil {
		l.reset()
		return err
	}
	for k := range l.held {
		if !still[k] {
			delete(l.held, k)
		}
	}
	return nil
}

// Close releases every lock and the session.
func (l *Locks) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reset()
}

// reset ends the session, which releases its locks on the server, and
// forgets them; l.mu must be held. The connection is discarded, not
// returned to the pool, where it would keep the locks.
func (l *Locks) reset() {
	if l.conn != nil {
		_ = l.conn.Raw(func(any) error { return driver.ErrBadConn })
		_ = l.conn.Close()
		l.conn = nil
	}
	clear(l.held)
}
