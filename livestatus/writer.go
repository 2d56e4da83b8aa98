package livestatus

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"switchboard/ent"
	"switchboard/ent/agentstatuschange"
	"switchboard/ent/predicate"
	"switchboard/gid"
)

// writer reads and moves agents in one kind of store: pgWriter, whose
// statements save PostgreSQL's round trips (writer_pg.go), or entWriter,
// ent's own statements, for SQLite (writer_ent.go). NewService picks one,
// once, from Options.Postgres. A writer decides nothing: the rules of a
// change are the Service's (service.go), and setAtOnce receives their
// verdicts as a parameter.
type writer interface {
	// readAgent reads the agent that p selects within the viewer's tenant,
	// and those of the tenant's statuses whose IDs are in want or that the
	// agent holds now. With lock, the agent's row stays as read until the
	// transaction ends; locked says whether it does (without lock too, on a
	// store that serialises its writers).
	readAgent(ctx context.Context, c *ent.Client, p predicate.Agent, lock bool, want ...gid.ID) (a *ent.Agent, statuses []*ent.AgentStatus, locked bool, err error)
	// move sets the agent a, as read, from previous (nil: none) to status
	// at `at`, and appends the change to the record. It returns errChanged
	// when the agent has changed or gone since it was read.
	move(ctx context.Context, c *ent.Client, a *ent.Agent, previous, status *ent.AgentStatus, at time.Time,
		by string, source agentstatuschange.Source, connectEventID *string) error
	// setAtOnce is a change from the desktop in one statement that commits
	// by itself: it reads the agent and the statuses as readAgent does and,
	// if the facts of the change are among ch.when and the agent is still
	// as read, moves it at ch.at and appends the change. ok is false, and
	// nothing is done, when the writer has no such statement: the change is
	// then left to a transaction.
	setAtOnce(ctx context.Context, c *ent.Client, ch atOnceChange) (read atOnceRead, ok bool, err error)
}

// writerFor is the writer of a store: PostgreSQL's or SQLite's.
func writerFor(postgres bool) writer {
	if postgres {
		return pgWriter{}
	}
	return entWriter{}
}

// errChanged says that the agent changed, or went, since it was read.
var errChanged = errors.New("livestatus: the agent changed since it was read")

// atOnceChange is a change for setAtOnce.
type atOnceChange struct {
	agent, tenant, status gid.ID
	at                    time.Time // to the microsecond
	by                    string
	when                  []facts // rules.atOnce
}

// atOnceRead is what setAtOnce read, and whether it moved the agent.
type atOnceRead struct {
	agent     *ent.Agent // nil: the tenant has no such agent
	statuses  []*ent.AgentStatus
	changedAt *time.Time // when the agent moved; nil: it did not
}

// facts is a set of the facts about a change that the rules look at
// (rules.decide). Each is what one column of the agent or the status as
// read says, or how a column compares with the change, read in Go (factsOf)
// and, for the statement that reads and moves at once, in SQL (factsSQL),
// side by side in factReadings. Whatever the rules make of them, they make
// in Go only.
type facts uint8

// The facts.
const (
	statusFound       facts = 1 << iota // the status to set is the tenant's
	statusEnabled                       // and is enabled
	statusHeld                          // the agent holds it already
	agentMapped                         // the agent is a user of Amazon Connect
	statusMapped                        // the status to set is one of Amazon Connect's
	statusBegunBefore                   // the agent's current status (if any) began before the change

	allFacts = statusBegunBefore<<1 - 1
)

// has says whether f holds all of x.
func (f facts) has(x facts) bool { return f&x == x }

// changeRead is what the facts of a change are read from in Go: the
// agent as read, the status to set (nil: not the tenant's) and its ID, and
// the time of the change.
type changeRead struct {
	agent    *ent.Agent
	status   *ent.AgentStatus
	statusID gid.ID
	at       time.Time
}

// factReadings reads each fact, in Go (inGo) from a changeRead, and in SQL
// (inSQL, PostgreSQL's, in setAtOnceSQL) from the row a of the agent and the
// row st of the status to set, joined to it (all null when the status is
// not the tenant's), with $3 the status and $4 the time.
var factReadings = []struct {
	fact  facts
	inGo  func(r changeRead) bool
	inSQL string
}{
	{statusFound, func(r changeRead) bool { return r.status != nil },
		`st.id IS NOT NULL`},
	{statusEnabled, func(r changeRead) bool { return r.status != nil && r.status.Enabled },
		`coalesce(st.enabled, false)`},
	{statusHeld, func(r changeRead) bool { return holds(r.agent, r.statusID) },
		`a.current_status_id IS NOT DISTINCT FROM $3`},
	{agentMapped, func(r changeRead) bool { return r.agent.ConnectUserID != "" },
		`coalesce(a.connect_user_id, '') <> ''`},
	{statusMapped, func(r changeRead) bool { return r.status != nil && r.status.ConnectStatusID != "" },
		`coalesce(st.connect_status_id, '') <> ''`},
	{statusBegunBefore, func(r changeRead) bool { return begunBefore(r.agent.StatusSince, r.at) },
		`(a.status_since IS NULL OR a.status_since < $4)`},
}

// factsOf reads the facts of a change in Go.
func factsOf(r changeRead) facts {
	var f facts
	for _, fr := range factReadings {
		if fr.inGo(r) {
			f |= fr.fact
		}
	}
	return f
}

// factsSQL is the SQL expression of the facts, as the integer of the set.
func factsSQL() string {
	terms := make([]string, len(factReadings))
	for i, r := range factReadings {
		terms[i] = fmt.Sprintf("(CASE WHEN %s THEN %d ELSE 0 END)", r.inSQL, r.fact)
	}
	return strings.Join(terms, " + ")
}

// factsArray writes a list of facts as a PostgreSQL array of integers.
func factsArray(fs []facts) string {
	terms := make([]string, len(fs))
	for i, f := range fs {
		terms[i] = fmt.Sprint(int(f))
	}
	return "{" + strings.Join(terms, ",") + "}"
}
