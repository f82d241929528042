package otelx_test

import (
	"context"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/opencommerce/commerce/internal/platform/otelx"
	"github.com/opencommerce/commerce/internal/platform/otelx/otlptest"
	"github.com/opencommerce/commerce/internal/platform/wait"
)

// recorder starts the span processor Setup installs, exporting to rcv.
func recorder(t *testing.T, rcv *otlptest.Receiver, protocol string, env map[string]string) sdktrace.SpanProcessor {
	t.Helper()
	res, _ := testResources(t)
	p, err := otelx.NewSpanRecorderForTest(otelx.Settings{Endpoint: endpointOf(rcv, protocol), Protocol: protocol}, res, env)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Shutdown(context.Background()) })
	return p
}

// receivedSpans counts the spans of every trace request rcv got.
func receivedSpans(rcv *otlptest.Receiver) (requests, spans int) {
	for _, r := range rcv.TraceRequests() {
		requests++
		for _, rs := range r.Request.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				spans += len(ss.Spans)
			}
		}
	}
	return requests, spans
}

// The recorder encodes spans as they end; what the collector receives is
// what the SDK's batch processor and exporter sent for the same spans.
func TestSpanRecorderSendsWhatTheSDKSends(t *testing.T) {
	for _, protocol := range []string{otelx.ProtocolGRPC, otelx.ProtocolHTTP} {
		t.Run(protocol, func(t *testing.T) {
			res, other := testResources(t)
			spans := testSpans(res, other)
			rcv := otlptest.Start(t)
			if err := sdkExporter(t, protocol, rcv).ExportSpans(context.Background(), spans); err != nil {
				t.Fatal(err)
			}
			p := recorder(t, rcv, protocol, map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "3600000"})
			// Twice: the second batch reuses the first one's buffers.
			for range 2 {
				for _, s := range spans {
					p.OnEnd(s)
				}
				if err := p.ForceFlush(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			reqs := rcv.TraceRequests()
			if len(reqs) != 3 {
				t.Fatalf("%d requests", len(reqs))
			}
			want := normalise(reqs[0].Request)
			for _, r := range reqs[1:] {
				got := normalise(r.Request)
				for _, rs := range got.ResourceSpans { // the SDK leaves out links' trace state
					for _, ss := range rs.ScopeSpans {
						for _, sp := range ss.Spans {
							for _, l := range sp.Links {
								l.TraceState = ""
							}
						}
					}
				}
				if !proto.Equal(want, got) {
					t.Fatalf("requests differ\nSDK:\n%s\nrecorder:\n%s", prototext.Format(want), prototext.Format(got))
				}
			}
		})
	}
}

// A full batch is exported at once, without waiting for the schedule
// delay; batches never exceed OTEL_BSP_MAX_EXPORT_BATCH_SIZE.
func TestSpanRecorderExportsFullBatches(t *testing.T) {
	rcv := otlptest.Start(t)
	p := recorder(t, rcv, otelx.ProtocolGRPC, map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "3600000", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "2"})
	res, other := testResources(t)
	for _, s := range testSpans(res, other) { // six spans
		p.OnEnd(s)
	}
	wait.Until(t, "six spans exported", 10*time.Second, 10*time.Millisecond, func() bool { _, n := receivedSpans(rcv); return n == 6 })
	if reqs, _ := receivedSpans(rcv); reqs != 3 {
		t.Fatalf("%d requests for 6 spans in batches of 2", reqs)
	}
}

// Spans that waited the schedule delay are exported without a flush.
func TestSpanRecorderExportsOnTheScheduleDelay(t *testing.T) {
	rcv := otlptest.Start(t)
	p := recorder(t, rcv, otelx.ProtocolHTTP, map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "20"})
	res, other := testResources(t)
	p.OnEnd(testSpans(res, other)[0])
	wait.Until(t, "the span exported", 10*time.Second, 10*time.Millisecond, func() bool { _, n := receivedSpans(rcv); return n == 1 })
}

// Beyond OTEL_BSP_MAX_QUEUE_SIZE waiting spans, new ones are dropped
// (and counted), never blocking the request that ended them; spans that
// are not sampled are not recorded at all.
func TestSpanRecorderDropsBeyondTheQueueAndSkipsUnsampled(t *testing.T) {
	rcv := otlptest.Start(t)
	p := recorder(t, rcv, otelx.ProtocolGRPC, map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "3600000", "OTEL_BSP_MAX_QUEUE_SIZE": "4"})
	res, other := testResources(t)
	spans := testSpans(res, other)
	unsampled := tracetest.SpanStub{Name: "unsampled", Resource: res,
		SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}})}.Snapshot()
	p.OnEnd(unsampled)
	for _, s := range spans {
		p.OnEnd(s)
	}
	if err := p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, n := receivedSpans(rcv); n != 4 {
		t.Fatalf("%d spans exported, want the queue's 4", n)
	}
	if d := otelx.SpansDroppedForTest(p); d != 2 {
		t.Fatalf("%d dropped, want 2", d)
	}
	// The queue has room again once exported.
	p.OnEnd(spans[0])
	if err := p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, n := receivedSpans(rcv); n != 5 {
		t.Fatalf("%d spans exported after the queue drained", n)
	}
}

// Shutdown exports what was recorded; later spans are dropped.
func TestSpanRecorderShutdownFlushes(t *testing.T) {
	rcv := otlptest.Start(t)
	p := recorder(t, rcv, otelx.ProtocolGRPC, map[string]string{"OTEL_BSP_SCHEDULE_DELAY": "3600000"})
	res, other := testResources(t)
	spans := testSpans(res, other)
	p.OnEnd(spans[0])
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.OnEnd(spans[1])
	if err := p.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, n := receivedSpans(rcv); n != 1 {
		t.Fatalf("%d spans exported", n)
	}
	if err := p.Shutdown(context.Background()); err != nil {
		t.Fatalf("second shutdown: %v", err)
	}
}

// A malformed OTEL_BSP_* value stops the start, naming the variable.
func TestBadBatchSettingNamesTheVariable(t *testing.T) {
	rcv := otlptest.Start(t)
	for _, name := range []string{"OTEL_BSP_SCHEDULE_DELAY", "OTEL_BSP_EXPORT_TIMEOUT", "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE"} {
		t.Setenv(name, "soon")
		_, err := otelx.Setup(context.Background(), otelx.Settings{Endpoint: rcv.Endpoint})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Fatalf("%s=soon: %v", name, err)
		}
		t.Setenv(name, "")
	}
}
