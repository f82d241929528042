package config

import (
	"strings"
	"testing"
)

func TestOTelDefaults(t *testing.T) {
	c, err := Load(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.OTLPEndpoint != "" || c.OTLPProtocol != "grpc" || c.OTelServiceName != "commerce" || c.OTelTracesSampler != "parentbased_always_on" ||
		c.OTelTracesExporter != "otlp" || c.OTelMetricsExporter != "otlp" || c.OTelLogsExporter != "otlp" || c.OTelMetricExportInterval != 60000 ||
		c.OTLPInsecure || c.OTelSDKDisabled || c.OTLPTimeout != 10000 || c.OTLPTracesTimeout != "" || c.OTLPCompression != "" {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestOTelValues(t *testing.T) {
	c, err := Load([]string{"--otel-service-name", "shop"}, env(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://traces.example:4318/v1/traces",
		"OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf", "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20s3cret",
		"OTEL_EXPORTER_OTLP_INSECURE": "true", "OTEL_SERVICE_NAME": "ignored-by-the-flag", "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment.name=prod",
		"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25", "OTEL_LOGS_EXPORTER": "none",
		"OTEL_METRIC_EXPORT_INTERVAL": "1000", "OTEL_SDK_DISABLED": "false",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.OTLPEndpoint != "http://collector:4317" || c.OTLPTracesEndpoint != "https://traces.example:4318/v1/traces" || c.OTLPProtocol != "http/protobuf" ||
		!c.OTLPInsecure || c.OTelServiceName != "shop" || c.OTelTracesSamplerArg != "0.25" || c.OTelLogsExporter != "none" || c.OTelMetricExportInterval != 1000 {
		t.Fatalf("values: %+v", c)
	}
	if m := c.Masked(); strings.Contains(m["OTEL_EXPORTER_OTLP_HEADERS"], "s3cret") {
		t.Fatalf("headers not masked: %q", m["OTEL_EXPORTER_OTLP_HEADERS"])
	}
}

func TestOTelBadValuesNameTheVariable(t *testing.T) {
	for k, v := range map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT":           "ftp://collector:21",
		"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT":    "http://collector:99999",
		"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT":   "http://",
		"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT":      "collector:4317/path",
		"OTEL_EXPORTER_OTLP_PROTOCOL":           "http/json",
		"OTEL_EXPORTER_OTLP_HEADERS":            "authorization Bearer s3cret",
		"OTEL_EXPORTER_OTLP_INSECURE":           "maybe",
		"OTEL_RESOURCE_ATTRIBUTES":              "=x",
		"OTEL_TRACES_SAMPLER":                   "jaeger_remote",
		"OTEL_TRACES_SAMPLER_ARG":               "1.5",
		"OTEL_TRACES_EXPORTER":                  "zipkin",
		"OTEL_METRIC_EXPORT_INTERVAL":           "0",
		"OTEL_SDK_DISABLED":                     "perhaps",
		"OTEL_EXPORTER_OTLP_TIMEOUT":            "-5",
		"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT":     "soon",
		"OTEL_EXPORTER_OTLP_COMPRESSION":        "zstd",
		"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION": "deflate",
	} {
		_, err := Load(nil, env(map[string]string{k: v}))
		if err == nil || !strings.Contains(err.Error(), k+":") {
			t.Errorf("%s=%q: %v", k, v, err)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error shows the secret: %v", k, err)
		}
	}
}
