package otelx_test

import (
	"context"
	"runtime"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/opencommerce/commerce/internal/platform/otelx"
	"github.com/opencommerce/commerce/internal/platform/otelx/otlptest"
)

// BenchmarkSpanLifecycle is the request path's cost of one sampled server
// span (start, five attributes, a rename, end) and of its export, with
// the SDK's tracer provider and batch span processor ("sdk", what the
// binary ran before) and with the binary's own (tracer.go, spanrecord.go),
// both through the binary's OTLP encoder to a sink that does not decode.
// Each iteration yields, as a request does while it waits for the
// network; -cpu 1 puts the exporting goroutine on the same core, so that
// its work counts:
//
//	go test -run '^$' -bench SpanLifecycle -cpu 1 -count 5 ./internal/platform/otelx/
func BenchmarkSpanLifecycle(b *testing.B) {
	sink := otlptest.StartSink(b)
	res := resource.NewSchemaless(attribute.String("service.name", "bench"))
	// A queue that never fills: a benchmark loop outruns any exporter.
	env := map[string]string{"OTEL_BSP_MAX_QUEUE_SIZE": "100000000"}
	for _, name := range []string{"sdk", "lean"} {
		b.Run(name, func(b *testing.B) {
			var (
				tp    trace.TracerProvider
				flush func(context.Context) error
			)
			if name == "sdk" {
				exp, err := otelx.NewSpanExporterForTest(otelx.Settings{Endpoint: sink.Endpoint}, res, 0)
				if err != nil {
					b.Fatal(err)
				}
				p := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp, sdktrace.WithMaxQueueSize(100_000_000)), sdktrace.WithResource(res))
				tp, flush = p, p.ForceFlush
				defer p.Shutdown(context.Background())
			} else {
				p, f, err := otelx.NewTracerProviderForTest(otelx.Settings{Endpoint: sink.Endpoint}, res, sdktrace.ParentBased(sdktrace.AlwaysSample()), nil, env)
				if err != nil {
					b.Fatal(err)
				}
				tp, flush = p, f
			}
			tr := tp.Tracer(otelx.ScopeName)
			kind := trace.WithSpanKind(trace.SpanKindServer)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				_, sp := tr.Start(ctx, "GET", kind)
				sp.SetAttributes(attribute.String("http.request.method", "GET"), attribute.String("url.path", "/api/v1/products/0190"), attribute.String("client.address", "127.0.0.1"))
				sp.SetName("GET /api/v1/products/:id")
				sp.SetAttributes(attribute.String("http.route", "/api/v1/products/:id"), attribute.Int("http.response.status_code", 200))
				sp.End()
				runtime.Gosched()
			}
			if err := flush(context.Background()); err != nil {
				b.Fatal(err)
			}
		})
	}
}
