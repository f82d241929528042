// Package metrics exposes OpenTelemetry metrics in Prometheus text format at
// /metrics and records HTTP request count and latency by route and status.
package metrics

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/otelx"
)

// Metrics owns the meter provider and the HTTP instruments.
type Metrics struct {
	provider *sdkmetric.MeterProvider
	// push sends provider's metrics over OTLP (nil when not exported or
	// when the provider has an OTLP reader of its own).
	push     *otelx.MetricPush
	registry *prometheus.Registry
	requests metric.Int64Counter
	duration metric.Float64Histogram
	// attrs caches the attribute set of each (method, route, status): a
	// set costs a sort and allocations to build, and there are few
	// distinct ones (see routeAttrs).
	attrs sync.Map
	// nattrs counts attrs' entries, bounded by maxAttrSets.
	nattrs atomic.Int64
}

// routeKey names one attribute set of the HTTP instruments.
type routeKey struct {
	method, route string
	status        int
}

// maxAttrSets bounds the cache of attribute sets: routes are templates
// and methods constants, so a shop has a few hundred; past the bound sets
// are built per request rather than cached.
const maxAttrSets = 4096

// New builds a meter provider exporting to a private Prometheus registry.
func New() (*Metrics, error) {
	reg := prometheus.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, err
	}
	// Also pushed over OTLP when an endpoint is configured (otelx.Setup),
	// from the same aggregation: a second reader would double the work
	// of every measurement.
	opts, push := otelx.MetricsFrom(exp)
	mp := sdkmetric.NewMeterProvider(append([]sdkmetric.Option{sdkmetric.WithReader(exp)}, opts...)...)
	meter := mp.Meter("commerce/http")
	req, err := meter.Int64Counter("http.server.requests", metric.WithDescription("HTTP requests by route and status"))
	if err != nil {
		return nil, err
	}
	dur, err := meter.Float64Histogram("http.server.request.duration", metric.WithUnit("s"), metric.WithDescription("HTTP request latency"),
		metric.WithExplicitBucketBoundaries(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
	if err != nil {
		return nil, err
	}
	push.Start()
	return &Metrics{provider: mp, push: push, registry: reg, requests: req, duration: dur}, nil
}

// Meter gives contexts a meter for their own instruments.
func (m *Metrics) Meter(name string) metric.Meter { return m.provider.Meter(name) }

// Middleware records each request under its route template (not the raw
// path, which would explode cardinality).
func (m *Metrics) Middleware(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	status := c.Response().StatusCode()
	if err != nil {
		status = httpx.StatusOf(err)
	}
	route := c.Route().Path
	if status == fiber.StatusNotFound && route == "/" && c.Path() != "/" {
		route = "unmatched"
	}
	attrs := m.routeAttrs(routeKey{httpx.MethodName(c.Method()), route, status})
	ctx := context.Background()
	m.requests.Add(ctx, 1, attrs)
	m.duration.Record(ctx, time.Since(start).Seconds(), attrs)
	return err
}

// routeAttrs returns the (cached) attribute option of k. The method is a
// constant and the route a router template, so k's strings outlive the
// request.
func (m *Metrics) routeAttrs(k routeKey) metric.MeasurementOption {
	if v, ok := m.attrs.Load(k); ok {
		return v.(metric.MeasurementOption)
	}
	opt := metric.WithAttributeSet(attribute.NewSet(attribute.String("http.request.method", k.method), attribute.String("http.route", k.route),
		attribute.String("http.response.status_code", strconv.Itoa(k.status))))
	if m.nattrs.Load() < maxAttrSets {
		if _, loaded := m.attrs.LoadOrStore(k, opt); !loaded {
			m.nattrs.Add(1)
		}
	}
	return opt
}

// Handler serves the Prometheus text format.
func (m *Metrics) Handler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
}

// Shutdown pushes the metrics over OTLP a last time, then shuts the
// provider down (which ends the reader the push collects from).
func (m *Metrics) Shutdown(ctx context.Context) error {
	err := m.push.Shutdown(ctx)
	return errors.Join(err, m.provider.Shutdown(ctx))
}
