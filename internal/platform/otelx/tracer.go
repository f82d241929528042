package otelx

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.40.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/embedded"
)

// Span limits, the SDK's defaults: at most this many attributes per span,
// event and link, events and links per span; more are dropped and counted
// (the oldest event or link goes first, as in the SDK).
const spanLimit = 128

// tracerProvider is the binary's tracer provider, in place of the SDK's.
// A sampled span of the SDK costs a lock-protected recording span, an
// attribute de-duplication map, a snapshot copy of everything at End and
// a handoff to the batch processor's goroutine: several allocations and
// microseconds on every traced request, most of the cost of tracing a
// cached read. The lean spans here hold what the OTLP span message needs
// in one object and encode it into the recorder's batch when they end
// (spanrecord.go), with the SDK's samplers, ID generator semantics, span
// limits and wire output (tests compare what a collector receives from
// both).
type tracerProvider struct {
	embedded.TracerProvider
	res     *resource.Resource
	sampler sdktrace.Sampler
	rec     *spanRecorder
	ids     sdktrace.IDGenerator

	mu      sync.Mutex
	tracers map[instrumentation.Scope]*tracer
}

var _ trace.TracerProvider = (*tracerProvider)(nil)

func newTracerProvider(res *resource.Resource, smp sdktrace.Sampler, rec *spanRecorder) *tracerProvider {
	return &tracerProvider{res: res, sampler: smp, rec: rec, ids: randomIDs{}, tracers: map[instrumentation.Scope]*tracer{}}
}

// Tracer returns the tracer of an instrumentation scope (one per scope).
func (p *tracerProvider) Tracer(name string, opts ...trace.TracerOption) trace.Tracer {
	c := trace.NewTracerConfig(opts...)
	scope := instrumentation.Scope{Name: name, Version: c.InstrumentationVersion(), SchemaURL: c.SchemaURL(), Attributes: c.InstrumentationAttributes()}
	p.mu.Lock()
	defer p.mu.Unlock()
	t, ok := p.tracers[scope]
	if !ok {
		t = &tracer{p: p, scope: scope}
		p.tracers[scope] = t
	}
	return t
}

// ForceFlush exports every ended span now.
func (p *tracerProvider) ForceFlush(ctx context.Context) error { return p.rec.ForceFlush(ctx) }

// Shutdown exports what is recorded and stops exporting.
func (p *tracerProvider) Shutdown(ctx context.Context) error { return p.rec.Shutdown(ctx) }

// randomIDs are random trace and span IDs as the SDK's default generator
// makes them (math/rand/v2, never all zero); tests give fixed ones.
type randomIDs struct{}

func (randomIDs) NewIDs(context.Context) (trace.TraceID, trace.SpanID) {
	var tid trace.TraceID
	for !tid.IsValid() {
		binary.NativeEndian.PutUint64(tid[:8], rand.Uint64())
		binary.NativeEndian.PutUint64(tid[8:], rand.Uint64())
	}
	return tid, newSpanID()
}

func (randomIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID { return newSpanID() }

func newSpanID() trace.SpanID {
	var sid trace.SpanID
	for !sid.IsValid() {
		binary.NativeEndian.PutUint64(sid[:], rand.Uint64())
	}
	return sid
}

type tracer struct {
	embedded.Tracer
	p     *tracerProvider
	scope instrumentation.Scope
}

// Start starts a span as the SDK's tracer does: a child of the span in
// ctx (unless WithNewRoot), sampled by the provider's sampler, recording
// only when sampled.
func (t *tracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	if ctx == nil {
		ctx = context.Background()
	}
	c := trace.NewSpanStartConfig(opts...)
	var psc trace.SpanContext
	if c.NewRoot() {
		ctx = trace.ContextWithSpanContext(ctx, trace.SpanContext{})
	} else {
		psc = trace.SpanContextFromContext(ctx)
		if psc.IsValid() && !psc.IsRemote() && !psc.IsSampled() {
			if parent := trace.SpanFromContext(ctx); !parent.IsRecording() {
				// A child of a local span this provider dropped: every
				// sampler of Setup drops it too (a trace-ID ratio decides
				// the same for the same trace, a parent-based one follows
				// the parent), so skip the IDs, the sampler and the new
				// context. The caller gets the parent, whose End and
				// setters are no-ops, and propagates the same unsampled
				// trace.
				return ctx, parent
			}
		}
	}
	var tid trace.TraceID
	var sid trace.SpanID
	if psc.IsValid() {
		tid = psc.TraceID()
		sid = t.p.ids.NewSpanID(ctx, tid)
	} else {
		tid, sid = t.p.ids.NewIDs(ctx)
	}
	kind := trace.ValidateSpanKind(c.SpanKind())
	res := t.p.sampler.ShouldSample(sdktrace.SamplingParameters{ParentContext: ctx, TraceID: tid, Name: name, Kind: kind, Attributes: c.Attributes(), Links: c.Links()})
	scc := trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceState: res.Tracestate}
	if res.Decision == sdktrace.RecordAndSample {
		scc.TraceFlags = psc.TraceFlags() | trace.FlagsSampled
	} else {
		scc.TraceFlags = psc.TraceFlags() &^ trace.FlagsSampled
	}
	sc := trace.NewSpanContext(scc)
	if res.Decision == sdktrace.Drop {
		// Boxed once: the context and the caller share the value.
		var ns trace.Span = nonRecordingSpan{sc: sc, p: t.p}
		return trace.ContextWithSpan(ctx, ns), ns
	}
	s := &span{t: t, d: spanData{name: name, sc: sc, parent: psc, kind: kind, start: c.Timestamp()}}
	if s.d.start.IsZero() {
		s.d.start = time.Now()
	}
	for _, l := range c.Links() {
		s.addLinkLocked(l)
	}
	s.setAttributesLocked(res.Attributes)
	s.setAttributesLocked(c.Attributes())
	return trace.ContextWithSpan(ctx, s), s
}

// span is a recording span: its OTLP fields, guarded by mu until End.
type span struct {
	embedded.Span
	t     *tracer
	mu    sync.Mutex
	d     spanData
	ended bool
	// attrBuf holds the first attributes without another allocation.
	attrBuf [6]attribute.KeyValue
}

var _ trace.Span = (*span)(nil)

// End ends the span (once) and, when sampled, records it for export.
func (s *span) End(opts ...trace.SpanEndOption) {
	// The end time comes first, from the monotonic clock as the SDK's.
	end := s.d.start.Add(time.Since(s.d.start))
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return
	}
	s.ended = true
	if len(opts) > 0 {
		c := trace.NewSpanEndConfig(opts...)
		if ts := c.Timestamp(); !ts.IsZero() {
			end = ts
		}
	}
	s.d.end = end
	s.mu.Unlock()
	if !s.d.sc.IsSampled() {
		return
	}
	s.t.p.rec.record(s.t.p.res, s.t.scope, func(e *spanEncoder) { e.spanData(&s.d) })
}

// AddEvent adds an event, unless the span has ended.
func (s *span) AddEvent(name string, opts ...trace.EventOption) {
	c := trace.NewEventConfig(opts...)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addEventLocked(name, c)
}

func (s *span) addEventLocked(name string, c trace.EventConfig) {
	if s.ended {
		return
	}
	ts := c.Timestamp()
	if ts.IsZero() {
		ts = time.Now()
	}
	ev := sdktrace.Event{Name: name, Time: ts}
	for _, kv := range c.Attributes() {
		if !kv.Valid() {
			ev.DroppedAttributeCount++
			continue
		}
		if len(ev.Attributes) == spanLimit {
			ev.DroppedAttributeCount++
			continue
		}
		ev.Attributes = append(ev.Attributes, kv)
	}
	if len(s.d.events) == spanLimit {
		s.d.events = append(s.d.events[:0], s.d.events[1:]...)
		s.d.droppedEvents++
	}
	s.d.events = append(s.d.events, ev)
}

// AddLink adds a link, unless the span has ended or the link is empty.
func (s *span) AddLink(l trace.Link) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended {
		s.addLinkLocked(l)
	}
}

func (s *span) addLinkLocked(l trace.Link) {
	if !l.SpanContext.IsValid() && len(l.Attributes) == 0 && l.SpanContext.TraceState().Len() == 0 {
		return
	}
	sl := sdktrace.Link{SpanContext: l.SpanContext, Attributes: l.Attributes}
	if n := len(sl.Attributes); n > spanLimit {
		sl.Attributes, sl.DroppedAttributeCount = sl.Attributes[:spanLimit], n-spanLimit
	}
	if len(s.d.links) == spanLimit {
		s.d.links = append(s.d.links[:0], s.d.links[1:]...)
		s.d.droppedLinks++
	}
	s.d.links = append(s.d.links, sl)
}

// IsRecording reports whether the span still records (not yet ended).
func (s *span) IsRecording() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.ended
}

// RecordError adds an exception event, as the SDK does.
func (s *span) RecordError(err error, opts ...trace.EventOption) {
	if err == nil {
		return
	}
	opts = append(opts, trace.WithAttributes(semconv.ExceptionType(typeName(err)), semconv.ExceptionMessage(err.Error())))
	c := trace.NewEventConfig(opts...)
	if c.StackTrace() {
		buf := make([]byte, 2048)
		buf = buf[:runtime.Stack(buf, false)]
		c = trace.NewEventConfig(append(opts, trace.WithAttributes(semconv.ExceptionStacktrace(string(buf))))...)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addEventLocked(semconv.ExceptionEventName, c)
}

// typeName is the SDK's exception.type: package path and type name, or
// the type's string for unnamed types.
func typeName(v any) string {
	t := reflect.TypeOf(v)
	if t.PkgPath() == "" && t.Name() == "" {
		return t.String()
	}
	return fmt.Sprintf("%s.%s", t.PkgPath(), t.Name())
}

// SpanContext is the span's identity.
func (s *span) SpanContext() trace.SpanContext { return s.d.sc }

// SetStatus sets the status as the SDK does: Ok is final, Error beats
// Unset, and only Error keeps a description.
func (s *span) SetStatus(code codes.Code, description string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || s.d.status.Code > code {
		return
	}
	st := sdktrace.Status{Code: code}
	if code == codes.Error {
		st.Description = description
	}
	s.d.status = st
}

// SetName renames the span.
func (s *span) SetName(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended {
		s.d.name = name
	}
}

// SetAttributes sets attributes; a key set again takes the new value in
// place.
func (s *span) SetAttributes(kv ...attribute.KeyValue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.ended {
		s.setAttributesLocked(kv)
	}
}

func (s *span) setAttributesLocked(kvs []attribute.KeyValue) {
	if s.d.attrs == nil && len(kvs) > 0 {
		s.d.attrs = s.attrBuf[:0]
	}
next:
	for _, kv := range kvs {
		if !kv.Valid() {
			s.d.droppedAttrs++
			continue
		}
		for i := range s.d.attrs {
			if s.d.attrs[i].Key == kv.Key {
				s.d.attrs[i] = kv
				continue next
			}
		}
		if len(s.d.attrs) == spanLimit {
			s.d.droppedAttrs++
			continue
		}
		s.d.attrs = append(s.d.attrs, kv)
	}
}

// TracerProvider is the provider that made the span.
func (s *span) TracerProvider() trace.TracerProvider { return s.t.p }

// nonRecordingSpan is a span that was not sampled: it carries its span
// context (propagated, with the sampled flag off) and records nothing.
type nonRecordingSpan struct {
	embedded.Span
	sc trace.SpanContext
	p  *tracerProvider
}

func (nonRecordingSpan) End(...trace.SpanEndOption)              {}
func (nonRecordingSpan) AddEvent(string, ...trace.EventOption)   {}
func (nonRecordingSpan) AddLink(trace.Link)                      {}
func (nonRecordingSpan) IsRecording() bool                       { return false }
func (nonRecordingSpan) RecordError(error, ...trace.EventOption) {}
func (n nonRecordingSpan) SpanContext() trace.SpanContext        { return n.sc }
func (nonRecordingSpan) SetStatus(codes.Code, string)            {}
func (nonRecordingSpan) SetName(string)                          {}
func (nonRecordingSpan) SetAttributes(...attribute.KeyValue)     {}
func (n nonRecordingSpan) TracerProvider() trace.TracerProvider  { return n.p }

// SetAttributes is span.SetAttributes(kv...) without kv escaping to the
// heap when span is one of this provider's: through the trace.Span
// interface the compiler cannot see that the span copies the attributes,
// so the caller's attribute array became an allocation on every sampled
// request (the server span's five). Other spans get a copy.
func SetAttributes(sp trace.Span, kv ...attribute.KeyValue) {
	if s, ok := sp.(*span); ok {
		s.SetAttributes(kv...)
		return
	}
	sp.SetAttributes(slices.Clone(kv)...)
}
