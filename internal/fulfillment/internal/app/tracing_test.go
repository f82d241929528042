package app

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/opencommerce/commerce/internal/platform/otelx"
	"github.com/opencommerce/commerce/internal/platform/otelx/otlptest"
)

// carrierFunc is a Carrier made of a function.
type carrierFunc func(ctx context.Context, orderID, courier, country string, weightGrams int, eta time.Time) (string, error)

func (f carrierFunc) CreateShipment(ctx context.Context, orderID, courier, country string, weightGrams int, eta time.Time) (string, error) {
	return f(ctx, orderID, courier, country, weightGrams, eta)
}

// With tracing on, a carrier booking is a "carrier create shipment"
// client span of the caller's trace with the order id and courier (the
// destination stays out), marked an error when the carrier fails; the
// carrier gets the span's context.
func TestCarrierSpan(t *testing.T) {
	rcv, flush := otlptest.Tracing(t)
	var seen []string // the span of the context each call got
	fail := false
	s := &Service{carrier: carrierFunc(func(ctx context.Context, orderID, courier, country string, weightGrams int, eta time.Time) (string, error) {
		seen = append(seen, trace.SpanContextFromContext(ctx).SpanID().String())
		if fail {
			return "", errors.New("carrier down")
		}
		return "TRK-1", nil
	})}
	ctx, root := otelx.Tracer().Start(context.Background(), "root")
	if tr, err := s.createShipment(ctx, "order-1", "express", "DE", 500, time.Now()); err != nil || tr != "TRK-1" {
		t.Fatalf("booking: %q %v", tr, err)
	}
	fail = true
	if _, err := s.createShipment(ctx, "order-2", "standard", "DE", 500, time.Now()); err == nil {
		t.Fatal("a failing carrier's error was lost")
	}
	root.End()
	flush()
	rcv.WaitFor(t, 10*time.Second, "the two carrier spans", func() bool {
		var spans []otlptest.Span
		for _, sp := range rcv.Trace(root.SpanContext().TraceID().String()) {
			if sp.Name == "carrier create shipment" {
				spans = append(spans, sp)
			}
		}
		if len(spans) < 2 {
			return false
		}
		for _, sp := range spans {
			if !strings.Contains(strings.Join(seen, " "), sp.SpanID) {
				t.Fatalf("the carrier was not called in its span %s (got %v)", sp.SpanID, seen)
			}
			failed := sp.Attrs["commerce.order.id"] == "order-2"
			if sp.Kind != tracepb.Span_SPAN_KIND_CLIENT || sp.ParentSpanID != root.SpanContext().SpanID().String() || sp.Attrs["commerce.courier"] == "" ||
				failed != (sp.StatusCode == tracepb.Status_STATUS_CODE_ERROR) {
				t.Fatalf("carrier span: %+v", sp)
			}
			for k, v := range sp.Attrs {
				if v == "DE" {
					t.Fatalf("attribute %s carries the destination", k)
				}
			}
		}
		return true
	})
}
