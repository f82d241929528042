package pg_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/trace"

	"github.com/opencommerce/commerce/internal/platform/otelx"
	"github.com/opencommerce/commerce/internal/platform/otelx/otlptest"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

type countingTracer struct{ n atomic.Int64 }

func (c *countingTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}
func (c *countingTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// TestQuerySpans: with tracing on, a statement inside a trace is a client
// span (in the trace) named by its operation, without the statement or its values, and a
// tracer the pool already had still sees every statement.
func TestQuerySpans(t *testing.T) {
	rcv, flush := otlptest.Tracing(t)
	counter := &countingTracer{}
	db := open(t, pg.WithTracer(counter))

	ctx, root := otelx.Tracer().Start(context.Background(), "root", trace.WithSpanKind(trace.SpanKindServer))
	var v string
	if err := db.NewRaw("SELECT ? || 'x'", "secret-value").Scan(ctx, &v); err != nil {
		t.Fatal(err)
	}
	root.End()
	if counter.n.Load() == 0 {
		t.Fatal("the pool's own tracer saw no statement")
	}
	flush()
	rcv.WaitFor(t, 10*time.Second, "the SELECT span", func() bool {
		for _, sp := range rcv.Spans() {
			if sp.Name != "SELECT" {
				continue
			}
			if sp.TraceID != root.SpanContext().TraceID().String() || sp.ParentSpanID == "" || sp.Attrs["db.system.name"] != "postgresql" || sp.Attrs["server.address"] == "" {
				t.Fatalf("SQL span: %+v", sp)
			}
			for k, a := range sp.Attrs {
				if strings.Contains(a, "secret-value") {
					t.Fatalf("attribute %s carries the statement's value: %q", k, a)
				}
			}
			return true
		}
		return false
	})
}

// TestNoQueryTracerWithoutTracing: tracing off, the pool gets no tracer of
// its own (queries cost nothing more).
func TestNoQueryTracerWithoutTracing(t *testing.T) {
	if otelx.Tracing() {
		t.Skip("tracing is on")
	}
	if tr := open(t).Pool.Config().ConnConfig.Tracer; tr != nil {
		t.Fatalf("tracer %T without tracing", tr)
	}
}
