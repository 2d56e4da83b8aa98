package sealed_test

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"switchboard/sealed"
)

const (
	oldKey = "the-old-encryption-key-0123456789abcdef"
	newKey = "the-new-encryption-key-fedcba9876543210"
)

var (
	secret = []byte("client-secret-Value~plaintext-4242")
	aadA   = []byte("tenant/T1/microsoft.clientSecret")
	aadB   = []byte("tenant/T2/microsoft.clientSecret")
)

func keyring(t *testing.T, current string, previous ...string) *sealed.Keyring {
	t.Helper()
	k, err := sealed.NewKeyring(current, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func seal(t *testing.T, k *sealed.Keyring, plaintext, aad []byte) string {
	t.Helper()
	s, err := k.Seal(plaintext, aad)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// derived is the AES key and key ID the package doc promises for key s.
func derived(t *testing.T, s string) (key []byte, id string) {
	t.Helper()
	key, err := hkdf.Key(sha256.New, []byte(s), nil, "switchboard sealed v1", 32)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(key)
	return key, hex.EncodeToString(sum[:8])
}

// noSecrets fails when an error's text holds the plaintext or any form of
// the keys.
func noSecrets(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	forbidden := []string{string(secret), oldKey, newKey}
	for _, k := range []string{oldKey, newKey} {
		key, _ := derived(t, k)
		forbidden = append(forbidden, hex.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key), base64.StdEncoding.EncodeToString(key), string(key))
	}
	for _, f := range forbidden {
		if strings.Contains(msg, f) {
			t.Errorf("error %q holds secret material", msg)
		}
	}
}

// A sealed value opens to its plaintext, has the documented form (an AES
// key and ID any implementation can derive), and hides the plaintext.
func TestRoundTripAndFormat(t *testing.T) {
	k := keyring(t, newKey)
	for _, p := range [][]byte{secret, {}, bytes.Repeat([]byte{0}, 4096)} {
		s := seal(t, k, p, aadA)
		got, err := k.Open(s, aadA)
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("Open = %q, %v; want %q", got, err, p)
		}
		if k.NeedsRotation(s) {
			t.Error("a value under the current key needs rotation")
		}
	}

	s := seal(t, k, secret, aadA)
	if strings.Contains(s, string(secret)) || strings.Contains(s, base64.RawURLEncoding.EncodeToString(secret)) {
		t.Fatalf("sealed value %q shows the plaintext", s)
	}
	parts := strings.Split(s, ".")
	key, id := derived(t, newKey)
	if len(parts) != 3 || parts[0] != "v1" || parts[1] != id {
		t.Fatalf("sealed value %q: want v1.%s.<payload>", s, id)
	}
	raw, err := base64.RawURLEncoding.Strict().DecodeString(parts[2])
	if err != nil || len(raw) != 12+len(secret)+16 {
		t.Fatalf("payload: %d bytes, %v", len(raw), err)
	}
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	if got, err := aead.Open(nil, raw[:12], raw[12:], aadA); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("opening by the documented format: %q, %v", got, err)
	}
	if str := k.String(); !strings.Contains(str, id) {
		t.Errorf("String() = %q", str)
	}
}

// Every Seal draws a fresh nonce: the same plaintext seals differently.
func TestFreshNonces(t *testing.T) {
	k := keyring(t, newKey)
	seen := map[string]bool{}
	for range 1000 {
		s := seal(t, k, secret, aadA)
		nonce := strings.Split(s, ".")[2][:16] // 12 bytes = 16 base64 digits
		if seen[nonce] {
			t.Fatalf("nonce %s drawn twice", nonce)
		}
		seen[nonce] = true
	}
}

// Changing any character of a sealed value, or any byte of its payload,
// or cutting it short, makes it fail to open.
func TestTamperingFails(t *testing.T) {
	k := keyring(t, newKey)
	s := seal(t, k, secret, aadA)
	for i := range len(s) {
		for _, c := range []byte{'A', 'b', '0', '_', '.'} {
			if s[i] == c {
				continue
			}
			bad := s[:i] + string(c) + s[i+1:]
			got, err := k.Open(bad, aadA)
			if err == nil {
				t.Fatalf("changing character %d to %q: opened to %q", i, c, got)
			}
			if !errors.Is(err, sealed.ErrTampered) && !errors.Is(err, sealed.ErrMalformed) && !errors.Is(err, sealed.ErrUnknownKey) {
				t.Errorf("changing character %d: unclassified error %v", i, err)
			}
			noSecrets(t, err)
		}
	}

	parts := strings.Split(s, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(parts[2])
	for i := range raw {
		for _, bit := range []byte{0x01, 0x80} {
			b := bytes.Clone(raw)
			b[i] ^= bit
			_, err := k.Open(parts[0]+"."+parts[1]+"."+base64.RawURLEncoding.EncodeToString(b), aadA)
			if !errors.Is(err, sealed.ErrTampered) {
				t.Fatalf("flipping a bit of payload byte %d: %v, want ErrTampered", i, err)
			}
			noSecrets(t, err)
		}
	}
	for n := range raw {
		_, err := k.Open(parts[0]+"."+parts[1]+"."+base64.RawURLEncoding.EncodeToString(raw[:n]), aadA)
		if err == nil {
			t.Fatalf("payload cut to %d bytes opened", n)
		}
	}
	if _, err := k.Open(s+"A", aadA); err == nil {
		t.Fatal("a character appended: opened")
	}
}

// A value sealed for one owner does not open for another: copying tenant
// T1's sealed secret into T2's row gets nothing.
func TestWrongOwnerFails(t *testing.T) {
	k := keyring(t, newKey)
	s := seal(t, k, secret, aadA)
	for _, aad := range [][]byte{aadB, nil, []byte("tenant/T1/microsoft.clientId"), append(bytes.Clone(aadA), 0)} {
		got, err := k.Open(s, aad)
		if !errors.Is(err, sealed.ErrTampered) {
			t.Fatalf("Open with aad %q = %q, %v; want ErrTampered", aad, got, err)
		}
		noSecrets(t, err)
	}
}

// Rotation: a keyring that lists the old key as previous opens what the
// old key sealed and says it needs rotation; sealing it again puts it under
// the new key; a keyring without the old key cannot open it.
func TestRotation(t *testing.T) {
	old := keyring(t, oldKey)
	s := seal(t, old, secret, aadA)

	rotated := keyring(t, newKey, oldKey)
	if !rotated.NeedsRotation(s) {
		t.Fatal("a value under a previous key does not need rotation")
	}
	got, err := rotated.Open(s, aadA)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("Open under previous key = %q, %v", got, err)
	}
	if _, err := rotated.Open(s, aadB); !errors.Is(err, sealed.ErrTampered) {
		t.Fatalf("previous key, wrong owner: %v", err)
	}

	resealed := seal(t, rotated, got, aadA)
	if rotated.NeedsRotation(resealed) {
		t.Fatal("a resealed value still needs rotation")
	}
	newOnly := keyring(t, newKey)
	if got, err := newOnly.Open(resealed, aadA); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("resealed value under the new key alone: %q, %v", got, err)
	}

	_, err = newOnly.Open(s, aadA)
	if !errors.Is(err, sealed.ErrUnknownKey) {
		t.Fatalf("keyring without the old key: %v, want ErrUnknownKey", err)
	}
	_, oldID := derived(t, oldKey)
	if !strings.Contains(err.Error(), oldID) {
		t.Errorf("unknown-key error %q does not name key ID %s", err, oldID)
	}
	noSecrets(t, err)
	if !newOnly.NeedsRotation(s) {
		t.Error("a value under an unknown key does not need rotation")
	}

	// Nor does a keyring of the old key alone open what the new key sealed
	// (a replica not yet given the new key, during a rolling deploy).
	if _, err := old.Open(resealed, aadA); !errors.Is(err, sealed.ErrUnknownKey) {
		t.Errorf("old keyring on a new value: %v", err)
	}

	// Listing the current key again, or one previous key twice, is harmless.
	dup := keyring(t, newKey, newKey, oldKey, oldKey)
	if got, err := dup.Open(s, aadA); err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("duplicated keys: %q, %v", got, err)
	}
	if dup.NeedsRotation(resealed) {
		t.Error("current key listed as previous too: resealed value needs rotation")
	}
}

// Keys shorter than MinKeyLength are refused, whether current or previous,
// and the error shows none of them.
func TestShortKeysRefused(t *testing.T) {
	short := strings.Repeat("k", sealed.MinKeyLength-1)
	cases := []struct {
		current  string
		previous []string
	}{
		{"", nil},
		{short, nil},
		{newKey, []string{short}},
		{newKey, []string{oldKey, ""}},
	}
	for _, c := range cases {
		k, err := sealed.NewKeyring(c.current, c.previous...)
		if !errors.Is(err, sealed.ErrKeyTooShort) || k != nil {
			t.Errorf("NewKeyring(%q, %q) = %v, %v; want ErrKeyTooShort", c.current, c.previous, k, err)
		}
		if err != nil && (strings.Contains(err.Error(), short) || strings.Contains(err.Error(), oldKey) || strings.Contains(err.Error(), newKey)) {
			t.Errorf("error %q shows a key", err)
		}
	}
	if _, err := sealed.NewKeyring(strings.Repeat("k", sealed.MinKeyLength)); err != nil {
		t.Errorf("a key of exactly %d characters: %v", sealed.MinKeyLength, err)
	}
}

// Text that is not a sealed value is refused as malformed and needs
// rotation (so that a rotation pass reports it rather than skipping it).
func TestMalformedRefused(t *testing.T) {
	k := keyring(t, newKey)
	good := seal(t, k, secret, aadA)
	parts := strings.Split(good, ".")
	id, payload := parts[1], parts[2]
	for _, s := range []string{
		"",
		string(secret),
		"v1",
		"v1.",
		"v1." + id,
		"v1." + id + ".",
		"v2." + id + "." + payload,
		"V1." + id + "." + payload,
		"v1." + strings.ToUpper(id) + "." + payload,
		"v1." + id[:15] + "." + payload,
		"v1." + id + "0." + payload,
		"v1.." + payload,
		"v1." + id + "." + payload + "=",
		"v1." + id + "." + payload + ".x",
		"v1." + id + "." + strings.ReplaceAll(strings.ReplaceAll(payload, "-", "+"), "_", "/") + "+/",
		"v1." + id + "." + payload[:len(payload)/2] + "\n" + payload[len(payload)/2:],
		"v1." + id + ".AAAA",
		" " + good,
		good + " ",
	} {
		got, err := k.Open(s, aadA)
		if !errors.Is(err, sealed.ErrMalformed) {
			t.Errorf("Open(%q) = %q, %v; want ErrMalformed", s, got, err)
		}
		noSecrets(t, err)
		if !k.NeedsRotation(s) {
			t.Errorf("NeedsRotation(%q) = false", s)
		}
	}
}
