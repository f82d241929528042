package app

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/opencommerce/commerce/internal/platform/metrics/meter"
)

// OrderStatuses are the values of commerce_orders_total's status label:
// placed (the saga finished: pending_payment), failed (the saga was
// compensated) and every status an order moves to afterwards.
var OrderStatuses = []string{"placed", "failed", "paid", "canceled", "expired", "fulfilling", "shipped", "delivered", "refunded"}

// instruments are ordering's metrics; the zero value records nothing.
type instruments struct {
	orders metric.Int64Counter
}

// Instrument registers ordering's metrics on m:
//
//   - commerce_orders_total{status}: orders reaching each status
//     (OrderStatuses). Transitions applied by an event consumer are
//     counted when applied; a transaction rolled back afterwards (rare:
//     the consumer then retries) may count one twice.
//   - commerce_deadlines_due: payment deadlines and reminders already due
//     and not fired yet (the deadline worker is behind when it stays
//     above 0); a query read at most every few seconds at scrape time.
func (s *Service) Instrument(m metric.Meter) error {
	orders, err := m.Int64Counter("commerce.orders", metric.WithDescription("orders reaching a status (placed, failed, paid, canceled, expired, fulfilling, shipped, delivered, refunded)"))
	if err != nil {
		return err
	}
	for _, st := range OrderStatuses {
		orders.Add(context.Background(), 0, metric.WithAttributes(attribute.String("status", st)))
	}
	s.inst.orders = orders
	due, err := m.Int64ObservableGauge("commerce.deadlines.due", metric.WithDescription("ordering deadlines (payment timeouts, reminders) due and not yet fired"))
	if err != nil {
		return err
	}
	sample := meter.NewSampler(func(ctx context.Context) (int64, error) {
		return s.reads.DeadlinesDue(ctx, s.clock.Now())
	})
	_, err = m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		if n, err := sample.Get(ctx); err == nil {
			o.ObserveInt64(due, n)
		}
		return nil
	}, due)
	return err
}

// reached counts an order reaching status.
func (i *instruments) reached(ctx context.Context, status string) {
	if i.orders != nil {
		i.orders.Add(ctx, 1, metric.WithAttributes(attribute.String("status", status)))
	}
}
