package server_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard/internal/testenv"
)

// TestStoreConnectionsKilledUnderLoad: while an agent's status changes in a
// loop and a wallboard is subscribed, every connection to PostgreSQL is
// killed. Each change the server acknowledged is in the store; changes are
// acknowledged again, and reach the wallboard, within 5 s.
func TestStoreConnectionsKilledUnderLoad(t *testing.T) {
	url := testenv.PostgresURL(t)
	f := newLiveFixture(t, testenv.Backend{Name: "postgres", URL: func(testing.TB) string { return url }})
	wb := f.s.DialWS(t, f.supTok)
	wb.Subscribe("wb", statusChanged, nil)
	waitSubscriptions(t, f.s, 1)

	loop := startChangeLoop(f)

	time.Sleep(500 * time.Millisecond)
	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var killed int
	if err := db.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`).Scan(&killed); err != nil {
		t.Fatal(err)
	}
	if killed == 0 {
		t.Fatal("no connection was killed")
	}
	killedAt := time.Now()
	deadline := killedAt.Add(5 * time.Second)
	for {
		if loop.lastAck().After(killedAt.Add(100 * time.Millisecond)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no change acknowledged within 5 s of the store's connections being killed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	acked := loop.stop()

	// Every acknowledged change is recorded.
	recorded := recordedChanges(t, db, f.alex)
	lost := 0
	for _, at := range acked {
		if !recorded[at.UnixMicro()] {
			lost++
		}
	}
	if lost > 0 || len(acked) < 10 {
		t.Fatalf("%d of %d acknowledged changes are not recorded", lost, len(acked))
	}

	// The wallboard hears of a change made now (after those of the loop).
	hearsChangeNow(t, f, wb, 10*time.Second)
}

// ownPostgres starts a PostgreSQL of the test's own with scripts/pg.sh (a
// test that stops the server must not stop the suite's), and returns its
// URL and a function that stops and starts it again on the same port.
func ownPostgres(t *testing.T) (url string, stop, start func()) {
	t.Helper()
	testenv.PostgresURL(t)                          // skipped, or failed, as every PostgreSQL test is
	dir, err := os.MkdirTemp("", "switchboard-pg-") // where the postgres user can reach
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(testenv.RepoRoot(t), "scripts", "pg.sh")
	pg := func(cmd string, env ...string) string {
		t.Helper()
		c := exec.Command("bash", script, cmd, dir)
		c.Env = append(os.Environ(), env...)
		var stderr strings.Builder
		c.Stderr = &stderr
		out, err := c.Output()
		if err != nil {
			t.Fatalf("pg.sh %s: %v\n%s", cmd, err, stderr.String())
		}
		return strings.TrimSpace(string(out))
	}
	// Below the ephemeral ports (32768 and up), which the suite's own
	// connections take as their source ports and so may hold when the
	// server binds, or binds again after a restart.
	url = pg("start", "SWITCHBOARD_TEST_PG_PORT=25700")
	t.Cleanup(func() { pg("stop"); os.RemoveAll(dir) })
	port := url[strings.LastIndex(url, ":")+1 : strings.LastIndex(url, "/")]
	return url, func() { pg("stop") }, func() {
		if again := pg("start", "SWITCHBOARD_TEST_PG_PORT="+port); again != url {
			t.Fatalf("PostgreSQL came back at %s, not %s", again, url)
		}
	}
}

// TestStoreRestartedUnderLoad: PostgreSQL stops while an agent's status
// changes in a loop and a wallboard is subscribed. While it is away
// /readyz answers 503 and no change is acknowledged; once it is back,
// /readyz answers 200, changes are acknowledged and reach the wallboard
// within 5 s, and every change acknowledged before or after is in the
// store.
func TestStoreRestartedUnderLoad(t *testing.T) {
	url, stopPG, startPG := ownPostgres(t)
	f := newLiveFixture(t, testenv.Backend{Name: "postgres", URL: func(testing.TB) string { return url }})
	wb := f.s.DialWS(t, f.supTok)
	wb.Subscribe("wb", statusChanged, nil)
	waitSubscriptions(t, f.s, 1)

	loop := startChangeLoop(f)
	ready := func() int {
		res, err := http.Get(f.s.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	within := func(d time.Duration, what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(d)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("not within %v: %s", d, what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	time.Sleep(300 * time.Millisecond)
	stopPG()
	stoppedAt := time.Now()
	within(5*time.Second, "/readyz answers 503 while the store is away", func() bool { return ready() == http.StatusServiceUnavailable })
	time.Sleep(300 * time.Millisecond)
	if last := loop.lastAck(); last.After(stoppedAt) {
		t.Errorf("a change was acknowledged %v after the store stopped", last.Sub(stoppedAt))
	}

	startPG()
	startedAt := time.Now()
	within(5*time.Second, "/readyz answers 200 once the store is back", func() bool { return ready() == http.StatusOK })
	within(5*time.Second, "changes are acknowledged once the store is back", func() bool { return loop.lastAck().After(startedAt) })
	acked := loop.stop()

	db, err := sql.Open("postgres", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	recorded := recordedChanges(t, db, f.alex)
	for _, at := range acked {
		if !recorded[at.UnixMicro()] {
			t.Fatalf("the change acknowledged at %v is not recorded (%d acknowledged)", at, len(acked))
		}
	}

	hearsChangeNow(t, f, wb, 5*time.Second)
}

// recordedChanges returns the times of the agent's recorded changes, in
// Unix microseconds (PostgreSQL's precision).
func recordedChanges(t *testing.T, db *sql.DB, agent string) map[int64]bool {
	t.Helper()
	rows, err := db.Query(`SELECT changed_at FROM agent_status_changes WHERE agent_id = $1`, agent)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	recorded := map[int64]bool{}
	for rows.Next() {
		var at time.Time
		if err := rows.Scan(&at); err != nil {
			t.Fatal(err)
		}
		recorded[at.UnixMicro()] = true
	}
	return recorded
}

// hearsChangeNow makes two changes of the fixture's agent and waits, for
// at most within, for the wallboard to hear of the last, past the events
// queued before it.
func hearsChangeNow(t *testing.T, f *liveFixture, wb *testenv.WS, within time.Duration) {
	t.Helper()
	var last struct {
		SetAgentStatus struct{ CurrentStatus struct{ Since time.Time } }
	}
	f.s.MustDo(t, f.alexTok, testenv.ContractOperation(t, "SetAgentStatus"), map[string]any{"statusId": f.lunch}, &last)
	f.s.MustDo(t, f.alexTok, testenv.ContractOperation(t, "SetAgentStatus"), map[string]any{"statusId": f.available}, &last)
	deadline := time.Now().Add(within)
	for {
		ev := nextEvent(t, wb, "wb").AgentStatusChanged
		if ev.Agent.ID == f.alex && !ev.ChangedAt.Before(last.SetAgentStatus.CurrentStatus.Since) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the wallboard did not hear of a change within %v", within)
		}
	}
}

// changeLoop changes the fixture's agent's own status, back and forth, as
// fast as the server answers, and notes each change it acknowledged.
type changeLoop struct {
	mu    sync.Mutex
	acked []time.Time // the since of each acknowledged change
	last  time.Time   // when the last was acknowledged
	quit  chan struct{}
	done  chan struct{}
}

func startChangeLoop(f *liveFixture) *changeLoop {
	l := &changeLoop{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(l.done)
		status := []string{f.available, f.lunch}
		for i := 0; ; i++ {
			select {
			case <-l.quit:
				return
			default:
			}
			since, ok := trySetStatus(f.s.URL, f.alexTok, status[i%2])
			if !ok {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			l.mu.Lock()
			l.acked = append(l.acked, since)
			l.last = time.Now()
			l.mu.Unlock()
		}
	}()
	return l
}

func (l *changeLoop) lastAck() time.Time {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

// stop ends the loop and returns the changes it had acknowledged.
func (l *changeLoop) stop() []time.Time {
	close(l.quit)
	<-l.done
	return l.acked
}

// trySetStatus sets the agent's own status over HTTP and returns the time
// the change took effect, or false when it was not acknowledged.
func trySetStatus(base, token, status string) (time.Time, bool) {
	body, _ := json.Marshal(map[string]any{"query": setOwnStatus, "variables": map[string]any{"statusId": status}})
	req, _ := http.NewRequest(http.MethodPost, base+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return time.Time{}, false
	}
	defer res.Body.Close()
	var r struct {
		Data struct {
			SetAgentStatus *struct{ CurrentStatus struct{ Since time.Time } }
		}
		Errors []any
	}
	if err := json.NewDecoder(res.Body).Decode(&r); err != nil || len(r.Errors) > 0 || r.Data.SetAgentStatus == nil {
		return time.Time{}, false
	}
	return r.Data.SetAgentStatus.CurrentStatus.Since, true
}

const setOwnStatus = `mutation($statusId: ID!) { setAgentStatus(input: {statusId: $statusId}) { currentStatus { since } } }`
