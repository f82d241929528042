package otelx

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// MetricPush pushes over OTLP what another reader of the meter provider
// (the Prometheus exporter behind /metrics) aggregates, every export
// interval and once more at Shutdown. A periodic reader of its own would
// make the SDK aggregate every measurement twice, once per reader: with
// export on, that second aggregation was most of what an unsampled
// request paid for telemetry.
type MetricPush struct {
	r        sdkmetric.Reader
	exp      sdkmetric.Exporter
	interval time.Duration
	timeout  time.Duration
	stop     chan struct{}
	done     chan struct{}
	start    sync.Once
	end      sync.Once
	err      error
}

// MetricsFrom returns the meter provider options that export the
// binary's metrics over OTLP, given r, a cumulative reader the provider
// also gets (the Prometheus exporter's): the resource, and a MetricPush
// that collects from r (Start it once the provider is built). With delta
// temporality preferred (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE)
// r's cumulative sums cannot be pushed, and the options carry a periodic
// reader of their own instead (MetricOptions) and the push is nil. Both
// are nil when metrics are not exported.
func MetricsFrom(r sdkmetric.Reader) ([]sdkmetric.Option, *MetricPush) {
	t := active.Load()
	if t == nil || t.metrics == nil {
		return nil, nil
	}
	exp, err := metricExporter(context.Background(), *t.metrics)
	if err != nil {
		otel.Handle(fmt.Errorf("OTLP metric exporter: %w", err))
		return nil, nil
	}
	interval, timeout := t.interval, t.timeout
	if interval <= 0 {
		interval = time.Minute
	}
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	for _, k := range []sdkmetric.InstrumentKind{sdkmetric.InstrumentKindCounter, sdkmetric.InstrumentKindUpDownCounter,
		sdkmetric.InstrumentKindHistogram, sdkmetric.InstrumentKindGauge, sdkmetric.InstrumentKindObservableCounter,
		sdkmetric.InstrumentKindObservableUpDownCounter, sdkmetric.InstrumentKindObservableGauge} {
		if exp.Temporality(k) != metricdata.CumulativeTemporality {
			reader := sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(interval), sdkmetric.WithTimeout(timeout))
			return []sdkmetric.Option{sdkmetric.WithReader(reader), sdkmetric.WithResource(t.res)}, nil
		}
	}
	p := &MetricPush{r: r, exp: exp, interval: interval, timeout: timeout, stop: make(chan struct{}), done: make(chan struct{})}
	return []sdkmetric.Option{sdkmetric.WithResource(t.res)}, p
}

// Start begins the pushes every interval (nil-safe, once).
func (p *MetricPush) Start() {
	if p == nil {
		return
	}
	p.start.Do(func() { go p.loop() })
}

func (p *MetricPush) loop() {
	defer close(p.done)
	tick := time.NewTicker(p.interval)
	defer tick.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-tick.C:
			if err := p.push(context.Background()); err != nil {
				otel.Handle(err)
			}
		}
	}
}

// push collects from the reader and exports, within the export timeout.
func (p *MetricPush) push(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	var rm metricdata.ResourceMetrics
	if err := p.r.Collect(ctx, &rm); err != nil {
		return fmt.Errorf("collect metrics for OTLP: %w", err)
	}
	if err := p.exp.Export(ctx, &rm); err != nil {
		return fmt.Errorf("export metrics over OTLP: %w", err)
	}
	return nil
}

// Shutdown stops the pushes, pushes one last time and shuts the exporter
// down (nil-safe, once). Call it before the meter provider's Shutdown,
// which ends the reader it collects from.
func (p *MetricPush) Shutdown(ctx context.Context) error {
	if p == nil {
		return nil
	}
	p.end.Do(func() {
		started := true
		p.start.Do(func() { started = false })
		close(p.stop)
		if started {
			<-p.done
		}
		p.err = errors.Join(p.push(ctx), p.exp.Shutdown(ctx))
	})
	return p.err
}
