package server

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/otelx"
)

// TelemetrySettings are the OTEL_* settings of cfg for otelx.Setup; the
// resource names the binary's Version and the contexts hosted here
// ("all" for the monolith, "gateway" for the edge).
func TelemetrySettings(cfg *config.Config) otelx.Settings {
	contexts := strings.Join(cfg.Contexts, ",")
	if !cfg.Gateway() && !cfg.Split() {
		contexts = "all"
	}
	var tracesTimeout time.Duration
	if ms, err := strconv.Atoi(cfg.OTLPTracesTimeout); err == nil { // checked by config
		tracesTimeout = time.Duration(ms) * time.Millisecond
	}
	return otelx.Settings{
		Endpoint: cfg.OTLPEndpoint, TracesEndpoint: cfg.OTLPTracesEndpoint, MetricsEndpoint: cfg.OTLPMetricsEndpoint, LogsEndpoint: cfg.OTLPLogsEndpoint,
		Protocol: cfg.OTLPProtocol, Headers: cfg.OTLPHeaders, Insecure: cfg.OTLPInsecure,
		Timeout: time.Duration(cfg.OTLPTimeout) * time.Millisecond, TracesTimeout: tracesTimeout,
		Compression: cfg.OTLPCompression, TracesCompression: cfg.OTLPTracesCompression,
		Certificate: cfg.OTLPCertificate, TracesCertificate: cfg.OTLPTracesCertificate,
		ClientCertificate: cfg.OTLPClientCertificate, TracesClientCertificate: cfg.OTLPTracesClientCertificate,
		ClientKey: cfg.OTLPClientKey, TracesClientKey: cfg.OTLPTracesClientKey,
		ServiceName: cfg.OTelServiceName, ServiceVersion: Version, Contexts: contexts, ResourceAttributes: cfg.OTelResourceAttributes,
		Sampler: cfg.OTelTracesSampler, SamplerArg: cfg.OTelTracesSamplerArg,
		TracesExporter: cfg.OTelTracesExporter, MetricsExporter: cfg.OTelMetricsExporter, LogsExporter: cfg.OTelLogsExporter,
		MetricInterval: time.Duration(cfg.OTelMetricExportInterval) * time.Millisecond,
		MetricTimeout:  time.Duration(cfg.OTelMetricExportTimeout) * time.Millisecond, Disabled: cfg.OTelSDKDisabled,
	}
}

// StartTelemetry installs the OpenTelemetry SDK of cfg for the process
// (a no-op without an OTLP endpoint). Call it before New or NewGateway
// and before building the logger (its LogHandler goes to logx.New);
// Shutdown it after Run returned.
func StartTelemetry(ctx context.Context, cfg *config.Config) (*otelx.Telemetry, error) {
	return otelx.Setup(ctx, TelemetrySettings(cfg))
}

// shutdownTelemetry stops the meter provider (its last push over OTLP)
// and exports what the process buffered, at the end of a shutdown, within
// 5 seconds each even when the collector is unreachable (its exporters
// would retry for a minute). The owner of the Telemetry shuts it down
// after.
func shutdownTelemetry(met interface{ Shutdown(context.Context) error }, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = met.Shutdown(ctx)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	if err := otelx.Active().ForceFlush(ctx2); err != nil {
		log.Warn("telemetry flush at shutdown failed", "err", err)
	}
}
