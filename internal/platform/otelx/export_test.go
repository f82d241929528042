package otelx

import (
	"time"

	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
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
