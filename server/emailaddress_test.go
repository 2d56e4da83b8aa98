package server_test

import (
	"fmt"
	"testing"

	"switchboard/auth"
	"switchboard/internal/testenv"
)

func TestEmailAddresses(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		a, bt := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
		_, agentTok := s.NewAgent(t, a, "Alex", "alex@acme.example", auth.RoleAgent)
		create := `mutation($in: CreateEmailAddressInput!) { createEmailAddress(input: $in) { id address contactFlowID } }`
		in := func(addr string) map[string]any {
			return map[string]any{"in": map[string]any{"address": addr, "sesIdentityArn": "arn:aws:ses:ap-southeast-2:123456789012:identity/acme.example", "contactFlowID": "flow-email"}}
		}
		var out struct {
			CreateEmailAddress struct {
				ID, Address   string
				ContactFlowID string `json:"contactFlowID"`
			}
		}
		s.MustDo(t, a.AdminToken, create, in("Support@Acme.Example"), &out)
		if out.CreateEmailAddress.Address != "support@acme.example" {
			t.Fatalf("address %q", out.CreateEmailAddress.Address)
		}
		for _, c := range []struct{ who, token, addr, want string }{
			{"agent", agentTok, "x@acme.example", "FORBIDDEN"},
			{"bad address", a.AdminToken, "not an address", "BAD_USER_INPUT"},
			{"duplicate", a.AdminToken, "support@acme.example", "CONFLICT"},
			{"another tenant, same address", bt.AdminToken, "support@acme.example", "CONFLICT"}, // one tenant's, platform-wide
		} {
			if r := s.Do(t, c.token, create, in(c.addr)); r.Code() != c.want {
				t.Errorf("%s: %q", c.who, r.Code())
			}
		}
		list := func(token string) string {
			var l struct{ EmailAddresses []struct{ Address string } }
			s.MustDo(t, token, `{ emailAddresses { address } }`, nil, &l)
			return fmt.Sprint(l.EmailAddresses)
		}
		if got := list(agentTok); got != "[{support@acme.example}]" {
			t.Fatalf("agent lists %s", got)
		}
		if r := s.Do(t, bt.AdminToken, `mutation($id: ID!) { deleteEmailAddress(id: $id) }`, map[string]any{"id": out.CreateEmailAddress.ID}); r.Code() != "NOT_FOUND" {
			t.Fatalf("tenant B deletes A's address: %q", r.Code())
		}
		s.MustDo(t, a.AdminToken, `mutation($id: ID!) { deleteEmailAddress(id: $id) }`, map[string]any{"id": out.CreateEmailAddress.ID}, nil)
		if got := list(agentTok); got != "[]" {
			t.Fatalf("after delete %s", got)
		}
		// Given up, the address may be another tenant's.
		s.MustDo(t, bt.AdminToken, create, in("support@acme.example"), nil)
	})
}
