package server_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"switchboard/internal/fakeaws"
	"switchboard/internal/testenv"
)

func TestConversations(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		f := newConnectFixture(t, b)
		start := testenv.ContractOperation(t, "StartConversation")
		type conv struct {
			ID, Channel, ExternalID, ConnectContactID, Status string
			EndedAt                                           *string
		}
		const secret = "my card number is 4111 1111 1111 1111"
		var started struct{ StartConversation conv }
		f.s.MustDo(t, f.alexTok, start, map[string]any{"input": map[string]any{
			"channel": "SMS", "externalId": "+61412345678", "participant": "Jordan", "initialMessage": secret,
		}}, &started)
		c := started.StartConversation
		if c.Status != "ACTIVE" || c.ConnectContactID == "" || c.Channel != "SMS" || c.ExternalID != "+61412345678" {
			t.Fatalf("started %+v", c)
		}
		chats := f.connect.RequestsFor(fakeaws.OpStartChatContact)
		if len(chats) != 1 || !strings.Contains(string(chats[0].Body), `"flow-chat"`) || !strings.Contains(string(chats[0].Body), secret) {
			t.Fatalf("StartChatContact requests: %+v", chats)
		}
		// Starting it again returns the active one; no second chat.
		var again struct{ StartConversation conv }
		f.s.MustDo(t, f.alexTok, start, map[string]any{"input": map[string]any{"channel": "SMS", "externalId": "+61412345678"}}, &again)
		if again.StartConversation.ID != c.ID || len(f.connect.RequestsFor(fakeaws.OpStartChatContact)) != 1 {
			t.Fatalf("restart: %+v", again)
		}
		// Another agent of the tenant cannot take it over; tenant B knows nothing of it.
		if r := f.s.Do(t, f.beaTok, start, map[string]any{"input": map[string]any{"channel": "SMS", "externalId": "+61412345678"}}); r.Code() != "CONFLICT" {
			t.Fatalf("bea starts alex's conversation: %q %+v", r.Code(), r.Errors)
		}
		if r := f.s.Do(t, f.cyTok, start, map[string]any{"input": map[string]any{"channel": "SMS", "externalId": "+1555"}}); r.Code() != "BAD_USER_INPUT" {
			t.Fatalf("tenant B without an instance: %q", r.Code())
		}
		list := func(token string) []string {
			var out struct {
				Conversations struct {
					TotalCount int
					Edges      []struct {
						Node struct {
							ID    string
							Agent struct{ ID string }
						}
					}
				}
			}
			f.s.MustDo(t, token, testenv.ContractOperation(t, "Conversations"), nil, &out)
			var ids []string
			for _, e := range out.Conversations.Edges {
				ids = append(ids, e.Node.ID)
			}
			return ids
		}
		if got := list(f.alexTok); fmt.Sprint(got) != fmt.Sprint([]string{c.ID}) {
			t.Fatalf("alex lists %v", got)
		}
		if got := list(f.supTok); len(got) != 1 {
			t.Fatalf("the supervisor lists %v", got)
		}
		for _, tok := range []string{f.beaTok, f.cyTok, f.b.AdminToken} {
			if got := list(tok); len(got) != 0 {
				t.Fatalf("another lists %v", got)
			}
		}
		end := testenv.ContractOperation(t, "EndConversation")
		for _, tok := range []string{f.beaTok, f.cyTok, f.b.AdminToken} {
			if r := f.s.Do(t, tok, end, map[string]any{"id": c.ID}); r.Code() != "NOT_FOUND" {
				t.Fatalf("another ends it: %q", r.Code())
			}
		}
		// Connect refuses to start: UPSTREAM and nothing recorded.
		f.connect.Fail(fakeaws.OpStartChatContact, fakeaws.Failure{Status: 400, Code: "InvalidRequestException", Message: "bad flow", Times: 1})
		if r := f.s.Do(t, f.alexTok, start, map[string]any{"input": map[string]any{"channel": "WHATSAPP", "externalId": "+61400000000"}}); r.Code() != "UPSTREAM" {
			t.Fatalf("refused start: %q", r.Code())
		}
		if got := list(f.alexTok); len(got) != 1 {
			t.Fatalf("a refused start was recorded: %v", got)
		}
		var ended struct{ EndConversation conv }
		f.s.MustDo(t, f.alexTok, end, map[string]any{"id": c.ID}, &ended)
		if ended.EndConversation.Status != "ENDED" || ended.EndConversation.EndedAt == nil {
			t.Fatalf("ended %+v", ended)
		}
		if ct, ok := f.connect.Contact(c.ConnectContactID); !ok || !ct.Stopped {
			t.Fatalf("the Connect contact was not stopped: %+v", ct)
		}
		// After it ended, the party may start anew.
		f.s.MustDo(t, f.alexTok, start, map[string]any{"input": map[string]any{"channel": "SMS", "externalId": "+61412345678"}}, &again)
		if again.StartConversation.ID == c.ID {
			t.Fatal("an ended conversation was returned as active")
		}

		// No message text anywhere in the store (the scan does find what is stored).
		if !stored(t, f.s, "+61412345678") {
			t.Fatal("the store scan misses what is stored")
		}
		if stored(t, f.s, secret) {
			t.Fatal("the store holds the message text")
		}
	})
}

// stored reports whether any column of any table holds needle.
func stored(t *testing.T, s *testenv.Server, needle string) bool {
	t.Helper()
	db := s.Store.DB
	var tables []string
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if s.Store.Dialect == "postgres" {
		q = `SELECT tablename FROM pg_tables WHERE schemaname = 'public'`
	}
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		_ = rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) < 10 {
		t.Fatalf("only %d tables found", len(tables))
	}
	for _, table := range tables {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			row, _ := json.Marshal(vals)
			if strings.Contains(string(row), needle) {
				rows.Close()
				return true
			}
			for _, v := range vals {
				if b, ok := v.([]byte); ok && strings.Contains(string(b), needle) {
					rows.Close()
					return true
				}
			}
		}
		rows.Close()
	}
	var _ *sql.DB = db
	return false
}
