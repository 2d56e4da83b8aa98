package auth_test

import (
	"bytes"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"switchboard/auth"
)

func TestLoadOrCreateSecret(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "keys")
	path := filepath.Join(dir, "jwt.key")

	first, err := auth.LoadOrCreateSecret(path)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if len(first) != auth.SecretSize {
		t.Fatalf("secret has %d bytes, want %d", len(first), auth.SecretSize)
	}
	if bytes.Equal(first, make([]byte, auth.SecretSize)) {
		t.Fatal("secret is all zeros")
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("file mode = %o, want 600", perm)
	}
	di, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := di.Mode().Perm(); perm != 0o700 {
		t.Errorf("directory mode = %o, want 700", perm)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(data)); got != hex.EncodeToString(first) {
		t.Errorf("file holds %q, want hex of the secret", got)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the secret file", len(entries))
	}

	second, err := auth.LoadOrCreateSecret(path)
	if err != nil {
		t.Fatalf("re-read: %v", err)
	}
	if !bytes.Equal(first, second) {
		t.Error("second call returned a different secret")
	}

	other, err := auth.LoadOrCreateSecret(filepath.Join(dir, "enc.key"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(first, other) {
		t.Error("two files got the same secret")
	}
}

func TestLoadOrCreateSecretRejectsBadFiles(t *testing.T) {
	tests := []struct {
		name    string
		content string
	}{
		{name: "not hex", content: "this is not hex at all, not even close!!!!!!!!!!!!!!!!!!!!!!!!"},
		{name: "too short", content: strings.Repeat("ab", 16)},
		{name: "empty", content: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "jwt.key")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := auth.LoadOrCreateSecret(path); err == nil {
				t.Fatal("LoadOrCreateSecret accepted a bad file")
			}
			data, _ := os.ReadFile(path)
			if string(data) != tt.content {
				t.Error("bad file was overwritten")
			}
		})
	}

	t.Run("hex with whitespace", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "jwt.key")
		want := bytes.Repeat([]byte{0x5a}, 32)
		if err := os.WriteFile(path, []byte("  "+hex.EncodeToString(want)+"\n\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := auth.LoadOrCreateSecret(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("got %x, %v; want %x", got, err, want)
		}
	})
}

func TestLoadOrCreateSecretConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "jwt.key")
	const n = 8
	results := make([][]byte, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { results[i], errs[i] = auth.LoadOrCreateSecret(path) })
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("call %d: %v", i, errs[i])
		}
		if !bytes.Equal(results[i], results[0]) {
			t.Fatalf("call %d returned a different secret", i)
		}
	}
}
