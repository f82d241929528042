package httpx_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/opencommerce/commerce/internal/platform/otelx"
	"github.com/opencommerce/commerce/internal/platform/otelx/otlptest"
)

// With tracing on, every request is a server span named by its route
// template, continuing an incoming traceparent; 5xx and panics are errors.
// (Not parallel: tracing is process-wide.)
func TestServerSpans(t *testing.T) {
	rcv := otlptest.Start(t)
	tel, err := otelx.Setup(context.Background(), otelx.Settings{Endpoint: rcv.Endpoint, MetricsExporter: "none", LogsExporter: "none"})
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	app := newApp()
	var seen string
	app.Get("/items/:id", func(c *fiber.Ctx) error {
		seen = otelx.TraceParent(c.UserContext())
		return c.SendStatus(200)
	})
	get := func(path string, headers ...string) {
		req := httptest.NewRequest("GET", path, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		if _, err := app.Test(req); err != nil {
			t.Fatal(err)
		}
	}
	const parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	get("/items/42", "traceparent", parent)
	get("/items/43")
	get("/internal")
	get("/panic")
	get("/conflict")
	get("/nowhere")
	if err := tel.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	byPath := map[string]otlptest.Span{}
	for _, s := range rcv.Spans() {
		if s.Kind != tracepb.Span_SPAN_KIND_SERVER {
			t.Fatalf("span kind %s", s.Kind)
		}
		byPath[s.Attrs["url.path"]] = s
	}
	if len(byPath) != 6 {
		t.Fatalf("spans: %s", rcv.Summary())
	}
	s := byPath["/items/42"]
	if s.Name != "GET /items/:id" || s.Attrs["http.route"] != "/items/:id" || s.Attrs["http.response.status_code"] != "200" ||
		s.TraceID != "0af7651916cd43dd8448eb211c80319c" || s.ParentSpanID != "b7ad6b7169203331" || s.StatusCode == tracepb.Status_STATUS_CODE_ERROR {
		t.Fatalf("continued span: %+v", s)
	}
	if root := byPath["/items/43"]; root.ParentSpanID != "" || root.TraceID == s.TraceID || seen != "00-"+root.TraceID+"-"+root.SpanID+"-01" {
		t.Fatalf("root span %+v; the handler saw %s", root, seen)
	}
	for path, code := range map[string]string{"/internal": "500", "/panic": "500"} {
		if s := byPath[path]; s.Attrs["http.response.status_code"] != code || s.StatusCode != tracepb.Status_STATUS_CODE_ERROR || s.Name != "GET "+path {
			t.Fatalf("%s: %+v", path, s)
		}
	}
	if m := byPath["/panic"].StatusMessage; m != "panic: boom" {
		t.Fatalf("panic status message %q", m)
	}
	if s := byPath["/conflict"]; s.Attrs["http.response.status_code"] != "409" || s.StatusCode == tracepb.Status_STATUS_CODE_ERROR {
		t.Fatalf("a 4xx is not a server error: %+v", s)
	}
	if s := byPath["/nowhere"]; s.Name != "GET" || s.Attrs["http.route"] != "" || s.Attrs["http.response.status_code"] != "404" {
		t.Fatalf("an unmatched path names no route: %+v", s)
	}
}

// With tracing off the edge still starts a trace (for the logs' trace_id)
// and continues an incoming one, without recording anything.
func TestTraceContextWithoutTracing(t *testing.T) {
	app := newApp()
	var got []string
	app.Get("/x", func(c *fiber.Ctx) error {
		got = append(got, otelx.TraceID(c.UserContext()))
		return c.SendStatus(200)
	})
	req := httptest.NewRequest("GET", "/x", nil)
	req.Header.Set("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
	_, _ = app.Test(req)
	_, _ = app.Test(httptest.NewRequest("GET", "/x", nil))
	if len(got) != 2 || got[0] != "0af7651916cd43dd8448eb211c80319c" || len(got[1]) != 32 || got[1] == got[0] {
		t.Fatalf("trace ids: %v", got)
	}
}
