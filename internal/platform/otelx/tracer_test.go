package otelx_test

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/opencommerce/commerce/internal/platform/otelx"
	"github.com/opencommerce/commerce/internal/platform/otelx/otlptest"
)

// seqIDs hands out predictable IDs, the same sequence to both providers.
type seqIDs struct {
	mu sync.Mutex
	n  byte
}

func (g *seqIDs) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	g.mu.Lock()
	g.n++
	tid := trace.TraceID{0xAA, g.n}
	g.mu.Unlock()
	return tid, g.NewSpanID(ctx, tid)
}

func (g *seqIDs) NewSpanID(context.Context, trace.TraceID) trace.SpanID {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	return trace.SpanID{0xBB, g.n}
}

// exercise uses every part of the tracing API the binary and its
// instrumentation libraries use, with fixed timestamps.
func exercise(tp trace.TracerProvider) {
	t0 := time.Unix(1_700_000_000, 0)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	a := tp.Tracer("scope.a", trace.WithInstrumentationVersion("1.0"), trace.WithSchemaURL("https://opentelemetry.io/schemas/1.26.0"),
		trace.WithInstrumentationAttributes(attribute.String("lib", "a")))
	b := tp.Tracer("scope.b")

	remote := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, TraceFlags: trace.FlagsSampled, Remote: true})
	ctx := trace.ContextWithRemoteSpanContext(context.Background(), remote)
	ctx, server := a.Start(ctx, "GET", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(at(0)),
		trace.WithAttributes(attribute.String("http.request.method", "GET"), attribute.String("url.path", "/x")))
	server.SetName("GET /x")
	server.SetAttributes(attribute.Int("http.response.status_code", 500), attribute.String("url.path", "/y"), attribute.String("", "invalid"))
	server.SetStatus(codes.Error, "boom")
	server.SetStatus(codes.Unset, "ignored")
	server.RecordError(errors.New("it broke"), trace.WithTimestamp(at(1)))
	server.AddEvent("note", trace.WithTimestamp(at(2)), trace.WithAttributes(attribute.Bool("b", true), attribute.Int64Slice("is", []int64{1, 2})))
	server.AddLink(trace.Link{SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{7}, SpanID: trace.SpanID{8}}), Attributes: []attribute.KeyValue{attribute.Int("n", 1)}})
	server.AddLink(trace.Link{}) // empty: ignored

	cctx, client := b.Start(ctx, "SELECT", trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(at(3)),
		trace.WithLinks(trace.Link{SpanContext: remote}))
	client.SetStatus(codes.Ok, "dropped description")
	client.SetStatus(codes.Error, "too late: ok is final")
	_, internal := a.Start(cctx, "unspecified kind", trace.WithTimestamp(at(4)))
	internal.End(trace.WithTimestamp(at(5)))
	internal.SetName("after end: ignored")
	client.End(trace.WithTimestamp(at(6)))

	_, root := b.Start(ctx, "new root", trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindProducer), trace.WithTimestamp(at(7)))
	root.End(trace.WithTimestamp(at(8)))

	// A parent that was not sampled: parent-based sampling drops the child.
	unsampled := trace.ContextWithRemoteSpanContext(context.Background(),
		trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{3}, SpanID: trace.SpanID{4}, Remote: true}))
	uctx, dropped := a.Start(unsampled, "dropped", trace.WithTimestamp(at(9)))
	_, droppedChild := a.Start(uctx, "dropped child")
	droppedChild.End()
	dropped.End()

	server.End(trace.WithTimestamp(at(10)))
	server.End(trace.WithTimestamp(at(11))) // a second End changes nothing
}

// sortAttributes orders every attribute list by key: the SDK keeps
// attributes set twice in an order of its own.
func sortAttributes(req *coltrace.ExportTraceServiceRequest) {
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				sort.Slice(sp.Attributes, func(i, j int) bool { return sp.Attributes[i].Key < sp.Attributes[j].Key })
				for _, ev := range sp.Events {
					sort.Slice(ev.Attributes, func(i, j int) bool { return ev.Attributes[i].Key < ev.Attributes[j].Key })
				}
			}
		}
	}
}

// The binary's tracer provider sends a collector what the SDK's sends for
// the same calls: names, kinds, parents, attributes, events, links,
// status rules, sampling, scopes.
func TestTracerRecordsWhatTheSDKRecords(t *testing.T) {
	res, _ := testResources(t)
	rcv := otlptest.Start(t)
	smp := sdktrace.ParentBased(sdktrace.AlwaysSample())

	sdkTP := sdktrace.NewTracerProvider(sdktrace.WithBatcher(sdkExporter(t, otelx.ProtocolGRPC, rcv)), sdktrace.WithResource(res),
		sdktrace.WithSampler(smp), sdktrace.WithIDGenerator(&seqIDs{}))
	exercise(sdkTP)
	if err := sdkTP.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	leanTP, flush, err := otelx.NewTracerProviderForTest(otelx.Settings{Endpoint: rcv.Endpoint}, res, smp, &seqIDs{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	exercise(leanTP)
	if err := flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := rcv.TraceRequests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	want, got := normalise(reqs[0].Request), normalise(reqs[1].Request)
	sortAttributes(want)
	sortAttributes(got)
	// The SDK names the exception type of errors.New's value by its
	// package and type, as the lean tracer does; the stack differs.
	if !proto.Equal(want, got) {
		t.Fatalf("requests differ\nSDK:\n%s\nlean:\n%s", prototext.Format(want), prototext.Format(got))
	}
	names := map[string]string{}
	for _, rs := range got.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				names[sp.Name] = sp.Kind.String()
				for _, ev := range sp.Events {
					names["event "+ev.Name] = ""
				}
			}
		}
	}
	for name, kind := range map[string]string{"GET /x": "SPAN_KIND_SERVER", "unspecified kind": "SPAN_KIND_INTERNAL", "SELECT": "SPAN_KIND_CLIENT",
		"new root": "SPAN_KIND_PRODUCER", "event exception": "", "event note": ""} {
		if k, ok := names[name]; !ok || k != kind {
			t.Errorf("%s: kind %q (present %v), want %q", name, k, ok, kind)
		}
	}
	if len(names) != 6 {
		t.Errorf("spans and events %v: a span of an unsampled trace was exported, or one is missing", names)
	}
}

// Spans of one trace, started and ended from many goroutines at once,
// are all exported whole (run with -race).
func TestTracerConcurrentSpans(t *testing.T) {
	res, _ := testResources(t)
	rcv := otlptest.Start(t)
	tp, flush, err := otelx.NewTracerProviderForTest(otelx.Settings{Endpoint: rcv.Endpoint}, res, sdktrace.AlwaysSample(), nil, map[string]string{"OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "7"})
	if err != nil {
		t.Fatal(err)
	}
	tr := tp.Tracer("concurrent")
	ctx, parent := tr.Start(context.Background(), "parent")
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				_, s := tr.Start(ctx, "child")
				s.SetAttributes(attribute.Int("i", i), attribute.Int("j", j))
				parent.AddEvent("tick")
				s.End()
			}
		}()
	}
	wg.Wait()
	parent.End()
	if err := flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, n := receivedSpans(rcv); n != 401 {
		t.Fatalf("%d spans exported, want 401", n)
	}
}

// A child of a local span the sampler dropped is that span again: no IDs,
// no sampler call, no allocation (every SQL statement of nine requests in
// ten at 10% sampling). A remote unsampled parent still goes through the
// sampler, which may decide otherwise.
func TestChildOfDroppedSpanIsFree(t *testing.T) {
	res, _ := testResources(t)
	rcv := otlptest.Start(t)
	tp, flush, err := otelx.NewTracerProviderForTest(otelx.Settings{Endpoint: rcv.Endpoint}, res, sdktrace.TraceIDRatioBased(0), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := tp.Tracer("dropped")
	ctx, root := tr.Start(context.Background(), "root")
	if root.SpanContext().IsSampled() || !root.SpanContext().IsValid() {
		t.Fatalf("root %+v: want valid and unsampled", root.SpanContext())
	}
	if allocs := testing.AllocsPerRun(100, func() {
		cctx, child := tr.Start(ctx, "SELECT", clientKind...)
		if cctx != ctx || !child.SpanContext().Equal(root.SpanContext()) {
			t.Fatal("the child of a dropped span is a new span")
		}
		child.End()
	}); allocs != 0 {
		t.Errorf("%v allocations per child of a dropped span", allocs)
	}
	// Remote and unsampled: the (always on) sampler samples the child.
	remote := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{1}, SpanID: trace.SpanID{2}, Remote: true})
	on, _, err := otelx.NewTracerProviderForTest(otelx.Settings{Endpoint: rcv.Endpoint}, res, sdktrace.AlwaysSample(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, s := on.Tracer("remote").Start(trace.ContextWithRemoteSpanContext(context.Background(), remote), "server")
	if !s.SpanContext().IsSampled() || s.SpanContext().SpanID() == remote.SpanID() {
		t.Errorf("child of a remote unsampled parent: %+v", s.SpanContext())
	}
	s.End()
	root.End()
	if err := flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// clientKind is a start option made once, as instrumentation keeps its.
var clientKind = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient)}
