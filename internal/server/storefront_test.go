package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/gql"
	"github.com/opencommerce/commerce/internal/server"
	"github.com/opencommerce/commerce/internal/server/servertest"
	"github.com/opencommerce/commerce/web"
)

// The binary serves the storefront at /: the embedded build, or (in a
// checkout that has none) the placeholder saying how to build it. A
// browser's client route gets the same page; the API keeps its 404s.
func TestStorefrontIsServedAtTheRoot(t *testing.T) {
	e := servertest.Start(t, func(c *config.Config) { c.StripePublishableKey = "pk_test_storefront" })
	const browser = "text/html,application/xhtml+xml,*/*;q=0.8"
	for _, p := range []string{"/", "/products/abc"} {
		r := e.Do("GET", p, nil, "", "Accept", browser)
		if r.Status != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || r.Header.Get("Cache-Control") != "no-cache" {
			t.Fatalf("GET %s: %d %v", p, r.Status, r.Header)
		}
		if !e.Server.StorefrontBuilt() && !strings.Contains(string(r.Body), "make build") {
			t.Fatalf("GET %s: without a build, not the placeholder: %.200s", p, r.Body)
		}
		csp := r.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self' https://js.stripe.com") || !strings.Contains(string(r.Body), `content="pk_test_storefront"`) {
			t.Fatalf("GET %s: the Stripe key is not handed over: %q", p, csp)
		}
	}
	if r := e.Do("GET", "/", nil, ""); r.Status != 200 || !strings.Contains(string(r.Body), "/docs") && !e.Server.StorefrontBuilt() {
		t.Fatalf("GET / without Accept: %d", r.Status)
	}
	for _, p := range []string{"/api/v1/nope", "/assets/missing.js"} {
		if r := e.Do("GET", p, nil, "", "Accept", browser); r.Status != 404 || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("GET %s: %d %s", p, r.Status, r.Header.Get("Content-Type"))
		}
	}
	if len(web.Placeholder) == 0 {
		t.Fatal("the placeholder is not embedded")
	}
	// Plain requests: GET /graphql and the assets are no REST operation
	// (e.Do checks its answers against the API document).
	checkGraphiQL(t, func(path string) (*http.Response, string) {
		req, err := http.NewRequest("GET", e.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept", browser)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	})
}

// checkGraphiQL opens /graphql as a browser does: with a web build, the
// bundled GraphiQL page under its own-origin-only policy, every script
// and stylesheet it names served from /assets/ by the storefront (the
// page itself not being a storefront file); without, the CDN page.
func checkGraphiQL(t *testing.T, get func(path string) (*http.Response, string)) {
	t.Helper()
	res, body := get("/graphql")
	page := web.GraphiQLPage()
	if page == nil {
		if res.StatusCode != 200 || !strings.Contains(body, "unpkg.com") {
			t.Fatalf("GET /graphql without a build: %d %.200s", res.StatusCode, body)
		}
		return
	}
	if res.StatusCode != 200 || body != string(page) || res.Header.Get("Content-Security-Policy") != gql.BundledGraphiQLCSP {
		t.Fatalf("GET /graphql: %d %v %.200s", res.StatusCode, res.Header, body)
	}
	assets := regexp.MustCompile(`(?:src|href)="(/assets/[^"]+)"`).FindAllStringSubmatch(body, -1)
	if len(assets) == 0 {
		t.Fatalf("the GraphiQL page names no asset: %s", body)
	}
	for _, m := range assets {
		if r, b := get(m[1]); r.StatusCode != 200 || r.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || len(b) == 0 {
			t.Errorf("GET %s: %d %v", m[1], r.StatusCode, r.Header)
		}
	}
	for _, p := range []string{"/" + web.GraphiQLFile, "/" + web.GraphiQLFile + ".gz", "/" + web.GraphiQLFile + ".br"} {
		if r, _ := get(p); r.StatusCode != 404 {
			t.Errorf("GET %s: %d, want 404 (GET /graphql serves the page)", p, r.StatusCode)
		}
	}
}

// The gateway of a split deployment is the public edge: it serves the
// storefront itself and still forwards every API path to its context.
func TestGatewayServesTheStorefront(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"upstream":"`+r.URL.Path+`"}`)
	}))
	defer upstream.Close()
	var ups []string
	for _, c := range config.AllContexts {
		ups = append(ups, c+"="+upstream.URL)
	}
	cfg, err := config.Load(nil, func(k string) string {
		return map[string]string{"CONTEXTS": "gateway", "DATA_DIR": t.TempDir(), "GATEWAY_UPSTREAMS": strings.Join(ups, ",")}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	g, err := server.NewGateway(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string) (*http.Response, string) {
		req := httptest.NewRequest("GET", path, nil)
		req.Header.Set("Accept", "text/html,*/*;q=0.8")
		res, err := g.App.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	for _, p := range []string{"/", "/products/abc"} {
		res, body := get(p)
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Fatalf("gateway GET %s: %d %v %.100s", p, res.StatusCode, res.Header, body)
		}
	}
	for _, p := range []string{"/api/v1/products", "/api/v1/products/abc", "/.well-known/jwks.json"} {
		if res, body := get(p); res.StatusCode != 200 || body != `{"upstream":"`+p+`"}` {
			t.Fatalf("gateway GET %s not forwarded: %d %s", p, res.StatusCode, body)
		}
	}
	if res, _ := get("/api/v2/nope"); res.StatusCode != 404 || res.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("gateway unknown API path: %d %v", res.StatusCode, res.Header)
	}
	checkGraphiQL(t, get)
}
