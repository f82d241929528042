package server_test

import (
	"strings"
	"testing"

	"github.com/opencommerce/commerce/internal/platform/config"
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
}
