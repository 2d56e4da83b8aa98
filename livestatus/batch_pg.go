package livestatus

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lib/pq"

	"switchboard/ent"
	"switchboard/ent/agentstatuschange"
	"switchboard/gid"
)

// Batches of status changes on PostgreSQL.
//
// Every change from the desktop that the rules make at once is one
// statement that commits by itself (setAtOnceSQL): under many writers, a
// commit, and its wait for the WAL to be flushed, per change. The batcher
// gathers the changes that arrive while a statement runs and makes up to
// maxBatch of them, of distinct agents, in one statement (setManySQL),
// hence one commit; each caller is answered once that statement has
// committed, with what it read for its change. An agent's changes keep
// their order: a change of an agent already in the gathered batch ends the
// batch, and waits for the next, which runs after this one has committed.
// A change alone is made as before, by setAtOnceSQL, with no wait.

// maxBatch bounds the changes of one statement.
const maxBatch = 64

// batchIdle is how long the batcher's goroutine waits for work before it
// ends; the next change starts it again.
const batchIdle = time.Second

// pending is a change waiting in the batcher, and where its answer goes.
type pending struct {
	ch   atOnceChange
	done chan batchResult
}

type batchResult struct {
	read atOnceRead
	err  error
}

// batcher makes the changes given to it in batches; it is safe for
// concurrent use.
type batcher struct {
	client *ent.Client
	queue  chan *pending

	statements, changes atomic.Int64 // counted once made

	mu      sync.Mutex
	running bool
	held    *pending // taken from the queue, to lead the next batch
}

func newBatcher(c *ent.Client) *batcher {
	return &batcher{client: c, queue: make(chan *pending, 4*maxBatch)}
}

// do makes the change, with others that come meanwhile, and returns what
// it read once the statement has committed. As setAtOnceSQL's, the
// statement runs to its end once sent, whether the caller waits or not.
func (b *batcher) do(ch atOnceChange) (atOnceRead, error) {
	if err := validateChange(ch.by, nil); err != nil {
		return atOnceRead{}, err
	}
	p := &pending{ch: ch, done: make(chan batchResult, 1)}
	b.queue <- p
	b.mu.Lock()
	if !b.running {
		b.running = true
		go b.run()
	}
	b.mu.Unlock()
	r := <-p.done
	return r.read, r.err
}

// run makes batches until the queue has stayed empty for batchIdle.
func (b *batcher) run() {
	idle := time.NewTimer(batchIdle)
	defer idle.Stop()
	for {
		var first *pending
		if b.held != nil {
			first, b.held = b.held, nil
		} else {
			select {
			case first = <-b.queue:
			case <-idle.C:
				b.mu.Lock()
				if len(b.queue) == 0 {
					b.running = false
					b.mu.Unlock()
					return
				}
				b.mu.Unlock()
				idle.Reset(batchIdle)
				continue
			}
		}
		batch := []*pending{first}
		agents := map[gid.ID]bool{first.ch.agent: true}
	gather:
		for len(batch) < maxBatch {
			select {
			case p := <-b.queue:
				if agents[p.ch.agent] {
					b.held = p // its agent is in this batch: it leads the next
					break gather
				}
				agents[p.ch.agent] = true
				batch = append(batch, p)
			default:
				break gather
			}
		}
		b.apply(batch)
		if !idle.Stop() {
			select {
			case <-idle.C:
			default:
			}
		}
		idle.Reset(batchIdle)
	}
}

// apply makes a batch and answers each of its changes.
func (b *batcher) apply(batch []*pending) {
	ctx, cancel := context.WithTimeout(context.Background(), statementTimeout)
	defer cancel()
	b.statements.Add(1)
	b.changes.Add(int64(len(batch)))
	if len(batch) == 1 {
		read, _, err := pgWriter{}.setAtOnce(ctx, b.client, batch[0].ch)
		batch[0].done <- batchResult{read, err}
		return
	}
	reads, err := setMany(ctx, b.client, batch)
	for i, p := range batch {
		if err != nil {
			p.done <- batchResult{err: err}
			continue
		}
		p.done <- batchResult{read: reads[i]}
	}
}

// setManySQL is setAtOnceSQL for many changes of distinct agents at once:
// the same reads, facts and writes, each row of req one change (its n,
// from 1, says which), in one statement and so one commit.
var setManySQL = `WITH req AS (
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[])
		WITH ORDINALITY AS r(agent_id, tenant_id, status_id, at, change_id, changed_by, n)
), a AS (
	SELECT agents.*, req.n AS req_n FROM req JOIN agents ON agents.id = req.agent_id AND agents.tenant_id = req.tenant_id
), st AS (
	SELECT agent_status.*, req.n AS req_n FROM req JOIN agent_status ON agent_status.tenant_id = req.tenant_id
		AND (agent_status.id = req.status_id OR agent_status.id = (SELECT current_status_id FROM a WHERE a.req_n = req.n))
), f AS (
	SELECT req.n, ` + factsSQLFor("req.status_id", "req.at") + ` AS facts
	FROM req JOIN a ON a.req_n = req.n LEFT JOIN st ON st.req_n = req.n AND st.id = req.status_id
), moved AS (
	UPDATE agents SET current_status_id = req.status_id, status_since = req.at, updated_at = req.at
	FROM req JOIN a ON a.req_n = req.n JOIN f ON f.n = req.n
	WHERE agents.id = a.id
		AND agents.current_status_id IS NOT DISTINCT FROM a.current_status_id
		AND agents.status_since IS NOT DISTINCT FROM a.status_since
		AND f.facts = ANY($7::int[])
	RETURNING req.n, a.current_status_id AS previous_status_id, agents.status_since AS changed_at
), appended AS (
	INSERT INTO agent_status_changes
		(id, created_at, updated_at, changed_at, changed_by, source, agent_id, tenant_id, status_id, previous_status_id)
	SELECT req.change_id, moved.changed_at, moved.changed_at, moved.changed_at, req.changed_by, 'DESKTOP',
		req.agent_id, req.tenant_id, req.status_id, moved.previous_status_id
	FROM moved JOIN req ON req.n = moved.n
	RETURNING agent_id, changed_at
)
SELECT req.n,
	(SELECT row_to_json(a) FROM a WHERE a.req_n = req.n),
	(SELECT coalesce(json_agg(st), '[]') FROM st WHERE st.req_n = req.n),
	(SELECT changed_at FROM appended WHERE appended.agent_id = req.agent_id)
FROM req ORDER BY req.n`

// factsSQLFor is factsSQL with the status and time of the change named by
// the expressions given, instead of setAtOnceSQL's $3 and $4.
func factsSQLFor(status, at string) string {
	return strings.NewReplacer("$3", status, "$4", at).Replace(factsSQL())
}

// setMany makes a batch in one statement; reads[i] is what batch[i] read.
func setMany(ctx context.Context, c *ent.Client, batch []*pending) ([]atOnceRead, error) {
	n := len(batch)
	agents, tenants, statuses, ids, bys := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	ats := make([]time.Time, n)
	for i, p := range batch {
		agents[i], tenants[i], statuses[i] = string(p.ch.agent), string(p.ch.tenant), string(p.ch.status)
		ats[i], ids[i], bys[i] = p.ch.at, string(agentstatuschange.DefaultID()), p.ch.by
	}
	rows, err := c.QueryContext(ctx, setManySQL, pq.Array(agents), pq.Array(tenants), pq.Array(statuses), pq.Array(ats),
		pq.Array(ids), pq.Array(bys), factsArray(batch[0].ch.when))
	if err != nil {
		return nil, err
	}
	reads := make([]atOnceRead, n)
	for rows.Next() {
		var k int
		var agentJSON, statusesJSON []byte
		var changedAt sql.NullTime
		if err := rows.Scan(&k, &agentJSON, &statusesJSON, &changedAt); err != nil {
			_ = rows.Close()
			return nil, err
		}
		if k < 1 || k > n {
			_ = rows.Close()
			return nil, fmt.Errorf("livestatus: the batch statement answered for change %d of %d", k, n)
		}
		if reads[k-1], err = readAtOnce(c, agentJSON, statusesJSON, changedAt); err != nil {
			_ = rows.Close()
			return nil, err
		}
	}
	if err := errors.Join(rows.Close(), rows.Err()); err != nil {
		return nil, err
	}
	return reads, nil
}

// BatchStats are the statements the service's batcher sent and the
// changes they made, since it started: both zero but on PostgreSQL.
func (s *Service) BatchStats() (statements, changes int64) {
	if s.batch == nil {
		return 0, 0
	}
	return s.batch.statements.Load(), s.batch.changes.Load()
}
