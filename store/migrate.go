package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
)

// Migrations holds the versioned migrations of each dialect, written by
// `make migration` (atlas through ent) and checked by the atlas.sum files.
//
//go:embed migrations
var Migrations embed.FS

// MigrationDir returns the migration directory of a dialect.
func MigrationDir(d string) (migrate.Dir, error) {
	name := map[string]string{dialect.SQLite: "sqlite", dialect.Postgres: "postgres"}[d]
	if name == "" {
		return nil, fmt.Errorf("store: no migrations for dialect %q", d)
	}
	dir := &migrate.MemDir{}
	root := path.Join("migrations", name)
	entries, err := fs.ReadDir(Migrations, root)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		b, err := fs.ReadFile(Migrations, path.Join(root, e.Name()))
		if err != nil {
			return nil, err
		}
		if err := dir.WriteFile(e.Name(), b); err != nil {
			return nil, err
		}
	}
	if err := migrate.Validate(dir); err != nil {
		return nil, fmt.Errorf("store: %s migrations do not match their atlas.sum: %w", name, err)
	}
	return dir, nil
}

const revisionsTable = "switchboard_schema_revisions"

// Migrate applies every migration the store has not yet had, each in its
// own transaction, and records it. It is safe to run on every start.
func (s *Store) Migrate(ctx context.Context) (applied []string, err error) {
	return s.MigrateTo(ctx, "")
}

// MigrateTo applies pending migrations up to and including version (all
// when version is empty).
func (s *Store) MigrateTo(ctx context.Context, version string) (applied []string, err error) {
	dir, err := MigrationDir(s.Dialect)
	if err != nil {
		return nil, err
	}
	files, err := dir.Files()
	if err != nil {
		return nil, err
	}
	unlock, err := s.lockMigrations(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := s.DB.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+revisionsTable+
		` (version varchar(64) PRIMARY KEY, description varchar(255) NOT NULL, applied_at timestamp NOT NULL)`); err != nil {
		return nil, fmt.Errorf("store: creating %s: %w", revisionsTable, err)
	}
	done := map[string]bool{}
	rows, err := s.DB.QueryContext(ctx, `SELECT version FROM `+revisionsTable)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return nil, err
		}
		done[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, f := range files {
		if version != "" && f.Version() > version {
			break
		}
		if done[f.Version()] {
			continue
		}
		ok, err := s.apply(ctx, f)
		if err != nil {
			return applied, err
		}
		if ok {
			applied = append(applied, f.Version())
		}
	}
	return applied, nil
}

// apply applies one migration unless it is already recorded, and reports
// whether it did.
func (s *Store) apply(ctx context.Context, f migrate.File) (bool, error) {
	stmts, err := f.Stmts()
	if err != nil {
		return false, fmt.Errorf("store: reading migration %s: %w", f.Name(), err)
	}
	tx, err := s.DB.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()
	// Another process may have applied it since we looked: on SQLite the
	// immediate transaction now holds the write lock, so this check and the
	// apply are one step.
	var n int
	if err := tx.QueryRowContext(ctx, s.rebind(`SELECT count(*) FROM `+revisionsTable+` WHERE version = ?`), f.Version()).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	for _, stmt := range stmts {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return false, fmt.Errorf("store: migration %s: %w", f.Name(), err)
		}
	}
	if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO `+revisionsTable+` (version, description, applied_at) VALUES (?, ?, ?)`),
		f.Version(), f.Desc(), time.Now().UTC()); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

// lockMigrations keeps two replicas starting at once from migrating together.
func (s *Store) lockMigrations(ctx context.Context) (func(), error) {
	if s.Dialect != dialect.Postgres {
		return func() {}, nil // SQLite serialises writers itself
	}
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return nil, err
	}
	const key = 0x5377_6974_6368 // "Switch"
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		conn.Close()
		return nil, fmt.Errorf("store: taking the migration lock: %w", err)
	}
	return func() {
		_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, key)
		conn.Close()
	}, nil
}

// TryLock takes the PostgreSQL advisory lock key, for as long as the caller
// keeps it (until release), if no other session holds it; ok is false when
// one does. On SQLite, whose one process serialises writers, it always
// succeeds.
func (s *Store) TryLock(ctx context.Context, key int64) (release func(), ok bool, err error) {
	if s.Dialect != dialect.Postgres {
		return func() {}, true, nil
	}
	conn, err := s.DB.Conn(ctx)
	if err != nil {
		return nil, false, err
	}
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil || !ok {
		conn.Close()
		return nil, false, err
	}
	return func() {
		_, _ = conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock($1)`, key)
		conn.Close()
	}, true, nil
}

// WaitLock is TryLock that tries again, every quarter of a second, for up
// to wait: for a command run beside the replicas, whose own job may hold
// the lock for a moment. ok is false if it is still held after wait.
func (s *Store) WaitLock(ctx context.Context, key int64, wait time.Duration) (release func(), ok bool, err error) {
	deadline := time.Now().Add(wait)
	for {
		release, ok, err := s.TryLock(ctx, key)
		if err != nil || ok || !time.Now().Before(deadline) {
			return release, ok, err
		}
		select {
		case <-ctx.Done():
			return nil, false, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// rebind turns ? placeholders into $n for PostgreSQL.
func (s *Store) rebind(q string) string {
	if s.Dialect != dialect.Postgres {
		return q
	}
	out := make([]byte, 0, len(q)+8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			out = append(out, fmt.Sprintf("$%d", n)...)
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}
