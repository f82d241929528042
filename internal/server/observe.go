package server

import (
	"github.com/opencommerce/commerce/internal/platform/metrics"
)

// observeShop registers the platform's health metrics: the event
// pipeline's (commerce_outbox_pending, commerce_dead_letters,
// commerce_consumer_retries_total) and the connection pool's
// (commerce_db_pool_*). The contexts register their own through
// module.Deps.Meter.
func (s *Server) observeShop() error {
	if err := s.Bus.Instrument(s.metrics.Meter("commerce/events")); err != nil {
		return err
	}
	return metrics.ObservePool(s.metrics.Meter("commerce/db"), s.DB.Pool)
}
