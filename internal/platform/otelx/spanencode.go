package otelx

import (
	"math"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/protobuf/encoding/protowire"
)

// Field numbers of go.opentelemetry.io/proto/otlp v1.11.1 (collector/trace,
// trace, common and resource v1).
const (
	fReqResourceSpans = 1 // ExportTraceServiceRequest

	fRSResource   = 1 // ResourceSpans
	fRSScopeSpans = 2
	fRSSchemaURL  = 3

	fResAttributes = 1 // Resource

	fSSScope     = 1 // ScopeSpans
	fSSSpans     = 2
	fSSSchemaURL = 3

	fScopeName       = 1 // InstrumentationScope
	fScopeVersion    = 2
	fScopeAttributes = 3

	fSpanTraceID        = 1 // Span
	fSpanSpanID         = 2
	fSpanTraceState     = 3
	fSpanParentSpanID   = 4
	fSpanName           = 5
	fSpanKind           = 6
	fSpanStart          = 7
	fSpanEnd            = 8
	fSpanAttributes     = 9
	fSpanDroppedAttrs   = 10
	fSpanEvents         = 11
	fSpanDroppedEvents  = 12
	fSpanLinks          = 13
	fSpanDroppedLinks   = 14
	fSpanStatus         = 15
	fSpanFlags          = 16
	fEventTime          = 1 // Span.Event
	fEventName          = 2
	fEventAttributes    = 3
	fEventDroppedAttrs  = 4
	fLinkTraceID        = 1 // Span.Link
	fLinkSpanID         = 2
	fLinkTraceState     = 3
	fLinkAttributes     = 4
	fLinkDroppedAttrs   = 5
	fLinkFlags          = 6
	fStatusMessage      = 2 // Status
	fStatusCode         = 3
	fKVKey              = 1 // KeyValue
	fKVValue            = 2
	fAnyString          = 1 // AnyValue
	fAnyBool            = 2
	fAnyInt             = 3
	fAnyDouble          = 4
	fAnyArray           = 5
	fAnyKvlist          = 6
	fAnyBytes           = 7
	fArrayValues        = 1     // ArrayValue, KeyValueList
	flagHasIsRemoteMask = 0x100 // SpanFlags_SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK
	flagIsRemoteMask    = 0x200 // SpanFlags_SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK
)

// spanEncoder writes ExportTraceServiceRequests straight to protobuf wire
// bytes: the SDK exporter's transform builds a tree of proto objects per
// batch (several allocations per span and attribute) only to size and
// marshal it, which was most of the cost of exporting a span. The encoder
// keeps its buffers between batches, so a batch allocates nothing in the
// steady state. It is not safe for concurrent use.
type spanEncoder struct {
	buf []byte
	// res and resBytes are the provider's resource and its encoded
	// Resource message (attributes), made once.
	res      *resource.Resource
	resBytes []byte
	// scratch of encode.
	groups []spanGroup
	idx    []int
	done   []bool
}

// spanGroup is the spans of one (resource, scope) pair, in batch order.
type spanGroup struct {
	res   *resource.Resource
	scope instrumentation.Scope
}

func newSpanEncoder(res *resource.Resource) *spanEncoder {
	e := &spanEncoder{res: res}
	if res != nil {
		e.resBytes = e.resourceBytes(res)
	}
	return e
}

// resourceBytes encodes the body of a Resource message.
func (e *spanEncoder) resourceBytes(res *resource.Resource) []byte {
	saved := e.buf
	e.buf = nil
	iter := res.Iter()
	for iter.Next() {
		e.keyValue(fResAttributes, iter.Attribute())
	}
	out := e.buf
	e.buf = saved
	if out == nil {
		out = []byte{}
	}
	return out
}

// encode returns the ExportTraceServiceRequest of spans (valid until the
// next call), grouped by resource then scope in order of first
// appearance, as the SDK's transform groups them.
func (e *spanEncoder) encode(spans []sdktrace.ReadOnlySpan) []byte {
	e.buf = e.buf[:0]
	e.groups = e.groups[:0]
	e.idx = e.idx[:0]
	for _, s := range spans {
		if s == nil {
			e.idx = append(e.idx, -1)
			continue
		}
		res, scope := s.Resource(), s.InstrumentationScope()
		g := -1
		for i := range e.groups {
			if sameResource(e.groups[i].res, res) && e.groups[i].scope == scope {
				g = i
				break
			}
		}
		if g < 0 {
			g = len(e.groups)
			e.groups = append(e.groups, spanGroup{res: res, scope: scope})
		}
		e.idx = append(e.idx, g)
	}
	done := e.done[:0]
	for range e.groups {
		done = append(done, false)
	}
	e.done = done
	for g := range e.groups {
		if done[g] {
			continue
		}
		res := e.groups[g].res
		rs := e.begin(fReqResourceSpans)
		if res != nil {
			e.buf = protowire.AppendTag(e.buf, fRSResource, protowire.BytesType)
			if res == e.res {
				e.buf = protowire.AppendBytes(e.buf, e.resBytes)
			} else {
				m := e.begin(0)
				it := res.Iter()
				for it.Next() {
					e.keyValue(fResAttributes, it.Attribute())
				}
				e.end(m)
			}
		}
		// Every scope of this resource, in order of first appearance.
		for h := g; h < len(e.groups); h++ {
			if done[h] || !sameResource(e.groups[h].res, res) {
				continue
			}
			done[h] = true
			e.scopeSpans(h, spans)
		}
		if res != nil {
			e.str(fRSSchemaURL, res.SchemaURL())
		}
		e.end(rs)
	}
	return e.buf
}

// sameResource is the SDK's grouping of resources (by their attribute
// set), short-cut by identity: a provider's spans share one *Resource.
func sameResource(a, b *resource.Resource) bool {
	return a == b || a != nil && b != nil && a.Equivalent() == b.Equivalent()
}

func (e *spanEncoder) scopeSpans(g int, spans []sdktrace.ReadOnlySpan) {
	scope := e.groups[g].scope
	ss := e.begin(fRSScopeSpans)
	e.scope(scope)
	for i, s := range spans {
		if e.idx[i] == g {
			e.span(s)
		}
	}
	e.str(fSSSchemaURL, scope.SchemaURL)
	e.end(ss)
}

// scope writes the ScopeSpans.scope field (none for the empty scope).
func (e *spanEncoder) scope(scope instrumentation.Scope) {
	if scope == (instrumentation.Scope{}) {
		return
	}
	sc := e.begin(fSSScope)
	e.str(fScopeName, scope.Name)
	e.str(fScopeVersion, scope.Version)
	it := scope.Attributes.Iter()
	for it.Next() {
		e.keyValue(fScopeAttributes, it.Attribute())
	}
	e.end(sc)
}

// spanData is what a span field holds: the SDK's ended spans and the
// lean tracer's (tracer.go) are both encoded from it.
type spanData struct {
	name                                      string
	sc, parent                                trace.SpanContext
	kind                                      trace.SpanKind
	start, end                                time.Time
	attrs                                     []attribute.KeyValue
	events                                    []sdktrace.Event
	links                                     []sdktrace.Link
	status                                    sdktrace.Status
	droppedAttrs, droppedEvents, droppedLinks int
}

// span writes one ScopeSpans.spans field of an SDK span.
func (e *spanEncoder) span(s sdktrace.ReadOnlySpan) {
	e.spanData(&spanData{name: s.Name(), sc: s.SpanContext(), parent: s.Parent(), kind: s.SpanKind(), start: s.StartTime(), end: s.EndTime(),
		attrs: s.Attributes(), events: s.Events(), links: s.Links(), status: s.Status(),
		droppedAttrs: s.DroppedAttributes(), droppedEvents: s.DroppedEvents(), droppedLinks: s.DroppedLinks()})
}

// spanData writes one ScopeSpans.spans field.
func (e *spanEncoder) spanData(s *spanData) {
	m := e.begin(fSSSpans)
	sc := s.sc
	tid, sid := sc.TraceID(), sc.SpanID()
	e.bytes(fSpanTraceID, tid[:])
	e.bytes(fSpanSpanID, sid[:])
	if ts := sc.TraceState(); ts.Len() > 0 {
		e.str(fSpanTraceState, ts.String())
	}
	parent := s.parent
	if psid := parent.SpanID(); psid.IsValid() {
		e.bytes(fSpanParentSpanID, psid[:])
	}
	e.str(fSpanName, s.name)
	if k := spanKind(s.kind); k != 0 {
		e.buf = protowire.AppendTag(e.buf, fSpanKind, protowire.VarintType)
		e.buf = protowire.AppendVarint(e.buf, k)
	}
	e.fixed64(fSpanStart, unixNano(s.start.UnixNano()))
	e.fixed64(fSpanEnd, unixNano(s.end.UnixNano()))
	for _, kv := range s.attrs {
		e.keyValue(fSpanAttributes, kv)
	}
	e.count(fSpanDroppedAttrs, s.droppedAttrs)
	for _, ev := range s.events {
		em := e.begin(fSpanEvents)
		e.fixed64(fEventTime, unixNano(ev.Time.UnixNano()))
		e.str(fEventName, ev.Name)
		for _, kv := range ev.Attributes {
			e.keyValue(fEventAttributes, kv)
		}
		e.count(fEventDroppedAttrs, ev.DroppedAttributeCount)
		e.end(em)
	}
	e.count(fSpanDroppedEvents, s.droppedEvents)
	for _, l := range s.links {
		lm := e.begin(fSpanLinks)
		ltid, lsid := l.SpanContext.TraceID(), l.SpanContext.SpanID()
		e.bytes(fLinkTraceID, ltid[:])
		e.bytes(fLinkSpanID, lsid[:])
		if ts := l.SpanContext.TraceState(); ts.Len() > 0 {
			e.str(fLinkTraceState, ts.String())
		}
		for _, kv := range l.Attributes {
			e.keyValue(fLinkAttributes, kv)
		}
		e.count(fLinkDroppedAttrs, l.DroppedAttributeCount)
		e.fixed32(fLinkFlags, spanFlags(l.SpanContext.TraceFlags(), l.SpanContext))
		e.end(lm)
	}
	e.count(fSpanDroppedLinks, s.droppedLinks)
	// The SDK always sends a status, UNSET included.
	st := s.status
	sm := e.begin(fSpanStatus)
	e.str(fStatusMessage, st.Description)
	if c := statusCode(st.Code); c != 0 {
		e.buf = protowire.AppendTag(e.buf, fStatusCode, protowire.VarintType)
		e.buf = protowire.AppendVarint(e.buf, c)
	}
	e.end(sm)
	e.fixed32(fSpanFlags, spanFlags(sc.TraceFlags(), parent))
	e.end(m)
}

// spanFlags are the W3C trace flags plus the OTLP "has is-remote" bit,
// and the "is remote" bit when parent is remote, as the SDK sets them.
func spanFlags(tf trace.TraceFlags, parent trace.SpanContext) uint32 {
	f := uint32(tf) | flagHasIsRemoteMask
	if parent.IsRemote() {
		f |= flagIsRemoteMask
	}
	return f
}

// spanKind maps to Span.SpanKind (UNSPECIFIED 0, INTERNAL 1, SERVER 2,
// CLIENT 3, PRODUCER 4, CONSUMER 5).
func spanKind(k trace.SpanKind) uint64 {
	switch k {
	case trace.SpanKindInternal:
		return 1
	case trace.SpanKindServer:
		return 2
	case trace.SpanKindClient:
		return 3
	case trace.SpanKindProducer:
		return 4
	case trace.SpanKindConsumer:
		return 5
	}
	return 0
}

// statusCode maps to Status.StatusCode (UNSET 0, OK 1, ERROR 2).
func statusCode(c codes.Code) uint64 {
	switch c {
	case codes.Ok:
		return 1
	case codes.Error:
		return 2
	}
	return 0
}

func unixNano(n int64) uint64 { return uint64(max(0, n)) } // #nosec G115 -- clamped at 0

func (e *spanEncoder) keyValue(field protowire.Number, kv attribute.KeyValue) {
	m := e.begin(field)
	e.str(fKVKey, string(kv.Key))
	e.value(fKVValue, kv.Value)
	e.end(m)
}

// value encodes an AnyValue as the SDK's transform does (an EMPTY value is
// an AnyValue without a value; an unknown type the string "INVALID").
func (e *spanEncoder) value(field protowire.Number, v attribute.Value) {
	m := e.begin(field)
	switch v.Type() {
	case attribute.BOOL:
		e.buf = protowire.AppendTag(e.buf, fAnyBool, protowire.VarintType)
		e.buf = protowire.AppendVarint(e.buf, protowire.EncodeBool(v.AsBool()))
	case attribute.INT64:
		e.buf = protowire.AppendTag(e.buf, fAnyInt, protowire.VarintType)
		e.buf = protowire.AppendVarint(e.buf, uint64(v.AsInt64())) // #nosec G115 -- int64 is a two's complement varint
	case attribute.FLOAT64:
		e.buf = protowire.AppendTag(e.buf, fAnyDouble, protowire.Fixed64Type)
		e.buf = protowire.AppendFixed64(e.buf, math.Float64bits(v.AsFloat64()))
	case attribute.STRING:
		e.buf = protowire.AppendTag(e.buf, fAnyString, protowire.BytesType)
		e.buf = protowire.AppendString(e.buf, v.AsString())
	case attribute.BYTESLICE:
		e.buf = protowire.AppendTag(e.buf, fAnyBytes, protowire.BytesType)
		e.buf = protowire.AppendBytes(e.buf, v.AsByteSlice())
	case attribute.BOOLSLICE:
		array(e, v.AsBoolSlice(), attribute.BoolValue)
	case attribute.INT64SLICE:
		array(e, v.AsInt64Slice(), attribute.Int64Value)
	case attribute.FLOAT64SLICE:
		array(e, v.AsFloat64Slice(), attribute.Float64Value)
	case attribute.STRINGSLICE:
		array(e, v.AsStringSlice(), attribute.StringValue)
	case attribute.SLICE:
		a := e.begin(fAnyArray)
		for _, x := range v.AsSlice() {
			e.value(fArrayValues, x)
		}
		e.end(a)
	case attribute.MAP:
		a := e.begin(fAnyKvlist)
		for _, kv := range v.AsMap() {
			e.keyValue(fArrayValues, kv)
		}
		e.end(a)
	case attribute.EMPTY:
	default:
		e.buf = protowire.AppendTag(e.buf, fAnyString, protowire.BytesType)
		e.buf = protowire.AppendString(e.buf, "INVALID")
	}
	e.end(m)
}

// array encodes a typed slice attribute as an ArrayValue of AnyValues.
func array[T any](e *spanEncoder, xs []T, of func(T) attribute.Value) {
	a := e.begin(fAnyArray)
	for _, x := range xs {
		e.value(fArrayValues, of(x))
	}
	e.end(a)
}

// begin opens a length-delimited field (field 0: only the length, for a
// message whose tag was written already) and returns its mark for end.
// One byte is reserved for the length; end moves the body when the length
// needs more.
func (e *spanEncoder) begin(field protowire.Number) int {
	if field != 0 {
		e.buf = protowire.AppendTag(e.buf, field, protowire.BytesType)
	}
	e.buf = append(e.buf, 0)
	return len(e.buf)
}

// end writes the length of the field opened at mark.
func (e *spanEncoder) end(mark int) {
	n := len(e.buf) - mark
	if n < 0x80 {
		e.buf[mark-1] = byte(n)
		return
	}
	size := protowire.SizeVarint(uint64(n))
	for range size - 1 {
		e.buf = append(e.buf, 0)
	}
	copy(e.buf[mark-1+size:], e.buf[mark:mark+n])
	protowire.AppendVarint(e.buf[:mark-1], uint64(n))
}

// str writes a string field unless empty (proto3 omits default values).
func (e *spanEncoder) str(field protowire.Number, s string) {
	if s == "" {
		return
	}
	e.buf = protowire.AppendTag(e.buf, field, protowire.BytesType)
	e.buf = protowire.AppendString(e.buf, s)
}

func (e *spanEncoder) bytes(field protowire.Number, b []byte) {
	e.buf = protowire.AppendTag(e.buf, field, protowire.BytesType)
	e.buf = protowire.AppendBytes(e.buf, b)
}

func (e *spanEncoder) fixed64(field protowire.Number, v uint64) {
	if v == 0 {
		return
	}
	e.buf = protowire.AppendTag(e.buf, field, protowire.Fixed64Type)
	e.buf = protowire.AppendFixed64(e.buf, v)
}

func (e *spanEncoder) fixed32(field protowire.Number, v uint32) {
	if v == 0 {
		return
	}
	e.buf = protowire.AppendTag(e.buf, field, protowire.Fixed32Type)
	e.buf = protowire.AppendFixed32(e.buf, v)
}

// count writes a dropped count, clamped to uint32 as the SDK does.
func (e *spanEncoder) count(field protowire.Number, n int) {
	if n <= 0 {
		return
	}
	e.buf = protowire.AppendTag(e.buf, field, protowire.VarintType)
	e.buf = protowire.AppendVarint(e.buf, uint64(min(int64(n), math.MaxUint32)))
}
