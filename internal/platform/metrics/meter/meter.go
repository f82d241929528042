// Package meter holds what instrumented code needs without depending on the
// exporter: a no-op fallback meter and a cached sampler for gauges read by
// a query at scrape time.
package meter

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"

	"github.com/opencommerce/commerce/internal/platform/clock"
)

// OrNoop returns m, or a meter that records nothing when m is nil (unit
// tests build services without a meter provider).
func OrNoop(m metric.Meter) metric.Meter {
	if m == nil {
		return noop.NewMeterProvider().Meter("")
	}
	return m
}

// Sampled timings of gauges that need a query: a scrape reads at most once
// per SampleEvery, each read bounded by SampleTimeout.
const (
	SampleEvery   = 5 * time.Second
	SampleTimeout = 2 * time.Second
)

// Sampler caches a reading that costs a query, for observable gauges read
// at scrape time: concurrent or frequent scrapes (several Prometheus
// servers, an OTLP reader, /metrics opened by hand) share one query per
// interval, never a storm. A failed read is kept for the interval too (a
// database in trouble is not hammered); the gauges then report nothing.
type Sampler[T any] struct {
	mu      sync.Mutex
	every   time.Duration
	timeout time.Duration
	read    func(context.Context) (T, error)
	// clock ages the cached reading (the system clock; tests move a fake).
	clock clock.Clock
	at    time.Time
	val   T
	err   error
}

// NewSampler reads with read at most once per SampleEvery, each read
// bounded by SampleTimeout.
func NewSampler[T any](read func(context.Context) (T, error)) *Sampler[T] {
	return &Sampler[T]{every: SampleEvery, timeout: SampleTimeout, read: read, clock: clock.System}
}

// Get returns the cached reading, reading anew when it is older than the
// interval.
func (s *Sampler[T]) Get(ctx context.Context) (T, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.at.IsZero() && s.clock.Now().Sub(s.at) < s.every {
		return s.val, s.err
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	s.val, s.err = s.read(ctx)
	s.at = s.clock.Now()
	return s.val, s.err
}
