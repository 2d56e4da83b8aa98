// Package branding keeps a tenant's logo and favicon: it takes an upload
// only when its bytes are a PNG, JPEG, WebP or ICO image within the size
// and pixel limits (whatever its name or declared type says), stores it,
// and serves it at a URL that names the image's SHA-256, so that the URL
// changes when the image does and can be cached for ever.
package branding

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // registers the JPEG header decoder
	_ "image/png"  // registers the PNG header decoder
	"io"
	"net/http"
	"strings"

	_ "golang.org/x/image/webp" // registers the WebP header decoder

	"switchboard/apierror"
	"switchboard/ent"
	"switchboard/ent/brandingimage"
	"switchboard/ent/privacy"
	"switchboard/gid"
)

// Kind is a logo or a favicon.
type Kind = brandingimage.Kind

// The kinds.
const (
	Logo    = brandingimage.KindLOGO
	Favicon = brandingimage.KindFAVICON
)

// Limits of an image of a kind.
type Limits struct {
	Bytes  int64
	Pixels int // on either side
}

// LimitsOf are each kind's limits.
var LimitsOf = map[Kind]Limits{
	Logo:    {Bytes: 512 << 10, Pixels: 2048},
	Favicon: {Bytes: 128 << 10, Pixels: 512},
}

// Image is an accepted upload.
type Image struct {
	ContentType   string
	Width, Height int
	Data          []byte
}

// Read reads an upload of kind and accepts it only as an image of an
// allowed type within kind's limits; anything else is BAD_USER_INPUT.
func Read(kind Kind, r io.Reader) (*Image, error) {
	lim := LimitsOf[kind]
	data, err := io.ReadAll(io.LimitReader(r, lim.Bytes+1))
	if err != nil {
		return nil, err
	}
	what := strings.ToLower(string(kind))
	if int64(len(data)) > lim.Bytes {
		return nil, apierror.New(apierror.BadUserInput, "the %s is larger than %d KiB", what, lim.Bytes>>10)
	}
	img, err := Sniff(data)
	if err != nil {
		return nil, apierror.New(apierror.BadUserInput, "the %s %s", what, err)
	}
	if img.Width < 1 || img.Height < 1 || img.Width > lim.Pixels || img.Height > lim.Pixels {
		return nil, apierror.New(apierror.BadUserInput, "the %s is %d×%d pixels; at most %d a side", what, img.Width, img.Height, lim.Pixels)
	}
	return img, nil
}

// Sniff returns data as an image, by its bytes: PNG, JPEG, WebP (their
// headers decoded) or ICO (its directory read, and each image in it a PNG
// or a BMP); an error says why not.
func Sniff(data []byte) (*Image, error) {
	if isICO(data) {
		w, h, err := icoSize(data)
		if err != nil {
			return nil, err
		}
		return &Image{ContentType: "image/x-icon", Width: w, Height: h, Data: data}, nil
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, errors.New("is not a PNG, JPEG, WebP or ICO image")
	}
	types := map[string]string{"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
	ct, ok := types[format]
	if !ok {
		return nil, fmt.Errorf("is a %s image, not PNG, JPEG, WebP or ICO", format)
	}
	return &Image{ContentType: ct, Width: cfg.Width, Height: cfg.Height, Data: data}, nil
}

// isICO reports whether data begins as an icon directory does: reserved 0,
// type 1 (icon), at least one image.
func isICO(data []byte) bool {
	return len(data) >= 6 && binary.LittleEndian.Uint16(data[0:]) == 0 &&
		binary.LittleEndian.Uint16(data[2:]) == 1 && binary.LittleEndian.Uint16(data[4:]) > 0
}

// icoSize checks every image of an icon file and returns the largest's
// size. An entry's 0 means 256; each image's bytes must lie in the file
// and be a PNG or a BMP (DIB) of the size the entry says.
func icoSize(data []byte) (w, h int, err error) {
	n := int(binary.LittleEndian.Uint16(data[4:]))
	if n > 64 || len(data) < 6+16*n {
		return 0, 0, errors.New("is not a valid ICO file (its directory)")
	}
	for i := range n {
		e := data[6+16*i:]
		ew, eh := int(e[0]), int(e[1])
		if ew == 0 {
			ew = 256
		}
		if eh == 0 {
			eh = 256
		}
		size, offset := binary.LittleEndian.Uint32(e[8:]), binary.LittleEndian.Uint32(e[12:])
		if size == 0 || uint64(offset)+uint64(size) > uint64(len(data)) || offset < uint32(6+16*n) {
			return 0, 0, errors.New("is not a valid ICO file (an image outside the file)")
		}
		img := data[offset : offset+size]
		switch {
		case bytes.HasPrefix(img, []byte("\x89PNG\r\n\x1a\n")):
			cfg, format, err := image.DecodeConfig(bytes.NewReader(img))
			if err != nil || format != "png" {
				return 0, 0, errors.New("is not a valid ICO file (a PNG inside it)")
			}
			ew, eh = cfg.Width, cfg.Height
		case len(img) >= 40 && binary.LittleEndian.Uint32(img) >= 40: // BITMAPINFOHEADER or later
			bw, bh := int(int32(binary.LittleEndian.Uint32(img[4:]))), int(int32(binary.LittleEndian.Uint32(img[8:])))
			if bh < 0 {
				bh = -bh
			}
			if bw != ew || bh != 2*eh { // a DIB in an icon is twice as tall: the image, then its mask
				return 0, 0, errors.New("is not a valid ICO file (a bitmap inside it)")
			}
		default:
			return 0, 0, errors.New("is not a valid ICO file (an image neither PNG nor bitmap)")
		}
		w, h = max(w, ew), max(h, eh)
	}
	return w, h, nil
}

// Set stores img as the tenant's image of kind, in place of the one it
// had. c should be the request's transaction's client.
func Set(ctx context.Context, c *ent.Client, kind Kind, img *Image) error {
	if _, err := c.BrandingImage.Delete().Where(brandingimage.KindEQ(kind)).Exec(ctx); err != nil {
		return err
	}
	sum := sha256.Sum256(img.Data)
	return c.BrandingImage.Create().
		SetKind(kind).SetContentType(img.ContentType).SetData(img.Data).
		SetSha256(hex.EncodeToString(sum[:])).SetWidth(img.Width).SetHeight(img.Height).
		Exec(ctx)
}

// Clear removes the tenant's logo and favicon.
func Clear(ctx context.Context, c *ent.Client) error {
	_, err := c.BrandingImage.Delete().Exec(ctx)
	return err
}

// URLs returns the paths of the tenant's logo and favicon (nil: none), as
// far as the viewer may read them.
func URLs(ctx context.Context, c *ent.Client, tenantID gid.ID) (logo, favicon *string, err error) {
	imgs, err := c.BrandingImage.Query().Where(brandingimage.TenantID(tenantID)).
		Select(brandingimage.FieldKind, brandingimage.FieldSha256, brandingimage.FieldContentType, brandingimage.FieldTenantID).
		All(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, img := range imgs {
		u := Path(img.TenantID, img.Kind, img.Sha256, img.ContentType)
		if img.Kind == Logo {
			logo = &u
		} else {
			favicon = &u
		}
	}
	return logo, favicon, nil
}

// Prefix begins every image's path.
const Prefix = "/branding/"

var extensions = map[string]string{"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/x-icon": "ico"}

// Path is where an image is served: the tenant, the kind and the image's
// SHA-256, so that the path changes with the image and cannot be guessed.
func Path(tenantID gid.ID, kind Kind, sha string, contentType string) string {
	return Prefix + string(tenantID) + "/" + strings.ToLower(string(kind)) + "/" + sha + "." + extensions[contentType]
}

// Handler serves GET Prefix{tenant}/{kind}/{sha256}.{ext}: the image only
// when all four match the stored one, with its sniffed type, an ETag of
// its hash, a year's immutable caching, 304 for If-None-Match, and nosniff.
func Handler(c *ent.Client) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		parts := strings.Split(strings.TrimPrefix(r.URL.Path, Prefix), "/")
		if len(parts) != 3 {
			http.NotFound(w, r)
			return
		}
		tenantID, kind := gid.ID(parts[0]), Kind(strings.ToUpper(parts[1]))
		sha, ext, ok := strings.Cut(parts[2], ".")
		if !ok || len(sha) != 64 || brandingimage.KindValidator(kind) != nil {
			http.NotFound(w, r)
			return
		}
		// The path is the caller's only credential: looked up across
		// tenants, by tenant, kind and hash together.
		img, err := c.BrandingImage.Query().
			Where(brandingimage.TenantID(tenantID), brandingimage.KindEQ(kind), brandingimage.Sha256(sha)).
			Only(privacy.DecisionContext(r.Context(), privacy.Allow))
		if ent.IsNotFound(err) || (err == nil && extensions[img.ContentType] != ext) {
			http.NotFound(w, r)
			return
		}
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		etag := `"` + img.Sha256 + `"`
		h := w.Header()
		h.Set("ETag", etag)
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		if inm := r.Header.Get("If-None-Match"); inm != "" && (inm == etag || inm == "*" || strings.Contains(inm, etag)) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		h.Set("Content-Type", img.ContentType)
		h.Set("Content-Length", fmt.Sprint(len(img.Data)))
		if r.Method == http.MethodHead {
			return
		}
		_, _ = w.Write(img.Data)
	})
}
