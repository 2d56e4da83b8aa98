// Package testenv gives tests a real store on each backend (a SQLite file,
// and a fresh PostgreSQL database when one is configured), a running
// switchboard server over it, and a GraphQL client.
package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/lib/pq"

	"switchboard/store"
)

// PostgresEnv names the variable holding a PostgreSQL server URL for tests;
// each test gets a database of its own on it.
const PostgresEnv = "SWITCHBOARD_TEST_POSTGRES"

// RequirePostgresEnv, when "1", makes a missing PostgreSQL a failure
// rather than a skip: `make test` sets it.
const RequirePostgresEnv = "SWITCHBOARD_REQUIRE_POSTGRES"

// Backend is one kind of store under test.
type Backend struct {
	Name string // "sqlite" or "postgres"
	// URL returns the URL of a new, empty store for t.
	URL func(t testing.TB) string
}

// Backends returns SQLite and, when configured, PostgreSQL.
func Backends() []Backend {
	return []Backend{
		{Name: "sqlite", URL: SQLiteURL},
		{Name: "postgres", URL: PostgresURL},
	}
}

// ForEachBackend runs f as a subtest on every backend.
func ForEachBackend(t *testing.T, f func(t *testing.T, b Backend)) {
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) { f(t, b) })
	}
}

// SQLiteURL returns a new embedded store in the test's temporary folder.
func SQLiteURL(t testing.TB) string {
	return "sqlite://" + filepath.Join(t.TempDir(), "switchboard.db")
}

// PostgresURL creates a fresh database for t on the configured server and
// drops it when t ends. Without a server it skips t, or fails it when
// PostgreSQL is required.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if os.Getenv(RequirePostgresEnv) == "1" {
			t.Fatalf("%s is not set: run `make test`, which starts a throwaway PostgreSQL", PostgresEnv)
		}
		t.Skipf("PostgreSQL tests need %s (a server URL); `make test` starts one and sets it", PostgresEnv)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	admin, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "sbt_" + strings.ToLower(hex.EncodeToString(b))
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("postgres", base)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	u.Path = "/" + name
	return u.String()
}

// OpenStore opens and migrates the store at rawURL, closing it when t ends.
func OpenStore(t testing.TB, rawURL string, opts ...store.Option) *store.Store {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, rawURL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrating: %v", err)
	}
	return st
}
