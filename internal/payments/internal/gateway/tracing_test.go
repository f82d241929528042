package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/opencommerce/commerce/internal/platform/otelx"
	"github.com/opencommerce/commerce/internal/platform/otelx/otlptest"
)

// With tracing on, each Stripe call is a client span of the caller's
// trace, named by the operation; a failed call is an error; the secret
// key, the idempotency key and the intent's client secret stay out of the
// trace.
func TestStripeSpans(t *testing.T) {
	rcv, flush := otlptest.Tracing(t)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/payment_intents":
			_, _ = w.Write([]byte(`{"id":"pi_1","object":"payment_intent","client_secret":"pi_1_secret_xyz","status":"requires_payment_method"}`))
		default:
			w.WriteHeader(http.StatusPaymentRequired)
			_, _ = w.Write([]byte(`{"error":{"type":"invalid_request_error","message":"no such charge"}}`))
		}
	}))
	defer api.Close()
	s := NewStripe("sk_test_secretkey", "whsec_x", api.URL)

	ctx, root := otelx.Tracer().Start(context.Background(), "root")
	if _, _, err := s.CreateIntent(ctx, 1000, "USD", "order-1", "idem-secret-key"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Refund(ctx, "pi_1", 500, "idem-secret-key-2"); err == nil {
		t.Fatal("the refund the API refused succeeded")
	}
	root.End()
	flush()
	rcv.WaitFor(t, 10*time.Second, "the Stripe spans", func() bool {
		got := map[string]tracepb.Status_StatusCode{}
		for _, sp := range rcv.Trace(root.SpanContext().TraceID().String()) {
			if !strings.HasPrefix(sp.Name, "stripe ") {
				continue
			}
			if sp.ParentSpanID != root.SpanContext().SpanID().String() || sp.Attrs["rpc.system"] != "stripe" {
				t.Fatalf("stripe span: %+v", sp)
			}
			for k, v := range sp.Attrs {
				if strings.Contains(v, "secret") || strings.Contains(v, "idem-") {
					t.Fatalf("span %s attribute %s carries a secret: %q", sp.Name, k, v)
				}
			}
			got[sp.Name] = sp.StatusCode
		}
		return len(got) == 2 && got["stripe create payment intent"] != tracepb.Status_STATUS_CODE_ERROR && got["stripe create refund"] == tracepb.Status_STATUS_CODE_ERROR
	})
}
