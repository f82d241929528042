package otelx

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// NewSpanExporterForTest builds the trace exporter of s as Setup does,
// with res as its provider's resource and the retry backoff starting at
// initial (the SDK's 5 s would make retry tests slow).
func NewSpanExporterForTest(s Settings, res *resource.Resource, initial time.Duration) (*SpanExporter, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	t, _, err := s.target(sigTraces)
	if err != nil {
		return nil, err
	}
	e, err := newSpanExporter(t, res)
	if err != nil {
		return nil, err
	}
	e.retry = backoff{initial: initial, maxInterval: 4 * initial, maxElapsed: 10 * time.Second}
	return e, nil
}

// SpanEncoderForTest returns the encoder of the exporter: the request
// bytes of spans (valid until the next call).
func SpanEncoderForTest(res *resource.Resource) func([]sdktrace.ReadOnlySpan) []byte {
	return newSpanEncoder(res).encode
}

// NewSpanRecorderForTest builds the span processor of s as Setup does,
// the OTEL_BSP_* variables read from env.
func NewSpanRecorderForTest(s Settings, res *resource.Resource, env map[string]string) (sdktrace.SpanProcessor, error) {
	cfg, err := batchSettingsFromEnv(func(k string) string { return env[k] })
	if err != nil {
		return nil, err
	}
	e, err := NewSpanExporterForTest(s, res, time.Millisecond)
	if err != nil {
		return nil, err
	}
	return newSpanRecorder(e, cfg), nil
}

// SpansDroppedForTest is how many spans a recorder dropped (queue full).
func SpansDroppedForTest(p sdktrace.SpanProcessor) int { return p.(*spanRecorder).droppedSpans() }

// NewTracerProviderForTest is the tracer provider Setup builds for s
// (OTEL_BSP_* from env), with ids as its ID generator when not nil. It
// returns the provider and its flush.
func NewTracerProviderForTest(s Settings, res *resource.Resource, smp sdktrace.Sampler, ids sdktrace.IDGenerator, env map[string]string) (trace.TracerProvider, func(context.Context) error, error) {
	p, err := NewSpanRecorderForTest(s, res, env)
	if err != nil {
		return nil, nil, err
	}
	tp := newTracerProvider(res, smp, p.(*spanRecorder))
	if ids != nil {
		tp.ids = ids
	}
	return tp, tp.ForceFlush, nil
}
