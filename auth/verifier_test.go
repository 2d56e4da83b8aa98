package auth_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"switchboard/auth"
)

var (
	testNow    = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	testSecret = []byte("0123456789abcdef0123456789abcdef")
)

func fixedNow() time.Time { return testNow }

func sameClaims(a, b auth.Claims) bool {
	ea, eb := a.ExpiresAt, b.ExpiresAt
	a.ExpiresAt, b.ExpiresAt = time.Time{}, time.Time{}
	return a == b && ea.Equal(eb)
}

// localClaims returns the claims of a valid locally minted agent token; cases
// modify the map to break one rule at a time.
func localClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"iss":    auth.LocalIssuer,
		"sub":    "user-1",
		"email":  "ada@example.com",
		"name":   "Ada",
		"tenant": "tenant-1",
		"role":   "agent",
		"iat":    testNow.Add(-time.Minute).Unix(),
		"exp":    testNow.Add(time.Hour).Unix(),
	}
}

func signHS(t *testing.T, method jwt.SigningMethod, key []byte, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func newRSAKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate RSA key: %v", err)
	}
	return k
}

func signRS(t *testing.T, key *rsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign RS256: %v", err)
	}
	return s
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	out := jwt.MapClaims{}
	for key, val := range c {
		out[key] = val
	}
	if v == nil {
		delete(out, k)
	} else {
		out[k] = v
	}
	return out
}

// checkResult asserts that err matches wantErr (a substring of the
// client-facing message, or "" for success) and that failures wrap
// ErrUnauthenticated without leaking secrets or the token.
func checkResult(t *testing.T, token string, got auth.Claims, err error, wantErr string) {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Fatalf("Verify: unexpected error %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("Verify succeeded with %+v, want error containing %q", got, wantErr)
	}
	if !errors.Is(err, auth.ErrUnauthenticated) {
		t.Errorf("error %v does not wrap ErrUnauthenticated", err)
	}
	if !strings.Contains(err.Error(), wantErr) {
		t.Errorf("error %q does not contain %q", err, wantErr)
	}
	if strings.Contains(err.Error(), string(testSecret)) || (len(token) > 20 && strings.Contains(err.Error(), token)) {
		t.Errorf("error %q leaks secret or token", err)
	}
	if got != (auth.Claims{}) {
		t.Errorf("claims %+v returned with error", got)
	}
}

func TestVerifyLocal(t *testing.T) {
	ctx := context.Background()
	v, err := auth.NewVerifier(ctx, auth.Options{Secret: testSecret, Now: fixedNow})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	rsaKey := newRSAKey(t)

	minted, err := auth.Mint(testSecret, auth.Claims{Email: "ada@example.com", Name: "Ada", Tenant: "tenant-1", Role: auth.RoleSupervisor}, time.Hour, testNow)
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	noneToken, err := jwt.NewWithClaims(jwt.SigningMethodNone, localClaims()).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatalf("sign none: %v", err)
	}

	tests := []struct {
		name    string
		token   string
		want    auth.Claims
		wantErr string
	}{
		{
			name:  "valid HS256",
			token: signHS(t, jwt.SigningMethodHS256, testSecret, localClaims()),
			want: auth.Claims{Subject: "user-1", Email: "ada@example.com", Name: "Ada", Tenant: "tenant-1",
				Role: auth.RoleAgent, ExpiresAt: testNow.Add(time.Hour)},
		},
		{
			name:  "valid minted",
			token: minted,
			want: auth.Claims{Subject: "ada@example.com", Email: "ada@example.com", Name: "Ada", Tenant: "tenant-1",
				Role: auth.RoleSupervisor, ExpiresAt: testNow.Add(time.Hour)},
		},
		{
			name:  "operator without tenant",
			token: signHS(t, jwt.SigningMethodHS256, testSecret, with(with(localClaims(), "role", "operator"), "tenant", nil)),
			want: auth.Claims{Subject: "user-1", Email: "ada@example.com", Name: "Ada",
				Role: auth.RoleOperator, ExpiresAt: testNow.Add(time.Hour)},
		},
		{
			name:  "expired within leeway",
			token: signHS(t, jwt.SigningMethodHS256, testSecret, with(localClaims(), "exp", testNow.Add(-10*time.Second).Unix())),
			want: auth.Claims{Subject: "user-1", Email: "ada@example.com", Name: "Ada", Tenant: "tenant-1",
				Role: auth.RoleAgent, ExpiresAt: testNow.Add(-10 * time.Second)},
		},
		{name: "forged with wrong secret", token: signHS(t, jwt.SigningMethodHS256, []byte("not-the-secret-not-the-secret-!!"), localClaims()), wantErr: "invalid signature"},
		{name: "expired", token: signHS(t, jwt.SigningMethodHS256, testSecret, with(localClaims(), "exp", testNow.Add(-time.Hour).Unix())), wantErr: "token expired"},
		{name: "missing exp", token: signHS(t, jwt.SigningMethodHS256, testSecret, with(localClaims(), "exp", nil)), wantErr: "no expiry"},
		{name: "not valid yet", token: signHS(t, jwt.SigningMethodHS256, testSecret, with(localClaims(), "nbf", testNow.Add(time.Hour).Unix())), wantErr: "not valid yet"},
		{name: "alg none", token: noneToken, wantErr: "unsupported signing algorithm"},
		{name: "alg none without signature", token: strings.TrimSuffix(noneToken, "."), wantErr: "malformed"},
		{name: "HS384 with local secret", token: signHS(t, jwt.SigningMethodHS384, testSecret, localClaims()), wantErr: "invalid signature"},
		{name: "RS256 by unknown key claiming local issuer", token: signRS(t, rsaKey, "k", localClaims()), wantErr: "invalid signature"},
		{name: "RS256 by unknown key, other issuer", token: signRS(t, rsaKey, "k", with(localClaims(), "iss", "https://idp.example.com")), wantErr: "unknown issuer"},
		{name: "wrong issuer", token: signHS(t, jwt.SigningMethodHS256, testSecret, with(localClaims(), "iss", "someone-else")), wantErr: "unknown issuer"},
		{name: "missing issuer", token: signHS(t, jwt.SigningMethodHS256, testSecret, with(localClaims(), "iss", nil)), wantErr: "unknown issuer"},
		{name: "wrong role string", token: signHS(t, jwt.SigningMethodHS256, testSecret, with(localClaims(), "role", "superuser")), wantErr: "invalid role"},
		{name: "role with wrong case", token: signHS(t, jwt.SigningMethodHS256, testSecret, with(localClaims(), "role", "Admin")), wantErr: "invalid role"},
		{name: "missing role", token: signHS(t, jwt.SigningMethodHS256, testSecret, with(localClaims(), "role", nil)), wantErr: "invalid role"},
		{name: "agent without tenant", token: signHS(t, jwt.SigningMethodHS256, testSecret, with(localClaims(), "tenant", nil)), wantErr: "tenant required"},
		{name: "admin with empty tenant", token: signHS(t, jwt.SigningMethodHS256, testSecret, with(with(localClaims(), "role", "admin"), "tenant", "")), wantErr: "tenant required"},
		{name: "operator with tenant", token: signHS(t, jwt.SigningMethodHS256, testSecret, with(localClaims(), "role", "operator")), wantErr: "operator tokens must not carry a tenant"},
		{name: "numeric tenant", token: signHS(t, jwt.SigningMethodHS256, testSecret, with(localClaims(), "tenant", 42)), wantErr: "malformed"},
		{name: "missing email", token: signHS(t, jwt.SigningMethodHS256, testSecret, with(localClaims(), "email", nil)), wantErr: "missing email"},
		{name: "missing subject", token: signHS(t, jwt.SigningMethodHS256, testSecret, with(localClaims(), "sub", nil)), wantErr: "missing subject"},
		{name: "empty token", token: "", wantErr: "missing token"},
		{name: "garbage", token: "not.a.jwt", wantErr: "malformed"},
		{name: "oversized", token: strings.Repeat("a", 20000), wantErr: "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := v.Verify(ctx, tt.token)
			checkResult(t, tt.token, got, err, tt.wantErr)
			if tt.wantErr == "" && !sameClaims(got, tt.want) {
				t.Errorf("claims = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestVerifyLocalDisabledWithoutSecret(t *testing.T) {
	srv, _ := newOIDCServer(t)
	v, err := auth.NewVerifier(context.Background(), auth.Options{Issuer: srv.URL, HTTPClient: srv.Client(), Now: fixedNow})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	token := signHS(t, jwt.SigningMethodHS256, testSecret, localClaims())
	got, err := v.Verify(context.Background(), token)
	checkResult(t, token, got, err, "local tokens are not accepted")
}

func TestNewVerifierRequiresAKey(t *testing.T) {
	if _, err := auth.NewVerifier(context.Background(), auth.Options{}); err == nil {
		t.Fatal("NewVerifier with neither secret nor issuer succeeded")
	}
}

func TestMint(t *testing.T) {
	good := auth.Claims{Email: "ada@example.com", Tenant: "t1", Role: auth.RoleAgent}
	tests := []struct {
		name    string
		secret  []byte
		claims  auth.Claims
		ttl     time.Duration
		wantErr bool
	}{
		{name: "agent", secret: testSecret, claims: good, ttl: time.Hour},
		{name: "explicit subject", secret: testSecret, claims: auth.Claims{Subject: "u-9", Email: "ada@example.com", Tenant: "t1", Role: auth.RoleAdmin}, ttl: time.Minute},
		{name: "operator", secret: testSecret, claims: auth.Claims{Email: "ops@example.com", Role: auth.RoleOperator}, ttl: time.Hour},
		{name: "empty secret", claims: good, ttl: time.Hour, wantErr: true},
		{name: "zero ttl", secret: testSecret, claims: good, wantErr: true},
		{name: "negative ttl", secret: testSecret, claims: good, ttl: -time.Hour, wantErr: true},
		{name: "unknown role", secret: testSecret, claims: auth.Claims{Email: "a@b.c", Tenant: "t1", Role: "root"}, ttl: time.Hour, wantErr: true},
		{name: "agent without tenant", secret: testSecret, claims: auth.Claims{Email: "a@b.c", Role: auth.RoleAgent}, ttl: time.Hour, wantErr: true},
		{name: "operator with tenant", secret: testSecret, claims: auth.Claims{Email: "a@b.c", Tenant: "t1", Role: auth.RoleOperator}, ttl: time.Hour, wantErr: true},
		{name: "missing email", secret: testSecret, claims: auth.Claims{Tenant: "t1", Role: auth.RoleAgent}, ttl: time.Hour, wantErr: true},
	}
	v, err := auth.NewVerifier(context.Background(), auth.Options{Secret: testSecret, Now: fixedNow})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, err := auth.Mint(tt.secret, tt.claims, tt.ttl, testNow)
			if tt.wantErr {
				if err == nil {
					t.Fatal("Mint succeeded, want error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Mint: %v", err)
			}
			got, err := v.Verify(context.Background(), token)
			if err != nil {
				t.Fatalf("Verify minted token: %v", err)
			}
			want := tt.claims
			if want.Subject == "" {
				want.Subject = want.Email
			}
			want.ExpiresAt = testNow.Add(tt.ttl)
			if !sameClaims(got, want) {
				t.Errorf("claims = %+v, want %+v", got, want)
			}

			var reg jwt.RegisteredClaims
			if _, _, err := jwt.NewParser().ParseUnverified(token, &reg); err != nil {
				t.Fatalf("parse minted token: %v", err)
			}
			if reg.Issuer != "switchboard" || reg.IssuedAt == nil || !reg.IssuedAt.Equal(testNow) {
				t.Errorf("iss/iat = %q/%v, want switchboard/%v", reg.Issuer, reg.IssuedAt, testNow)
			}
		})
	}
}

func TestParseRole(t *testing.T) {
	tests := []struct {
		in      string
		want    auth.Role
		wantErr bool
	}{
		{in: "agent", want: auth.RoleAgent},
		{in: "supervisor", want: auth.RoleSupervisor},
		{in: "admin", want: auth.RoleAdmin},
		{in: "operator", want: auth.RoleOperator},
		{in: "", wantErr: true},
		{in: "Agent", wantErr: true},
		{in: "root", wantErr: true},
		{in: " admin", wantErr: true},
	}
	for _, tt := range tests {
		got, err := auth.ParseRole(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseRole(%q) = %q, %v; want %q, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	if !auth.RoleAdmin.TenantScoped() || auth.RoleOperator.TenantScoped() {
		t.Error("TenantScoped: admin must be tenant-scoped and operator must not")
	}
}

func TestParseBearer(t *testing.T) {
	tests := []struct {
		header string
		want   string
		ok     bool
	}{
		{header: "Bearer abc.def.ghi", want: "abc.def.ghi", ok: true},
		{header: "bearer abc.def.ghi", want: "abc.def.ghi", ok: true},
		{header: "BEARER abc", want: "abc", ok: true},
		{header: "  Bearer   abc  ", want: "abc", ok: true},
		{header: ""},
		{header: "Bearer"},
		{header: "Bearer "},
		{header: "Basic dXNlcjpwYXNz"},
		{header: "Bearerabc"},
		{header: "Bearer abc def"},
		{header: "Token abc"},
	}
	for _, tt := range tests {
		got, ok := auth.ParseBearer(tt.header)
		if got != tt.want || ok != tt.ok {
			t.Errorf("ParseBearer(%q) = %q, %v; want %q, %v", tt.header, got, ok, tt.want, tt.ok)
		}
	}
}
