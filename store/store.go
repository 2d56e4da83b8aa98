// Package store opens switchboard's store, embedded SQLite or PostgreSQL,
// chosen by a URL, and keeps its schema up to date with versioned
// migrations.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"github.com/lib/pq"
	_ "modernc.org/sqlite" // the embedded, pure-Go SQLite driver

	"switchboard/ent"
	_ "switchboard/ent/runtime" // the schema's hooks, policies and defaults
)

// DefaultURL is the embedded store in the data folder.
const DefaultURL = "sqlite://data/switchboard.db"

// Store is an open store: the ent client and the database beneath it.
type Store struct {
	Client  *ent.Client
	DB      *sql.DB
	Dialect string // dialect.SQLite or dialect.Postgres
	// DataDir is the folder of an embedded store's file ("" for PostgreSQL).
	DataDir string
	// URL is the URL the store was opened with; it may hold a password.
	URL string
}

// Option changes how a store is opened.
type Option func(*options)

type options struct {
	wrap func(dialect.Driver) dialect.Driver
}

// WithDriver wraps the SQL driver under the ent client, e.g. to count statements.
func WithDriver(wrap func(dialect.Driver) dialect.Driver) Option {
	return func(o *options) { o.wrap = wrap }
}

// Open opens the store that rawURL names: sqlite://PATH or postgres://...
// It does not migrate; call Migrate.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	s, err := open(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	s.URL = rawURL
	var drv dialect.Driver = entsql.OpenDB(s.Dialect, s.DB)
	if o.wrap != nil {
		drv = o.wrap(drv)
	}
	s.Client = ent.NewClient(ent.Driver(drv))
	return s, nil
}

func open(ctx context.Context, rawURL string) (*Store, error) {
	switch {
	case strings.HasPrefix(rawURL, "sqlite://"):
		path := strings.TrimPrefix(rawURL, "sqlite://")
		if path == "" {
			return nil, errors.New("store: sqlite:// needs a file path")
		}
		dir := filepath.Dir(path)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("store: creating %s: %w", dir, err)
		}
		q := url.Values{}
		for _, p := range []string{"foreign_keys(1)", "journal_mode(WAL)", "busy_timeout(10000)", "synchronous(NORMAL)"} {
			q.Add("_pragma", p)
		}
		q.Set("_txlock", "immediate")
		db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("store: opening %s: %w", path, err)
		}
		return &Store{DB: db, Dialect: dialect.SQLite, DataDir: dir}, nil
	case strings.HasPrefix(rawURL, "postgres://"), strings.HasPrefix(rawURL, "postgresql://"):
		if _, err := url.Parse(rawURL); err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // the reason, without the URL and its password
			}
			return nil, fmt.Errorf("store: malformed PostgreSQL URL: %v", err)
		}
		connector, err := pq.NewConnector(rawURL)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		db := sql.OpenDB(&preparingConnector{base: connector, size: DefaultPreparedStatements})
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(16)
		db.SetConnMaxIdleTime(5 * time.Minute)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("store: connecting to PostgreSQL: %w", err)
		}
		return &Store{DB: db, Dialect: dialect.Postgres}, nil
	}
	return nil, fmt.Errorf("store: unsupported database URL %q: use sqlite://PATH or postgres://...", redact(rawURL))
}

// Ready reports whether the store answers.
func (s *Store) Ready(ctx context.Context) error { return s.DB.PingContext(ctx) }

// Close closes the client and the database.
func (s *Store) Close() error { return s.Client.Close() }

// redact hides a password in a URL for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
