// Command migdiff writes a new versioned migration for each dialect: the
// difference between the ent schema and the store that the existing
// migrations build (atlas, replaying them on a scratch database).
//
//	go run ./store/migdiff -name add_things -postgres postgres://...
package main

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"

	atlas "ariga.io/atlas/sql/migrate"
	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	"entgo.io/ent/dialect/sql/schema"
	_ "github.com/lib/pq"
	_ "modernc.org/sqlite"

	"switchboard/ent/migrate"
)

func main() {
	name := flag.String("name", "", "migration name, e.g. add_interactions")
	pg := flag.String("postgres", os.Getenv("SWITCHBOARD_DEV_POSTGRES"), "an empty scratch PostgreSQL database URL")
	rehash := flag.Bool("rehash", false, "only rewrite the atlas.sum files after a hand-written migration")
	flag.Parse()
	if *rehash {
		for _, path := range []string{"store/migrations/sqlite", "store/migrations/postgres"} {
			dir, err := atlas.NewLocalDir(path)
			if err != nil {
				log.Fatal(err)
			}
			sum, err := dir.Checksum()
			if err != nil {
				log.Fatal(err)
			}
			if err := atlas.WriteSumFile(dir, sum); err != nil {
				log.Fatal(err)
			}
		}
		return
	}
	if *name == "" || *pg == "" {
		log.Fatal("usage: migdiff -name NAME -postgres URL (an empty scratch database)")
	}
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "migdiff")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	targets := []struct{ driver, dsn, dialect, dir string }{
		{"sqlite", "file:" + filepath.Join(tmp, "dev.db") + "?_pragma=foreign_keys(1)", dialect.SQLite, "store/migrations/sqlite"},
		{"postgres", *pg, dialect.Postgres, "store/migrations/postgres"},
	}
	for _, t := range targets {
		if err := diff(ctx, t.driver, t.dsn, t.dialect, t.dir, *name); err != nil {
			log.Fatalf("%s: %v", t.dialect, err)
		}
	}
}

func diff(ctx context.Context, driver, dsn, d, path, name string) error {
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	dir, err := atlas.NewLocalDir(path)
	if err != nil {
		return err
	}
	s := migrate.NewSchema(entsql.OpenDB(d, db))
	err = s.NamedDiff(ctx, name,
		schema.WithDir(dir),
		schema.WithMigrationMode(schema.ModeReplay),
		schema.WithDialect(d),
		schema.WithFormatter(atlas.DefaultFormatter),
		schema.WithDropColumn(true),
		schema.WithDropIndex(true),
	)
	if err != nil {
		return fmt.Errorf("diff: %w", err)
	}
	return nil
}
