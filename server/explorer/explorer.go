// Package explorer serves the admin GraphQL query explorer: a GraphiQL page
// whose scripts and styles are all embedded in the binary, so it works
// without any access to the internet or a CDN.
//
// One handler serves both the page and its assets:
//
//	h := explorer.Handler("/query", "")
//	mux.Handle("GET /{$}", h)        // the page, at exactly "/"
//	mux.Handle("GET /explorer/", h)  // its assets, under AssetPrefix
//
// Mounting it as a catch-all with mux.Handle("/", h) works too: any path
// other than "/" and "/explorer/..." gets 404 Not Found. The handler must see
// the request paths unchanged (no http.StripPrefix).
//
// The page points GraphiQL at the endpoint for queries and mutations (HTTP
// POST) and at a WebSocket to the same URL for subscriptions (the
// graphql-transport-ws protocol of the graphql-ws library). Headers typed
// into GraphiQL's header editor, such as {"Authorization": "Bearer ..."}, are
// sent with every HTTP request and as the payload of the WebSocket
// connection_init message.
package explorer

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// AssetPrefix is the path under which the handler serves the page's scripts
// and styles. Requests under it must be routed to the handler.
const AssetPrefix = "/explorer/"

// vendored holds the third-party browser builds and their licence notices
// (see update-assets.sh); own holds the page and the small script and
// stylesheet written for it.
var (
	//go:embed assets/*.js assets/*.css assets/THIRD-PARTY-NOTICES.txt
	vendored embed.FS

	//go:embed web/explorer.js web/explorer.css web/index.html
	own embed.FS
)

// Cache-Control values. Asset URLs contain a hash of the content, so a
// matching URL can be cached forever; the page itself is always revalidated
// so that a new build's asset URLs are picked up at once.
const (
	cacheImmutable  = "public, max-age=31536000, immutable"
	cacheRevalidate = "no-cache"
)

// asset is one embedded file served under AssetPrefix.
type asset struct {
	name        string
	contentType string
	body        []byte
	hash        string // hex prefix of the SHA-256 of body

	gzipOnce sync.Once
	gzipped  []byte // body compressed with gzip, made on first use
}

// url returns the asset's path relative to the page at "/".
func (a *asset) url() string {
	return strings.TrimPrefix(AssetPrefix, "/") + a.hash + "/" + a.name
}

// gzipBody returns body compressed with gzip, compressing it once.
func (a *asset) gzipBody() []byte {
	a.gzipOnce.Do(func() {
		var buf bytes.Buffer
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		if err != nil {
			panic(err) // only for an invalid level
		}
		zw.Write(a.body) // writes to a bytes.Buffer do not fail
		zw.Close()
		a.gzipped = buf.Bytes()
	})
	return a.gzipped
}

// handler serves the page and the assets; it is safe for concurrent use.
type handler struct {
	page       []byte
	assets     map[string]*asset
	connectSrc []string // extra connect-src sources for an endpoint on another origin
}

// contentTypes maps the file extensions of the assets to their types.
var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".txt": "text/plain; charset=utf-8",
}

// Handler returns an http.Handler serving the query explorer page at "/"
// and its assets under AssetPrefix ("/explorer/"); see the package
// documentation for how to mount it. The licence notices of the bundled
// third-party code are served as an asset too, at
// /explorer/<any hash>/THIRD-PARTY-NOTICES.txt.
//
// endpoint is the GraphQL endpoint the page talks to: normally a path on the
// same server such as "/query", or an absolute http(s) URL, whose origin is
// then also allowed by the page's Content-Security-Policy. Subscriptions use
// a WebSocket to the same URL: wss: for an https endpoint, else ws: (for a
// path, that follows the page's own scheme).
// Handler panics if endpoint is not a usable URL, since that is a
// programming error.
//
// defaultHeaders, when not empty, is the JSON the Headers editor starts with
// for a visitor who has typed none (the demo's token, on a developer's
// machine).
func Handler(endpoint, defaultHeaders string) http.Handler {
	connectSrc, err := endpointSources(endpoint)
	if err != nil {
		panic("explorer: " + err.Error())
	}
	h := &handler{assets: map[string]*asset{}, connectSrc: connectSrc}
	h.addAssets(vendored, "assets")
	h.addAssets(own, "web")

	tmpl, err := template.New("index.html").Funcs(template.FuncMap{
		"asset": func(name string) (string, error) {
			a, ok := h.assets[name]
			if !ok {
				return "", fmt.Errorf("no asset %q", name)
			}
			return a.url(), nil
		},
	}).ParseFS(own, "web/index.html")
	if err != nil {
		panic("explorer: " + err.Error())
	}
	var page bytes.Buffer
	if err := tmpl.Execute(&page, struct{ Endpoint, DefaultHeaders string }{endpoint, defaultHeaders}); err != nil {
		panic("explorer: " + err.Error())
	}
	h.page = page.Bytes()
	return h
}

// addAssets registers every file directly inside dir of fsys that has an
// extension listed in contentTypes.
func (h *handler) addAssets(fsys fs.FS, dir string) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		panic("explorer: " + err.Error())
	}
	for _, e := range entries {
		ct, ok := contentTypes[path.Ext(e.Name())]
		if !ok || e.IsDir() {
			continue
		}
		body, err := fs.ReadFile(fsys, dir+"/"+e.Name())
		if err != nil {
			panic("explorer: " + err.Error())
		}
		sum := sha256.Sum256(body)
		h.assets[e.Name()] = &asset{
			name:        e.Name(),
			contentType: ct,
			body:        body,
			hash:        hex.EncodeToString(sum[:8]),
		}
	}
}

// ServeHTTP serves the page at "/" and assets under AssetPrefix.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case p == "/":
		if !allowMethod(w, r) {
			return
		}
		h.servePage(w, r)
	case strings.HasPrefix(p, AssetPrefix):
		hash, name, ok := strings.Cut(strings.TrimPrefix(p, AssetPrefix), "/")
		a := h.assets[name]
		if !ok || a == nil {
			http.NotFound(w, r)
			return
		}
		if !allowMethod(w, r) {
			return
		}
		// A stale hash (say, a page from the previous build during a
		// rolling deploy) still gets the current file, just not cached.
		serveAsset(w, r, a, hash == a.hash)
	default:
		http.NotFound(w, r)
	}
}

// allowMethod reports whether r is a GET or HEAD request, answering 405
// Method Not Allowed if it is not.
func allowMethod(w http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return true
	}
	w.Header().Set("Allow", "GET, HEAD")
	http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	return false
}

// servePage writes the HTML page with its security headers.
func (h *handler) servePage(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Content-Length", strconv.Itoa(len(h.page)))
	hdr.Set("Cache-Control", cacheRevalidate)
	hdr.Set("Content-Security-Policy", h.csp(r))
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("X-Frame-Options", "DENY")
	hdr.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(h.page)
	}
}

// csp returns the page's Content-Security-Policy. Scripts and stylesheets
// come only from this server. GraphiQL and CodeMirror set style attributes
// on elements they render, hence 'unsafe-inline' for styles (never for
// scripts). GraphiQL's stylesheet embeds its fonts and icons as data: URLs.
// connect-src names the ws: and wss: origins of the request's host
// explicitly because older browsers do not count them as 'self'.
func (h *handler) csp(r *http.Request) string {
	connect := []string{"'self'"}
	if validHost(r.Host) {
		connect = append(connect, "ws://"+r.Host, "wss://"+r.Host)
	}
	connect = append(connect, h.connectSrc...)
	return strings.Join([]string{
		"default-src 'none'",
		"script-src 'self'",
		"style-src 'self' 'unsafe-inline'",
		"font-src 'self' data:",
		"img-src 'self' data:",
		"connect-src " + strings.Join(connect, " "),
		"base-uri 'none'",
		"form-action 'none'",
		"frame-ancestors 'none'",
	}, "; ")
}

// serveAsset writes a, compressed with gzip when the client accepts it.
// immutable says whether the request named the asset's current hash.
func serveAsset(w http.ResponseWriter, r *http.Request, a *asset, immutable bool) {
	body, etag := a.body, `"`+a.hash+`"`
	hdr := w.Header()
	hdr.Add("Vary", "Accept-Encoding")
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, etag = a.gzipBody(), `"`+a.hash+`-gzip"`
		hdr.Set("Content-Encoding", "gzip")
	}
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("ETag", etag)
	if immutable {
		hdr.Set("Cache-Control", cacheImmutable)
	} else {
		hdr.Set("Cache-Control", cacheRevalidate)
	}
	if etagMatches(r.Header.Get("If-None-Match"), etag) {
		hdr.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// acceptsGzip reports whether an Accept-Encoding header value allows gzip.
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "x-gzip" {
			continue
		}
		for _, param := range strings.Split(params, ";") {
			k, v, _ := strings.Cut(param, "=")
			if strings.EqualFold(strings.TrimSpace(k), "q") {
				if q, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && q == 0 {
					return false
				}
			}
		}
		return true
	}
	return false
}

// etagMatches reports whether an If-None-Match header value matches etag,
// using the weak comparison that RFC 9110 prescribes for If-None-Match.
func etagMatches(header, etag string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == etag {
			return true
		}
	}
	return false
}

// hostPattern matches a host name or IP literal with an optional port:
// safe to put into a header value unescaped.
var hostPattern = regexp.MustCompile(`^([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?$`)

// validHost reports whether host is a plain host[:port] that may appear in
// a Content-Security-Policy source expression.
func validHost(host string) bool {
	return hostPattern.MatchString(host)
}

// endpointSources checks endpoint and returns the connect-src sources it
// needs besides the page's own origin: none for a path, the HTTP and
// WebSocket origins for an absolute URL.
func endpointSources(endpoint string) ([]string, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("endpoint %q: %v", endpoint, err)
	}
	switch {
	case endpoint == "":
		return nil, fmt.Errorf("empty endpoint")
	case u.Scheme == "" && u.Host == "":
		return nil, nil
	case (u.Scheme == "http" || u.Scheme == "https") && validHost(u.Host):
		ws := "ws"
		if u.Scheme == "https" {
			ws = "wss"
		}
		return []string{u.Scheme + "://" + u.Host, ws + "://" + u.Host}, nil
	default:
		return nil, fmt.Errorf("endpoint %q: want a path or an http(s) URL", endpoint)
	}
}
