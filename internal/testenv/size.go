package testenv

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"

	"entgo.io/ent/dialect"

	"switchboard/store"
)

// TableSize is what a table takes in the store, for the benchmarks that
// weigh what they store.
type TableSize struct {
	Total, Table, Indexes int64
	Index                 []string // each index and its bytes
	How                   string   // how it was measured
}

// Describe says it, for rows rows.
func (r TableSize) Describe(rows int) string {
	return fmt.Sprintf("%d rows, %.1f MB (table %.1f MB, indexes %.1f MB: %s; by %s): %.1f B per row",
		rows, float64(r.Total)/1e6, float64(r.Table)/1e6, float64(r.Indexes)/1e6,
		strings.Join(r.Index, ", "), r.How, float64(r.Total)/float64(rows))
}

// indexBytes lists each index's name and size from a query of both.
func indexBytes(b testing.TB, st *store.Store, q string, args ...any) []string {
	b.Helper()
	rows, err := st.DB.Query(q, args...)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			b.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %.1f MB", name, float64(n)/1e6))
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return out
}

// MeasureTable measures a table with its indexes: on PostgreSQL after VACUUM
// ANALYZE, by pg_total_relation_size (table, indexes and TOAST); on SQLite
// by the dbstat virtual table, the pages of the table and of its indexes.
func MeasureTable(b testing.TB, st *store.Store, table string) TableSize {
	b.Helper()
	r := TableSize{}
	if st.Dialect == dialect.Postgres {
		if _, err := st.DB.Exec(`VACUUM (ANALYZE) ` + table); err != nil {
			b.Fatal(err)
		}
		err := st.DB.QueryRow(`SELECT pg_total_relation_size($1::regclass), pg_table_size($1::regclass), pg_indexes_size($1::regclass)`, table).
			Scan(&r.Total, &r.Table, &r.Indexes)
		if err != nil {
			b.Fatal(err)
		}
		r.Index = indexBytes(b, st, `SELECT indexrelid::regclass::text, pg_relation_size(indexrelid) FROM pg_index WHERE indrelid = $1::regclass ORDER BY 1`, table)
		r.How = "pg_total_relation_size"
		return r
	}
	if _, err := st.DB.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	var table64, index64 sql.NullInt64
	err := st.DB.QueryRow(`
		SELECT
			(SELECT SUM(pgsize) FROM dbstat WHERE name = ?),
			(SELECT SUM(pgsize) FROM dbstat WHERE name IN (SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?))`,
		table, table).Scan(&table64, &index64)
	if err != nil {
		b.Fatalf("dbstat: %v", err)
	}
	r.Table, r.Indexes = table64.Int64, index64.Int64
	r.Total = r.Table + r.Indexes
	r.Index = indexBytes(b, st, `SELECT name, SUM(pgsize) FROM dbstat WHERE name IN (SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?) GROUP BY name ORDER BY name`, table)
	r.How = "dbstat"
	return r
}
