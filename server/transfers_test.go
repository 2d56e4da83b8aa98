package server_test

import (
	"testing"

	"switchboard/auth"
	"switchboard/cmd/switchboard/wire"
	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
)

// quickConnects on both stores, through the tenant's role with the real
// SDK: each tenant's agents see their own instance's quick connects, by
// name; a second read within the minute asks Connect
// nothing, a reconfigured instance is read afresh; Connect failing is
// UPSTREAM; a tenant without an instance is told to configure one.
func TestQuickConnects(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		fc := fakeaws.NewConnect(t)
		s, sts := serverWithAWS(t, b, func(c *wire.Config) { c.AWS.ConnectEndpoint = fc.URL })
		fc.TrustSTS(sts)
		const account, region = "111111111111", "ap-southeast-2"
		role := "arn:aws:iam::" + account + ":role/SwitchboardAccess"
		sts.AllowRole(role, "ext")
		A, B, C := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt"), s.NewTenant(t, "Cove")
		configure := func(tn testenv.Tenant, instanceID string) {
			s.MustDo(t, tn.AdminToken, `mutation($in: ConfigureInstanceInput!) { configureInstance(input: $in) { id } }`, map[string]any{"in": map[string]any{
				"instanceArn": "arn:aws:connect:" + region + ":" + account + ":instance/" + instanceID,
				"region":      region, "roleArn": role, "externalId": "ext",
			}}, nil)
		}
		const idA, idB = "11111111-2222-3333-4444-555555555555", "22222222-2222-3333-4444-555555555555"
		configure(A, idA)
		configure(B, idB)
		fc.SetQuickConnects(idA, fakeaws.QuickConnect{ID: "q3", Name: "Sales queue", Type: "QUEUE"},
			fakeaws.QuickConnect{ID: "q1", Name: "Billing", Type: "QUEUE"}, fakeaws.QuickConnect{ID: "q2", Name: "Pat (supervisor)", Type: "USER"})
		fc.SetQuickConnects(idB, fakeaws.QuickConnect{ID: "b1", Name: "Bolt desk", Type: "PHONE_NUMBER"})
		_, agentA := s.NewAgent(t, A, "Al", "al@acme.example", auth.RoleAgent)
		_, agentB := s.NewAgent(t, B, "Bo", "bo@bolt.example", auth.RoleAgent)
		_, agentC := s.NewAgent(t, C, "Cy", "cy@cove.example", auth.RoleAgent)

		op := testenv.ContractOperation(t, "QuickConnects")
		type qc struct{ ID, Name, Type string }
		list := func(token string) []qc {
			t.Helper()
			var out struct {
				QuickConnects []qc `json:"quickConnects"`
			}
			s.MustDo(t, token, op, nil, &out)
			return out.QuickConnects
		}
		if got := list(agentA); len(got) != 3 || got[0] != (qc{"q1", "Billing", "QUEUE"}) || got[1].Name != "Pat (supervisor)" || got[2].ID != "q3" {
			t.Fatalf("A's quick connects %+v", got)
		}
		if got := list(agentB); len(got) != 1 || got[0] != (qc{"b1", "Bolt desk", "PHONE_NUMBER"}) {
			t.Fatalf("B's quick connects %+v", got)
		}
		calls := len(fc.RequestsFor(fakeaws.OpListQuickConnects))
		if calls != 2 { // one page each (100 a page)
			t.Errorf("%d ListQuickConnects calls", calls)
		}
		list(agentA)
		list(agentB)
		if n := len(fc.RequestsFor(fakeaws.OpListQuickConnects)); n != calls {
			t.Errorf("a second read asked Connect again: %d calls", n)
		}
		configure(A, idA) // an admin's change: read afresh
		fc.SetQuickConnects(idA, fakeaws.QuickConnect{ID: "q9", Name: "Escalations", Type: "QUEUE"})
		if got := list(agentA); len(got) != 1 || got[0].ID != "q9" {
			t.Errorf("after reconfiguring: %+v", got)
		}
		for _, r := range fc.RequestsFor(fakeaws.OpListQuickConnects) {
			if creds, ok := sts.Lookup(r.AccessKeyID); !ok || creds.RoleARN != role {
				t.Errorf("ListQuickConnects signed with %s", r.AccessKeyID)
			}
		}

		configure(B, idB)
		fc.Fail(fakeaws.OpListQuickConnects, fakeaws.Failure{Status: 500, Code: "InternalServiceException", Message: "down", Times: 1})
		if r := s.Do(t, agentB, op, nil); r.Code() != "UPSTREAM" {
			t.Errorf("Connect failing: %+v", r)
		}
		if r := s.Do(t, agentC, op, nil); r.Code() != "BAD_USER_INPUT" {
			t.Errorf("no instance: %+v", r)
		}
	})
}
