package server_test

import (
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"switchboard/auth"
	"switchboard/internal/testenv"
)

func TestUnauthenticated(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		tn := s.NewTenant(t, "Acme")
		good := s.Token(t, auth.Claims{Email: "a@acme.example", Tenant: tn.ID, Role: auth.RoleAdmin})
		expired, err := auth.Mint(s.Secret, auth.Claims{Email: "a@acme.example", Tenant: tn.ID, Role: auth.RoleAdmin}, time.Minute, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		forged, err := auth.Mint([]byte("not-the-server-secret-not-the-server"), auth.Claims{Email: "a@acme.example", Tenant: tn.ID, Role: auth.RoleAdmin}, time.Hour, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{
			"iss": "switchboard", "sub": "x", "email": "a@acme.example", "tenant": tn.ID, "role": "admin",
			"exp": time.Now().Add(time.Hour).Unix(),
		})
		algNone, err := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name, token string
			wantCode    string
		}{
			{"no token", "", "UNAUTHENTICATED"},
			{"garbage", "not.a.token", "UNAUTHENTICATED"},
			{"forged", forged, "UNAUTHENTICATED"},
			{"expired", expired, "UNAUTHENTICATED"},
			{"alg none", algNone, "UNAUTHENTICATED"},
			{"valid", good, ""},
		}
		ops := []struct{ name, query string }{
			{"query", `{ viewer { id email } }`},
			{"mutation", `mutation { createAgentStatus(input: {name: "Lunch", type: CUSTOM}) { id } }`},
			{"node", `query($id: ID!) { node(id: $id) { id } }`},
		}
		for _, c := range cases {
			for _, op := range ops {
				t.Run(c.name+"/"+op.name, func(t *testing.T) {
					r := s.Do(t, c.token, op.query, map[string]any{"id": tn.ID})
					if r.Code() != c.wantCode {
						t.Fatalf("code = %q, want %q (errors %+v)", r.Code(), c.wantCode, r.Errors)
					}
					if c.wantCode != "" && string(r.Data) != "null" && string(r.Data) != `{"node":null}` {
						t.Fatalf("data leaked without a valid token: %s", r.Data)
					}
				})
			}
		}
		// Nothing was written by the refused mutations.
		var out struct {
			AgentStatuses []struct{ Name string } `json:"agentStatuses"`
		}
		s.MustDo(t, good, `{ agentStatuses { name } }`, nil, &out)
		if len(out.AgentStatuses) != 1 {
			t.Fatalf("want only the valid token's status, got %+v", out.AgentStatuses)
		}
	})
}

func TestIntrospectionWithoutToken(t *testing.T) {
	s := testenv.NewServer(t, testenv.Backends()[0])
	var out struct {
		Schema struct {
			QueryType struct{ Name string } `json:"queryType"`
		} `json:"__schema"`
	}
	s.MustDo(t, "", `{ __schema { queryType { name } } }`, nil, &out)
	if out.Schema.QueryType.Name != "Query" {
		t.Fatalf("introspection: %+v", out)
	}
	// Introspection together with data still needs a token for the data.
	r := s.Do(t, "", `{ __typename viewer { id } }`, nil)
	if r.Code() != "UNAUTHENTICATED" {
		t.Fatalf("code = %q", r.Code())
	}
}
