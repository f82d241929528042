package redisx

import (
	"context"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/opencommerce/commerce/internal/platform/otelx"
	"github.com/opencommerce/commerce/internal/platform/otelx/otlptest"
)

// With tracing on, each command is a client span of the caller's trace,
// named by the command, with the server's address and without the
// command's arguments (keys and values may be tokens).
func TestCommandSpans(t *testing.T) {
	rcv, flush := otlptest.Tracing(t)
	ctx := context.Background()
	c, err := Open(ctx, "") // the embedded server speaks the protocol: the hook is the same
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	ctx, root := otelx.Tracer().Start(ctx, "root", trace.WithSpanKind(trace.SpanKindServer))
	if err := c.Set(ctx, "session:secret-key", "secret-value", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Get(ctx, "session:secret-key").Err(); err != nil {
		t.Fatal(err)
	}
	root.End()
	flush()
	want := root.SpanContext().TraceID().String()
	rcv.WaitFor(t, 10*time.Second, "the set and get spans", func() bool {
		seen := map[string]bool{}
		for _, sp := range rcv.Trace(want) {
			if sp.Name == "set" || sp.Name == "get" {
				seen[sp.Name] = true
				if sp.ParentSpanID != root.SpanContext().SpanID().String() || sp.Attrs["server.address"] == "" && sp.Attrs["net.peer.name"] == "" {
					t.Fatalf("redis span: %+v", sp)
				}
				for k, v := range sp.Attrs {
					if strings.Contains(v, "secret") {
						t.Fatalf("span %s attribute %s carries the command's arguments: %q", sp.Name, k, v)
					}
				}
			}
		}
		return seen["set"] && seen["get"]
	})
}
