package server

import (
	"go.opentelemetry.io/otel/metric"

	"github.com/opencommerce/commerce/internal/platform/metrics"
)

// meter is the meter of a hosted context's instruments (scope
// commerce/<ctx>); see docs/operations.md, Metrics and dashboards.
func (d hostDeps) meter(ctx string) metric.Meter { return d.s.metrics.Meter("commerce/" + ctx) }

// observeShop registers the platform's health metrics: the event
// pipeline's (commerce_outbox_pending, commerce_dead_letters,
// commerce_consumer_retries_total) and the connection pool's
// (commerce_db_pool_*). The contexts register their own through
// hostDeps.meter.
func (s *Server) observeShop() error {
	if err := s.Bus.Instrument(s.metrics.Meter("commerce/events")); err != nil {
		return err
	}
	return metrics.ObservePool(s.metrics.Meter("commerce/db"), s.DB.Pool)
}
