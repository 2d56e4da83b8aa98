package server_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"switchboard/auth"
	"switchboard/internal/testenv"
)

func pngOf(t *testing.T, w, h int, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, c)
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// upload sends SetBranding as a GraphQL multipart request (the spec's
// operations, map and files), each file under the name and declared type
// given.
func upload(t *testing.T, s *testenv.Server, token string, files map[string]struct {
	name, contentType string
	data              []byte
}) testenv.Response {
	t.Helper()
	vars := map[string]any{"logo": nil, "favicon": nil}
	fileMap := map[string][]string{}
	i := 0
	order := []string{}
	for v := range files {
		key := string(rune('0' + i))
		fileMap[key] = []string{"variables." + v}
		order = append(order, v)
		i++
	}
	ops, _ := json.Marshal(map[string]any{"query": testenv.ContractOperation(t, "SetBranding"), "variables": vars})
	m, _ := json.Marshal(fileMap)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("operations", string(ops))
	_ = mw.WriteField("map", string(m))
	for i, v := range order {
		f := files[v]
		h := make(map[string][]string)
		h["Content-Disposition"] = []string{`form-data; name="` + string(rune('0'+i)) + `"; filename="` + f.name + `"`}
		h["Content-Type"] = []string{f.contentType}
		w, _ := mw.CreatePart(h)
		_, _ = w.Write(f.data)
	}
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/query", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("GraphQL-Require-Preflight", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out testenv.Response
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// Branding on both stores: an admin uploads a logo and a favicon, checked
// by their bytes (a PNG named .jpg and declared text/plain is a PNG; an
// HTML page named .png is refused and changes nothing); the URLs serve the
// image with its sniffed type, ETag, a year's caching, 304 for
// If-None-Match and nosniff; a new logo changes its URL and keeps the
// favicon; another tenant's ID in the path, a wrong hash or a wrong kind
// finds nothing; agents cannot set it; clearing it empties both.
func TestBranding(t *testing.T) {
	testenv.ForEachBackend(t, func(t *testing.T, b testenv.Backend) {
		s := testenv.NewServer(t, b)
		A, B := s.NewTenant(t, "Acme"), s.NewTenant(t, "Bolt")
		_, agent := s.NewAgent(t, A, "Ann", "ann@acme.example", auth.RoleAgent)
		type file = struct {
			name, contentType string
			data              []byte
		}
		logo1, favicon := pngOf(t, 200, 60, color.RGBA{R: 255, A: 255}), pngOf(t, 32, 32, color.RGBA{B: 255, A: 255})
		urls := func(r testenv.Response) (string, string) {
			t.Helper()
			if len(r.Errors) > 0 {
				t.Fatalf("setBranding: %+v", r.Errors)
			}
			var out struct {
				SetBranding struct{ LogoURL, FaviconURL *string } `json:"setBranding"`
			}
			_ = json.Unmarshal(r.Data, &out)
			if out.SetBranding.LogoURL == nil || out.SetBranding.FaviconURL == nil {
				t.Fatalf("setBranding answered %s", r.Data)
			}
			return *out.SetBranding.LogoURL, *out.SetBranding.FaviconURL
		}
		if r := upload(t, s, agent, map[string]file{"logo": {"logo.png", "image/png", logo1}}); r.Code() != "FORBIDDEN" {
			t.Fatalf("an agent sets the logo: %+v", r)
		}
		logoURL, favURL := urls(upload(t, s, A.AdminToken, map[string]file{
			"logo": {"logo.jpg", "text/plain", logo1}, "favicon": {"favicon.ico", "image/x-icon", favicon},
		}))
		get := func(path string, header ...string) (*http.Response, []byte) {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
			for i := 0; i+1 < len(header); i += 2 {
				req.Header.Set(header[i], header[i+1])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp, body
		}
		resp, body := get(logoURL)
		if resp.StatusCode != 200 || !bytes.Equal(body, logo1) || resp.Header.Get("Content-Type") != "image/png" ||
			resp.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=31536000") ||
			resp.Header.Get("ETag") == "" {
			t.Fatalf("GET the logo: %d %v (%d bytes)", resp.StatusCode, resp.Header, len(body))
		}
		if r, _ := get(logoURL, "If-None-Match", resp.Header.Get("ETag")); r.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match: %d", r.StatusCode)
		}
		if r, body := get(favURL); r.StatusCode != 200 || !bytes.Equal(body, favicon) {
			t.Errorf("GET the favicon: %d", r.StatusCode)
		}
		// Guessing: another tenant's ID, another kind, another hash.
		for _, guess := range []string{
			strings.Replace(logoURL, A.ID, B.ID, 1),
			strings.Replace(logoURL, "/logo/", "/favicon/", 1),
			logoURL[:len(logoURL)-10] + "0000000.png",
			strings.TrimSuffix(logoURL, ".png") + ".jpg",
			"/branding/" + A.ID + "/logo",
		} {
			if r, _ := get(guess); r.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d", guess, r.StatusCode)
			}
		}
		// Refused by its bytes, whatever its name: nothing changes.
		if r := upload(t, s, A.AdminToken, map[string]file{"logo": {"logo.png", "image/png", []byte("<html><script>alert(1)</script></html>")}}); r.Code() != "BAD_USER_INPUT" {
			t.Fatalf("an HTML logo: %+v", r)
		}
		var view struct {
			Viewer struct {
				Tenant struct {
					Branding *struct{ LogoURL, FaviconURL *string }
				}
			}
		}
		s.MustDo(t, agent, testenv.ContractOperation(t, "DesktopBootstrap"), nil, &view)
		if br := view.Viewer.Tenant.Branding; br == nil || *br.LogoURL != logoURL || *br.FaviconURL != favURL {
			t.Fatalf("after a refused upload, the desktop sees %+v", br)
		}
		// A new logo: a new URL; the favicon kept; the old URL gone.
		logo2, fav2 := urls(upload(t, s, A.AdminToken, map[string]file{"logo": {"logo.png", "image/png", pngOf(t, 200, 60, color.RGBA{G: 255, A: 255})}}))
		if logo2 == logoURL || fav2 != favURL {
			t.Errorf("a new logo: %s %s (was %s %s)", logo2, fav2, logoURL, favURL)
		}
		if r, _ := get(logoURL); r.StatusCode != http.StatusNotFound {
			t.Errorf("the old logo's URL: %d", r.StatusCode)
		}
		s.MustDo(t, B.AdminToken, testenv.ContractOperation(t, "DesktopBootstrap"), nil, &view)
		if view.Viewer.Tenant.Branding != nil {
			t.Errorf("B sees branding %+v", view.Viewer.Tenant.Branding)
		}
		var cleared struct {
			ClearBranding struct{ LogoURL, FaviconURL *string } `json:"clearBranding"`
		}
		s.MustDo(t, A.AdminToken, testenv.ContractOperation(t, "ClearBranding"), nil, &cleared)
		if cleared.ClearBranding.LogoURL != nil || cleared.ClearBranding.FaviconURL != nil {
			t.Errorf("cleared: %+v", cleared)
		}
		if r, _ := get(logo2); r.StatusCode != http.StatusNotFound {
			t.Errorf("a cleared logo: %d", r.StatusCode)
		}
	})
}
