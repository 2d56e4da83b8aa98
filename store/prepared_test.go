package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"switchboard/internal/testenv"
	"switchboard/store"
)

// preparedOn reports how many statements the connection keeps prepared, by
// our count and by PostgreSQL's.
func preparedOn(t *testing.T, ctx context.Context, conn *sql.Conn) (ours, server int) {
	t.Helper()
	if err := conn.Raw(func(dc any) error {
		p, ok := dc.(interface{ Prepared() int })
		if !ok {
			return fmt.Errorf("%T does not keep statements", dc)
		}
		ours = p.Prepared()
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	// No parameters: sent as a simple query, so not prepared itself.
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM pg_prepared_statements`).Scan(&server); err != nil {
		t.Fatal(err)
	}
	return ours, server
}

// A PostgreSQL connection prepares a statement with parameters once and runs
// it again by name; statements without parameters go as simple queries.
func TestPostgresStatementsStayPrepared(t *testing.T) {
	st := testenv.OpenStore(t, testenv.PostgresURL(t))
	ctx := context.Background()
	conn, err := st.DB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ours0, server0 := preparedOn(t, ctx, conn) // what migrating left on it
	for i := 0; i < 5; i++ {
		var n int
		if err := conn.QueryRowContext(ctx, `SELECT $1::int + 1`, i).Scan(&n); err != nil || n != i+1 {
			t.Fatalf("run %d: %d, %v", i, n, err)
		}
		if _, err := conn.ExecContext(ctx, `SELECT set_config('application_name', $1, false)`, fmt.Sprint("run", i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.ExecContext(ctx, `SELECT 1`); err != nil {
		t.Fatal(err)
	}
	if ours, server := preparedOn(t, ctx, conn); ours-ours0 != 2 || server-server0 != 2 {
		t.Fatalf("newly prepared: %d by our count, %d by PostgreSQL's; want 2", ours-ours0, server-server0)
	}
}

// Past DefaultPreparedStatements texts a connection forgets the least
// recently used, and closes them on PostgreSQL once it is back in the pool.
func TestPostgresPreparedStatementsAreBounded(t *testing.T) {
	st := testenv.OpenStore(t, testenv.PostgresURL(t))
	st.DB.SetMaxOpenConns(1) // every statement below on the same connection
	ctx := context.Background()
	const extra = 10
	for i := 0; i < store.DefaultPreparedStatements+extra; i++ {
		var n int
		if err := st.DB.QueryRowContext(ctx, fmt.Sprintf(`SELECT $1::int + %d`, i), 1).Scan(&n); err != nil || n != i+1 {
			t.Fatalf("statement %d: %d, %v", i, n, err)
		}
	}
	conn, err := st.DB.Conn(ctx) // the same connection, reset on the way out of the pool
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if ours, server := preparedOn(t, ctx, conn); ours != store.DefaultPreparedStatements || server != store.DefaultPreparedStatements {
		t.Fatalf("prepared: %d by our count, %d by PostgreSQL's; want %d", ours, server, store.DefaultPreparedStatements)
	}
	// The most recent are the ones kept: running one again prepares nothing.
	var n int
	if err := conn.QueryRowContext(ctx, fmt.Sprintf(`SELECT $1::int + %d`, store.DefaultPreparedStatements+extra-1), 1).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if _, server := preparedOn(t, ctx, conn); server != store.DefaultPreparedStatements {
		t.Fatalf("%d prepared after reusing a recent statement", server)
	}
}

// A migration that changes what a prepared statement returns costs at most
// the one call that finds out: the statement is prepared afresh after it.
func TestPostgresPreparedStatementAfterMigration(t *testing.T) {
	st := testenv.OpenStore(t, testenv.PostgresURL(t))
	st.DB.SetMaxOpenConns(1)
	ctx := context.Background()
	if _, err := st.DB.ExecContext(ctx, `CREATE TABLE shapes (a int)`); err != nil {
		t.Fatal(err)
	}
	if _, err := st.DB.ExecContext(ctx, `INSERT INTO shapes VALUES (1)`); err != nil {
		t.Fatal(err)
	}
	columns := func() (int, error) {
		rows, err := st.DB.QueryContext(ctx, `SELECT * FROM shapes WHERE a = $1`, 1)
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		for rows.Next() {
		}
		return len(cols), errors.Join(err, rows.Err())
	}
	if n, err := columns(); err != nil || n != 1 {
		t.Fatalf("before: %d columns, %v", n, err)
	}
	if _, err := st.DB.ExecContext(ctx, `ALTER TABLE shapes ADD COLUMN b int`); err != nil {
		t.Fatal(err)
	}
	n, err := columns()
	if err != nil {
		t.Logf("the first call after the migration: %v", err)
		n, err = columns()
	}
	if err != nil || n != 2 {
		t.Fatalf("after: %d columns, %v", n, err)
	}
}

// A cancelled statement ends at once, and the connection goes on working.
func TestPostgresPreparedStatementCancel(t *testing.T) {
	st := testenv.OpenStore(t, testenv.PostgresURL(t))
	st.DB.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := st.DB.ExecContext(ctx, `SELECT pg_sleep($1)`, 30)
	if err == nil || time.Since(start) > 10*time.Second {
		t.Fatalf("pg_sleep(30) ended after %s with %v", time.Since(start), err)
	}
	var n int
	if err := st.DB.QueryRowContext(context.Background(), `SELECT $1::int`, 7).Scan(&n); err != nil || n != 7 {
		t.Fatalf("after the cancel: %d, %v", n, err)
	}
}

// Statements run with PlanEachTime's context are not kept prepared.
func TestPostgresPlanEachTime(t *testing.T) {
	st := testenv.OpenStore(t, testenv.PostgresURL(t))
	ctx := context.Background()
	conn, err := st.DB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ours0, server0 := preparedOn(t, ctx, conn)
	for i := 0; i < 3; i++ {
		var s string
		if err := conn.QueryRowContext(store.PlanEachTime(ctx), `SELECT $1::text || '%'`, "pattern").Scan(&s); err != nil || s != "pattern%" {
			t.Fatalf("%q, %v", s, err)
		}
	}
	if ours, server := preparedOn(t, ctx, conn); ours != ours0 || server != server0 {
		t.Fatalf("prepared %d by our count, %d by PostgreSQL's; want none", ours-ours0, server-server0)
	}
}
