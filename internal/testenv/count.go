package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"

	"entgo.io/ent/dialect"
)

// StatementCounter is an ent driver that counts the SQL statements sent
// through it, in and out of transactions.
type StatementCounter struct {
	dialect.Driver
	n atomic.Int64

	mu   sync.Mutex
	open map[*countingTx]context.Context // the transactions not yet ended, and the contexts they began with
}

// CountStatements returns a driver wrapper for store.WithDriver and the counter.
func CountStatements() (func(dialect.Driver) dialect.Driver, *StatementCounter) {
	c := &StatementCounter{}
	return func(d dialect.Driver) dialect.Driver { c.Driver = d; return c }, c
}

// Count returns the statements sent so far.
func (c *StatementCounter) Count() int64 { return c.n.Load() }

// Exec implements dialect.Driver.
func (c *StatementCounter) Exec(ctx context.Context, q string, args, v any) error {
	c.n.Add(1)
	return c.Driver.Exec(ctx, q, args, v)
}

// Query implements dialect.Driver.
func (c *StatementCounter) Query(ctx context.Context, q string, args, v any) error {
	c.n.Add(1)
	return c.Driver.Query(ctx, q, args, v)
}

// Tx implements dialect.Driver.
func (c *StatementCounter) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := c.Driver.Tx(ctx)
	if err != nil {
		return nil, err
	}
	t := &countingTx{Tx: tx, n: &c.n, c: c}
	c.mu.Lock()
	if c.open == nil {
		c.open = map[*countingTx]context.Context{}
	}
	c.open[t] = ctx
	c.mu.Unlock()
	return t, nil
}

// OpenTransactions returns the contexts of the transactions begun and not
// yet committed or rolled back.
func (c *StatementCounter) OpenTransactions() []context.Context {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]context.Context, 0, len(c.open))
	for _, ctx := range c.open {
		out = append(out, ctx)
	}
	return out
}

type countingTx struct {
	dialect.Tx
	n *atomic.Int64
	c *StatementCounter
}

func (t *countingTx) ended() {
	t.c.mu.Lock()
	delete(t.c.open, t)
	t.c.mu.Unlock()
}

func (t *countingTx) Commit() error {
	defer t.ended()
	return t.Tx.Commit()
}

func (t *countingTx) Rollback() error {
	defer t.ended()
	return t.Tx.Rollback()
}

func (t *countingTx) Exec(ctx context.Context, q string, args, v any) error {
	t.n.Add(1)
	return t.Tx.Exec(ctx, q, args, v)
}

func (t *countingTx) Query(ctx context.Context, q string, args, v any) error {
	t.n.Add(1)
	return t.Tx.Query(ctx, q, args, v)
}

// ExecContext lets raw statements in a transaction through, counted.
func (t *countingTx) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ex, ok := t.Tx.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	})
	if !ok {
		return nil, fmt.Errorf("testenv: %T has no ExecContext", t.Tx)
	}
	t.n.Add(1)
	return ex.ExecContext(ctx, q, args...)
}

// QueryContext lets raw queries in a transaction through, counted.
func (t *countingTx) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	qr, ok := t.Tx.(interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	})
	if !ok {
		return nil, fmt.Errorf("testenv: %T has no QueryContext", t.Tx)
	}
	t.n.Add(1)
	return qr.QueryContext(ctx, q, args...)
}

// ExecContext lets raw statements through, counted.
func (c *StatementCounter) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ex, ok := c.Driver.(interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	})
	if !ok {
		return nil, fmt.Errorf("testenv: %T has no ExecContext", c.Driver)
	}
	c.n.Add(1)
	return ex.ExecContext(ctx, q, args...)
}

// QueryContext lets raw queries through, counted.
func (c *StatementCounter) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	qr, ok := c.Driver.(interface {
		QueryContext(context.Context, string, ...any) (*sql.Rows, error)
	})
	if !ok {
		return nil, fmt.Errorf("testenv: %T has no QueryContext", c.Driver)
	}
	c.n.Add(1)
	return qr.QueryContext(ctx, q, args...)
}
