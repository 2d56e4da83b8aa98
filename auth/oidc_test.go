package auth_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"switchboard/auth"
)

const (
	testKID      = "test-key-1"
	testAudience = "switchboard-api"
)

// newOIDCServer starts an httptest server acting as an OpenID Connect issuer:
// it serves the discovery document and a JWKS holding the public half of a
// freshly generated RSA key, which it returns for signing test tokens.
func newOIDCServer(t *testing.T) (*httptest.Server, *rsa.PrivateKey) {
	t.Helper()
	key := newRSAKey(t)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{
			"issuer":                                srv.URL,
			"authorization_endpoint":                srv.URL + "/authorize",
			"token_endpoint":                        srv.URL + "/token",
			"jwks_uri":                              srv.URL + "/jwks",
			"response_types_supported":              []string{"code"},
			"subject_types_supported":               []string{"public"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		pub := key.PublicKey
		writeJSON(w, map[string]any{"keys": []map[string]string{{
			"kty": "RSA",
			"use": "sig",
			"alg": "RS256",
			"kid": testKID,
			"n":   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		}}})
	})
	return srv, key
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func oidcClaims(issuer string) jwt.MapClaims {
	return jwt.MapClaims{
		"iss":    issuer,
		"sub":    "idp|12345",
		"aud":    testAudience,
		"email":  "grace@example.com",
		"name":   "Grace",
		"tenant": "tenant-7",
		"role":   "admin",
		"iat":    testNow.Add(-time.Minute).Unix(),
		"exp":    testNow.Add(time.Hour).Unix(),
	}
}

func TestVerifyOIDC(t *testing.T) {
	ctx := context.Background()
	srv, key := newOIDCServer(t)
	otherKey := newRSAKey(t)

	v, err := auth.NewVerifier(ctx, auth.Options{
		Secret:     testSecret,
		Issuer:     srv.URL,
		Audience:   testAudience,
		HTTPClient: srv.Client(),
		Now:        fixedNow,
	})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}

	base := oidcClaims(srv.URL)
	pubDER, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	noneToken, err := jwt.NewWithClaims(jwt.SigningMethodNone, base).SignedString(jwt.UnsafeAllowNoneSignatureType)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		token   string
		want    auth.Claims
		wantErr string
	}{
		{
			name:  "valid",
			token: signRS(t, key, testKID, base),
			want: auth.Claims{Subject: "idp|12345", Email: "grace@example.com", Name: "Grace", Tenant: "tenant-7",
				Role: auth.RoleAdmin, ExpiresAt: testNow.Add(time.Hour)},
		},
		{
			name:  "valid with audience list",
			token: signRS(t, key, testKID, with(base, "aud", []string{"other-api", testAudience})),
			want: auth.Claims{Subject: "idp|12345", Email: "grace@example.com", Name: "Grace", Tenant: "tenant-7",
				Role: auth.RoleAdmin, ExpiresAt: testNow.Add(time.Hour)},
		},
		{
			name:  "operator",
			token: signRS(t, key, testKID, with(with(base, "role", "operator"), "tenant", nil)),
			want: auth.Claims{Subject: "idp|12345", Email: "grace@example.com", Name: "Grace",
				Role: auth.RoleOperator, ExpiresAt: testNow.Add(time.Hour)},
		},
		{
			name:  "expired within leeway",
			token: signRS(t, key, testKID, with(base, "exp", testNow.Add(-10*time.Second).Unix())),
			want: auth.Claims{Subject: "idp|12345", Email: "grace@example.com", Name: "Grace", Tenant: "tenant-7",
				Role: auth.RoleAdmin, ExpiresAt: testNow.Add(-10 * time.Second)},
		},
		{name: "wrong audience", token: signRS(t, key, testKID, with(base, "aud", "someone-else")), wantErr: "invalid audience"},
		{name: "missing audience", token: signRS(t, key, testKID, with(base, "aud", nil)), wantErr: "invalid audience"},
		{name: "wrong issuer", token: signRS(t, key, testKID, with(base, "iss", "https://evil.example.com")), wantErr: "unknown issuer"},
		{name: "issuer with extra path", token: signRS(t, key, testKID, with(base, "iss", srv.URL+"/tenant")), wantErr: "unknown issuer"},
		{name: "expired", token: signRS(t, key, testKID, with(base, "exp", testNow.Add(-time.Hour).Unix())), wantErr: "token expired"},
		{name: "missing exp", token: signRS(t, key, testKID, with(base, "exp", nil)), wantErr: "no expiry"},
		{name: "signed by another key, same kid", token: signRS(t, otherKey, testKID, base), wantErr: "invalid token"},
		{name: "signed by another key, unknown kid", token: signRS(t, otherKey, "unknown-kid", base), wantErr: "invalid token"},
		{name: "signed by another key, no kid", token: signRS(t, otherKey, "", base), wantErr: "invalid token"},
		{name: "HS256 keyed with issuer public key", token: signHS(t, jwt.SigningMethodHS256, pubPEM, base), wantErr: "invalid token"},
		{name: "HS256 with local secret claiming OIDC issuer", token: signHS(t, jwt.SigningMethodHS256, testSecret, base), wantErr: "invalid token"},
		{name: "alg none", token: noneToken, wantErr: "unsupported signing algorithm"},
		{name: "wrong role string", token: signRS(t, key, testKID, with(base, "role", "owner")), wantErr: "invalid role"},
		{name: "agent without tenant", token: signRS(t, key, testKID, with(with(base, "role", "agent"), "tenant", nil)), wantErr: "tenant required"},
		{name: "operator with tenant", token: signRS(t, key, testKID, with(base, "role", "operator")), wantErr: "operator tokens must not carry a tenant"},
		{name: "missing email", token: signRS(t, key, testKID, with(base, "email", nil)), wantErr: "missing email"},
		{name: "numeric tenant", token: signRS(t, key, testKID, with(base, "tenant", 7)), wantErr: "malformed claims"},
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

	t.Run("local token still accepted", func(t *testing.T) {
		token, err := auth.Mint(testSecret, auth.Claims{Email: "ada@example.com", Tenant: "t1", Role: auth.RoleAgent}, time.Hour, testNow)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(ctx, token); err != nil {
			t.Fatalf("Verify local token: %v", err)
		}
	})
}

func TestVerifyOIDCWithoutAudience(t *testing.T) {
	srv, key := newOIDCServer(t)
	v, err := auth.NewVerifier(context.Background(), auth.Options{Issuer: srv.URL, HTTPClient: srv.Client(), Now: fixedNow})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	token := signRS(t, key, testKID, with(oidcClaims(srv.URL), "aud", "any-client"))
	if _, err := v.Verify(context.Background(), token); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestNewVerifierDiscoveryErrors(t *testing.T) {
	srv, _ := newOIDCServer(t)
	tests := []struct {
		name   string
		issuer string
	}{
		// The discovery document names srv.URL, not this URL.
		{name: "issuer mismatch", issuer: srv.URL + "/"},
		{name: "no discovery document", issuer: srv.URL + "/missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := auth.NewVerifier(context.Background(), auth.Options{Secret: testSecret, Issuer: tt.issuer, HTTPClient: srv.Client()})
			if err == nil {
				t.Fatal("NewVerifier succeeded, want discovery error")
			}
		})
	}
}
