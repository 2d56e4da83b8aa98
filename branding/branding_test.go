package branding_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"
	"testing"

	"switchboard/apierror"
	"switchboard/branding"
)

// PNG returns a w×h PNG.
func PNG(t testing.TB, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// webp1x1 is a 1×1 lossless WebP.
var webp1x1 = []byte("RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00")

// ico wraps images in an icon directory, each entry saying w×h.
func ico(entries ...struct {
	w, h int
	data []byte
}) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, []uint16{0, 1, uint16(len(entries))})
	offset := 6 + 16*len(entries)
	for _, e := range entries {
		b.Write([]byte{byte(e.w), byte(e.h), 0, 0})
		_ = binary.Write(&b, binary.LittleEndian, []uint16{1, 32})
		_ = binary.Write(&b, binary.LittleEndian, []uint32{uint32(len(e.data)), uint32(offset)})
		offset += len(e.data)
	}
	for _, e := range entries {
		b.Write(e.data)
	}
	return b.Bytes()
}

// dib is a BITMAPINFOHEADER of a w×h icon image (twice as tall, with its mask).
func dib(w, h int) []byte {
	var b bytes.Buffer
	_ = binary.Write(&b, binary.LittleEndian, []uint32{40, uint32(w), uint32(2 * h)})
	_ = binary.Write(&b, binary.LittleEndian, []uint16{1, 32})
	b.Write(make([]byte, 24+w*h*4))
	return b.Bytes()
}

type entry = struct {
	w, h int
	data []byte
}

// Images are taken by their bytes, each within its kind's limits, and
// everything else is BAD_USER_INPUT.
func TestRead(t *testing.T) {
	var jpg bytes.Buffer
	if err := jpeg.Encode(&jpg, image.NewGray(image.Rect(0, 0, 40, 30)), nil); err != nil {
		t.Fatal(err)
	}
	var gifb bytes.Buffer
	if err := gif.Encode(&gifb, image.NewPaletted(image.Rect(0, 0, 4, 4), []color.Color{color.Black, color.White}), nil); err != nil {
		t.Fatal(err)
	}
	// A PNG whose header claims 100000×100000: a decompression bomb.
	bomb := PNG(t, 1, 1)
	binary.BigEndian.PutUint32(bomb[16:], 100000)
	binary.BigEndian.PutUint32(bomb[20:], 100000)
	binary.BigEndian.PutUint32(bomb[29:], crc32.ChecksumIEEE(bomb[12:29])) // IHDR's CRC

	for _, c := range []struct {
		name   string
		kind   branding.Kind
		data   []byte
		ct     string
		w, h   int
		reason string // in the error, when refused
	}{
		{"png", branding.Logo, PNG(t, 300, 80), "image/png", 300, 80, ""},
		{"jpeg", branding.Logo, jpg.Bytes(), "image/jpeg", 40, 30, ""},
		{"webp", branding.Favicon, webp1x1, "image/webp", 1, 1, ""},
		{"ico of a png", branding.Favicon, ico(entry{32, 32, PNG(t, 32, 32)}), "image/x-icon", 32, 32, ""},
		{"ico of bitmaps", branding.Favicon, ico(entry{16, 16, dib(16, 16)}, entry{48, 48, dib(48, 48)}), "image/x-icon", 48, 48, ""},
		{"logo at its limit", branding.Logo, PNG(t, 2048, 1), "image/png", 2048, 1, ""},
		{"gif", branding.Logo, gifb.Bytes(), "", 0, 0, "not PNG, JPEG, WebP or ICO"},
		{"svg", branding.Logo, []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "", 0, 0, "is not a PNG"},
		{"html", branding.Favicon, []byte("<html><script>alert(1)</script></html>"), "", 0, 0, "is not a PNG"},
		{"truncated png", branding.Logo, PNG(t, 10, 10)[:20], "", 0, 0, "is not a PNG"},
		{"bomb", branding.Logo, bomb, "", 0, 0, "at most 2048"},
		{"logo too wide", branding.Logo, PNG(t, 2049, 1), "", 0, 0, "at most 2048"},
		{"favicon too big", branding.Favicon, PNG(t, 513, 513), "", 0, 0, "at most 512"},
		{"too many bytes", branding.Favicon, append(PNG(t, 1, 1), make([]byte, 130<<10)...), "", 0, 0, "larger than 128 KiB"},
		{"ico entry outside the file", branding.Favicon, ico(entry{16, 16, dib(16, 16)})[:30], "", 0, 0, "not a valid ICO"},
		{"ico of html", branding.Favicon, ico(entry{16, 16, []byte("<html><body>hello, this is no image at all</body></html>")}), "", 0, 0, "not a valid ICO"},
		{"ico bitmap of another size", branding.Favicon, ico(entry{16, 16, dib(32, 32)}), "", 0, 0, "not a valid ICO"},
		{"empty", branding.Logo, nil, "", 0, 0, "is not a PNG"},
	} {
		t.Run(c.name, func(t *testing.T) {
			img, err := branding.Read(c.kind, bytes.NewReader(c.data))
			if c.reason != "" {
				var ae *apierror.Error
				if !errors.As(err, &ae) || ae.Code != apierror.BadUserInput || !strings.Contains(err.Error(), c.reason) {
					t.Fatalf("err %v, want BAD_USER_INPUT saying %q", err, c.reason)
				}
				return
			}
			if err != nil || img.ContentType != c.ct || img.Width != c.w || img.Height != c.h || !bytes.Equal(img.Data, c.data) {
				t.Fatalf("%+v, %v", img, err)
			}
		})
	}
}
