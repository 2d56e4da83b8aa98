package mail

import (
	"bytes"
	"encoding/base64"
	"io"
	"math/rand/v2"
	"testing"
)

// The body reads as prefix + base64(raw) + suffix, whatever the sizes of the
// reads and wherever it seeks to.
func TestRawBody(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, 2, 3, 4, 5, 6, 7, 100, 1000, 4096, 65537} {
		raw := make([]byte, size)
		for i := range raw {
			raw[i] = byte(rng.IntN(256))
		}
		prefix, suffix := []byte(`{"Content":{"Raw":{"Data":"`), []byte(`"}}}`)
		want := append(append(append([]byte{}, prefix...), base64.StdEncoding.EncodeToString(raw)...), suffix...)

		b := newRawBody(prefix, raw, suffix)
		if b.Len() != len(want) {
			t.Fatalf("size %d: Len %d, want %d", size, b.Len(), len(want))
		}
		got, err := io.ReadAll(b)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("size %d: ReadAll %q (%v), want %q", size, got, err, want)
		}
		// Reads of every size from every offset, as a retry or a hash might.
		for trial := 0; trial < 50; trial++ {
			off := rng.IntN(len(want) + 1)
			if _, err := b.Seek(int64(off), io.SeekStart); err != nil {
				t.Fatal(err)
			}
			buf := make([]byte, 1+rng.IntN(9))
			var out []byte
			for {
				n, err := b.Read(buf)
				out = append(out, buf[:n]...)
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(out, want[off:]) {
				t.Fatalf("size %d from %d by %d: %q, want %q", size, off, len(buf), out, want[off:])
			}
		}
		if end, err := b.Seek(0, io.SeekEnd); err != nil || end != int64(len(want)) {
			t.Fatalf("size %d: end %d, %v", size, end, err)
		}
		if _, err := b.Seek(-1, io.SeekStart); err == nil {
			t.Fatal("seeked before the start")
		}
	}
}
