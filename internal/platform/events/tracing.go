package events

import (
	"context"
	"encoding/json"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/opencommerce/commerce/internal/platform/otelx"
)

// Spans of the event pipeline (recorded only with tracing on, otelx):
//
//   - "publish <topic>" (producer), one per envelope written to the outbox,
//     a child of the writer's span; its traceparent is the envelope's
//     trace_parent;
//   - "outbox relay" (internal), a pass of the relay that sequenced rows,
//     linked to the producer spans of the events it sequenced;
//   - "send <topic>" (producer), the forwarder handing one event to Kafka,
//     a child of the envelope's trace_parent; its traceparent travels as
//     the message's traceparent header;
//   - "process <topic>" (consumer), one consumer applying one event
//     (every attempt, the After hook), a child of the send span on Kafka,
//     of the publish span otherwise: the consumer works in the trace of
//     the request that caused the event.
const messagingSystem = "commerce"

var (
	attrSystem      = attribute.Key("messaging.system")
	attrDestination = attribute.Key("messaging.destination.name")
	attrOperation   = attribute.Key("messaging.operation.type")
	attrMessageID   = attribute.Key("messaging.message.id")
	attrConsumer    = attribute.Key("messaging.consumer.group.name")
	attrBatch       = attribute.Key("messaging.batch.message_count")
	attrKey         = attribute.Key("messaging.kafka.message.key")
)

// startPublish starts the producer spans of envelopes written to the
// outbox and returns the traceparent of each (the envelope's trace_parent
// unless the caller set one); end ends them with the outcome of the
// write. Without tracing every envelope gets the traceparent of ctx.
func startPublish(ctx context.Context, evs []Envelope) (traceParents []string, end func(error)) {
	traceParents = make([]string, len(evs))
	if !otelx.Tracing() {
		tp := otelx.TraceParent(ctx)
		for i := range traceParents {
			traceParents[i] = tp
		}
		return traceParents, func(error) {}
	}
	spans := make([]trace.Span, len(evs))
	for i, e := range evs {
		sctx, span := otelx.Tracer().Start(ctx, "publish "+e.Type, trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(
			attrSystem.String(messagingSystem), attrDestination.String(e.Type), attrOperation.String("send"),
			attrMessageID.String(e.ID)))
		traceParents[i], spans[i] = otelx.TraceParent(sctx), span
	}
	return traceParents, func(err error) {
		for _, s := range spans {
			endSpan(s, err)
		}
	}
}

// consumeSpan continues the trace of an event for one consumer: from the
// transport's traceparent when it carries one (Kafka's header, set by the
// forwarder's send span), else from the envelope's trace_parent. Without
// tracing it only continues the trace context (for the logs' trace_id).
func consumeSpan(ctx context.Context, c Consumer, topic, traceParent string, env Envelope) (context.Context, trace.Span) {
	if traceParent == "" {
		traceParent = env.TraceParent
	}
	ctx = traced(ctx, traceParent)
	if !otelx.Tracing() {
		return ctx, nil
	}
	return otelx.Tracer().Start(ctx, "process "+topic, trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(
		attrSystem.String(messagingSystem), attrDestination.String(topic), attrOperation.String("process"),
		attrMessageID.String(env.ID), attrConsumer.String(c.Name)))
}

// traced continues the trace of a traceparent.
func traced(ctx context.Context, traceParent string) context.Context {
	if traceParent == "" {
		return ctx
	}
	return otelx.Extract(ctx, func(k string) string {
		if k == "traceparent" {
			return traceParent
		}
		return ""
	})
}

// sendSpan starts the forwarder's span for one outbox row (nil without
// tracing), a child of the envelope's trace_parent.
func sendSpan(topic, eventID, aggregateID, payload string) (context.Context, trace.Span) {
	if !otelx.Tracing() {
		return context.Background(), nil
	}
	var head struct {
		TraceParent string `json:"trace_parent"`
	}
	_ = json.Unmarshal([]byte(payload), &head)
	return otelx.Tracer().Start(traced(context.Background(), head.TraceParent), "send "+topic, trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(attrSystem.String("kafka"), attrDestination.String(topic), attrOperation.String("send"),
			attrMessageID.String(eventID), attrKey.String(aggregateID)))
}

// relaySpan records a relay pass that sequenced rows, linked to the
// producer spans (trace parents) of the events it sequenced.
func relaySpan(start time.Time, traceParents []string) {
	if len(traceParents) == 0 {
		return
	}
	links := make([]trace.Link, 0, min(len(traceParents), 128))
	for _, tp := range traceParents {
		if len(links) == cap(links) {
			break
		}
		if sc := trace.SpanContextFromContext(traced(context.Background(), tp)); sc.IsValid() {
			links = append(links, trace.Link{SpanContext: sc})
		}
	}
	_, span := otelx.Tracer().Start(context.Background(), "outbox relay", trace.WithTimestamp(start), trace.WithLinks(links...),
		trace.WithAttributes(attrSystem.String(messagingSystem), attrBatch.Int(len(traceParents))))
	span.End()
}

// endSpan ends a span (nil: none) with the outcome.
func endSpan(s trace.Span, err error) {
	if s == nil {
		return
	}
	if err != nil {
		s.RecordError(err)
		s.SetStatus(codes.Error, err.Error())
	}
	s.End()
}
