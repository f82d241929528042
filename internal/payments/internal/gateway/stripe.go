package gateway

import (
	"context"
	"strings"

	"github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
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
func (s *Stripe) CreateIntent(ctx context.Context, amount int64, currency, orderID, key string) (string, string, error) {
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
	p := &stripe.PaymentIntentCancelParams{}
	p.Context = ctx
	_, err := s.api.PaymentIntents.Cancel(intentID, p)
	return err
}

// Refund implements Gateway.
func (s *Stripe) Refund(ctx context.Context, intentID string, amount int64, key string) (string, error) {
	p := &stripe.RefundParams{PaymentIntent: stripe.String(intentID), Amount: stripe.Int64(amount)}
	p.Context = ctx
	p.SetIdempotencyKey(key)
	r, err := s.api.Refunds.New(p)
	if err != nil {
		return "", err
	}
	return r.ID, nil
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
