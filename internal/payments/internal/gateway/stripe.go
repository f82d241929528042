package gateway

import (
	"context"
	"strings"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/opencommerce/commerce/internal/platform/otelx"
)

// Stripe is the Stripe gateway (stripe-go). With a base URL it talks to
// that server instead of Stripe (stripe-mock in tests).
type Stripe struct {
	api           *client.API
	webhookSecret string
}

// NewStripe builds the gateway.
func NewStripe(secretKey, webhookSecret, apiBase string) *Stripe {
	var backends *stripe.Backends
	if apiBase != "" {
		cfg := &stripe.BackendConfig{URL: stripe.String(strings.TrimRight(apiBase, "/")), LeveledLogger: &stripe.LeveledLogger{Level: stripe.LevelError}}
		backends = &stripe.Backends{
			API:     stripe.GetBackendWithConfig(stripe.APIBackend, cfg),
			Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, cfg),
			Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, cfg),
		}
	}
	return &Stripe{api: client.New(secretKey, backends), webhookSecret: webhookSecret}
}

// Name implements Gateway.
func (*Stripe) Name() string { return "stripe" }

// CreateIntent implements Gateway.
func (s *Stripe) CreateIntent(ctx context.Context, amount int64, currency, orderID, key string) (_, _ string, err error) {
	ctx, end := stripeSpan(ctx, "stripe create payment intent", attribute.String("commerce.order.id", orderID))
	defer func() { end(err) }()
	p := &stripe.PaymentIntentParams{Amount: stripe.Int64(amount), Currency: stripe.String(strings.ToLower(currency))}
	p.Context = ctx
	p.SetIdempotencyKey(key)
	p.AddMetadata("order_id", orderID)
	pi, err := s.api.PaymentIntents.New(p)
	if err != nil {
		return "", "", err
	}
	return pi.ID, pi.ClientSecret, nil
}

// CancelIntent implements Gateway.
func (s *Stripe) CancelIntent(ctx context.Context, intentID string) error {
	ctx, end := stripeSpan(ctx, "stripe cancel payment intent", attribute.String("commerce.payment.intent_id", intentID))
	p := &stripe.PaymentIntentCancelParams{}
	p.Context = ctx
	_, err := s.api.PaymentIntents.Cancel(intentID, p)
	end(err)
	return err
}

// Refund implements Gateway.
func (s *Stripe) Refund(ctx context.Context, intentID string, amount int64, key string) (_ string, err error) {
	ctx, end := stripeSpan(ctx, "stripe create refund", attribute.String("commerce.payment.intent_id", intentID))
	defer func() { end(err) }()
	p := &stripe.RefundParams{PaymentIntent: stripe.String(intentID), Amount: stripe.Int64(amount)}
	p.Context = ctx
	p.SetIdempotencyKey(key)
	r, err := s.api.Refunds.New(p)
	if err != nil {
		return "", err
	}
	return r.ID, nil
}

// stripeSpan starts a client span around one Stripe API call (when
// tracing is on) with attrs: ids only, never the secret
// key, the idempotency key or an intent's client secret. end records the
// call's error and ends the span.
func stripeSpan(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, func(error)) {
	if !otelx.Tracing() {
		return ctx, func(error) {}
	}
	ctx, span := otelx.Tracer().Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(append(attrs, attribute.String("rpc.system", "stripe"))...))
	return ctx, func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}

// WebhookSecrets implements Gateway.
func (s *Stripe) WebhookSecrets() []string {
	var out []string
	for _, v := range strings.Split(s.webhookSecret, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
