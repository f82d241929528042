package otelx

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"google.golang.org/protobuf/encoding/protowire"
)

// batchSettings are the standard OTEL_BSP_* variables, with the SDK batch
// span processor's defaults and rules.
type batchSettings struct {
	delay, timeout     time.Duration
	maxQueue, maxBatch int
}

// batchSettingsFromEnv reads OTEL_BSP_SCHEDULE_DELAY, _EXPORT_TIMEOUT
// (milliseconds), _MAX_QUEUE_SIZE and _MAX_EXPORT_BATCH_SIZE. The SDK's
// batch processor read them itself; the recorder that replaced it reads
// them the same way, except that a malformed value stops the start
// instead of being ignored.
func batchSettingsFromEnv(getenv func(string) string) (batchSettings, error) {
	b := batchSettings{delay: 5 * time.Second, timeout: 30 * time.Second, maxQueue: 2048, maxBatch: 512}
	var errs []error
	num := func(name string, into *int) {
		v := getenv(name)
		if v == "" {
			return
		}
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			errs = append(errs, fmt.Errorf("%s: %q is not a positive integer", name, v))
			return
		}
		*into = n
	}
	delay, timeout := int(b.delay/time.Millisecond), int(b.timeout/time.Millisecond)
	num("OTEL_BSP_SCHEDULE_DELAY", &delay)
	num("OTEL_BSP_EXPORT_TIMEOUT", &timeout)
	num("OTEL_BSP_MAX_QUEUE_SIZE", &b.maxQueue)
	num("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", &b.maxBatch)
	b.delay, b.timeout = time.Duration(delay)*time.Millisecond, time.Duration(timeout)*time.Millisecond
	// As the SDK: a batch never exceeds the queue.
	b.maxBatch = min(b.maxBatch, b.maxQueue)
	return b, errors.Join(errs...)
}

// spanRecorder is the tracer provider's span processor, in place of the
// SDK's batch span processor. That one queues every ended span through a
// channel to its goroutine (a goroutine wake-up per span on the request
// path) and keeps the span objects alive until their batch is exported
// (the garbage collector marks them on every cycle meanwhile). The
// recorder encodes a sampled span into protobuf bytes as it ends, under
// a short lock, and wakes its exporter only when a batch is full or the
// schedule delay has passed: the request path pays the encoding (work
// the exporter did anyway) and nothing else, and what waits for export
// is bytes the collector scans in no time.
//
// It keeps the batch processor's contract: batches of at most maxBatch
// spans, exported every delay or as soon as full, at most maxQueue spans
// waiting (more are dropped and counted), ForceFlush exports everything
// recorded so far, Shutdown flushes then stops the exporter.
type spanRecorder struct {
	exp *SpanExporter
	cfg batchSettings

	mu      sync.Mutex
	enc     spanEncoder // encodes ended spans into cur's groups
	cur     *spanBatch
	ready   []*spanBatch // full, waiting for the exporter
	free    []*spanBatch
	queued  int // spans in cur, ready and the export in flight
	dropped int
	stopped bool

	kick    chan struct{}           // a batch is ready (capacity 1)
	flush   chan chan struct{}      // ForceFlush: export all, then close
	stop    chan struct{}           // Shutdown: export all, then return
	done    chan struct{}           // the export loop has returned
	body    func(*spanBatch) []byte // request encoder (tests may count)
	once    sync.Once               // of Shutdown
	errMu   sync.Mutex              // guards shutErr
	shutErr error
}

// spanBatch is recorded spans grouped by (resource, scope), each group's
// spans already encoded as ScopeSpans.spans fields.
type spanBatch struct {
	n      int
	groups []spanGroupBytes
}

type spanGroupBytes struct {
	res   *resource.Resource
	scope instrumentation.Scope
	spans []byte
}

var _ sdktrace.SpanProcessor = (*spanRecorder)(nil)

func newSpanRecorder(exp *SpanExporter, cfg batchSettings) *spanRecorder {
	r := &spanRecorder{exp: exp, cfg: cfg, cur: &spanBatch{},
		kick: make(chan struct{}, 1), flush: make(chan chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	r.enc.res, r.enc.resBytes = exp.enc.res, exp.enc.resBytes
	go r.loop()
	return r
}

// OnStart does nothing: spans are recorded when they end.
func (r *spanRecorder) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd encodes a sampled span of the SDK into the current batch.
func (r *spanRecorder) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	r.record(s.Resource(), s.InstrumentationScope(), func(e *spanEncoder) { e.span(s) })
}

// record encodes an ended span of (res, scope) into the current batch,
// with encode, unless the queue is full.
func (r *spanRecorder) record(res *resource.Resource, scope instrumentation.Scope, encode func(*spanEncoder)) {
	r.mu.Lock()
	if r.stopped || r.queued >= r.cfg.maxQueue {
		r.dropped++
		r.mu.Unlock()
		return
	}
	b := r.cur
	g := -1
	for i := range b.groups {
		if b.groups[i].res == res && b.groups[i].scope == scope {
			g = i
			break
		}
	}
	if g < 0 {
		if len(b.groups) < cap(b.groups) {
			// A recycled batch: reuse the group's buffer.
			b.groups = b.groups[:len(b.groups)+1]
			g = len(b.groups) - 1
			b.groups[g].res, b.groups[g].scope, b.groups[g].spans = res, scope, b.groups[g].spans[:0]
		} else {
			b.groups = append(b.groups, spanGroupBytes{res: res, scope: scope})
			g = len(b.groups) - 1
		}
	}
	r.enc.buf = b.groups[g].spans
	encode(&r.enc)
	b.groups[g].spans, r.enc.buf = r.enc.buf, nil
	b.n++
	r.queued++
	full := b.n >= r.cfg.maxBatch
	if full {
		r.ready = append(r.ready, b)
		r.cur = r.newBatchLocked()
	}
	r.mu.Unlock()
	if full {
		select {
		case r.kick <- struct{}{}:
		default:
		}
	}
}

// newBatchLocked returns an empty batch, a recycled one when there is.
func (r *spanRecorder) newBatchLocked() *spanBatch {
	if n := len(r.free); n > 0 {
		b := r.free[n-1]
		r.free = r.free[:n-1]
		return b
	}
	return &spanBatch{}
}

// take removes the batches to export: the full ones, and the current
// one too when all is true.
func (r *spanRecorder) take(all bool) []*spanBatch {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.ready
	r.ready = nil
	if all && r.cur.n > 0 {
		out = append(out, r.cur)
		r.cur = r.newBatchLocked()
	}
	return out
}

// loop is the export goroutine: full batches when kicked, everything
// every delay, on ForceFlush and on Shutdown.
func (r *spanRecorder) loop() {
	defer close(r.done)
	t := time.NewTimer(r.cfg.delay)
	defer t.Stop()
	for {
		select {
		case <-r.kick:
			r.export(r.take(false))
		case <-t.C:
			r.export(r.take(true))
			t.Reset(r.cfg.delay)
		case ch := <-r.flush:
			r.export(r.take(true))
			close(ch)
		case <-r.stop:
			r.export(r.take(true))
			return
		}
	}
}

// export sends each batch as one request, then recycles it.
func (r *spanRecorder) export(batches []*spanBatch) {
	for _, b := range batches {
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.timeout)
		err := r.exp.export(ctx, b.n, func(enc *spanEncoder) []byte { return enc.request(b.groups) })
		cancel()
		if err != nil {
			otel.Handle(err)
		}
		r.mu.Lock()
		r.queued -= b.n
		b.n = 0
		// Keep the groups' buffers for reuse (cap), forget their spans.
		for i := range b.groups {
			b.groups[i].res = nil
		}
		b.groups = b.groups[:0]
		r.free = append(r.free, b)
		r.mu.Unlock()
	}
}

// ForceFlush exports every span recorded so far, waiting until ctx ends.
func (r *spanRecorder) ForceFlush(ctx context.Context) error {
	ch := make(chan struct{})
	select {
	case r.flush <- ch:
	case <-r.done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("span flush: %w", ctx.Err())
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("span flush: %w", ctx.Err())
	}
}

// Shutdown records no more spans, exports those recorded (until ctx
// ends) and shuts the exporter down. Later calls return the first result.
func (r *spanRecorder) Shutdown(ctx context.Context) error {
	r.once.Do(func() {
		r.mu.Lock()
		r.stopped = true
		r.mu.Unlock()
		close(r.stop)
		var err error
		select {
		case <-r.done:
		case <-ctx.Done():
			err = fmt.Errorf("span recorder shutdown: %w", ctx.Err())
		}
		// The exporter's Shutdown cancels an export still in flight.
		err = errors.Join(err, r.exp.Shutdown(ctx))
		if d := r.droppedSpans(); d > 0 {
			otel.Handle(fmt.Errorf("%d spans were dropped: more than OTEL_BSP_MAX_QUEUE_SIZE (%d) waited for export", d, r.cfg.maxQueue))
		}
		r.errMu.Lock()
		r.shutErr = err
		r.errMu.Unlock()
	})
	r.errMu.Lock()
	defer r.errMu.Unlock()
	return r.shutErr
}

// droppedSpans is how many sampled spans found the queue full.
func (r *spanRecorder) droppedSpans() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// request encodes the ExportTraceServiceRequest of a recorded batch:
// one ResourceSpans per resource, one ScopeSpans per scope, in order of
// first appearance, as encode groups ReadOnlySpans.
func (e *spanEncoder) request(groups []spanGroupBytes) []byte {
	e.buf = e.buf[:0]
	for g := range groups {
		res := groups[g].res
		seen := false
		for h := range g {
			if sameResource(groups[h].res, res) {
				seen = true
				break
			}
		}
		if seen {
			continue
		}
		rs := e.begin(fReqResourceSpans)
		if res != nil {
			e.buf = protowire.AppendTag(e.buf, fRSResource, protowire.BytesType)
			if res == e.res {
				e.buf = protowire.AppendBytes(e.buf, e.resBytes)
			} else {
				e.buf = protowire.AppendBytes(e.buf, e.resourceBytes(res))
			}
		}
		for h := g; h < len(groups); h++ {
			if !sameResource(groups[h].res, res) {
				continue
			}
			scope := groups[h].scope
			ss := e.begin(fRSScopeSpans)
			e.scope(scope)
			e.buf = append(e.buf, groups[h].spans...)
			e.str(fSSSchemaURL, scope.SchemaURL)
			e.end(ss)
		}
		if res != nil {
			e.str(fRSSchemaURL, res.SchemaURL())
		}
		e.end(rs)
	}
	return e.buf
}
