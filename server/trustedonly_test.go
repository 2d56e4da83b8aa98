package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"switchboard/apierror"
	"switchboard/auth"
	"switchboard/cmd/switchboard/wire"
	"switchboard/internal/testenv"
	"switchboard/server/trusted"
)

const introspect = `{ __schema { queryType { name } } }`

// TestTrustedDocuments: with the setting on, agents, supervisors and
// callers without a token run the front ends' documents only — by text,
// laid out as they like, or by hash alone — while a tenant's admins and
// the operators run anything and introspect. Off, anyone signed in runs
// what they like.
func TestTrustedDocuments(t *testing.T) {
	on := testenv.NewServerOn(t, testenv.SQLiteURL(t), func(c *wire.Config) { c.TrustedDocuments = true })
	a := on.NewTenant(t, "Acme")
	b := on.NewTenant(t, "Globex")
	_, agentA := on.NewAgent(t, a, "Ann", "ann@acme.test", auth.RoleAgent)
	_, supB := on.NewAgent(t, b, "Sam", "sam@globex.test", auth.RoleSupervisor)
	op := on.OperatorToken(t)
	bootstrap := testenv.ContractOperation(t, "DesktopBootstrap")
	own := `{ viewer { email } }`

	for _, c := range []struct {
		name, token, query, code string
	}{
		{"agent, a trusted document", agentA, bootstrap, ""},
		{"agent, laid out otherwise", agentA, "# mine\n" + strings.Join(strings.Fields(bootstrap), " "), ""},
		{"agent, own query", agentA, own, string(apierror.DocumentNotTrusted)},
		{"agent, introspection", agentA, introspect, string(apierror.DocumentNotTrusted)},
		{"other tenant's supervisor, own query", supB, own, string(apierror.DocumentNotTrusted)},
		{"no token, introspection", "", introspect, string(apierror.DocumentNotTrusted)},
		{"admin, own query", a.AdminToken, own, ""},
		{"admin, introspection", a.AdminToken, introspect, ""},
		{"other tenant's admin, introspection", b.AdminToken, introspect, ""},
		{"operator, introspection", op, introspect, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := on.Do(t, c.token, c.query, nil)
			if r.Code() != c.code {
				t.Fatalf("got %s %+v, want code %q", r.Data, r.Errors, c.code)
			}
		})
	}

	// By hash alone, as an automatic persisted query.
	doc := trusted.Contract()
	var hash string
	for _, d := range doc.Documents() {
		if d.Name == "DesktopBootstrap" {
			hash = d.Hash
		}
	}
	body, _ := json.Marshal(map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}})
	req, _ := http.NewRequest(http.MethodPost, on.URL+"/query", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+agentA)
	res, err := on.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var r testenv.Response
	_ = json.NewDecoder(res.Body).Decode(&r)
	res.Body.Close()
	if len(r.Errors) > 0 || !strings.Contains(string(r.Data), "ann@acme.test") {
		t.Fatalf("by hash: %s %+v", r.Data, r.Errors)
	}

	// Over a WebSocket too.
	ws := on.DialWS(t, agentA)
	ws.Subscribe("own", own, nil)
	if m := ws.Read(5 * time.Second); !strings.Contains(string(m.Payload), string(apierror.DocumentNotTrusted)) {
		t.Fatalf("own query over WebSocket: %+v %s", m, m.Payload)
	}

	off := testenv.NewServerOn(t, testenv.SQLiteURL(t))
	c := off.NewTenant(t, "Initech")
	_, agentC := off.NewAgent(t, c, "Cy", "cy@initech.test", auth.RoleAgent)
	if r := off.Do(t, agentC, own, nil); len(r.Errors) > 0 {
		t.Fatalf("off, an agent's own query: %+v", r.Errors)
	}
}
