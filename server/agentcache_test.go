package server_test

import (
	"testing"
	"time"

	"switchboard/auth"
	"switchboard/cmd/switchboard/wire"
	"switchboard/internal/testenv"
)

// The agent record behind a token is read once per AgentTTL, not on every
// request: a second request within it sends one statement fewer. An agent
// deleted loses its agent record within the TTL, and so every right of an
// agent (its own status); a person given one gains it as soon; a person of
// another tenant with the same email is never taken for it.
func TestAgentRecordTrustedBriefly(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		const ttl = 300 * time.Millisecond
		s := testenv.NewServer(t, b, func(c *wire.Config) { c.AgentTTL = ttl })
		A, B := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
		al, alTok := s.NewAgent(t, A, "Al", "al@acme.example", auth.RoleAgent)
		// Al's email in Bolt, as a supervisor with no agent record there.
		boltAl := s.Token(t, auth.Claims{Email: "al@acme.example", Tenant: B.ID, Role: auth.RoleSupervisor})
		agentOf := func(token string) string {
			t.Helper()
			var out struct {
				Viewer struct{ Agent *struct{ ID string } }
			}
			s.MustDo(t, token, `{ viewer { agent { id } } }`, nil, &out)
			if out.Viewer.Agent == nil {
				return ""
			}
			return out.Viewer.Agent.ID
		}
		if got := agentOf(alTok); got != al {
			t.Fatalf("Al's agent %q", got)
		}
		time.Sleep(ttl)
		before := s.Counter.Count()
		agentOf(alTok) // reads Al's record again: the TTL is over
		first := s.Counter.Count() - before
		before = s.Counter.Count()
		agentOf(alTok)
		if second := s.Counter.Count() - before; second != first-1 {
			t.Fatalf("statements: %d when the record is read, %d within the TTL", first, second)
		}
		if got := agentOf(boltAl); got != "" {
			t.Fatalf("Al's email in Bolt has agent %q", got)
		}

		var statuses struct {
			CreateAgentStatus struct{ ID string } `json:"createAgentStatus"`
		}
		s.MustDo(t, A.AdminToken, `mutation { createAgentStatus(input: {name: "Available", type: ROUTABLE}) { id } }`, nil, &statuses)
		s.MustDo(t, A.AdminToken, `mutation($id: ID!) { deleteAgent(id: $id) }`, map[string]any{"id": al}, nil)
		deadline := time.Now().Add(ttl + time.Second)
		for agentOf(alTok) != "" {
			if time.Now().After(deadline) {
				t.Fatalf("a deleted agent kept its record for more than %v", ttl+time.Second)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if r := s.Do(t, alTok, testenv.ContractOperation(t, "SetAgentStatus"), map[string]any{"statusId": statuses.CreateAgentStatus.ID}); r.Code() != "NOT_FOUND" {
			t.Fatalf("a deleted agent set its status: %q", r.Code())
		}

		// Given an agent record again, Al has it within the TTL.
		var made struct {
			CreateAgent struct{ ID string } `json:"createAgent"`
		}
		s.MustDo(t, A.AdminToken, `mutation { createAgent(input: {email: "al@acme.example", name: "Al"}) { id } }`, nil, &made)
		deadline = time.Now().Add(ttl + time.Second)
		for agentOf(alTok) != made.CreateAgent.ID {
			if time.Now().After(deadline) {
				t.Fatalf("a new agent record was not seen within %v", ttl+time.Second)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if got := agentOf(boltAl); got != "" {
			t.Fatalf("Al's email in Bolt has agent %q", got)
		}
	})
}
