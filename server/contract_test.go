package server_test

import (
	"encoding/json"
	"testing"

	"switchboard/auth"
	"switchboard/internal/testenv"
)

// TestContractFoundationOperations runs the contract's own text of the
// administration, bootstrap, wallboard and node operations.
func TestContractFoundationOperations(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		op := func(name string) string { return testenv.ContractOperation(t, name) }

		var tenant struct {
			CreateTenant struct{ ID, Name string } `json:"createTenant"`
		}
		s.MustDo(t, s.OperatorToken(t), op("CreateTenant"), map[string]any{"input": map[string]any{"name": "Acme Support"}}, &tenant)
		if tenant.CreateTenant.Name != "Acme Support" || tenant.CreateTenant.ID == "" {
			t.Fatalf("CreateTenant: %+v", tenant)
		}
		tid := tenant.CreateTenant.ID
		admin := s.Token(t, auth.Claims{Email: "boss@acme.example", Name: "Boss", Tenant: tid, Role: auth.RoleAdmin})

		var agent struct {
			CreateAgent struct {
				ID, Email, Name, ConnectUsername, Role string
			} `json:"createAgent"`
		}
		s.MustDo(t, admin, op("CreateAgent"), map[string]any{"input": map[string]any{
			"email": "Alex.Agent@Acme.example", "name": "Alex Agent", "connectUsername": "alex",
		}}, &agent)
		if a := agent.CreateAgent; a.Email != "alex.agent@acme.example" || a.Role != "AGENT" || a.ConnectUsername != "alex" {
			t.Fatalf("CreateAgent: %+v", a)
		}
		var status struct {
			CreateAgentStatus struct{ ID, Name, Type string } `json:"createAgentStatus"`
		}
		for _, in := range []map[string]any{
			{"name": "Available", "type": "ROUTABLE", "displayOrder": 1},
			{"name": "Offline", "type": "OFFLINE", "displayOrder": 2},
		} {
			s.MustDo(t, admin, op("CreateAgentStatus"), map[string]any{"input": in}, &status)
			if status.CreateAgentStatus.Name != in["name"] || status.CreateAgentStatus.Type != in["type"] {
				t.Fatalf("CreateAgentStatus: %+v", status)
			}
		}

		// The agent signs in.
		agentTok := s.Token(t, auth.Claims{Email: "alex.agent@acme.example", Tenant: tid, Role: auth.RoleAgent})
		var boot struct {
			Viewer struct {
				ID, Email, Name, Role string
				Tenant                struct {
					ID, Name string
					Branding json.RawMessage
					Modules  []any
				}
				Agent struct {
					ID, ConnectUsername string
					CurrentStatus       json.RawMessage
				}
			}
			AgentStatuses []struct{ ID, Name, Type string } `json:"agentStatuses"`
		}
		s.MustDo(t, agentTok, op("DesktopBootstrap"), nil, &boot)
		v := boot.Viewer
		if v.ID != agent.CreateAgent.ID || v.Role != "AGENT" || v.Name != "Alex Agent" || v.Tenant.ID != tid ||
			v.Tenant.Name != "Acme Support" || v.Agent.ID != agent.CreateAgent.ID || v.Agent.ConnectUsername != "alex" ||
			string(v.Agent.CurrentStatus) != "null" || string(v.Tenant.Branding) != "null" || len(v.Tenant.Modules) != 0 {
			t.Fatalf("DesktopBootstrap: %+v", boot)
		}
		if len(boot.AgentStatuses) != 2 || boot.AgentStatuses[0].Name != "Available" || boot.AgentStatuses[1].Type != "OFFLINE" {
			t.Fatalf("agentStatuses: %+v", boot.AgentStatuses)
		}

		// An operator has neither tenant nor agent.
		var opBoot struct {
			Viewer struct {
				Role   string
				Tenant json.RawMessage
				Agent  json.RawMessage
			}
			AgentStatuses []any `json:"agentStatuses"`
		}
		s.MustDo(t, s.OperatorToken(t), op("DesktopBootstrap"), nil, &opBoot)
		if opBoot.Viewer.Role != "OPERATOR" || string(opBoot.Viewer.Tenant) != "null" || string(opBoot.Viewer.Agent) != "null" || len(opBoot.AgentStatuses) != 0 {
			t.Fatalf("operator bootstrap: %+v", opBoot)
		}

		var wb struct {
			Agents struct {
				TotalCount int
				Edges      []struct{ Node struct{ ID, Email string } }
			}
		}
		s.MustDo(t, admin, op("Wallboard"), nil, &wb)
		if wb.Agents.TotalCount != 1 || wb.Agents.Edges[0].Node.ID != agent.CreateAgent.ID {
			t.Fatalf("Wallboard: %+v", wb)
		}

		var node struct {
			Node struct {
				ID       string
				Typename string `json:"__typename"`
			}
		}
		s.MustDo(t, agentTok, op("Node"), map[string]any{"id": agent.CreateAgent.ID}, &node)
		if node.Node.ID != agent.CreateAgent.ID || node.Node.Typename != "Agent" {
			t.Fatalf("Node: %+v", node)
		}
		s.MustDo(t, agentTok, op("Node"), map[string]any{"id": tid}, &node)
		if node.Node.Typename != "Tenant" {
			t.Fatalf("Node(tenant): %+v", node)
		}
	})
}
