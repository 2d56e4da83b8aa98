// Package sealed encrypts the tenants' integration credentials held at rest
// (AES-256-GCM), under the server's encryption key, and still opens what
// earlier keys sealed so that the key can be rotated.
//
// A sealed value is text: "v1." + the ID of the key that sealed it + "." +
// base64url (unpadded) of the 12-byte nonce followed by the ciphertext and
// its tag. The AES key is HKDF-SHA256 of the configured key string (no
// salt, info "switchboard sealed v1"); its ID is the first 8 bytes of the
// SHA-256 of that AES key, in lowercase hex. The associated data given to
// Seal and Open binds a value to its owner: a value copied to another row
// does not open there.
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// MinKeyLength is the shortest key string accepted, in bytes (the
// characters of a generated key).
const MinKeyLength = 32

const (
	version   = "v1"
	hkdfInfo  = "switchboard sealed v1"
	nonceSize = 12
	tagSize   = 16
	keyIDSize = 8 // bytes; twice as many hex digits in a sealed value
)

// The errors a Keyring returns; they wrap one of these (test with
// errors.Is). None of them holds key material or plaintext.
var (
	// ErrKeyTooShort: a key given to NewKeyring is shorter than MinKeyLength.
	ErrKeyTooShort = fmt.Errorf("sealed: an encryption key must be at least %d characters", MinKeyLength)
	// ErrMalformed: the text given to Open is not a sealed value.
	ErrMalformed = errors.New("sealed: not a sealed value")
	// ErrUnknownKey: the value was sealed under a key that is neither the
	// keyring's current key nor one of its previous keys.
	ErrUnknownKey = errors.New("sealed: sealed under a key that is neither the current nor a previous encryption key")
	// ErrTampered: the value does not authenticate: it was altered, or it
	// belongs to another owner (the associated data differ).
	ErrTampered = errors.New("sealed: the sealed value was altered or belongs to another owner")
)

// A Keyring seals under its current key and opens what its current or any
// of its previous keys sealed. It is safe for concurrent use.
type Keyring struct {
	current string                 // key ID of the key that seals
	keys    map[string]cipher.AEAD // by key ID: current and previous
}

// NewKeyring returns a keyring that seals under current and opens what
// current or any of previous sealed. Each key must be at least
// MinKeyLength characters; a previous key equal to another is ignored.
func NewKeyring(current string, previous ...string) (*Keyring, error) {
	k := &Keyring{keys: make(map[string]cipher.AEAD, 1+len(previous))}
	id, aead, err := deriveKey(current)
	if err != nil {
		return nil, fmt.Errorf("sealed: the current key: %w", err)
	}
	k.current = id
	k.keys[id] = aead
	for i, p := range previous {
		id, aead, err := deriveKey(p)
		if err != nil {
			return nil, fmt.Errorf("sealed: previous key %d of %d: %w", i+1, len(previous), err)
		}
		if _, ok := k.keys[id]; !ok {
			k.keys[id] = aead
		}
	}
	return k, nil
}

// deriveKey returns the ID and the AES-256-GCM cipher of the key string s.
func deriveKey(s string) (string, cipher.AEAD, error) {
	if len(s) < MinKeyLength {
		return "", nil, ErrKeyTooShort
	}
	key, err := hkdf.Key(sha256.New, []byte(s), nil, hkdfInfo, 32)
	if err != nil {
		return "", nil, errors.New("deriving the key failed") // not wrapped: never says more
	}
	sum := sha256.Sum256(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return "", nil, errors.New("making the cipher failed")
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return "", nil, errors.New("making the cipher failed")
	}
	return hex.EncodeToString(sum[:keyIDSize]), aead, nil
}

// Seal encrypts plaintext under the current key, bound to aad (what owns
// the value, e.g. the tenant's ID and the field's name, written so that no
// two owners' aad are equal), and returns the sealed value.
func (k *Keyring) Seal(plaintext, aad []byte) (string, error) {
	nonce := make([]byte, nonceSize, nonceSize+len(plaintext)+tagSize)
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("sealed: no random nonce: %w", err)
	}
	out := k.keys[k.current].Seal(nonce, nonce, plaintext, aad)
	return version + "." + k.current + "." + base64.RawURLEncoding.EncodeToString(out), nil
}

// Open decrypts a value Seal returned, with the key that sealed it, and
// checks that it is unaltered and bound to aad. Its error wraps
// ErrMalformed, ErrUnknownKey or ErrTampered.
func (k *Keyring) Open(sealed string, aad []byte) ([]byte, error) {
	id, raw, err := parse(sealed)
	if err != nil {
		return nil, err
	}
	aead, ok := k.keys[id]
	if !ok {
		return nil, fmt.Errorf("%w (key ID %s)", ErrUnknownKey, id)
	}
	plaintext, err := aead.Open(nil, raw[:nonceSize], raw[nonceSize:], aad)
	if err != nil {
		return nil, ErrTampered
	}
	return plaintext, nil
}

// NeedsRotation reports whether sealed is not under the current key, and
// so should be opened and sealed again: true for a value under a previous
// or an unknown key, and for a malformed one (Open says which). It checks
// the value's form and key ID but authenticates nothing.
func (k *Keyring) NeedsRotation(sealed string) bool {
	id, _, err := parse(sealed)
	return err != nil || id != k.current
}

// String describes the keyring by its current key's ID (no secret) and the
// number of previous keys, so that printing one shows no key material.
func (k *Keyring) String() string {
	return fmt.Sprintf("sealed.Keyring{current: %s, previous: %d}", k.current, len(k.keys)-1)
}

// parse splits a sealed value into its key ID and its decoded payload
// (nonce, ciphertext and tag).
func parse(sealed string) (id string, raw []byte, err error) {
	v, rest, ok := strings.Cut(sealed, ".")
	if !ok || v != version {
		return "", nil, fmt.Errorf("%w: no %s prefix", ErrMalformed, version)
	}
	id, payload, ok := strings.Cut(rest, ".")
	if !ok || !isKeyID(id) {
		return "", nil, fmt.Errorf("%w: no key ID", ErrMalformed)
	}
	// The decoder skips line breaks even when strict; a sealed value has none.
	if strings.ContainsAny(payload, "\r\n") {
		return "", nil, fmt.Errorf("%w: the ciphertext is not unpadded base64url", ErrMalformed)
	}
	raw, err = base64.RawURLEncoding.Strict().DecodeString(payload)
	if err != nil {
		return "", nil, fmt.Errorf("%w: the ciphertext is not unpadded base64url", ErrMalformed)
	}
	if len(raw) < nonceSize+tagSize {
		return "", nil, fmt.Errorf("%w: too short", ErrMalformed)
	}
	return id, raw, nil
}

// isKeyID reports whether s has a key ID's form: lowercase hex, 8 bytes.
func isKeyID(s string) bool {
	if len(s) != 2*keyIDSize {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
