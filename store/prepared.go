package store

import (
	"container/list"
	"context"
	"database/sql/driver"
	"errors"

	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
)

// DefaultPreparedStatements is how many statements each PostgreSQL
// connection keeps prepared.
const DefaultPreparedStatements = 128

// preparingConnector opens lib/pq connections that keep the statements they
// run prepared.
//
// lib/pq runs a statement with parameters by preparing it unnamed and then
// executing it: two round trips, and PostgreSQL parses and plans it every
// time. A statement prepared once per connection and kept costs one round
// trip and no parsing, which halves the cost of the short statements that
// live status and the wallboard send (see bench.BenchmarkStatusWrites). The
// queries come from ent's builders, so a connection sees a bounded set of
// texts; it keeps the most recently used (a least-recently-used list of
// size), and closes the others when the connection next goes back to the pool,
// when nothing is reading from it.
//
// PostgreSQL plans a prepared statement for its parameter values five times,
// and then, if a generic plan looks no dearer, keeps a generic one: right for
// the lookups by key that most statements are, wrong where the best plan
// depends on the values, as for a pattern search. Such queries run with a
// context from PlanEachTime, and go unprepared.
//
// Poolers in transaction mode need protocol-level prepared statements for this
// (PgBouncer 1.21 and later, with max_prepared_statements set).
type preparingConnector struct {
	base *pq.Connector
	size int
}

func (c *preparingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	cn, err := c.base.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := cn.(pqConn)
	if !ok {
		cn.Close()
		return nil, errors.New("store: lib/pq's connection lacks the context methods")
	}
	return &preparingConn{pqConn: pc, size: c.size, byQuery: make(map[string]*list.Element)}, nil
}

func (c *preparingConnector) Driver() driver.Driver { return c.base.Driver() }

// pqConn is what database/sql uses of a lib/pq connection.
type pqConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.QueryerContext
	driver.ExecerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
	driver.NamedValueChecker
}

// preparingConn is one connection and its prepared statements. database/sql
// never uses a connection from two goroutines at once, so it needs no lock.
type preparingConn struct {
	pqConn
	size    int
	byQuery map[string]*list.Element // of *prepared
	lru     list.List                // most recently used first
	evicted []driver.Stmt            // to close once the connection is idle
}

type prepared struct {
	query string
	stmt  driver.Stmt
}

type stmtQueryExecer interface {
	driver.StmtQueryContext
	driver.StmtExecContext
}

type planEachTimeKey struct{}

// PlanEachTime returns a context whose statements PostgreSQL plans afresh,
// for their parameter values, every time they run: for queries whose best
// plan depends on the values, such as pattern searches.
func PlanEachTime(ctx context.Context) context.Context {
	return context.WithValue(ctx, planEachTimeKey{}, true)
}

// QueryContext runs query as this connection's prepared statement.
func (c *preparingConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) == 0 || ctx.Value(planEachTimeKey{}) != nil {
		return c.pqConn.QueryContext(ctx, query, args) // no parameters: one round trip already
	}
	st, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args)
	c.forgetIfStale(query, err)
	return rows, err
}

// ExecContext runs query as this connection's prepared statement.
func (c *preparingConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if len(args) == 0 || ctx.Value(planEachTimeKey{}) != nil {
		return c.pqConn.ExecContext(ctx, query, args)
	}
	st, err := c.statement(ctx, query)
	if err != nil {
		return nil, err
	}
	res, err := st.ExecContext(ctx, args)
	c.forgetIfStale(query, err)
	return res, err
}

// statement returns query's prepared statement, preparing it on a miss.
func (c *preparingConn) statement(ctx context.Context, query string) (stmtQueryExecer, error) {
	if e, ok := c.byQuery[query]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*prepared).stmt.(stmtQueryExecer), nil
	}
	st, err := c.pqConn.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	sqe, ok := st.(stmtQueryExecer)
	if !ok {
		c.evicted = append(c.evicted, st)
		return nil, errors.New("store: lib/pq's statement lacks the context methods")
	}
	c.byQuery[query] = c.lru.PushFront(&prepared{query: query, stmt: st})
	for c.lru.Len() > c.size {
		c.evict(c.lru.Back())
	}
	return sqe, nil
}

// forgetIfStale drops a statement that PostgreSQL will no longer run as
// prepared: a migration changed the shape of what it returns ("cached plan
// must not change result type"). The next use prepares it afresh.
func (c *preparingConn) forgetIfStale(query string, err error) {
	if err == nil || pq.As(err, pqerror.FeatureNotSupported) == nil {
		return
	}
	if e, ok := c.byQuery[query]; ok {
		c.evict(e)
	}
}

func (c *preparingConn) evict(e *list.Element) {
	p := c.lru.Remove(e).(*prepared)
	delete(c.byQuery, p.query)
	c.evicted = append(c.evicted, p.stmt)
}

// ResetSession closes the statements evicted while the connection was out of
// the pool: now nothing is reading from it.
func (c *preparingConn) ResetSession(ctx context.Context) error {
	if err := c.pqConn.ResetSession(ctx); err != nil {
		return err
	}
	for len(c.evicted) > 0 {
		st := c.evicted[len(c.evicted)-1]
		c.evicted = c.evicted[:len(c.evicted)-1]
		if err := st.Close(); err != nil {
			return driver.ErrBadConn // the connection's state is unknown: start a new one
		}
	}
	return nil
}

// Prepared reports how many statements the connection keeps prepared (for tests).
func (c *preparingConn) Prepared() int { return c.lru.Len() }
