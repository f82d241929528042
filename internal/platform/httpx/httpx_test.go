package httpx_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/httpx"
)

func newApp(origins ...string) *fiber.App {
	app := httpx.NewApp(httpx.Config{BodyLimit: 1 << 20, ReadTimeout: time.Second, WriteTimeout: time.Second, IdleTimeout: time.Second, CORSOrigins: origins},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	app.Get("/panic", func(*fiber.Ctx) error { panic("boom") })
	app.Get("/internal", func(*fiber.Ctx) error { return io.ErrUnexpectedEOF })
	app.Get("/conflict", func(*fiber.Ctx) error { return errs.New(errs.Conflict, "version_conflict", "stale") })
	return app
}

func problem(t *testing.T, app *fiber.App, path string) (int, map[string]any) {
	res, err := app.Test(httptest.NewRequest("GET", path, nil))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	if ct := res.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("%s: content type %q", path, ct)
	}
	return res.StatusCode, m
}

func TestPanicsAndInternalErrorsAreOpaqueProblems(t *testing.T) {
	app := newApp()
	for _, p := range []string{"/panic", "/internal"} {
		status, m := problem(t, app, p)
		if status != 500 || m["code"] != "internal" {
			t.Fatalf("%s: %d %v", p, status, m)
		}
		if d, _ := m["detail"].(string); d == "boom" || d == io.ErrUnexpectedEOF.Error() {
			t.Fatalf("%s leaked its cause: %v", p, m)
		}
	}
	status, m := problem(t, app, "/conflict")
	if status != 409 || m["code"] != "version_conflict" || m["type"] != "/problems/version_conflict" {
		t.Fatalf("conflict: %d %v", status, m)
	}
}

func TestCORSOnlyForConfiguredOrigins(t *testing.T) {
	req := func(app *fiber.App, origin string) string {
		r := httptest.NewRequest("OPTIONS", "/conflict", nil)
		r.Header.Set("Origin", origin)
		r.Header.Set("Access-Control-Request-Method", "GET")
		res, err := app.Test(r)
		if err != nil {
			t.Fatal(err)
		}
		return res.Header.Get("Access-Control-Allow-Origin")
	}
	app := newApp("https://shop.example")
	if got := req(app, "https://shop.example"); got != "https://shop.example" {
		t.Fatalf("allowed origin: %q", got)
	}
	if got := req(app, "https://evil.example"); got != "" {
		t.Fatalf("other origin allowed: %q", got)
	}
	if got := req(newApp(), "https://shop.example"); got != "" {
		t.Fatalf("no origins configured, yet allowed: %q", got)
	}
}
