package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// LocalIssuer is the iss claim of tokens created by [Mint].
const LocalIssuer = "switchboard"

// tokenClaims is the JSON shape of a Switchboard token: the registered claims
// plus the application claims of the contract.
type tokenClaims struct {
	jwt.RegisteredClaims
	Email  string `json:"email,omitempty"`
	Name   string `json:"name,omitempty"`
	Tenant string `json:"tenant,omitempty"`
	Role   Role   `json:"role,omitempty"`
}

// Mint creates an HS256 token signed with secret for the identity in c. The
// token is issued by [LocalIssuer] at now and expires after ttl; c.ExpiresAt
// is ignored. The subject defaults to c.Email when c.Subject is empty. Mint
// refuses claims that [Verifier.Verify] would reject (missing email, unknown
// role, or a tenant that does not match the role).
func Mint(secret []byte, c Claims, ttl time.Duration, now time.Time) (string, error) {
	if len(secret) == 0 {
		return "", errors.New("auth: mint: empty secret")
	}
	if ttl <= 0 {
		return "", fmt.Errorf("auth: mint: ttl must be positive, got %v", ttl)
	}
	if reason := c.check(); reason != "" {
		return "", errors.New("auth: mint: " + reason)
	}
	sub := c.Subject
	if sub == "" {
		sub = c.Email
	}
	now = now.Truncate(time.Second)
	tc := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    LocalIssuer,
			Subject:   sub,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
		},
		Email:  c.Email,
		Name:   c.Name,
		Tenant: c.Tenant,
		Role:   c.Role,
	}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, tc).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("auth: mint: %w", err)
	}
	return signed, nil
}
