package app

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
)

// ReservationOutcomes are the values of
// commerce_stock_reservations_total's outcome label.
var ReservationOutcomes = []string{"reserved", "insufficient", "released", "committed"}

// instruments are catalog's metrics; the zero value records nothing.
type instruments struct {
	reservations metric.Int64Counter
	cache        metric.Int64Counter
	// productHit and productMiss are the product cache's attribute sets,
	// made once: a lookup is on every product read.
	productHit, productMiss metric.AddOption
}

// Instrument registers catalog's metrics on m:
//
//   - commerce_stock_reservations_total{outcome}: orders' reservations
//     made (reserved), refused for want of stock (insufficient), given
//     back (released: canceled, expired, not placed) or sold
//     (committed). A release or commit applied by the order-event
//     consumer is counted when applied (a rolled-back and retried
//     delivery may count one twice).
//   - commerce_cache_requests_total{cache,result}: product cache lookups
//     (cache="product": the in-process near cache, then Redis), result hit
//     or miss (a Redis error counts as a miss).
func (s *Service) Instrument(m metric.Meter) error {
	res, err := m.Int64Counter("commerce.stock.reservations", metric.WithDescription("stock reservations by outcome: reserved, insufficient, released, committed"))
	if err != nil {
		return err
	}
	cache, err := m.Int64Counter("commerce.cache.requests", metric.WithDescription("cache lookups by cache and result (hit, miss)"))
	if err != nil {
		return err
	}
	ctx := context.Background()
	for _, o := range ReservationOutcomes {
		res.Add(ctx, 0, metric.WithAttributes(attribute.String("outcome", o)))
	}
	hit := metric.WithAttributeSet(attribute.NewSet(attribute.String("cache", "product"), attribute.String("result", "hit")))
	miss := metric.WithAttributeSet(attribute.NewSet(attribute.String("cache", "product"), attribute.String("result", "miss")))
	cache.Add(ctx, 0, hit)
	cache.Add(ctx, 0, miss)
	s.inst = instruments{reservations: res, cache: cache, productHit: hit, productMiss: miss}
	return nil
}

// reserved counts the outcome of Reserve: a new reservation, or a refusal
// for want of stock (repeats and other errors count nothing).
func (i *instruments) reserved(ctx context.Context, err error, changed bool) {
	switch {
	case err == nil && changed:
		i.reservation(ctx, "reserved")
	case errors.Is(err, catalogapi.ErrInsufficientStock):
		i.reservation(ctx, "insufficient")
	}
}

// settled counts a reservation released or committed.
func (i *instruments) settled(ctx context.Context, status string) { i.reservation(ctx, status) }

func (i *instruments) reservation(ctx context.Context, outcome string) {
	if i.reservations != nil {
		i.reservations.Add(ctx, 1, metric.WithAttributes(attribute.String("outcome", outcome)))
	}
}

// productCacheLookup counts one lookup of the product cache.
func (i *instruments) productCacheLookup(ctx context.Context, hit bool) {
	if i.cache == nil {
		return
	}
	if hit {
		i.cache.Add(ctx, 1, i.productHit)
	} else {
		i.cache.Add(ctx, 1, i.productMiss)
	}
}
