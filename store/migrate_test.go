package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"

	"switchboard/ent/agent"
	"switchboard/ent/tenant"
	"switchboard/gid"
	"switchboard/internal/testenv"
	"switchboard/store"
	"switchboard/viewer"
)

// dialectOf maps a test backend to its ent dialect.
func dialectOf(t *testing.T, b testenv.Backend) string {
	t.Helper()
	switch b.Name {
	case "sqlite":
		return dialect.SQLite
	case "postgres":
		return dialect.Postgres
	}
	t.Fatalf("unknown backend %q", b.Name)
	return ""
}

// versions lists the versions of the dialect's migration files, in order.
func versions(t *testing.T, d string) []string {
	t.Helper()
	dir, err := store.MigrationDir(d)
	if err != nil {
		t.Fatal(err)
	}
	files, err := dir.Files()
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no %s migration files", d)
	}
	var vs []string
	for _, f := range files {
		vs = append(vs, f.Version())
	}
	return vs
}

// recorded returns how many times each version is recorded as applied.
func recorded(t *testing.T, st *store.Store) map[string]int {
	t.Helper()
	rows, err := st.DB.QueryContext(context.Background(), `SELECT version FROM switchboard_schema_revisions`)
	if err != nil {
		t.Fatalf("reading the revisions table: %v", err)
	}
	defer rows.Close()
	got := map[string]int{}
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		got[v]++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func openRaw(t *testing.T, url string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// A fresh store gets every migration, once; a second run applies nothing.
func TestMigrateAppliesEveryMigrationOnce(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		st := openRaw(t, b.URL(t))
		want := versions(t, dialectOf(t, b))

		applied, err := st.Migrate(ctx)
		if err != nil {
			t.Fatalf("first Migrate: %v", err)
		}
		if !slices.Equal(applied, want) {
			t.Fatalf("first Migrate applied %v, want every migration %v", applied, want)
		}
		again, err := st.Migrate(ctx)
		if err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		if len(again) != 0 {
			t.Fatalf("second Migrate applied %v, want none", again)
		}
		got := recorded(t, st)
		if len(got) != len(want) {
			t.Errorf("revisions table holds %v, want exactly %v", got, want)
		}
		for _, v := range want {
			if got[v] != 1 {
				t.Errorf("version %s recorded %d times, want once", v, got[v])
			}
		}
	})
}

// Every migration exists for both stores, so that no store misses a change.
func TestMigrationsExistForEveryDialect(t *testing.T) {
	lite, pg := versions(t, dialect.SQLite), versions(t, dialect.Postgres)
	if !slices.Equal(lite, pg) {
		t.Fatalf("migration versions differ between the stores:\nsqlite:   %v\npostgres: %v\n(write migrations with `make migration NAME=...`, which writes both)", lite, pg)
	}
}

// After Migrate the live schema is exactly what the ent schema expects:
// ent's own migration planner finds nothing to change.
func TestMigratedSchemaMatchesEnt(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		st := testenv.OpenStore(t, b.URL(t))
		var buf bytes.Buffer
		if err := st.Client.Schema.WriteTo(ctx, &buf); err != nil {
			t.Fatalf("planning ent's migration: %v", err)
		}
		// With nothing to change, WriteTo writes nothing at all.
		if buf.Len() != 0 {
			t.Fatalf("the migrated store differs from ent/schema; ent would run:\n%s\n"+
				"write a migration for the schema change: make migration NAME=...", buf.String())
		}
	})
}

// The schema check above really notices drift: damage the store, then ent
// wants to repair it.
func TestSchemaCheckDetectsDrift(t *testing.T) {
	cases := []struct {
		name   string
		damage string
		// mention is a name the planned change must mention.
		mention string
	}{
		{"dropped index", `DROP INDEX agent_tenant_id_name`, "agent_tenant_id_name"},
		{"dropped column", `ALTER TABLE tenants DROP COLUMN contact_phone`, "contact_phone"},
	}
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ctx := context.Background()
				st := testenv.OpenStore(t, b.URL(t))
				if _, err := st.DB.ExecContext(ctx, c.damage); err != nil {
					t.Fatalf("%s: %v", c.damage, err)
				}
				var buf bytes.Buffer
				if err := st.Client.Schema.WriteTo(ctx, &buf); err != nil {
					t.Fatalf("planning ent's migration: %v", err)
				}
				if buf.Len() == 0 {
					t.Fatalf("after %q ent plans no change; the schema check cannot see drift", c.damage)
				}
				if !strings.Contains(buf.String(), c.mention) {
					t.Errorf("after %q the planned change does not mention %s:\n%s", c.damage, c.mention, buf.String())
				}
			})
		}
	})
}

// Upgrading a store from its first version keeps the rows it holds.
func TestUpgradeKeepsData(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		ctx := context.Background()
		st := openRaw(t, b.URL(t))
		all := versions(t, dialectOf(t, b))
		first := all[0]
		applied, err := st.MigrateTo(ctx, first)
		if err != nil {
			t.Fatalf("MigrateTo(%s): %v", first, err)
		}
		if !slices.Equal(applied, []string{first}) {
			t.Fatalf("MigrateTo(%s) applied %v, want only the first migration", first, applied)
		}

		// Rows written in the first version's shape, with its columns only
		// (the ent client of today may know columns the first version lacks).
		tenantID, agentID := gid.New("TN"), gid.New("AG")
		now := time.Now().UTC().Truncate(time.Second)
		q := func(s string) string { return rebind(b, s) }
		if _, err := st.DB.ExecContext(ctx, q(`INSERT INTO tenants (id, created_at, updated_at, name, product, seats, lifecycle, default_region) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			string(tenantID), now, now, "Upgrade Test Ltd", "agent-desktop", 7, "ACTIVE", "AU"); err != nil {
			t.Fatalf("inserting a tenant at version %s: %v", first, err)
		}
		if _, err := st.DB.ExecContext(ctx, q(`INSERT INTO agents (id, created_at, updated_at, email, name, connect_username, role, tenant_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			string(agentID), now, now, "una.upgrade@example.com", "Una Upgrade", "una.upgrade", "SUPERVISOR", string(tenantID)); err != nil {
			t.Fatalf("inserting an agent at version %s: %v", first, err)
		}

		rest, err := st.Migrate(ctx)
		if err != nil {
			t.Fatalf("Migrate from %s: %v", first, err)
		}
		if !slices.Equal(rest, all[1:]) {
			t.Fatalf("Migrate from %s applied %v, want %v", first, rest, all[1:])
		}

		// The rows are still there, and today's client reads them.
		op := viewer.NewContext(ctx, &viewer.Viewer{Subject: "test", Email: "op@platform.example", Role: viewer.RoleOperator})
		tn, err := st.Client.Tenant.Get(op, tenantID)
		if err != nil {
			t.Fatalf("the tenant written at %s cannot be read after upgrading: %v", first, err)
		}
		if tn.Name != "Upgrade Test Ltd" || tn.Seats != 7 || tn.DefaultRegion != "AU" || tn.Lifecycle != tenant.LifecycleACTIVE {
			t.Errorf("tenant after upgrade = %+v", tn)
		}
		admin := viewer.NewContext(ctx, &viewer.Viewer{Subject: "test", Email: "admin@example.com", Role: viewer.RoleAdmin, TenantID: tenantID})
		ag, err := st.Client.Agent.Query().Where(agent.Email("una.upgrade@example.com")).Only(admin)
		if err != nil {
			t.Fatalf("the agent written at %s cannot be read after upgrading: %v", first, err)
		}
		if ag.ID != agentID || ag.Name != "Una Upgrade" || ag.Role != viewer.RoleSupervisor {
			t.Errorf("agent after upgrade = %+v", ag)
		}
		if !ag.CreatedAt.Equal(now) {
			t.Errorf("agent created_at after upgrade = %v, want %v", ag.CreatedAt, now)
		}
	})
}

func rebind(b testenv.Backend, q string) string {
	if b.Name != "postgres" {
		return q
	}
	var out strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&out, "$%d", n)
			continue
		}
		out.WriteRune(r)
	}
	return out.String()
}

// Two replicas starting together on PostgreSQL both succeed, and each
// migration is applied and recorded once.
func TestConcurrentMigratePostgres(t *testing.T) {
	url := testenv.PostgresURL(t)
	ctx := context.Background()
	const replicas = 4
	stores := make([]*store.Store, replicas)
	for i := range stores {
		stores[i] = openRaw(t, url)
	}
	want := versions(t, dialect.Postgres)
	var wg sync.WaitGroup
	applied := make([][]string, replicas)
	errs := make([]error, replicas)
	start := make(chan struct{})
	for i, st := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			applied[i], errs[i] = st.Migrate(ctx)
		}()
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("concurrent Migrate: %v", err)
	}
	var all []string
	for _, a := range applied {
		all = append(all, a...)
	}
	slices.Sort(all)
	if !slices.Equal(all, want) {
		t.Errorf("the replicas applied %v between them, want each of %v exactly once", applied, want)
	}
	got := recorded(t, stores[0])
	for _, v := range want {
		if got[v] != 1 {
			t.Errorf("version %s recorded %d times, want once", v, got[v])
		}
	}
	if len(got) != len(want) {
		t.Errorf("revisions table holds %v, want %v", got, want)
	}
}

// memCopy copies a dialect's embedded migrations into a MemDir.
func memCopy(t *testing.T, name string) *migrate.MemDir {
	t.Helper()
	root := path.Join("migrations", name)
	entries, err := fs.ReadDir(store.Migrations, root)
	if err != nil {
		t.Fatal(err)
	}
	dir := &migrate.MemDir{}
	for _, e := range entries {
		b, err := fs.ReadFile(store.Migrations, path.Join(root, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := dir.WriteFile(e.Name(), b); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// The atlas.sum files guard the migrations: MigrationDir accepts what is
// embedded, and the same check refuses a migration changed by one byte.
func TestMigrationChecksums(t *testing.T) {
	for _, c := range []struct{ dialect, name string }{{dialect.SQLite, "sqlite"}, {dialect.Postgres, "postgres"}} {
		t.Run(c.name, func(t *testing.T) {
			dir, err := store.MigrationDir(c.dialect)
			if err != nil {
				t.Fatalf("MigrationDir(%s): %v", c.dialect, err)
			}
			// MigrationDir holds every embedded file.
			entries, err := fs.ReadDir(store.Migrations, path.Join("migrations", c.name))
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				want, _ := fs.ReadFile(store.Migrations, path.Join("migrations", c.name, e.Name()))
				f, err := dir.Open(e.Name())
				if err != nil {
					t.Errorf("MigrationDir(%s) lacks %s: %v", c.dialect, e.Name(), err)
					continue
				}
				var got bytes.Buffer
				_, _ = got.ReadFrom(f)
				f.Close()
				if !bytes.Equal(got.Bytes(), want) {
					t.Errorf("MigrationDir(%s): %s differs from the embedded file", c.dialect, e.Name())
				}
			}

			if err := migrate.Validate(memCopy(t, c.name)); err != nil {
				t.Fatalf("an untouched copy fails validation: %v", err)
			}
			tampered := memCopy(t, c.name)
			files, err := tampered.Files()
			if err != nil || len(files) == 0 {
				t.Fatalf("files: %v, %v", files, err)
			}
			last := files[len(files)-1]
			b := bytes.Clone(last.Bytes())
			i := bytes.IndexByte(b, '(') // inside a statement, not a comment
			if i < 0 {
				i = len(b) - 2
			}
			b[i] = '['
			if err := tampered.WriteFile(last.Name(), b); err != nil {
				t.Fatal(err)
			}
			err = migrate.Validate(tampered)
			if err == nil {
				t.Fatalf("a copy with %s changed by one byte passes validation", last.Name())
			}
			if !errors.Is(err, migrate.ErrChecksumMismatch) {
				t.Errorf("validation error = %v, want %v", err, migrate.ErrChecksumMismatch)
			}
		})
	}
	if _, err := store.MigrationDir("mysql"); err == nil {
		t.Error("MigrationDir(mysql) succeeded, want an error")
	}
}

// Open takes only the two URL schemes, names them when refusing another,
// and never repeats a password it was given.
func TestOpenURLErrors(t *testing.T) {
	const password = "pw-s3cr3t-9f7e"
	cases := []struct {
		name, url string
		// want are substrings the error must hold.
		want []string
	}{
		{"mysql", "mysql://x", []string{"sqlite://", "postgres://"}},
		{"mysql with password", "mysql://root:" + password + "@db.example:3306/sb", []string{"sqlite://", "postgres://"}},
		{"no scheme", "switchboard.db", []string{"sqlite://", "postgres://"}},
		{"empty sqlite path", "sqlite://", []string{"path"}},
		{"postgres refused", "postgres://sb:" + password + "@127.0.0.1:1/sb?sslmode=disable&connect_timeout=5", []string{"PostgreSQL"}},
		{"postgresql refused", "postgresql://sb:" + password + "@127.0.0.1:1/sb?sslmode=disable&connect_timeout=5", nil},
		{"postgres bad port", "postgres://sb:" + password + "@127.0.0.1:notaport/sb", nil},
		{"postgres bad option", "postgres://sb:" + password + "@127.0.0.1:1/sb?sslmode=nonsense", nil},
		{"postgres bad escape", "postgres://sb:" + password + "%zz@127.0.0.1:1/sb", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			st, err := store.Open(ctx, c.url)
			if err == nil {
				st.Close()
				t.Fatalf("Open(%q) succeeded, want an error", c.url)
			}
			msg := err.Error()
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("Open error %q does not mention %q", msg, w)
				}
			}
			if strings.Contains(msg, password) {
				t.Errorf("Open error echoes the password: %q", msg)
			}
		})
	}
}
