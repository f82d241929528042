package pg

import (
	"context"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/trace"
)

// sampledQueries hands a statement to otelpgx only inside a recording
// span. otelpgx makes no span there either, but first stores the start
// time in a new context (and records its duration metric, off here) on
// every statement: with 10% sampling, nine orders in ten paid that for
// each of their ~50 statements, the largest share of the allocations
// telemetry added to an unsampled request. Outside a recording span the
// statement is now untouched; inside one the span is otelpgx's as before.
//
// The end hooks see the context their start returned: the statement's
// span when one was started (recording until it ends), else the caller's
// non-recording one, so the same check routes them.
type sampledQueries struct{ t *otelpgx.Tracer }

var (
	_ pgx.QueryTracer    = sampledQueries{}
	_ pgx.BatchTracer    = sampledQueries{}
	_ pgx.CopyFromTracer = sampledQueries{}
	_ pgx.PrepareTracer  = sampledQueries{}
	_ pgx.ConnectTracer  = sampledQueries{}
)

func recording(ctx context.Context) bool { return trace.SpanFromContext(ctx).IsRecording() }

// TraceQueryStart starts the statement's span under a recording one.
func (s sampledQueries) TraceQueryStart(ctx context.Context, c *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if !recording(ctx) {
		return ctx
	}
	return s.t.TraceQueryStart(ctx, c, d)
}

// TraceQueryEnd ends the statement's span, if one was started.
func (s sampledQueries) TraceQueryEnd(ctx context.Context, c *pgx.Conn, d pgx.TraceQueryEndData) {
	if recording(ctx) {
		s.t.TraceQueryEnd(ctx, c, d)
	}
}

// TraceBatchStart starts a batch's span under a recording one.
func (s sampledQueries) TraceBatchStart(ctx context.Context, c *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	if !recording(ctx) {
		return ctx
	}
	return s.t.TraceBatchStart(ctx, c, d)
}

// TraceBatchQuery records one statement of a traced batch.
func (s sampledQueries) TraceBatchQuery(ctx context.Context, c *pgx.Conn, d pgx.TraceBatchQueryData) {
	if recording(ctx) {
		s.t.TraceBatchQuery(ctx, c, d)
	}
}

// TraceBatchEnd ends a traced batch's span.
func (s sampledQueries) TraceBatchEnd(ctx context.Context, c *pgx.Conn, d pgx.TraceBatchEndData) {
	if recording(ctx) {
		s.t.TraceBatchEnd(ctx, c, d)
	}
}

// TraceCopyFromStart starts a COPY's span under a recording one.
func (s sampledQueries) TraceCopyFromStart(ctx context.Context, c *pgx.Conn, d pgx.TraceCopyFromStartData) context.Context {
	if !recording(ctx) {
		return ctx
	}
	return s.t.TraceCopyFromStart(ctx, c, d)
}

// TraceCopyFromEnd ends a traced COPY's span.
func (s sampledQueries) TraceCopyFromEnd(ctx context.Context, c *pgx.Conn, d pgx.TraceCopyFromEndData) {
	if recording(ctx) {
		s.t.TraceCopyFromEnd(ctx, c, d)
	}
}

// TracePrepareStart starts a statement preparation's span under a
// recording one.
func (s sampledQueries) TracePrepareStart(ctx context.Context, c *pgx.Conn, d pgx.TracePrepareStartData) context.Context {
	if !recording(ctx) {
		return ctx
	}
	return s.t.TracePrepareStart(ctx, c, d)
}

// TracePrepareEnd ends a traced preparation's span.
func (s sampledQueries) TracePrepareEnd(ctx context.Context, c *pgx.Conn, d pgx.TracePrepareEndData) {
	if recording(ctx) {
		s.t.TracePrepareEnd(ctx, c, d)
	}
}

// TraceConnectStart starts a new connection's span under a recording one.
func (s sampledQueries) TraceConnectStart(ctx context.Context, d pgx.TraceConnectStartData) context.Context {
	if !recording(ctx) {
		return ctx
	}
	return s.t.TraceConnectStart(ctx, d)
}

// TraceConnectEnd ends a traced connection's span.
func (s sampledQueries) TraceConnectEnd(ctx context.Context, d pgx.TraceConnectEndData) {
	if recording(ctx) {
		s.t.TraceConnectEnd(ctx, d)
	}
}
