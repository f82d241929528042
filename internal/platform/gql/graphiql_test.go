package gql

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
)

// A browser opening /graphql gets the bundled GraphiQL page once the
// server hands it one, under a policy naming no other origin; without
// one (a binary built without the web app), the CDN page.
func TestGraphiQLPage(t *testing.T) {
	g, err := NewGateway(context.Background(), []Endpoint{{Name: "catalog", URL: InProcessURL("catalog"), SDL: testSDL}},
		InProcess(map[string]http.Handler{}), DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	app := fiber.New()
	app.All("/graphql", g.Handle)
	open := func(accept string) (*http.Response, string) {
		req := httptest.NewRequest("GET", "/graphql", nil)
		req.Header.Set("Accept", accept)
		res, err := app.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}
	const browser = "text/html,application/xhtml+xml,*/*;q=0.8"

	res, body := open(browser)
	if res.StatusCode != 200 || !strings.Contains(body, "unpkg.com/graphiql") || !strings.Contains(res.Header.Get("Content-Security-Policy"), "https://unpkg.com") {
		t.Fatalf("fallback page: %d %q %.200s", res.StatusCode, res.Header.Get("Content-Security-Policy"), body)
	}

	page := `<!doctype html><html><head><script type="module" src="/assets/graphiql-1a2b.js"></script></head><body><div id="graphiql"></div></body></html>`
	g.ServeGraphiQL([]byte(page))
	res, body = open(browser)
	csp := res.Header.Get("Content-Security-Policy")
	if res.StatusCode != 200 || body != page || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") || res.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("bundled page: %d %v %.200s", res.StatusCode, res.Header, body)
	}
	for _, want := range []string{"script-src 'self';", "worker-src 'self' blob:;", "connect-src 'self' ws: wss:;", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "http") || strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
		t.Errorf("CSP %q opens the page to other origins or inline scripts", csp)
	}

	// An API client's GET is still a query, not the page.
	req := httptest.NewRequest("GET", "/graphql?query=%7B__typename%7D", nil)
	req.Header.Set("Accept", "application/json")
	r, err := app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(r.Body); r.StatusCode != 200 || !strings.Contains(string(b), `"__typename":"Query"`) {
		t.Fatalf("GET query: %d %s", r.StatusCode, b)
	}
}
