package otelx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the instrumentation scope of the binary's own spans and logs.
const ScopeName = "github.com/opencommerce/commerce"

// Telemetry is the process's OpenTelemetry SDK: a tracer provider and a
// logger provider exporting over OTLP, and the recipe of the OTLP metric
// reader that the metrics package adds to its meter provider. Signals
// without an endpoint are off and cost nothing.
type Telemetry struct {
	res      *resource.Resource
	tp       *tracerProvider
	tracer   trace.Tracer
	lp       *sdklog.LoggerProvider
	metrics  *target
	interval time.Duration
	timeout  time.Duration
	once     sync.Once
	err      error
}

// active is the installed Telemetry (nil: nothing exported).
var active atomic.Pointer[Telemetry]

// noopTracer is what Tracer returns while tracing is off.
var noopTracer = noop.NewTracerProvider().Tracer(ScopeName)

// Setup builds the providers of s, installs them for the process (Tracing,
// Tracer, MetricReaders and the gRPC/HTTP/event instrumentation read it)
// and returns them; Shutdown flushes and uninstalls. With no endpoint it
// returns a Telemetry that exports nothing.
func Setup(ctx context.Context, s Settings) (*Telemetry, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	t := &Telemetry{interval: s.MetricInterval, timeout: s.MetricTimeout}
	tt, tracesOn, err := s.target(sigTraces)
	if err != nil {
		return nil, err
	}
	mt, metricsOn, err := s.target(sigMetrics)
	if err != nil {
		return nil, err
	}
	lt, logsOn, err := s.target(sigLogs)
	if err != nil {
		return nil, err
	}
	if !tracesOn && !metricsOn && !logsOn {
		return t, nil
	}
	if t.res, err = newResource(s); err != nil {
		return nil, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err)
	}
	if tracesOn {
		batching, err := batchSettingsFromEnv(os.Getenv)
		if err != nil {
			return nil, err
		}
		exp, err := newSpanExporter(tt, t.res)
		if err != nil {
			return nil, fmt.Errorf("OTLP trace exporter: %w", err)
		}
		smp, _ := sampler(s.Sampler, s.SamplerArg)
		t.tp = newTracerProvider(t.res, smp, newSpanRecorder(exp, batching))
		t.tracer = t.tp.Tracer(ScopeName)
	}
	if metricsOn {
		t.metrics = &mt
	}
	if logsOn {
		exp, err := logExporter(ctx, lt)
		if err != nil {
			return nil, fmt.Errorf("OTLP log exporter: %w", err)
		}
		// slog records carry each key once (the handlers add request_id
		// once), so the SDK's per-record de-duplication (a map per record)
		// is pure cost on the request path.
		t.lp = sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewBatchProcessor(exp)), sdklog.WithResource(t.res), sdklog.WithAllowKeyDuplication())
	}
	installErrorHandler()
	if t.tp != nil {
		otel.SetTracerProvider(t.tp)
		otel.SetTextMapPropagator(prop)
	}
	active.Store(t)
	return t, nil
}

// Shutdown flushes what is buffered and stops the exporters (once; later
// calls return the first result). Telemetry is uninstalled first, so work
// still running records nothing rather than into a closed provider.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	t.once.Do(func() {
		active.CompareAndSwap(t, nil)
		var errs []error
		if t.tp != nil {
			otel.SetTracerProvider(noop.NewTracerProvider())
			errs = append(errs, t.tp.Shutdown(ctx))
		}
		if t.lp != nil {
			errs = append(errs, t.lp.Shutdown(ctx))
		}
		t.err = errors.Join(errs...)
	})
	return t.err
}

// ForceFlush exports what is buffered now.
func (t *Telemetry) ForceFlush(ctx context.Context) error {
	if t == nil {
		return nil
	}
	var errs []error
	if t.tp != nil {
		errs = append(errs, t.tp.ForceFlush(ctx))
	}
	if t.lp != nil {
		errs = append(errs, t.lp.ForceFlush(ctx))
	}
	return errors.Join(errs...)
}

// Enabled reports which signals are exported.
func (t *Telemetry) Enabled() (traces, metrics, logs bool) {
	if t == nil {
		return false, false, false
	}
	return t.tp != nil, t.metrics != nil, t.lp != nil
}

// LogHandler is the slog bridge to the OTLP log exporter (nil when logs
// are not exported): records carry the trace and span ids of their
// context. logx.New adds it beside the JSON handler.
func (t *Telemetry) LogHandler() slog.Handler {
	if t == nil || t.lp == nil {
		return nil
	}
	return otelslog.NewHandler(ScopeName, otelslog.WithLoggerProvider(t.lp))
}

// Active returns the installed Telemetry (nil when none).
func Active() *Telemetry { return active.Load() }

// Shutdown flushes and uninstalls the installed Telemetry, if any: the
// last step of a server's shutdown.
func Shutdown(ctx context.Context) error { return Active().Shutdown(ctx) }

// Tracing reports whether spans are recorded: instrumentation starts spans
// only then, so that without an endpoint the request path costs nothing.
func Tracing() bool {
	t := active.Load()
	return t != nil && t.tp != nil
}

// TracerProvider returns the installed tracer provider (a no-op one when
// tracing is off).
func TracerProvider() trace.TracerProvider {
	if t := active.Load(); t != nil && t.tp != nil {
		return t.tp
	}
	return noop.NewTracerProvider()
}

// Tracer is the binary's tracer (a no-op one when tracing is off).
func Tracer() trace.Tracer {
	if t := active.Load(); t != nil && t.tp != nil {
		return t.tracer
	}
	return noopTracer
}

// MetricOptions are the meter provider options that export the binary's
// metrics over OTLP too (a periodic reader and the resource), nil when
// metrics are not exported. Each call makes a new reader, as a reader
// belongs to one provider; the provider's Shutdown flushes it.
func MetricOptions() []sdkmetric.Option {
	t := active.Load()
	if t == nil || t.metrics == nil {
		return nil
	}
	exp, err := metricExporter(context.Background(), *t.metrics)
	if err != nil {
		otel.Handle(fmt.Errorf("OTLP metric exporter: %w", err))
		return nil
	}
	var opts []sdkmetric.PeriodicReaderOption
	if t.interval > 0 {
		opts = append(opts, sdkmetric.WithInterval(t.interval))
	}
	if t.timeout > 0 {
		opts = append(opts, sdkmetric.WithTimeout(t.timeout))
	}
	return []sdkmetric.Option{sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, opts...)), sdkmetric.WithResource(t.res)}
}

// newResource describes the process: service.name, service.version,
// commerce.contexts, OTEL_RESOURCE_ATTRIBUTES and the SDK's defaults.
func newResource(s Settings) (*resource.Resource, error) {
	kv, err := ParseKeyValues(s.ResourceAttributes)
	if err != nil {
		return nil, err
	}
	attrs := make([]attribute.KeyValue, 0, len(kv)+4)
	for k, v := range kv {
		attrs = append(attrs, attribute.String(k, v))
	}
	name := s.ServiceName
	if name == "" {
		name = "commerce"
	}
	version := s.ServiceVersion
	if version == "" {
		version = "dev"
	}
	contexts := s.Contexts
	if contexts == "" {
		contexts = "all"
	}
	attrs = append(attrs, attribute.String("service.name", name), attribute.String("service.version", version),
		attribute.String("commerce.contexts", contexts))
	if h, err := os.Hostname(); err == nil {
		attrs = append(attrs, attribute.String("host.name", h))
	}
	attrs = append(attrs, attribute.Int("process.pid", os.Getpid()))
	// Schemaless: merging with the SDK's default resource never conflicts.
	return resource.Merge(resource.Default(), resource.NewSchemaless(attrs...))
}

// sampler builds OTEL_TRACES_SAMPLER with OTEL_TRACES_SAMPLER_ARG.
func sampler(name, arg string) (sdktrace.Sampler, error) {
	ratio := 1.0
	if arg != "" {
		r, err := strconv.ParseFloat(arg, 64)
		if err != nil || r < 0 || r > 1 {
			return nil, fmt.Errorf("OTEL_TRACES_SAMPLER_ARG: %q is not a ratio between 0 and 1", arg)
		}
		ratio = r
	}
	switch name {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(ratio), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio)), nil
	}
	return nil, fmt.Errorf("OTEL_TRACES_SAMPLER: %q is not one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio", name)
}

func metricExporter(ctx context.Context, t target) (sdkmetric.Exporter, error) {
	if t.protocol == ProtocolHTTP {
		return otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpointURL(t.endpoint), otlpmetrichttp.WithHeaders(t.headers))
	}
	opts := []otlpmetricgrpc.Option{otlpmetricgrpc.WithEndpoint(t.endpoint), otlpmetricgrpc.WithHeaders(t.headers)}
	if t.insecure {
		opts = append(opts, otlpmetricgrpc.WithInsecure())
	}
	return otlpmetricgrpc.New(ctx, opts...)
}

func logExporter(ctx context.Context, t target) (sdklog.Exporter, error) {
	if t.protocol == ProtocolHTTP {
		return otlploghttp.New(ctx, otlploghttp.WithEndpointURL(t.endpoint), otlploghttp.WithHeaders(t.headers))
	}
	opts := []otlploggrpc.Option{otlploggrpc.WithEndpoint(t.endpoint), otlploggrpc.WithHeaders(t.headers)}
	if t.insecure {
		opts = append(opts, otlploggrpc.WithInsecure())
	}
	return otlploggrpc.New(ctx, opts...)
}

// installErrorHandler sends the SDK's errors (an unreachable collector)
// to the process log, at most one line per 30 seconds: a collector that is
// down must not flood the logs, nor slow the shop.
func installErrorHandler() {
	var last atomic.Int64
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		now := time.Now().UnixNano()
		prev := last.Load()
		if prev != 0 && now-prev < int64(30*time.Second) || !last.CompareAndSwap(prev, now) {
			return
		}
		slog.Default().Warn("telemetry export failed (further failures are not logged for 30s)", "err", err)
	}))
}
