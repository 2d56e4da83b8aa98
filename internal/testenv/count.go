package testenv

import (
	"context"
	"sync/atomic"

	"entgo.io/ent/dialect"
)

// StatementCounter is an ent driver that counts the SQL statements sent
// through it, in and out of transactions.
type StatementCounter struct {
	dialect.Driver
	n atomic.Int64
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
	return &countingTx{Tx: tx, n: &c.n}, nil
}

type countingTx struct {
	dialect.Tx
	n *atomic.Int64
}

func (t *countingTx) Exec(ctx context.Context, q string, args, v any) error {
	t.n.Add(1)
	return t.Tx.Exec(ctx, q, args, v)
}

func (t *countingTx) Query(ctx context.Context, q string, args, v any) error {
	t.n.Add(1)
	return t.Tx.Query(ctx, q, args, v)
}
