package server_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"switchboard/auth"
	"switchboard/internal/testenv"
)

func TestTemplates(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		a, bt := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
		_, agentTok := s.NewAgent(t, a, "Alex", "alex@acme.example", auth.RoleAgent)
		_, otherTok := s.NewAgent(t, bt, "Cy", "cy@bolt.example", auth.RoleAgent)
		create := testenv.ContractOperation(t, "CreateTemplate")
		type tmpl struct{ ID, Name, Channel, Body string }
		var chat, sms struct{ CreateTemplate tmpl }
		s.MustDo(t, a.AdminToken, create, map[string]any{"input": map[string]any{
			"name": "Greeting", "channel": "CHAT",
			"body": `<p onclick="steal()">Hello {{customer.firstName}}</p><script>alert(1)</script><a href="javascript:x()">x</a>`,
		}}, &chat)
		s.MustDo(t, a.AdminToken, create, map[string]any{"input": map[string]any{
			"name": "Callback", "channel": "SMS", "body": "Hi {{name}}, we'll call you back <soon>.",
		}}, &sms)
		if b := strings.ToLower(chat.CreateTemplate.Body); strings.Contains(b, "<script") || strings.Contains(b, "onclick") || strings.Contains(b, "javascript:") {
			t.Fatalf("a stored template keeps unsafe HTML: %s", chat.CreateTemplate.Body)
		}
		if sms.CreateTemplate.Body != "Hi {{name}}, we'll call you back <soon>." {
			t.Fatalf("an SMS body was changed: %q", sms.CreateTemplate.Body)
		}

		for _, c := range []struct {
			who, token, want string
		}{
			{"agent", agentTok, "FORBIDDEN"},
			{"another tenant's admin", bt.AdminToken, ""},
		} {
			r := s.Do(t, c.token, create, map[string]any{"input": map[string]any{"name": "X", "channel": "SMS", "body": "x"}})
			if r.Code() != c.want {
				t.Errorf("%s creates: %q", c.who, r.Code())
			}
		}
		list := func(token string, channel any) []string {
			var out struct{ Templates []tmpl }
			s.MustDo(t, token, testenv.ContractOperation(t, "Templates"), map[string]any{"channel": channel}, &out)
			var names []string
			for _, t := range out.Templates {
				names = append(names, t.Name)
			}
			return names
		}
		if got := fmt.Sprint(list(agentTok, nil)); got != "[Callback Greeting]" {
			t.Fatalf("agent lists %s", got)
		}
		if got := fmt.Sprint(list(agentTok, "SMS")); got != "[Callback]" {
			t.Fatalf("agent lists SMS %s", got)
		}
		if got := fmt.Sprint(list(otherTok, nil)); got != "[X]" {
			t.Fatalf("tenant B lists %s", got)
		}

		render := testenv.ContractOperation(t, "RenderTemplate")
		var out struct {
			RenderTemplate struct {
				Text, HTML  string
				SmsSegments int
			}
		}
		s.MustDo(t, agentTok, render, map[string]any{"id": chat.CreateTemplate.ID, "variables": []map[string]any{
			{"name": "customer.firstName", "value": "<b>Jo</b>"},
		}}, &out)
		if out.RenderTemplate.Text != "Hello <b>Jo</b>\nx" && out.RenderTemplate.Text != "Hello <b>Jo</b>x" {
			t.Errorf("text %q", out.RenderTemplate.Text)
		}
		if strings.Contains(out.RenderTemplate.HTML, "<b>Jo") || !strings.Contains(out.RenderTemplate.HTML, "&lt;b&gt;Jo") {
			t.Errorf("html %q does not escape the value", out.RenderTemplate.HTML)
		}
		var unknown struct {
			RenderTemplate struct{ UnknownPlaceholders []string }
		}
		s.MustDo(t, agentTok, `query($id: ID!) { renderTemplate(id: $id) { unknownPlaceholders } }`, map[string]any{"id": sms.CreateTemplate.ID}, &unknown)
		if fmt.Sprint(unknown.RenderTemplate.UnknownPlaceholders) != "[name]" {
			t.Errorf("unknown %v", unknown.RenderTemplate.UnknownPlaceholders)
		}
		s.MustDo(t, agentTok, render, map[string]any{"id": sms.CreateTemplate.ID, "variables": []map[string]any{{"name": "name", "value": strings.Repeat("x", 130)}}}, &out)
		if out.RenderTemplate.SmsSegments != 2 {
			t.Errorf("segments %d", out.RenderTemplate.SmsSegments)
		}
		// Tenant B reaches none of A's templates.
		var node struct{ Node json.RawMessage }
		s.MustDo(t, otherTok, `query($id: ID!) { node(id: $id) { id } }`, map[string]any{"id": chat.CreateTemplate.ID}, &node)
		if string(node.Node) != "null" {
			t.Errorf("tenant B reads A's template")
		}
		if r := s.Do(t, otherTok, render, map[string]any{"id": chat.CreateTemplate.ID}); r.Code() != "NOT_FOUND" {
			t.Errorf("tenant B renders A's template: %q", r.Code())
		}
		for _, m := range []string{
			`mutation($id: ID!) { updateTemplate(id: $id, input: {body: "pwned"}) { id } }`,
			`mutation($id: ID!) { deleteTemplate(id: $id) }`,
		} {
			if r := s.Do(t, bt.AdminToken, m, map[string]any{"id": chat.CreateTemplate.ID}); r.Code() != "NOT_FOUND" {
				t.Errorf("tenant B's admin: %s: %q", m, r.Code())
			}
			if r := s.Do(t, agentTok, m, map[string]any{"id": chat.CreateTemplate.ID}); r.Code() != "FORBIDDEN" && r.Code() != "NOT_FOUND" {
				t.Errorf("agent: %s: %q", m, r.Code())
			}
		}
		// An update is sanitised too.
		var upd struct{ UpdateTemplate tmpl }
		s.MustDo(t, a.AdminToken, `mutation($id: ID!) { updateTemplate(id: $id, input: {body: "<p>ok</p><script>x</script>"}) { body } }`, map[string]any{"id": chat.CreateTemplate.ID}, &upd)
		if upd.UpdateTemplate.Body != "<p>ok</p>" {
			t.Errorf("updated body %q", upd.UpdateTemplate.Body)
		}
	})
}
