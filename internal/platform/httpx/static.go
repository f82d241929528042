package httpx

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html"
	"io/fs"
	"mime"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// The storefront: the single-page web app the binary serves at / next to
// its API. Files come from an fs.FS (the embedded Vite build) and are read
// once at start, so a request never touches a filesystem and never
// resolves a path: it is a map lookup.

// StorefrontConfig is what the storefront handler serves and how.
type StorefrontConfig struct {
	// Files is the web build, rooted where index.html lives. It may hold
	// no index.html (a checkout without a build).
	Files fs.FS
	// Placeholder is the page served instead of index.html when Files
	// has none, so / explains how to build the storefront.
	Placeholder []byte
	// StripePublishableKey, when set, opens the Content-Security-Policy
	// to Stripe.js (scripts, frames, API calls) and is handed to the app
	// in a <meta name="stripe-publishable-key"> of every HTML page, since
	// it is run-time configuration that a build cannot know.
	StripePublishableKey string
	// Exclude names files of Files (URL paths: "/graphiql.html") that
	// the storefront does not serve, nor their .br and .gz variants:
	// pages another handler serves with headers of its own.
	Exclude []string
}

// Cache-Control values: hashed assets never change under their name;
// everything else is revalidated (cheaply, with its ETag) on every use so
// a new deployment is picked up at once.
const (
	cacheImmutable   = "public, max-age=31536000, immutable"
	cacheRevalidate  = "no-cache"
	hashedAssetsPath = "/assets/"
)

// reservedPrefixes are paths the storefront never answers, even for a
// browser navigation: the API, the operational endpoints and the
// well-known URIs stay the server's (an unknown one is the API's
// problem+json 404, never the app's index.html).
var reservedPrefixes = []string{"/api", "/graphql", "/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/.well-known"}

// webTypes fixes the media types of the files a web build holds, so they
// do not depend on the host's /etc/mime.types (mime.TypeByExtension is the
// fallback for anything else).
var webTypes = map[string]string{
	".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8",
	".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8", ".json": "application/json", ".map": "application/json",
	".webmanifest": "application/manifest+json", ".txt": "text/plain; charset=utf-8",
	".xml": "application/xml", ".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
	".jpeg": "image/jpeg", ".gif": "image/gif", ".webp": "image/webp", ".avif": "image/avif",
	".ico": "image/x-icon", ".woff": "font/woff", ".woff2": "font/woff2", ".ttf": "font/ttf",
	".otf": "font/otf", ".wasm": "application/wasm",
}

// staticFile is one servable file with its precompressed variants.
type staticFile struct {
	body, br, gz []byte
	ctype        string
	etag         string // of the identity body; variants append -br / -gz
	immutable    bool
	html         bool
}

// Storefront serves the web app. Build it with NewStorefront; mount
// Handler last on the app (and Index on GET / where routes are
// documented).
type Storefront struct {
	files map[string]*staticFile // by URL path: "/assets/app-1a2b.js"
	index *staticFile
	built bool
	csp   string
}

// NewStorefront reads every file of cfg.Files into memory and indexes it.
func NewStorefront(cfg StorefrontConfig) (*Storefront, error) {
	s := &Storefront{files: map[string]*staticFile{}, csp: StorefrontCSP(cfg.StripePublishableKey != "")}
	raw := map[string][]byte{}
	if cfg.Files != nil {
		err := fs.WalkDir(cfg.Files, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			b, err := fs.ReadFile(cfg.Files, p)
			if err != nil {
				return fmt.Errorf("read %s: %w", p, err)
			}
			raw["/"+p] = b
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("storefront files: %w", err)
		}
	}
	for _, p := range cfg.Exclude {
		delete(raw, p)
		delete(raw, p+".br")
		delete(raw, p+".gz")
	}
	meta := stripeMeta(cfg.StripePublishableKey)
	for p, b := range raw {
		if hidden(p) {
			continue // .keep and other dotfiles are not the app's
		}
		if base, ok := compressedOf(p); ok {
			if _, has := raw[base]; has {
				continue // a variant of base, attached below
			}
		}
		f := newStaticFile(p, b, meta)
		// A variant of an HTML page that gets the meta tag would no
		// longer match it: only unchanged bodies keep their siblings.
		if bytes.Equal(f.body, b) {
			f.br, f.gz = raw[p+".br"], raw[p+".gz"]
		}
		s.files[p] = f
	}
	if idx, ok := s.files["/index.html"]; ok {
		s.index, s.built = idx, true
	} else {
		s.index = newStaticFile("/index.html", cfg.Placeholder, meta)
	}
	return s, nil
}

// Built reports whether a web build is embedded (false: / is the
// placeholder).
func (s *Storefront) Built() bool { return s.built }

// StorefrontCSP is the Content-Security-Policy of the storefront's HTML
// pages: everything from the shop's own origin only, plus Stripe.js
// (script and frames from js.stripe.com, calls to api.stripe.com) when
// card payments through Stripe are offered.
func StorefrontCSP(stripe bool) string {
	script, connect, frame := "'self'", "'self'", ""
	if stripe {
		script += " https://js.stripe.com"
		connect += " https://api.stripe.com"
		frame = "; frame-src https://js.stripe.com https://hooks.stripe.com"
	}
	return "default-src 'self'; script-src " + script + "; style-src 'self'; img-src 'self' data: https:; connect-src " + connect +
		"; font-src 'self'" + frame + "; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
}

// Index serves the app's entry page (or the placeholder) for GET /.
func (s *Storefront) Index(c *fiber.Ctx) error { return s.send(c, s.index) }

// Handler serves the build's files and, for a browser navigating to a
// client route, the entry page; anything else goes on to the next handler
// (mounted last, that is the server's problem+json 404), so an unknown
// /api/ path or a missing asset is never answered with the app.
func (s *Storefront) Handler(c *fiber.Ctx) error {
	if m := c.Method(); m != fiber.MethodGet && m != fiber.MethodHead {
		return c.Next()
	}
	p := c.Path()
	if u, err := url.PathUnescape(p); err == nil {
		p = u
	}
	p = path.Clean("/" + p)
	if reserved(p) {
		return c.Next()
	}
	if f, ok := s.files[p]; ok {
		return s.send(c, f)
	}
	if p == "/" {
		return s.send(c, s.index)
	}
	if !IsClientRoute(p) || !acceptsHTML(c.Get(fiber.HeaderAccept)) {
		return c.Next()
	}
	return s.send(c, s.index)
}

// IsClientRoute reports whether a (cleaned, unescaped) path may be one of
// the web app's own routes, which a browser navigating there gets the
// entry page for: not the server's (API, operational endpoints), no file
// extension (a missing file is a 404, not the app), no dot segment. The
// contract checks of the tests use it to tell the storefront's answers
// from undocumented routes.
func IsClientRoute(p string) bool {
	return strings.HasPrefix(p, "/") && !reserved(p) && path.Ext(p) == "" && !hidden(p)
}

// send writes f, choosing the encoding and answering a conditional
// request with 304.
func (s *Storefront) send(c *fiber.Ctx, f *staticFile) error {
	body, etag, encoding := f.body, f.etag, ""
	ae := c.Get(fiber.HeaderAcceptEncoding)
	switch {
	case f.br != nil && acceptsEncoding(ae, "br"):
		body, etag, encoding = f.br, strings.TrimSuffix(f.etag, `"`)+`-br"`, "br"
	case f.gz != nil && acceptsEncoding(ae, "gzip"):
		body, etag, encoding = f.gz, strings.TrimSuffix(f.etag, `"`)+`-gz"`, "gzip"
	}
	h := &c.Response().Header
	if f.br != nil || f.gz != nil {
		h.Add(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	}
	if f.immutable {
		c.Set(fiber.HeaderCacheControl, cacheImmutable)
	} else {
		c.Set(fiber.HeaderCacheControl, cacheRevalidate)
	}
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	if f.html {
		c.Set(fiber.HeaderContentSecurityPolicy, s.csp)
		c.Set(fiber.HeaderReferrerPolicy, "strict-origin-when-cross-origin")
		// require-corp (the API's default) would block product images from
		// other origins (img-src https:) and Stripe's frames, which send no
		// Cross-Origin-Resource-Policy.
		h.Del("Cross-Origin-Embedder-Policy")
	}
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, f.ctype)
	if encoding != "" {
		c.Set(fiber.HeaderContentEncoding, encoding)
	}
	return c.Send(body)
}

// newStaticFile describes the file at URL path p; HTML pages get the
// Stripe meta tag (meta may be empty).
func newStaticFile(p string, body []byte, meta string) *staticFile {
	ext := strings.ToLower(path.Ext(p))
	ctype := webTypes[ext]
	if ctype == "" {
		ctype = mime.TypeByExtension(ext)
	}
	if ctype == "" {
		ctype = fiber.MIMEOctetStream
	}
	f := &staticFile{body: body, ctype: ctype, immutable: strings.HasPrefix(p, hashedAssetsPath)}
	f.html = strings.HasPrefix(ctype, "text/html")
	if f.html && meta != "" {
		f.body = injectHead(body, meta)
	}
	sum := sha256.Sum256(f.body)
	f.etag = `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
	return f
}

// stripeMeta is the tag that hands the publishable key to the app.
func stripeMeta(key string) string {
	if key == "" {
		return ""
	}
	return `<meta name="stripe-publishable-key" content="` + html.EscapeString(key) + `">`
}

// injectHead puts tag right after <head> (or first, for a page without).
func injectHead(page []byte, tag string) []byte {
	lower := bytes.ToLower(page)
	i := bytes.Index(lower, []byte("<head"))
	if i >= 0 {
		if j := bytes.IndexByte(lower[i:], '>'); j >= 0 {
			at := i + j + 1
			out := make([]byte, 0, len(page)+len(tag))
			out = append(out, page[:at]...)
			out = append(out, tag...)
			return append(out, page[at:]...)
		}
	}
	return append([]byte(tag), page...)
}

// compressedOf returns the file a precompressed variant belongs to.
func compressedOf(p string) (string, bool) {
	for _, ext := range []string{".br", ".gz"} {
		if strings.HasSuffix(p, ext) {
			return strings.TrimSuffix(p, ext), true
		}
	}
	return "", false
}

// reserved reports whether p belongs to the server rather than the app.
func reserved(p string) bool {
	for _, r := range reservedPrefixes {
		if p == r || strings.HasPrefix(p, r+"/") {
			return true
		}
	}
	return false
}

// hidden reports whether a path has a segment starting with a dot.
func hidden(p string) bool { return strings.Contains(p, "/.") }

// acceptsHTML reports whether an Accept header takes an HTML page: a
// browser navigation (text/html) or a client that takes anything (*/*).
// No Accept header at all is an API client's, not a browser's.
func acceptsHTML(accept string) bool {
	for _, r := range strings.Split(accept, ",") {
		media, q := qualityOf(r)
		if q > 0 && (media == "text/html" || media == "*/*" || media == "text/*") {
			return true
		}
	}
	return false
}

// acceptsEncoding reports whether Accept-Encoding allows coding (by name
// or by *, and not with q=0).
func acceptsEncoding(header, coding string) bool {
	star := false
	for _, r := range strings.Split(header, ",") {
		name, q := qualityOf(r)
		switch name {
		case coding:
			return q > 0
		case "*":
			star = q > 0
		}
	}
	return star
}

// qualityOf splits one element of an Accept-style list into its lower-case
// value and its q parameter (1 when absent, 0 when unreadable).
func qualityOf(elem string) (string, float64) {
	value, params, _ := strings.Cut(elem, ";")
	q := 1.0
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
			continue
		}
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			f = 0
		}
		q = f
	}
	return strings.ToLower(strings.TrimSpace(value)), q
}

// etagMatches is If-None-Match's weak comparison against etag.
func etagMatches(header, etag string) bool {
	if header == "" {
		return false
	}
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
