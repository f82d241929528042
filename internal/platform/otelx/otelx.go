// Package otelx carries W3C trace context (traceparent) through every hop
// of a request: HTTP in, gRPC calls between contexts, and integration
// events (the envelope's trace_parent), so one trace id ties together the
// work of all processes of a split deployment. It uses the OpenTelemetry
// propagation API. With an OTLP endpoint configured (Setup, setup.go) the
// SDK records spans and exports them with the metrics and logs; without
// one, nothing is recorded and the trace id only travels and is logged.
package otelx

import (
	"context"
	"crypto/rand"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

var prop = propagation.TraceContext{}

// Extract reads traceparent/tracestate through get into ctx. Without a
// traceparent there is nothing to continue (tracestate alone is
// meaningless), so the common case costs one header lookup.
func Extract(ctx context.Context, get func(string) string) context.Context {
	tp := get("traceparent")
	if tp == "" {
		return ctx
	}
	c := propagation.MapCarrier{"traceparent": tp}
	if ts := get("tracestate"); ts != "" {
		c["tracestate"] = ts
	}
	return prop.Extract(ctx, c)
}

// Inject writes the trace context of ctx through set.
func Inject(ctx context.Context, set func(k, v string)) {
	c := propagation.MapCarrier{}
	prop.Inject(ctx, c)
	for k, v := range c {
		set(k, v)
	}
}

// Propagator is the W3C trace-context propagator the binary uses.
func Propagator() propagation.TextMapPropagator { return prop }

// Ensure starts a new trace when ctx carries none (the edge of a request),
// without recording anything: the edge uses it when tracing is off (with
// tracing on, the SDK starts the root span and its trace id instead).
func Ensure(ctx context.Context) context.Context {
	if trace.SpanContextFromContext(ctx).IsValid() {
		return ctx
	}
	var tid trace.TraceID
	var sid trace.SpanID
	_, _ = rand.Read(tid[:])
	_, _ = rand.Read(sid[:])
	return trace.ContextWithRemoteSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled}))
}

// TraceParent returns the traceparent of ctx ("" when none).
func TraceParent(ctx context.Context) string {
	var out string
	Inject(ctx, func(k, v string) {
		if k == "traceparent" {
			out = v
		}
	})
	return out
}

// TraceID returns the trace id of ctx for logs ("" when none).
func TraceID(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ""
	}
	return sc.TraceID().String()
}
