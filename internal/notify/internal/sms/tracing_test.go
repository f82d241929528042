package sms

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/opencommerce/commerce/internal/platform/otelx"
	"github.com/opencommerce/commerce/internal/platform/otelx/otlptest"
)

// With tracing on, each provider tried is an "sms send" client span of
// the caller's trace naming the provider; one that refused is an error;
// the number and the text stay out of the trace.
func TestSendSpans(t *testing.T) {
	rcv, flush := otlptest.Tracing(t)
	down, up := newVendor(t, 502), newVendor(t, 200)
	chain, err := Parse(down.URL+","+up.URL, "tok", slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, root := otelx.Tracer().Start(context.Background(), "root")
	if _, err := chain.Send(ctx, Message{ID: "m-1", To: "+15550001111", Body: "secret text"}); err != nil {
		t.Fatal(err)
	}
	root.End()
	flush()
	rcv.WaitFor(t, 10*time.Second, "two sms send spans", func() bool {
		var failed, sent int
		for _, sp := range rcv.Trace(root.SpanContext().TraceID().String()) {
			if sp.Name != "sms send" {
				continue
			}
			if sp.ParentSpanID != root.SpanContext().SpanID().String() || sp.Attrs["sms.provider"] == "" {
				t.Fatalf("sms span: %+v", sp)
			}
			for k, v := range sp.Attrs {
				if strings.Contains(v, "5550001111") || strings.Contains(v, "secret") {
					t.Fatalf("attribute %s carries the message: %q", k, v)
				}
			}
			if sp.StatusCode == tracepb.Status_STATUS_CODE_ERROR {
				failed++
			} else {
				sent++
			}
		}
		return failed == 1 && sent == 1
	})
}
