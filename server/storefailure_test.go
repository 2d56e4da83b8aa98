package server_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"net/http"
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

	var mu sync.Mutex
	var acked []time.Time // the since of each acknowledged change
	var lastAck time.Time
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		status := []string{f.available, f.lunch}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			body, _ := json.Marshal(map[string]any{"query": testenv.ContractOperation(t, "SetAgentStatus"), "variables": map[string]any{"statusId": status[i%2]}})
			req, _ := http.NewRequest(http.MethodPost, f.s.URL+"/query", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+f.alexTok)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				continue
			}
			var r struct {
				Data struct {
					SetAgentStatus struct{ CurrentStatus struct{ Since time.Time } }
				}
				Errors []any
			}
			err = json.NewDecoder(res.Body).Decode(&r)
			res.Body.Close()
			if err == nil && len(r.Errors) == 0 {
				mu.Lock()
				acked = append(acked, r.Data.SetAgentStatus.CurrentStatus.Since)
				lastAck = time.Now()
				mu.Unlock()
			}
		}
	}()

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
		mu.Lock()
		recovered := lastAck.After(killedAt.Add(100 * time.Millisecond))
		mu.Unlock()
		if recovered {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no change acknowledged within 5 s of the store's connections being killed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	close(stop)
	<-done

	// Every acknowledged change is recorded.
	recorded := map[int64]bool{}
	rows, err := db.Query(`SELECT changed_at FROM agent_status_changes WHERE agent_id = $1`, f.alex)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var at time.Time
		if err := rows.Scan(&at); err != nil {
			t.Fatal(err)
		}
		recorded[at.UnixMicro()] = true
	}
	rows.Close()
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
	var last struct {
		Data struct {
			SetAgentStatus struct{ CurrentStatus struct{ Since time.Time } }
		}
	}
	f.s.MustDo(t, f.alexTok, testenv.ContractOperation(t, "SetAgentStatus"), map[string]any{"statusId": f.lunch}, &last.Data)
	f.s.MustDo(t, f.alexTok, testenv.ContractOperation(t, "SetAgentStatus"), map[string]any{"statusId": f.available}, &last.Data)
	for {
		ev := nextEvent(t, wb, "wb").AgentStatusChanged
		if ev.Agent.ID == f.alex && !ev.ChangedAt.Before(last.Data.SetAgentStatus.CurrentStatus.Since) {
			break
		}
	}
}
