// Package credential makes the secrets switchboard hands out to machines —
// SCIM tokens, the agent-event key, the flows key — and the hashes it
// keeps of them. A secret is shown once; only its SHA-256 is stored, and it
// is found by that hash, so that looking it up compares nothing of the
// secret itself.
package credential

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// New returns a new secret: prefix (which says what it is, for secret
// scanners and people) and 32 random bytes, base64url; and its hash.
func New(prefix string) (secret string, hash []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand panics rather than return short)
	secret = prefix + base64.RawURLEncoding.EncodeToString(b)
	return secret, Hash(secret)
}

// Hash is what is kept of a secret.
func Hash(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}
