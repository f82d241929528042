package app

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// PaymentOutcomes are the values of commerce_payments_total's outcome
// label: a provider event applied as a success, a failure or a success
// for the wrong amount; a refund done, or refused by the provider.
var PaymentOutcomes = []string{"succeeded", "failed", "amount_mismatch", "refunded", "refund_failed"}

// instruments are payments' metrics; the zero value records nothing.
type instruments struct {
	payments metric.Int64Counter
}

// Instrument registers commerce_payments_total{gateway,outcome} on m,
// counted after the transaction that records the outcome committed
// (a webhook delivered twice counts once: the provider event is
// deduplicated). Every configured gateway's series start at 0.
func (s *Service) Instrument(m metric.Meter) error {
	c, err := m.Int64Counter("commerce.payments", metric.WithDescription("payment outcomes by gateway: succeeded, failed, amount_mismatch, refunded, refund_failed"))
	if err != nil {
		return err
	}
	for gw := range s.gateways {
		for _, o := range PaymentOutcomes {
			c.Add(context.Background(), 0, metric.WithAttributes(attribute.String("gateway", gw), attribute.String("outcome", o)))
		}
	}
	s.inst.payments = c
	return nil
}

// payment counts one outcome ("" counts nothing: an event ignored or
// already applied).
func (i *instruments) payment(ctx context.Context, gateway, outcome string) {
	if i.payments != nil && outcome != "" {
		i.payments.Add(ctx, 1, metric.WithAttributes(attribute.String("gateway", gateway), attribute.String("outcome", outcome)))
	}
}
