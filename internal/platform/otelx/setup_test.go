package otelx_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/opencommerce/commerce/internal/platform/logx"
	"github.com/opencommerce/commerce/internal/platform/otelx"
	"github.com/opencommerce/commerce/internal/platform/otelx/otlptest"
)

func TestCheckEndpoint(t *testing.T) {
	for _, ok := range []string{"http://collector:4317", "https://collector", "collector:4317", "http://127.0.0.1:4318/otlp", "http://[::1]:4317", "[::1]:4317"} {
		if err := otelx.CheckEndpoint(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"ftp://collector:21", "http://", "http://collector:notaport", "http://collector:70000", "collector:", "http://u:p@collector:4317",
		"http://collector:4317?x=1", "collector:4317/v1/traces", "http://coll ector:4317", "://x"} {
		if err := otelx.CheckEndpoint(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
}

func TestParseKeyValues(t *testing.T) {
	kv, err := otelx.ParseKeyValues(" authorization=Bearer%20abc , x-tenant=a=b,,")
	if err != nil || kv["authorization"] != "Bearer abc" || kv["x-tenant"] != "a=b" || len(kv) != 2 {
		t.Fatalf("%v %v", kv, err)
	}
	if _, err := otelx.ParseKeyValues("authorization Bearer secret"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("missing = accepted or echoed: %v", err)
	}
	if _, err := otelx.ParseKeyValues("k=%zz"); err == nil {
		t.Fatal("bad escape accepted")
	}
}

func TestSettingsValidate(t *testing.T) {
	for name, s := range map[string]otelx.Settings{
		"endpoint":        {Endpoint: "ftp://x"},
		"traces endpoint": {TracesEndpoint: "http://"},
		"protocol":        {Endpoint: "http://x:4317", Protocol: "http/json"},
		"sampler":         {Endpoint: "http://x:4317", Sampler: "jaeger_remote"},
		"sampler arg":     {Endpoint: "http://x:4317", Sampler: "traceidratio", SamplerArg: "2"},
		"exporter":        {Endpoint: "http://x:4317", LogsExporter: "console"},
		"headers":         {Endpoint: "http://x:4317", Headers: "nokey"},
	} {
		if err := s.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if _, err := otelx.Setup(context.Background(), s); err == nil {
			t.Errorf("%s: Setup accepted", name)
		}
	}
	if err := (otelx.Settings{}).Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestNothingConfiguredExportsNothing(t *testing.T) {
	for _, s := range []otelx.Settings{{}, {Endpoint: "http://127.0.0.1:1", Disabled: true},
		{Endpoint: "http://127.0.0.1:1", TracesExporter: "none", MetricsExporter: "none", LogsExporter: "none"}} {
		tel, err := otelx.Setup(context.Background(), s)
		if err != nil {
			t.Fatal(err)
		}
		if tr, m, l := tel.Enabled(); tr || m || l || otelx.Tracing() || tel.LogHandler() != nil || otelx.MetricOptions() != nil {
			t.Fatalf("%+v: something is on", s)
		}
		if _, span := otelx.Tracer().Start(context.Background(), "x"); span.IsRecording() {
			t.Fatal("a span records")
		}
		if err := tel.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestExportOverBothProtocols sends a span, a metric and a log record to
// the in-test receiver over gRPC and over HTTP, and checks the resource,
// the parentage and the log's trace and span ids.
func TestExportOverBothProtocols(t *testing.T) {
	for _, protocol := range []string{otelx.ProtocolGRPC, otelx.ProtocolHTTP} {
		t.Run(protocol, func(t *testing.T) {
			rcv := otlptest.Start(t)
			endpoint := rcv.Endpoint
			if protocol == otelx.ProtocolHTTP {
				endpoint = rcv.HTTPEndpoint
			}
			tel, err := otelx.Setup(context.Background(), otelx.Settings{Endpoint: endpoint, Protocol: protocol, ServiceVersion: "1.2.3",
				Contexts: "catalog,cart", ResourceAttributes: "deployment.environment.name=test", Headers: "x-token=abc"})
			if err != nil {
				t.Fatal(err)
			}
			defer tel.Shutdown(context.Background())
			if !otelx.Tracing() {
				t.Fatal("tracing off")
			}
			mp := sdkmetric.NewMeterProvider(otelx.MetricOptions()...)
			counter, _ := mp.Meter("test").Int64Counter("test.requests")
			counter.Add(context.Background(), 3, metric.WithAttributes())
			log := logx.New(io.Discard, "info", tel.LogHandler())

			ctx, root := otelx.Tracer().Start(context.Background(), "root", trace.WithSpanKind(trace.SpanKindServer))
			cctx, child := otelx.Tracer().Start(ctx, "child")
			log.InfoContext(logx.WithRequestID(cctx, "req-1"), "inside the child", "k", "v")
			log.DebugContext(cctx, "below the level")
			child.End()
			root.End()
			if err := mp.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := tel.Shutdown(context.Background()); err != nil {
				t.Fatal(err)
			}
			if otelx.Tracing() {
				t.Fatal("still tracing after Shutdown")
			}
			tid := root.SpanContext().TraceID().String()
			spans := rcv.Trace(tid)
			if len(spans) != 2 {
				t.Fatalf("spans of the trace: %s", rcv.Summary())
			}
			for _, s := range spans {
				if s.Resource["service.name"] != "commerce" || s.Resource["service.version"] != "1.2.3" || s.Resource["commerce.contexts"] != "catalog,cart" ||
					s.Resource["deployment.environment.name"] != "test" {
					t.Fatalf("resource: %v", s.Resource)
				}
				if s.Name == "child" && s.ParentSpanID != root.SpanContext().SpanID().String() {
					t.Fatalf("child's parent %s", s.ParentSpanID)
				}
				if s.Name == "root" && s.Kind != tracepb.Span_SPAN_KIND_SERVER {
					t.Fatalf("root kind %s", s.Kind)
				}
			}
			logs := rcv.Logs()
			if len(logs) != 1 || logs[0].Body != "inside the child" || logs[0].TraceID != tid || logs[0].SpanID != child.SpanContext().SpanID().String() ||
				logs[0].Attrs["request_id"] != "req-1" || logs[0].Attrs["k"] != "v" || logs[0].Resource["service.name"] != "commerce" {
				t.Fatalf("logs: %+v", logs)
			}
			found := false
			for _, m := range rcv.Metrics() {
				found = found || m.Name == "test.requests"
			}
			if !found {
				t.Fatalf("metric not received: %+v", rcv.Metrics())
			}
		})
	}
}

func TestSamplerRatioZeroStillPropagates(t *testing.T) {
	rcv := otlptest.Start(t)
	tel, err := otelx.Setup(context.Background(), otelx.Settings{Endpoint: rcv.Endpoint, Sampler: "parentbased_traceidratio", SamplerArg: "0",
		MetricsExporter: "none", LogsExporter: "none"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, span := otelx.Tracer().Start(context.Background(), "dropped")
	if span.IsRecording() || !span.SpanContext().IsValid() || otelx.TraceID(ctx) == "" {
		t.Fatal("a dropped root span must still carry a trace id for the logs")
	}
	span.End()
	_ = tel.Shutdown(context.Background())
	// That nothing arrives cannot be waited for: Shutdown has flushed every
	// export (the positive wait); a short settle covers the receiver.
	time.Sleep(10 * time.Millisecond)
	if n := len(rcv.Spans()); n != 0 {
		t.Fatalf("%d spans exported at ratio 0", n)
	}
}

// A collector that is down does not fail the process: exports fail in
// the background and the failures are logged once, not per export.
func TestUnreachableCollectorIsLoggedOnce(t *testing.T) {
	var buf strings.Builder
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&lockedWriter{w: &buf}, nil)))
	defer slog.SetDefault(prev)
	tel, err := otelx.Setup(context.Background(), otelx.Settings{Endpoint: "http://127.0.0.1:1", MetricsExporter: "none", LogsExporter: "none"})
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	for i := 0; i < 2; i++ {
		_, span := otelx.Tracer().Start(context.Background(), "lost")
		span.End()
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		if err := tel.ForceFlush(ctx); err == nil {
			t.Log("flush reported no error")
		}
		cancel()
	}
	// The exporter retries in the background (a minute per batch); what
	// reaches the SDK's error handler is logged once per 30 seconds.
	for i := 0; i < 3; i++ {
		otel.Handle(errors.New("export failed: connection refused"))
	}
	if n := strings.Count(buf.String(), "telemetry export failed"); n != 1 {
		t.Fatalf("%d warnings:\n%s", n, buf.String())
	}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestMetricsPushedFromAnotherReader: the meter provider's cumulative
// reader (the Prometheus one in the binary) is what goes over OTLP, every
// interval and once more at Shutdown, with the resource, and the
// provider needs no second reader.
func TestMetricsPushedFromAnotherReader(t *testing.T) {
	rcv := otlptest.Start(t)
	tel, err := otelx.Setup(context.Background(), otelx.Settings{Endpoint: rcv.Endpoint, MetricInterval: 100 * time.Millisecond,
		LogsExporter: "none", TracesExporter: "none"})
	if err != nil {
		t.Fatal(err)
	}
	defer tel.Shutdown(context.Background())
	reader := sdkmetric.NewManualReader()
	opts, push := otelx.MetricsFrom(reader)
	if push == nil || len(opts) != 1 {
		t.Fatalf("want a push and the resource only, got %v options", len(opts))
	}
	mp := sdkmetric.NewMeterProvider(append([]sdkmetric.Option{sdkmetric.WithReader(reader)}, opts...)...)
	push.Start()
	counter, _ := mp.Meter("test").Int64Counter("test.pushed")
	counter.Add(context.Background(), 2)
	rcv.WaitFor(t, 10*time.Second, "a periodic push", func() bool { return rcv.Requests("metrics") >= 1 })
	counter.Add(context.Background(), 3)
	if err := push.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := mp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	pushes := 0
	for _, m := range rcv.Metrics() {
		if m.Name == "test.pushed" {
			pushes++
			if m.Resource["service.name"] != "commerce" || m.Points != 1 {
				t.Fatalf("pushed metric: %+v", m)
			}
		}
	}
	if pushes < 2 {
		t.Fatalf("want a periodic push and the last one at Shutdown, got %d: %+v", pushes, rcv.Metrics())
	}
}
