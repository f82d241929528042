package otelx

import (
	"cmp"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// Protocols of OTEL_EXPORTER_OTLP_PROTOCOL.
const (
	ProtocolGRPC = "grpc"
	ProtocolHTTP = "http/protobuf"
)

// Settings are the standard OTEL_* variables, already read by the
// configuration (so flags work too); see docs/configuration.md. The zero
// value exports nothing.
type Settings struct {
	// Endpoint is OTEL_EXPORTER_OTLP_ENDPOINT; the per-signal endpoints
	// (OTEL_EXPORTER_OTLP_{TRACES,METRICS,LOGS}_ENDPOINT) override it for
	// their signal. A signal with neither is not exported.
	Endpoint, TracesEndpoint, MetricsEndpoint, LogsEndpoint string
	// Protocol is grpc (default) or http/protobuf.
	Protocol string
	// Headers is "k=v,k2=v2" (values URL-encoded), sent with every export.
	Headers string
	// Insecure makes a gRPC endpoint given without a scheme plaintext.
	Insecure bool
	// Timeout (OTEL_EXPORTER_OTLP_TIMEOUT, default 10s) bounds one export,
	// retries included; TracesTimeout (…_TRACES_TIMEOUT) overrides it for
	// traces. The metric and log exporters of the SDK read the variables
	// themselves; the trace exporter is the binary's own (spanexport.go),
	// so the trace settings are here.
	Timeout, TracesTimeout time.Duration
	// Compression (OTEL_EXPORTER_OTLP_[TRACES_]COMPRESSION) is gzip or
	// none (default).
	Compression, TracesCompression string
	// Certificate (OTEL_EXPORTER_OTLP_[TRACES_]CERTIFICATE) is a PEM file
	// of the CAs verifying the collector, instead of the system's.
	Certificate, TracesCertificate string
	// ClientCertificate and ClientKey
	// (OTEL_EXPORTER_OTLP_[TRACES_]CLIENT_{CERTIFICATE,KEY}) are the PEM
	// files of the client certificate presented to the collector (mTLS).
	ClientCertificate, TracesClientCertificate string
	ClientKey, TracesClientKey                 string
	// ServiceName (default "commerce"), ServiceVersion (the binary's) and
	// Contexts (the value of commerce.contexts) make the resource, with
	// ResourceAttributes ("k=v,...", OTEL_RESOURCE_ATTRIBUTES).
	ServiceName        string
	ServiceVersion     string
	Contexts           string
	ResourceAttributes string
	// Sampler and SamplerArg are OTEL_TRACES_SAMPLER(_ARG); default
	// parentbased_always_on.
	Sampler, SamplerArg string
	// TracesExporter, MetricsExporter, LogsExporter are "otlp" (default)
	// or "none" (OTEL_{TRACES,METRICS,LOGS}_EXPORTER).
	TracesExporter, MetricsExporter, LogsExporter string
	// MetricInterval is how often metrics are pushed (default 60s).
	MetricInterval time.Duration
	// MetricTimeout bounds one collect and export of the metrics
	// (OTEL_METRIC_EXPORT_TIMEOUT, default 30s).
	MetricTimeout time.Duration
	// Disabled (OTEL_SDK_DISABLED) turns every signal off.
	Disabled bool
}

// signal names, as in the per-signal variables and OTLP/HTTP paths.
const (
	sigTraces  = "traces"
	sigMetrics = "metrics"
	sigLogs    = "logs"
)

// target is where one signal is exported.
type target struct {
	protocol string
	// grpc: host:port; http: the full URL of the signal.
	endpoint string
	insecure bool
	headers  map[string]string
	// Of traces only (the SDK's exporters of metrics and logs read the
	// variables themselves): timeout of an export, gzip, and the TLS
	// configuration (nil: the system's roots).
	timeout time.Duration
	gzip    bool
	tls     *tls.Config
}

// Validate reports the first malformed setting, naming its variable.
func (s Settings) Validate() error {
	var errs []error
	for _, e := range []struct{ env, v string }{
		{"OTEL_EXPORTER_OTLP_ENDPOINT", s.Endpoint}, {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", s.TracesEndpoint},
		{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", s.MetricsEndpoint}, {"OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", s.LogsEndpoint},
	} {
		if e.v == "" {
			continue
		}
		if err := CheckEndpoint(e.v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.env, err))
		}
	}
	if p := s.Protocol; p != "" && p != ProtocolGRPC && p != ProtocolHTTP {
		errs = append(errs, fmt.Errorf("OTEL_EXPORTER_OTLP_PROTOCOL: %q is not grpc or http/protobuf", p))
	}
	if _, err := ParseKeyValues(s.Headers); err != nil {
		errs = append(errs, fmt.Errorf("OTEL_EXPORTER_OTLP_HEADERS: %w", err))
	}
	if _, err := ParseKeyValues(s.ResourceAttributes); err != nil {
		errs = append(errs, fmt.Errorf("OTEL_RESOURCE_ATTRIBUTES: %w", err))
	}
	if _, err := sampler(s.Sampler, s.SamplerArg); err != nil {
		errs = append(errs, err)
	}
	if s.Timeout < 0 {
		errs = append(errs, fmt.Errorf("OTEL_EXPORTER_OTLP_TIMEOUT: %v is negative", s.Timeout))
	}
	if s.TracesTimeout < 0 {
		errs = append(errs, fmt.Errorf("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: %v is negative", s.TracesTimeout))
	}
	for _, e := range []struct{ env, v string }{{"OTEL_EXPORTER_OTLP_COMPRESSION", s.Compression}, {"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION", s.TracesCompression}} {
		if e.v != "" && e.v != "gzip" && e.v != "none" {
			errs = append(errs, fmt.Errorf("%s: %q is not gzip or none", e.env, e.v))
		}
	}
	if _, err := s.traceTLS(); err != nil {
		errs = append(errs, err)
	}
	for _, e := range []struct{ env, v string }{{"OTEL_TRACES_EXPORTER", s.TracesExporter}, {"OTEL_METRICS_EXPORTER", s.MetricsExporter}, {"OTEL_LOGS_EXPORTER", s.LogsExporter}} {
		if e.v != "" && e.v != "otlp" && e.v != "none" {
			errs = append(errs, fmt.Errorf("%s: %q is not otlp or none", e.env, e.v))
		}
	}
	return errors.Join(errs...)
}

// CheckEndpoint validates an OTLP endpoint: http(s)://host[:port][/path],
// or host:port (gRPC; plaintext with OTEL_EXPORTER_OTLP_INSECURE=true).
func CheckEndpoint(v string) error {
	_, _, _, err := parseEndpoint(v)
	return err
}

// parseEndpoint splits an endpoint into scheme ("" when none was given),
// host:port (port "" when none was given) and path.
func parseEndpoint(v string) (scheme, host, path string, err error) {
	bad := func(why string) (string, string, string, error) {
		return "", "", "", fmt.Errorf("%q is not an OTLP endpoint (%s; e.g. http://otel-collector:4317)", v, why)
	}
	if strings.ContainsAny(v, " \t\r\n") {
		return bad("it contains white space")
	}
	raw := v
	if !strings.Contains(v, "://") {
		raw = "//" + v
	}
	u, perr := url.Parse(raw)
	if perr != nil {
		return bad("not a URL")
	}
	if u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" {
		return bad("the scheme must be http or https")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return bad("no credentials, query or fragment")
	}
	if u.Hostname() == "" {
		return bad("no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("invalid port")
		}
	} else if strings.HasSuffix(u.Host, ":") {
		return bad("invalid port")
	}
	if u.Scheme == "" && u.Path != "" {
		return bad("a path needs a scheme")
	}
	return u.Scheme, u.Host, u.Path, nil
}

// target resolves where a signal goes; ok is false when it is not exported.
func (s Settings) target(signal string) (t target, ok bool, err error) {
	if s.Disabled {
		return target{}, false, nil
	}
	exporter, specific := map[string]string{sigTraces: s.TracesExporter, sigMetrics: s.MetricsExporter, sigLogs: s.LogsExporter}[signal],
		map[string]string{sigTraces: s.TracesEndpoint, sigMetrics: s.MetricsEndpoint, sigLogs: s.LogsEndpoint}[signal]
	if exporter == "none" {
		return target{}, false, nil
	}
	raw := specific
	if raw == "" {
		raw = s.Endpoint
	}
	if raw == "" {
		return target{}, false, nil
	}
	scheme, host, path, err := parseEndpoint(raw)
	if err != nil {
		return target{}, false, err
	}
	headers, err := ParseKeyValues(s.Headers)
	if err != nil {
		return target{}, false, err
	}
	t = target{protocol: s.Protocol, headers: headers}
	if signal == sigTraces {
		t.timeout = cmp.Or(s.TracesTimeout, s.Timeout, 10*time.Second)
		t.gzip = cmp.Or(s.TracesCompression, s.Compression) == "gzip"
		if t.tls, err = s.traceTLS(); err != nil {
			return target{}, false, err
		}
	}
	if t.protocol == "" {
		t.protocol = ProtocolGRPC
	}
	t.insecure = scheme == "http" || (scheme == "" && s.Insecure)
	defPort := "4317"
	if t.protocol == ProtocolHTTP {
		defPort = "4318"
	}
	if _, port, err := net.SplitHostPort(host); err != nil || port == "" {
		host = net.JoinHostPort(strings.Trim(host, "[]"), defPort)
	}
	if t.protocol == ProtocolGRPC {
		t.endpoint = host
		return t, true, nil
	}
	// OTLP/HTTP: the generic endpoint is a base to which /v1/<signal> is
	// appended; a per-signal endpoint is used as it is.
	if specific == "" {
		path = strings.TrimRight(path, "/") + "/v1/" + signal
	} else if path == "" {
		path = "/"
	}
	if scheme == "" {
		scheme = "https"
		if s.Insecure {
			scheme = "http"
		}
	}
	t.endpoint = (&url.URL{Scheme: scheme, Host: host, Path: path}).String()
	return t, true, nil
}

// traceTLS is the TLS configuration of the trace exporter: nil (the
// system's roots, no client certificate) unless a certificate variable is
// set. Errors name the variable.
func (s Settings) traceTLS() (*tls.Config, error) {
	caEnv, ca := "OTEL_EXPORTER_OTLP_CERTIFICATE", s.Certificate
	if s.TracesCertificate != "" {
		caEnv, ca = "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", s.TracesCertificate
	}
	certEnv, cert := "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", s.ClientCertificate
	if s.TracesClientCertificate != "" {
		certEnv, cert = "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE", s.TracesClientCertificate
	}
	keyEnv, key := "OTEL_EXPORTER_OTLP_CLIENT_KEY", s.ClientKey
	if s.TracesClientKey != "" {
		keyEnv, key = "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY", s.TracesClientKey
	}
	if ca == "" && cert == "" && key == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if ca != "" {
		pem, err := os.ReadFile(ca)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", caEnv, err)
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s: %s has no PEM certificate", caEnv, ca)
		}
	}
	if (cert == "") != (key == "") {
		return nil, fmt.Errorf("%s and %s: both or neither must be set", certEnv, keyEnv)
	}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			return nil, fmt.Errorf("%s, %s: %w", certEnv, keyEnv, err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// ParseKeyValues parses the "k1=v1,k2=v2" lists of OTEL_EXPORTER_OTLP_HEADERS
// and OTEL_RESOURCE_ATTRIBUTES (values URL-encoded).
func ParseKeyValues(raw string) (map[string]string, error) {
	out := map[string]string{}
	for i, p := range strings.Split(raw, ",") {
		if strings.TrimSpace(p) == "" {
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			// The entry is not quoted: headers carry credentials.
			return nil, fmt.Errorf("entry %d is not key=value", i+1)
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("the value of %s is not URL-encoded correctly", k)
		}
		out[k] = dv
	}
	return out, nil
}
