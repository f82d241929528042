package metrics

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/metric"
)

// ObservePool registers the connection pool's statistics (pgxpool.Stat,
// read at scrape time, no query): commerce_db_pool_acquired_connections,
// _idle_connections, _total_connections, _max_connections (gauges) and
// commerce_db_pool_acquires_total, _acquire_duration_seconds_total,
// _empty_acquires_total, _canceled_acquires_total (counters). An empty
// acquire is one that had to wait for a connection: its rate rising with
// acquired = max is a pool too small for the load.
func ObservePool(m metric.Meter, pool *pgxpool.Pool) error {
	gauge := func(name, desc string) (metric.Int64ObservableGauge, error) {
		return m.Int64ObservableGauge(name, metric.WithDescription(desc))
	}
	acquired, err := gauge("commerce.db.pool.acquired_connections", "connections currently in use")
	if err != nil {
		return err
	}
	idle, err := gauge("commerce.db.pool.idle_connections", "idle connections in the pool")
	if err != nil {
		return err
	}
	total, err := gauge("commerce.db.pool.total_connections", "open connections (acquired, idle and being established)")
	if err != nil {
		return err
	}
	maxConns, err := gauge("commerce.db.pool.max_connections", "the pool's size limit (DB_MAX_CONNS)")
	if err != nil {
		return err
	}
	acquires, err := m.Int64ObservableCounter("commerce.db.pool.acquires", metric.WithDescription("successful connection acquires"))
	if err != nil {
		return err
	}
	waited, err := m.Float64ObservableCounter("commerce.db.pool.acquire_duration", metric.WithUnit("s"),
		metric.WithDescription("total time spent acquiring connections (rate / acquires rate = mean wait)"))
	if err != nil {
		return err
	}
	empty, err := m.Int64ObservableCounter("commerce.db.pool.empty_acquires",
		metric.WithDescription("acquires that waited because the pool had no idle connection"))
	if err != nil {
		return err
	}
	canceled, err := m.Int64ObservableCounter("commerce.db.pool.canceled_acquires",
		metric.WithDescription("acquires given up because their context ended"))
	if err != nil {
		return err
	}
	_, err = m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		s := pool.Stat()
		o.ObserveInt64(acquired, int64(s.AcquiredConns()))
		o.ObserveInt64(idle, int64(s.IdleConns()))
		o.ObserveInt64(total, int64(s.TotalConns()))
		o.ObserveInt64(maxConns, int64(s.MaxConns()))
		o.ObserveInt64(acquires, s.AcquireCount())
		o.ObserveFloat64(waited, s.AcquireDuration().Seconds())
		o.ObserveInt64(empty, s.EmptyAcquireCount())
		o.ObserveInt64(canceled, s.CanceledAcquireCount())
		return nil
	}, acquired, idle, total, maxConns, acquires, waited, empty, canceled)
	return err
}
