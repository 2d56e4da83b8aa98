package server_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"switchboard/apierror"
	"switchboard/auth"
	"switchboard/internal/testenv"
)

// allocated returns the bytes allocated while f ran, in the whole process:
// server and client share it here, so the figure bounds the server's.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestAbusiveDocumentsAreRefusedCheaply sends the documents that once took
// the server to gigabytes or kept a core busy, signed in and not, and shows
// each refused with a limit's code, no 5xx, no ERROR line, and a few
// megabytes allocated at most.
func TestAbusiveDocumentsAreRefusedCheaply(t *testing.T) {
	var logs logCapture
	s := testenv.NewServerOn(t, testenv.SQLiteURL(t), withLog(&logs)) // refused before any store
	a := s.NewTenant(t, "Acme")
	b := s.NewTenant(t, "Globex")
	_, agentA := s.NewAgent(t, a, "Ann", "ann@acme.test", auth.RoleAgent)

	repeat := func(n int, f string) string {
		var sb strings.Builder
		for i := range n {
			fmt.Fprintf(&sb, " a%d: %s", i, f)
		}
		return sb.String()
	}
	doubling := func(n int, leaf string) string {
		var sb strings.Builder
		fmt.Fprintf(&sb, "query { ...F%d } fragment F0 on Query { %s }", n, leaf)
		for i := 1; i <= n; i++ {
			fmt.Fprintf(&sb, " fragment F%d on Query { ...F%d ...F%d }", i, i-1, i-1)
		}
		return sb.String()
	}
	pages := `{ agents(first: 500) { edges { node { interactions(first: 500) { edges { node { id contactId agent { name } } } } } } } }`
	for _, c := range []struct {
		name, query string
		code        string
	}{
		{"fragments doubling 40 times", doubling(40, "viewer { role }"), string(apierror.ComplexityLimitExceeded)},
		// Fields of one name merge: 2^40 __typename are one, and cheap.
		{"fragments of a scalar doubling 40 times", doubling(40, "__typename"), ""},
		{"1,000 aliases of __schema", "{" + repeat(1000, "__schema { types { name } }") + " }", "BAD_USER_INPUT"}, // over the token limit
		{"ten aliases of __schema", "{" + repeat(10, "__schema { types { name fields { name } } }") + " }", string(apierror.ComplexityLimitExceeded)},
		{"2,000 aliases", "{" + repeat(2000, "__typename") + " }", "BAD_USER_INPUT"},
		{"sixteen aliases", "{" + repeat(16, "__typename") + " }", string(apierror.ComplexityLimitExceeded)},
		{"nested pages of 500", pages, string(apierror.ComplexityLimitExceeded)},
	} {
		for _, who := range []struct{ name, token string }{
			{"no token", ""}, {"agent of A", agentA}, {"admin of B", b.AdminToken},
		} {
			t.Run(c.name+"/"+who.name, func(t *testing.T) {
				var r testenv.Response
				n := allocated(func() { r = s.Do(t, who.token, c.query, nil) })
				refused := r.Data == nil || string(r.Data) == "null"
				if r.Code() != c.code || refused != (c.code != "") {
					t.Fatalf("got %d %s %+v, want code %q", r.Status, r.Data, r.Errors, c.code)
				}
				if r.Status >= 500 {
					t.Fatalf("status %d", r.Status)
				}
				if n > 16<<20 {
					t.Errorf("%d MB allocated to refuse it", n>>20)
				}
			})
		}
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("refusals were logged as errors:\n%s", logs.String())
	}
	if n := serverErrors(t, s); n != 0 {
		t.Errorf("/metrics counts %d 5xx answers", n)
	}
}

// TestPagesWithinTheCostAreServed shows the limit is not a wall: one page
// of 500 agents, as a wallboard asks, is answered.
func TestPagesWithinTheCostAreServed(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		a := s.NewTenant(t, "Acme")
		r := s.Do(t, a.AdminToken, `{ agents(first: 500) { totalCount edges { node { id name email } } } }`, nil)
		if len(r.Errors) > 0 {
			t.Fatalf("refused: %+v", r.Errors)
		}
		r = s.Do(t, a.AdminToken, testenv.ContractOperation(t, "Wallboard"), map[string]any{"first": 500})
		if len(r.Errors) > 0 {
			t.Fatalf("wallboard of 500 refused: %+v", r.Errors)
		}
	})
}
