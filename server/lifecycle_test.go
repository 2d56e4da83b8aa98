package server_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect/sql"
	"github.com/gorilla/websocket"

	"switchboard/auth"
	"switchboard/internal/testenv"
	"switchboard/tenants"
)

// rowsOfTenant counts, in every table that carries a tenant (from ent's
// generated schema, so a new entity is counted too), the rows of the tenant.
func rowsOfTenant(t *testing.T, s *testenv.Server, tenantID string) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range tenants.DeletionOrder() {
		q, args := sql.Dialect(s.Store.Dialect).Select(sql.Count("*")).From(sql.Table(table.Name)).
			Where(sql.EQ(tenants.TenantColumn, tenantID)).Query()
		var n int
		if err := s.Store.DB.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", table.Name, err)
		}
		out[table.Name] = n
	}
	return out
}

func scimStatus(t *testing.T, s *testenv.Server, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/scim/v2/Users", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := s.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// The lifecycle on both stores: unsubscribing refuses every credential of
// the tenant and no other's, keeps every record, and ends its open
// WebSockets with 4403; resubscribing brings everything back; only an
// operator moves it; decommissioning deletes every row of the tenant, in
// every table, and nothing of the other's.
func TestTenantLifecycle(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		op := s.OperatorToken(t)
		A, B := s.NewTenant(t, "Alpha Ltd"), s.NewTenant(t, "Beta Ltd")
		_, agentA := s.NewAgent(t, A, "Ann", "ann@alpha.example", auth.RoleAgent)
		_, agentB := s.NewAgent(t, B, "Bob", "bob@beta.example", auth.RoleAgent)
		scimTokens := map[string]string{}
		for name, tn := range map[string]testenv.Tenant{"A": A, "B": B} {
			var c struct {
				CreateScimToken struct{ Token string } `json:"createScimToken"`
			}
			s.MustDo(t, tn.AdminToken, `mutation { createScimToken(name: "idp") { token } }`, nil, &c)
			scimTokens[name] = c.CreateScimToken.Token
			s.MustDo(t, tn.AdminToken, `mutation { createContact(input: {name: "Org Contact", scope: ORGANISATION}) { id } }`, nil, nil)
			s.MustDo(t, tn.AdminToken, `mutation { createTemplate(input: {name: "Hello", channel: CHAT, body: "Hi {{name}}"}) { id } }`, nil, nil)
		}
		before := map[string]map[string]int{"A": rowsOfTenant(t, s, A.ID), "B": rowsOfTenant(t, s, B.ID)}
		wsA := s.DialWS(t, agentA)
		wsA.Subscribe("1", `subscription { agentStatusChanged { agent { id } } }`, nil)
		wsB := s.DialWS(t, agentB)
		wsB.Subscribe("1", `subscription { agentStatusChanged { agent { id } } }`, nil)

		// Only operators move the lifecycle or change the subscription.
		unsub := `mutation($id: ID!) { unsubscribeTenant(id: $id) { id lifecycle unsubscribedAt } }`
		for who, tok := range map[string]string{"A's admin": A.AdminToken, "B's admin": B.AdminToken, "A's agent": agentA} {
			if r := s.Do(t, tok, unsub, map[string]any{"id": A.ID}); r.Code() != "FORBIDDEN" && r.Code() != "NOT_FOUND" {
				t.Fatalf("%s unsubscribes A: %+v", who, r)
			}
		}
		for _, input := range []string{`{seats: 100000}`, `{product: "premium"}`, `{marketplaceCustomerIdentifier: "x"}`} {
			if r := s.Do(t, A.AdminToken, `mutation($id: ID!) { updateTenant(id: $id, input: `+input+`) { id } }`, map[string]any{"id": A.ID}); r.Code() != "FORBIDDEN" {
				t.Fatalf("A's admin sets %s: %+v", input, r)
			}
		}
		s.MustDo(t, A.AdminToken, `mutation($id: ID!) { updateTenant(id: $id, input: {contactName: "Ann Admin"}) { id } }`, map[string]any{"id": A.ID}, nil)
		s.MustDo(t, op, `mutation($id: ID!) { updateTenant(id: $id, input: {seats: 25}) { id } }`, map[string]any{"id": A.ID}, nil)

		var u struct {
			UnsubscribeTenant struct {
				Lifecycle      string
				UnsubscribedAt *time.Time
			} `json:"unsubscribeTenant"`
		}
		s.MustDo(t, op, unsub, map[string]any{"id": A.ID}, &u)
		if u.UnsubscribeTenant.Lifecycle != "UNSUBSCRIBED" || u.UnsubscribeTenant.UnsubscribedAt == nil {
			t.Fatalf("unsubscribed: %+v", u)
		}
		// Its open WebSocket ends with 4403; B's goes on.
		_ = wsA.Conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			if _, _, err := wsA.Conn.ReadMessage(); err != nil {
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != 4403 {
					t.Fatalf("A's WebSocket ended with %v", err)
				}
				break
			}
		}
		// Every credential of A is refused, with the reason; B's work.
		for _, tok := range []string{agentA, A.AdminToken} {
			r := s.Do(t, tok, `{ viewer { email } }`, nil)
			if r.Code() != "FORBIDDEN" || r.Errors[0].Extensions["reason"] != "TENANT_UNSUBSCRIBED" {
				t.Fatalf("A's token: %+v", r)
			}
		}
		s.MustDo(t, agentB, `{ viewer { email } }`, nil, nil)
		if code := scimStatus(t, s, scimTokens["A"]); code != http.StatusForbidden {
			t.Fatalf("A's SCIM token: %d", code)
		}
		if code := scimStatus(t, s, scimTokens["B"]); code != http.StatusOK {
			t.Fatalf("B's SCIM token: %d", code)
		}
		d := websocket.Dialer{Subprotocols: []string{"graphql-transport-ws"}}
		c, _, err := d.Dial("ws"+strings.TrimPrefix(s.URL, "http")+"/query", nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.WriteJSON(map[string]any{"type": "connection_init", "payload": map[string]any{"Authorization": "Bearer " + agentA}})
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			if _, _, err := c.ReadMessage(); err != nil {
				var ce *websocket.CloseError
				if !errors.As(err, &ce) || ce.Code != 4403 {
					t.Fatalf("A's connection_init: %v", err)
				}
				break
			}
		}
		c.Close()
		// Operators still read it; nothing was touched.
		var tn struct {
			Node struct{ Lifecycle string } `json:"node"`
		}
		s.MustDo(t, op, `query($id: ID!) { node(id: $id) { ... on Tenant { lifecycle } } }`, map[string]any{"id": A.ID}, &tn)
		if tn.Node.Lifecycle != "UNSUBSCRIBED" {
			t.Fatalf("operator reads A: %+v", tn)
		}
		if got := rowsOfTenant(t, s, A.ID); fmt.Sprint(got) != fmt.Sprint(before["A"]) {
			t.Fatalf("A's rows changed while unsubscribed: %v, were %v", got, before["A"])
		}

		// Decommissioning: not while active, not with a wrong name.
		decom := `mutation($id: ID!, $name: String!) { decommissionTenant(id: $id, confirmName: $name) { tenantId deleted { entity count } } }`
		if r := s.Do(t, op, decom, map[string]any{"id": B.ID, "name": "Beta Ltd"}); r.Code() != "CONFLICT" {
			t.Fatalf("an active tenant decommissioned: %+v", r)
		}
		if r := s.Do(t, op, decom, map[string]any{"id": A.ID, "name": "Alpha"}); r.Code() != "BAD_USER_INPUT" {
			t.Fatalf("a wrong confirmName: %+v", r)
		}

		// Resubscribed, everything is there and works.
		s.MustDo(t, op, `mutation($id: ID!) { resubscribeTenant(id: $id) { id lifecycle } }`, map[string]any{"id": A.ID}, nil)
		s.MustDo(t, agentA, `{ viewer { email } }`, nil, nil)
		if code := scimStatus(t, s, scimTokens["A"]); code != http.StatusOK {
			t.Fatalf("A's SCIM token after resubscribing: %d", code)
		}
		if got := rowsOfTenant(t, s, A.ID); fmt.Sprint(got) != fmt.Sprint(before["A"]) {
			t.Fatalf("A's rows after resubscribing: %v, were %v", got, before["A"])
		}

		// Unsubscribed again and decommissioned: no row of A anywhere.
		s.MustDo(t, op, unsub, map[string]any{"id": A.ID}, nil)
		if r := s.Do(t, A.AdminToken, decom, map[string]any{"id": A.ID, "name": "Alpha Ltd"}); r.Code() != "FORBIDDEN" {
			t.Fatalf("A's admin decommissions: %+v", r)
		}
		var out struct {
			DecommissionTenant struct {
				TenantID string
				Deleted  []struct {
					Entity string
					Count  int
				}
			} `json:"decommissionTenant"`
		}
		s.MustDo(t, op, decom, map[string]any{"id": A.ID, "name": "Alpha Ltd"}, &out)
		counts := map[string]int{}
		for _, d := range out.DecommissionTenant.Deleted {
			counts[d.Entity] = d.Count
		}
		if counts["Tenant"] != 1 || counts["Agent"] != 1 || counts["ScimToken"] != 1 || counts["Contact"] != 1 || counts["Template"] != 1 {
			t.Fatalf("deleted: %+v", counts)
		}
		for table, n := range rowsOfTenant(t, s, A.ID) {
			if n != 0 {
				t.Errorf("%s: %d rows of A left", table, n)
			}
		}
		if got := rowsOfTenant(t, s, B.ID); fmt.Sprint(got) != fmt.Sprint(before["B"]) {
			t.Fatalf("B's rows changed: %v, were %v", got, before["B"])
		}
		var gone struct{ Node *struct{ ID string } }
		s.MustDo(t, op, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": A.ID}, &gone)
		if gone.Node != nil {
			t.Fatalf("A still resolves: %+v", gone)
		}
		if r := s.Do(t, agentA, `{ viewer { email } }`, nil); r.Code() != "UNAUTHENTICATED" {
			t.Fatalf("a decommissioned tenant's token: %+v", r)
		}
		s.MustDo(t, agentB, `{ viewer { email } }`, nil, nil)
		_ = wsB
	})
}

// Usage and the billing log through GraphQL: a tenant's admins read their
// own usage only; operators name the tenant; the billing log is theirs.
func TestUsageAndBillingLogPermissions(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		op := s.OperatorToken(t)
		A, B := s.NewTenant(t, "Alpha"), s.NewTenant(t, "Beta")
		_, agentA := s.NewAgent(t, A, "Ann", "ann@alpha.example", auth.RoleAgent)
		now := time.Now().UTC()
		vars := func(tenant string) map[string]any {
			v := map[string]any{"from": now.Add(-3 * time.Hour).Format(time.RFC3339), "to": now.Format(time.RFC3339)}
			if tenant != "" {
				v["tenantId"] = tenant
			}
			return v
		}
		q := `query($from: Time!, $to: Time!, $tenantId: ID) { usage(from: $from, to: $to, tenantId: $tenantId) { hour activeAgentMinutes activeAgents } }`
		var own struct{ Usage []struct{ Hour time.Time } }
		s.MustDo(t, A.AdminToken, q, vars(""), &own)
		// from and to are taken to their hours: [hour of from, the hour after to's).
		if len(own.Usage) != 4 || !own.Usage[0].Hour.Equal(now.Add(-3*time.Hour).Truncate(time.Hour)) {
			t.Fatalf("A's admin: %d hours", len(own.Usage))
		}
		s.MustDo(t, A.AdminToken, q, vars(A.ID), nil)
		s.MustDo(t, op, q, vars(B.ID), nil)
		for _, c := range []struct {
			who, token, tenant, code string
		}{
			{"A's admin, B's usage", A.AdminToken, B.ID, "FORBIDDEN"},
			{"B's admin, A's usage", B.AdminToken, A.ID, "FORBIDDEN"},
			{"A's agent", agentA, "", "FORBIDDEN"},
			{"an operator naming no tenant", op, "", "BAD_USER_INPUT"},
		} {
			if r := s.Do(t, c.token, q, vars(c.tenant)); r.Code() != c.code {
				t.Errorf("%s: %+v", c.who, r)
			}
		}
		long := map[string]any{"from": now.Add(-32 * 24 * time.Hour).Format(time.RFC3339), "to": now.Format(time.RFC3339)}
		if r := s.Do(t, A.AdminToken, q, long); r.Code() != "BAD_USER_INPUT" {
			t.Errorf("32 days: %+v", r)
		}
		bl := `query($id: ID!) { billingLog(tenantId: $id) { totalCount } pendingSubscriptions { id } }`
		if r := s.Do(t, A.AdminToken, bl, map[string]any{"id": A.ID}); r.Code() != "FORBIDDEN" {
			t.Errorf("A's admin reads its billing log: %+v", r)
		}
		s.MustDo(t, op, bl, map[string]any{"id": A.ID}, nil)
	})
}
