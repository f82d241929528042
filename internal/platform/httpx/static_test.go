package httpx_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/platform/httpx"
)

const (
	indexPage = `<!doctype html><html><head><title>Shop</title></head><body><div id="root"></div><script type="module" src="/assets/app-1234.js"></script></body></html>`
	appJS     = `console.log("the shop")`
)

// build is a web build as Vite writes it with precompression: hashed
// assets under assets/ with .br and .gz siblings, and a robots.txt.
func build() fstest.MapFS {
	return fstest.MapFS{
		"index.html":             {Data: []byte(indexPage)},
		"assets/app-1234.js":     {Data: []byte(appJS)},
		"assets/app-1234.js.br":  {Data: []byte("BROTLI")},
		"assets/app-1234.js.gz":  {Data: []byte("GZIP")},
		"assets/style-9876.css":  {Data: []byte("body{}")},
		"assets/_plugin-5555.js": {Data: []byte("underscore")},
		"robots.txt":             {Data: []byte("User-agent: *\n")},
		".keep":                  {Data: nil},
	}
}

// storefrontApp is the server's shape: the common middleware, an API
// route, GET / and the storefront handler mounted last.
func storefrontApp(t *testing.T, files fstest.MapFS, stripeKey string) *fiber.App {
	t.Helper()
	sf, err := httpx.NewStorefront(httpx.StorefrontConfig{Files: files, Placeholder: []byte("<html><head></head><body>not built: run make build</body></html>"), StripePublishableKey: stripeKey})
	if err != nil {
		t.Fatal(err)
	}
	app := httpx.NewApp(httpx.Config{BodyLimit: 1 << 20, ReadTimeout: time.Second, WriteTimeout: time.Second, IdleTimeout: time.Second},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	app.Get("/api/v1/products", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"items": []any{}}) })
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	app.Get("/", sf.Index)
	app.Use(sf.Handler)
	return app
}

type answer struct {
	status int
	header http.Header
	body   string
}

func get(t *testing.T, app *fiber.App, method, path string, headers ...string) answer {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return answer{res.StatusCode, res.Header, string(b)}
}

const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

func TestStorefrontHashedAssetsAreImmutableAndPrecompressed(t *testing.T) {
	app := storefrontApp(t, build(), "")
	cases := []struct {
		acceptEncoding, encoding, body string
	}{
		{"gzip, deflate, br, zstd", "br", "BROTLI"},
		{"br;q=0.5, gzip", "br", "BROTLI"}, // br preferred whenever acceptable
		{"gzip, deflate", "gzip", "GZIP"},
		{"br;q=0, gzip", "gzip", "GZIP"},
		{"*", "br", "BROTLI"},
		{"*, br;q=0", "gzip", "GZIP"},
		{"", "", appJS},
		{"identity", "", appJS},
		{"deflate, gzip;q=0", "", appJS},
	}
	etags := map[string]string{}
	for _, c := range cases {
		r := get(t, app, "GET", "/assets/app-1234.js", "Accept-Encoding", c.acceptEncoding)
		if r.status != 200 || r.body != c.body {
			t.Fatalf("Accept-Encoding %q: %d %q, want %q", c.acceptEncoding, r.status, r.body, c.body)
		}
		if got := r.header.Get("Content-Encoding"); got != c.encoding {
			t.Errorf("Accept-Encoding %q: Content-Encoding %q, want %q", c.acceptEncoding, got, c.encoding)
		}
		if got := r.header.Get("Content-Type"); got != "text/javascript; charset=utf-8" {
			t.Errorf("Accept-Encoding %q: Content-Type %q (from the original's extension)", c.acceptEncoding, got)
		}
		if got := r.header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("Cache-Control %q", got)
		}
		if !strings.Contains(r.header.Get("Vary"), "Accept-Encoding") {
			t.Errorf("Accept-Encoding %q: Vary %q", c.acceptEncoding, r.header.Get("Vary"))
		}
		if e, seen := etags[c.encoding]; seen && e != r.header.Get("ETag") || !seen && r.header.Get("ETag") == "" {
			t.Errorf("ETag %q of %q varies or is missing", r.header.Get("ETag"), c.encoding)
		}
		etags[c.encoding] = r.header.Get("ETag")
	}
	if len(etags) != 3 || etags["br"] == etags["gzip"] || etags[""] == etags["br"] {
		t.Errorf("each encoding needs its own ETag: %v", etags)
	}
	// The variants are not files of their own; an asset without any has
	// no Vary; Vite's _-prefixed chunks are served.
	if r := get(t, app, "GET", "/assets/app-1234.js.br"); r.status != 404 {
		t.Errorf("a precompressed variant is served by its own name: %d", r.status)
	}
	r := get(t, app, "GET", "/assets/style-9876.css", "Accept-Encoding", "br")
	if r.status != 200 || r.header.Get("Content-Encoding") != "" || r.header.Get("Vary") != "" || r.header.Get("Content-Type") != "text/css; charset=utf-8" {
		t.Errorf("css: %d %v", r.status, r.header)
	}
	if r := get(t, app, "GET", "/assets/_plugin-5555.js"); r.status != 200 || r.body != "underscore" {
		t.Errorf("_-prefixed chunk: %d", r.status)
	}
	if r := get(t, app, "HEAD", "/assets/app-1234.js", "Accept-Encoding", "br"); r.status != 200 || r.body != "" || r.header.Get("Content-Encoding") != "br" {
		t.Errorf("HEAD: %d %v %q", r.status, r.header, r.body)
	}
}

func TestStorefrontRevalidatesUnhashedFiles(t *testing.T) {
	app := storefrontApp(t, build(), "")
	r := get(t, app, "GET", "/robots.txt")
	etag := r.header.Get("ETag")
	if r.status != 200 || r.header.Get("Cache-Control") != "no-cache" || etag == "" || r.header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("robots.txt: %d %v", r.status, r.header)
	}
	if r := get(t, app, "GET", "/robots.txt", "If-None-Match", `"other", `+etag); r.status != 304 || r.body != "" || r.header.Get("ETag") != etag {
		t.Fatalf("If-None-Match: %d %v", r.status, r.header)
	}
	if r := get(t, app, "GET", "/robots.txt", "If-None-Match", `"other"`); r.status != 200 {
		t.Fatalf("If-None-Match of another version: %d", r.status)
	}
	idx := get(t, app, "GET", "/", "Accept", browser)
	if idx.status != 200 || idx.body != indexPage || idx.header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("/: %d %v", idx.status, idx.header)
	}
	if r := get(t, app, "GET", "/orders/x", "Accept", browser, "If-None-Match", idx.header.Get("ETag")); r.status != 304 {
		t.Fatalf("client route If-None-Match: %d", r.status)
	}
	if r := get(t, app, "GET", "/.keep", "Accept", browser); r.status != 404 {
		t.Fatalf("dotfile served: %d", r.status)
	}
}

func TestStorefrontFallsBackToTheAppForClientRoutesOnly(t *testing.T) {
	app := storefrontApp(t, build(), "")
	for _, p := range []string{"/", "/products/abc", "/orders/x", "/account/orders/0190a1b2-c3d4", "/products/abc?tab=reviews"} {
		for _, accept := range []string{browser, "*/*"} {
			r := get(t, app, "GET", p, "Accept", accept)
			if r.status != 200 || r.body != indexPage {
				t.Errorf("%s (Accept %s): %d %.80q", p, accept, r.status, r.body)
				continue
			}
			if r.header.Get("Content-Type") != "text/html; charset=utf-8" || r.header.Get("Cache-Control") != "no-cache" {
				t.Errorf("%s: %v", p, r.header)
			}
		}
	}
	// Not a browser navigation, a missing file, the server's own paths: a
	// problem+json 404, never the app.
	notFound := []struct{ path, accept string }{
		{"/products/abc", ""},
		{"/products/abc", "application/json"},
		{"/products/abc", "text/html;q=0"},
		{"/assets/missing.js", browser},
		{"/favicon.ico", browser},
		{"/api/v1/nope", browser},
		{"/api/v1/nope", "*/*"},
		{"/api", browser},
		{"/graphql", browser},
		{"/docs/nope", browser},
		{"/.well-known/nope", browser},
		{"/.env", browser},
	}
	for _, c := range notFound {
		r := get(t, app, "GET", c.path, "Accept", c.accept)
		if r.status != 404 || r.header.Get("Content-Type") != "application/problem+json" || !strings.Contains(r.body, `"code":"not_found"`) {
			t.Errorf("%s (Accept %q): %d %s %.80q, want a problem+json 404", c.path, c.accept, r.status, r.header.Get("Content-Type"), r.body)
		}
	}
	// Only GET and HEAD; the routes before the handler are untouched.
	if r := get(t, app, "POST", "/products/abc", "Accept", browser); r.status != 404 {
		t.Errorf("POST client route: %d", r.status)
	}
	if r := get(t, app, "HEAD", "/products/abc", "Accept", browser); r.status != 200 || r.body != "" {
		t.Errorf("HEAD client route: %d", r.status)
	}
	if r := get(t, app, "GET", "/api/v1/products", "Accept", browser); r.status != 200 || r.header.Get("Content-Type") != "application/json" {
		t.Errorf("API route shadowed: %d %v", r.status, r.header)
	}
	if r := get(t, app, "GET", "/healthz", "Accept", "*/*"); r.status != 200 || !strings.Contains(r.body, "ok") {
		t.Errorf("/healthz shadowed: %d", r.status)
	}
}

func TestStorefrontContentSecurityPolicy(t *testing.T) {
	const selfOnly = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
	if got := httpx.StorefrontCSP(false); got != selfOnly {
		t.Fatalf("CSP without Stripe:\n got %s\nwant %s", got, selfOnly)
	}
	const withStripe = "default-src 'self'; script-src 'self' https://js.stripe.com; style-src 'self'; img-src 'self' data: https:; connect-src 'self' https://api.stripe.com; font-src 'self'; frame-src https://js.stripe.com https://hooks.stripe.com; object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
	if got := httpx.StorefrontCSP(true); got != withStripe {
		t.Fatalf("CSP with Stripe:\n got %s\nwant %s", got, withStripe)
	}
	for _, c := range []struct {
		key, csp string
	}{{"", selfOnly}, {"pk_test_123", withStripe}} {
		app := storefrontApp(t, build(), c.key)
		for _, p := range []string{"/", "/products/abc", "/index.html"} {
			r := get(t, app, "GET", p, "Accept", browser)
			if r.status != 200 {
				t.Fatalf("%s: %d", p, r.status)
			}
			if got := r.header.Get("Content-Security-Policy"); got != c.csp {
				t.Errorf("key %q, %s: CSP %q", c.key, p, got)
			}
			if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Referrer-Policy") != "strict-origin-when-cross-origin" {
				t.Errorf("key %q, %s: %v", c.key, p, r.header)
			}
			if r.header.Get("Cross-Origin-Embedder-Policy") != "" {
				t.Errorf("%s: COEP would block Stripe's frames and product images: %q", p, r.header.Get("Cross-Origin-Embedder-Policy"))
			}
			meta := `<head><meta name="stripe-publishable-key" content="pk_test_123">`
			if c.key != "" && !strings.Contains(r.body, meta) || c.key == "" && strings.Contains(r.body, "stripe") {
				t.Errorf("key %q, %s: the page does not carry exactly the configured key: %.160q", c.key, p, r.body)
			}
		}
		// Assets keep the API's policy; only pages get the shop's.
		if r := get(t, app, "GET", "/assets/app-1234.js"); r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("asset: %v", r.header)
		}
	}
}

func TestStorefrontPlaceholderWithoutABuild(t *testing.T) {
	for name, files := range map[string]fstest.MapFS{"empty": {}, "only .keep": {".keep": {}}, "assets but no index": {"assets/x-1.js": {Data: []byte("x")}}} {
		app := storefrontApp(t, files, "")
		for _, p := range []string{"/", "/products/abc"} {
			r := get(t, app, "GET", p, "Accept", browser)
			if r.status != 200 || !strings.Contains(r.body, "make build") || r.header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Errorf("%s, %s: %d %q", name, p, r.status, r.body)
			}
			if r.header.Get("Cache-Control") != "no-cache" || r.header.Get("Content-Security-Policy") != httpx.StorefrontCSP(false) {
				t.Errorf("%s, %s: %v", name, p, r.header)
			}
		}
		if r := get(t, app, "GET", "/index.html", "Accept", browser); r.status != 404 {
			t.Errorf("%s: /index.html without a build: %d", name, r.status)
		}
	}
	sf, err := httpx.NewStorefront(httpx.StorefrontConfig{Files: fstest.MapFS{}, Placeholder: []byte("x")})
	if err != nil || sf.Built() {
		t.Fatalf("built without index.html: %v", err)
	}
	sf, err = httpx.NewStorefront(httpx.StorefrontConfig{Files: build()})
	if err != nil || !sf.Built() {
		t.Fatalf("not built with index.html: %v", err)
	}
}

func TestIsClientRoute(t *testing.T) {
	for p, want := range map[string]bool{
		"/": true, "/products/abc": true, "/apiary": true, "/docs-and-more": true,
		"/api": false, "/api/v1/x": false, "/graphql": false, "/healthz": false, "/readyz": false, "/metrics": false,
		"/openapi.json": false, "/docs": false, "/docs/x": false, "/.well-known/jwks.json": false,
		"/assets/app.js": false, "/favicon.ico": false, "/a/.git/config": false, "relative": false,
	} {
		if got := httpx.IsClientRoute(p); got != want {
			t.Errorf("IsClientRoute(%q) = %v, want %v", p, got, want)
		}
	}
}

// A file the config excludes is not the storefront's to serve (GET
// /graphql serves graphiql.html with a policy of its own): it goes on to
// the next handler like a missing file.
func TestStorefrontExcludedFilesAreNotServed(t *testing.T) {
	files := build()
	files["graphiql.html"] = &fstest.MapFile{Data: []byte("<html><head></head><body>GraphiQL</body></html>")}
	files["graphiql.html.br"] = &fstest.MapFile{Data: []byte("BROTLI")}
	files["graphiql.html.gz"] = &fstest.MapFile{Data: []byte("GZIP")}
	sf, err := httpx.NewStorefront(httpx.StorefrontConfig{Files: files, Exclude: []string{"/graphiql.html"}})
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	app.Use(sf.Handler)
	for _, p := range []string{"/graphiql.html", "/graphiql.html.br", "/graphiql.html.gz"} {
		if r := get(t, app, "GET", p, "Accept", browser, "Accept-Encoding", "br, gzip"); r.status != 404 {
			t.Fatalf("excluded file %s: %d %q", p, r.status, r.body)
		}
	}
	if r := get(t, app, "GET", "/assets/app-1234.js"); r.status != 200 {
		t.Fatalf("asset: %d", r.status)
	}
}
