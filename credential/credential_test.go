package credential_test

import (
	"bytes"
	"strings"
	"testing"

	"switchboard/credential"
)

// Secrets are fresh each time, carry their prefix and 256 random bits, and
// hash to what Hash gives, and to nothing another secret gives.
func TestNew(t *testing.T) {
	a, ha := credential.New("sbx_")
	b, hb := credential.New("sbx_")
	if a == b || bytes.Equal(ha, hb) {
		t.Fatal("two secrets alike")
	}
	if !strings.HasPrefix(a, "sbx_") || len(a) != len("sbx_")+43 {
		t.Errorf("secret %q", a)
	}
	if !bytes.Equal(credential.Hash(a), ha) || bytes.Equal(credential.Hash(a+"x"), ha) || len(ha) != 32 {
		t.Errorf("hash of %q", a)
	}
}
