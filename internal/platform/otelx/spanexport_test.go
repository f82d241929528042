package otelx_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/instrumentation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	grpccodes "google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"

	"github.com/opencommerce/commerce/internal/platform/otelx"
	"github.com/opencommerce/commerce/internal/platform/otelx/otlptest"
)

// testSpans are spans with every field the exporter sends: every
// attribute type (the empty value too), events, links (one remote, with trace state), an error
// status, a remote parent, trace state, dropped counts, two scopes with
// version/schema/attributes, the empty scope, and a second resource.
func testSpans(res, other *resource.Resource) []sdktrace.ReadOnlySpan {
	tid := trace.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	ts, _ := trace.ParseTraceState("vendor=a,other=b")
	remoteParent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{9, 9, 9, 9, 9, 9, 9, 9},
		TraceFlags: trace.FlagsSampled, Remote: true})
	sc := func(n byte, state trace.TraceState) trace.SpanContext {
		return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: trace.SpanID{0, 0, 0, 0, 0, 0, 0, n}, TraceFlags: trace.FlagsSampled, TraceState: state})
	}
	start := time.Unix(1_700_000_000, 123456789)
	all := []attribute.KeyValue{
		attribute.Bool("b", true), attribute.Bool("bf", false), attribute.Int64("i", -42), attribute.Int("zero", 0), attribute.Float64("f", 3.25),
		attribute.String("s", "value"), attribute.String("empty", ""),
		attribute.BoolSlice("bs", []bool{true, false}), attribute.Int64Slice("is", []int64{1, -2, 300000}),
		attribute.Float64Slice("fs", []float64{0.5, -1e300}), attribute.StringSlice("ss", []string{"a", "", "ü"}),
		attribute.String("long", strings.Repeat("x", 300)), attribute.ByteSlice("bytes", []byte{0, 1, 255}),
		attribute.Slice("mixed", attribute.IntValue(1), attribute.StringValue("two"), attribute.SliceValue(attribute.BoolValue(true))),
		attribute.Map("map", attribute.String("k", "v"), attribute.Int("n", 2)), {Key: "none"},
	}
	scopeA := instrumentation.Scope{Name: "scope.a", Version: "1.2.3", SchemaURL: "https://opentelemetry.io/schemas/1.26.0",
		Attributes: attribute.NewSet(attribute.String("lib", "a"), attribute.Int("n", 1))}
	scopeB := instrumentation.Scope{Name: "scope.b"}
	stubs := tracetest.SpanStubs{
		{
			Name: "server", SpanContext: sc(1, ts), Parent: remoteParent, SpanKind: trace.SpanKindServer,
			StartTime: start, EndTime: start.Add(time.Millisecond), Attributes: all,
			Events: []sdktrace.Event{
				{Name: "exception", Time: start.Add(10 * time.Microsecond), Attributes: []attribute.KeyValue{attribute.String("exception.message", "boom")}, DroppedAttributeCount: 2},
				{Name: "bare", Time: start.Add(20 * time.Microsecond)},
			},
			Links: []sdktrace.Link{
				{SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{7}, SpanID: trace.SpanID{8}, TraceFlags: trace.FlagsSampled, TraceState: ts, Remote: true}),
					Attributes: []attribute.KeyValue{attribute.Int("link.n", 1)}, DroppedAttributeCount: 1},
				{SpanContext: trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{5}, SpanID: trace.SpanID{6}})},
			},
			Status:            sdktrace.Status{Code: codes.Error, Description: "it failed"},
			DroppedAttributes: 3, DroppedEvents: 4, DroppedLinks: 5,
			Resource: res, InstrumentationScope: scopeA,
		},
		{Name: "child", SpanContext: sc(2, trace.TraceState{}), Parent: sc(1, ts), SpanKind: trace.SpanKindClient, StartTime: start, EndTime: start.Add(time.Microsecond),
			Status: sdktrace.Status{Code: codes.Ok}, Resource: res, InstrumentationScope: scopeB},
		{Name: "internal", SpanContext: sc(3, trace.TraceState{}), Parent: sc(2, trace.TraceState{}), SpanKind: trace.SpanKindInternal, StartTime: start, EndTime: start,
			// 20 kB: lengths of three varint bytes.
			Attributes: []attribute.KeyValue{attribute.String("db.statement", "SELECT 1"), attribute.String("huge", strings.Repeat("y", 20000))},
			Resource:   res, InstrumentationScope: scopeA},
		{Name: "producer", SpanContext: sc(4, trace.TraceState{}), SpanKind: trace.SpanKindProducer, StartTime: start, EndTime: start.Add(time.Second),
			Resource: res, InstrumentationScope: instrumentation.Scope{}},
		{Name: "consumer", SpanContext: sc(5, trace.TraceState{}), SpanKind: trace.SpanKindConsumer, StartTime: start, EndTime: start.Add(time.Second),
			Resource: other, InstrumentationScope: scopeB},
		{Name: "unspecified", SpanContext: sc(6, trace.TraceState{}), StartTime: start, EndTime: start.Add(time.Second),
			Resource: res, InstrumentationScope: scopeB},
	}
	return stubs.Snapshots()
}

func testResources(t testing.TB) (*resource.Resource, *resource.Resource) {
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attribute.String("service.name", "commerce"), attribute.Int("process.pid", 7)))
	if err != nil {
		t.Fatal(err)
	}
	other := resource.NewWithAttributes("https://opentelemetry.io/schemas/1.26.0", attribute.String("service.name", "other"))
	return res, other
}

// normalise orders the resource spans (the SDK groups them in a map) and
// returns the request.
func normalise(req *coltrace.ExportTraceServiceRequest) *coltrace.ExportTraceServiceRequest {
	req = proto.Clone(req).(*coltrace.ExportTraceServiceRequest)
	key := func(i int) string {
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(req.ResourceSpans[i].GetResource())
		return string(b)
	}
	sort.SliceStable(req.ResourceSpans, func(i, j int) bool { return key(i) < key(j) })
	return req
}

func sdkExporter(t testing.TB, protocol string, rcv *otlptest.Receiver) sdktrace.SpanExporter {
	var (
		exp sdktrace.SpanExporter
		err error
	)
	if protocol == otelx.ProtocolHTTP {
		exp, err = otlptracehttp.New(context.Background(), otlptracehttp.WithEndpointURL(rcv.HTTPEndpoint+"/v1/traces"))
	} else {
		exp, err = otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(strings.TrimPrefix(rcv.Endpoint, "http://")), otlptracegrpc.WithInsecure())
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exp.Shutdown(context.Background()) })
	return exp
}

func endpointOf(rcv *otlptest.Receiver, protocol string) string {
	if protocol == otelx.ProtocolHTTP {
		return rcv.HTTPEndpoint
	}
	return rcv.Endpoint
}

func TestSpanExporterEncodesAsTheSDK(t *testing.T) {
	for _, protocol := range []string{otelx.ProtocolGRPC, otelx.ProtocolHTTP} {
		t.Run(protocol, func(t *testing.T) {
			res, other := testResources(t)
			spans := testSpans(res, other)
			rcv := otlptest.Start(t)
			if err := sdkExporter(t, protocol, rcv).ExportSpans(context.Background(), spans); err != nil {
				t.Fatal(err)
			}
			exp, err := otelx.NewSpanExporterForTest(otelx.Settings{Endpoint: endpointOf(rcv, protocol), Protocol: protocol}, res, time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			defer exp.Shutdown(context.Background())
			// Twice: the second export reuses the encoder's buffers.
			for range 2 {
				if err := exp.ExportSpans(context.Background(), spans); err != nil {
					t.Fatal(err)
				}
			}
			reqs := rcv.TraceRequests()
			if len(reqs) != 3 {
				t.Fatalf("%d requests", len(reqs))
			}
			want := normalise(reqs[0].Request)
			for _, r := range reqs[1:] {
				got := normalise(r.Request)
				// The SDK leaves out the trace state of links; the exporter
				// sends it (the field exists since OTLP 0.9).
				var linkStates []string
				for _, rs := range got.ResourceSpans {
					for _, ss := range rs.ScopeSpans {
						for _, sp := range ss.Spans {
							for _, l := range sp.Links {
								linkStates = append(linkStates, l.TraceState)
								l.TraceState = ""
							}
						}
					}
				}
				if strings.Join(linkStates, "|") != "vendor=a,other=b|" {
					t.Errorf("link trace states %q", linkStates)
				}
				if !proto.Equal(want, got) {
					t.Fatalf("requests differ\nSDK:\n%s\nlean:\n%s", prototext.Format(want), prototext.Format(got))
				}
			}
			if n := len(want.ResourceSpans); n != 2 {
				t.Fatalf("%d resource spans", n)
			}
		})
	}
}

func TestSpanExporterGzipAndHeaders(t *testing.T) {
	for _, protocol := range []string{otelx.ProtocolGRPC, otelx.ProtocolHTTP} {
		t.Run(protocol, func(t *testing.T) {
			res, other := testResources(t)
			rcv := otlptest.Start(t)
			exp, err := otelx.NewSpanExporterForTest(otelx.Settings{Endpoint: endpointOf(rcv, protocol), Protocol: protocol,
				TracesCompression: "gzip", Headers: "x-token=abc%20def,x-tenant=t1"}, res, time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			defer exp.Shutdown(context.Background())
			if err := exp.ExportSpans(context.Background(), testSpans(res, other)); err != nil {
				t.Fatal(err)
			}
			reqs := rcv.TraceRequests()
			if len(reqs) != 1 || len(rcv.Spans()) != 6 {
				t.Fatalf("%d requests, spans %s", len(reqs), rcv.Summary())
			}
			h := reqs[0].Headers
			if h["x-token"] != "abc def" || h["x-tenant"] != "t1" {
				t.Fatalf("headers %v", h)
			}
			if protocol == otelx.ProtocolHTTP && (h["content-encoding"] != "gzip" || h["content-type"] != "application/x-protobuf") {
				t.Fatalf("headers %v", h)
			}
		})
	}
}

// flakyTraces is a trace service that fails the first fail exports.
type flakyTraces struct {
	coltrace.UnimplementedTraceServiceServer
	mu       sync.Mutex
	fail     int
	attempts int
	spans    int
}

func (f *flakyTraces) Export(_ context.Context, req *coltrace.ExportTraceServiceRequest) (*coltrace.ExportTraceServiceResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.attempts++
	if f.attempts <= f.fail {
		return nil, status.Error(grpccodes.Unavailable, "collector starting")
	}
	for _, rs := range req.GetResourceSpans() {
		for _, ss := range rs.GetScopeSpans() {
			f.spans += len(ss.GetSpans())
		}
	}
	return &coltrace.ExportTraceServiceResponse{}, nil
}

func (f *flakyTraces) counts() (attempts, spans int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.attempts, f.spans
}

func (f *flakyTraces) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	var req coltrace.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if _, err := f.Export(r.Context(), &req); err != nil {
		http.Error(w, "collector starting", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "application/x-protobuf")
}

// serveGRPC runs svc on a loopback port until the test ends.
func serveGRPC(t *testing.T, svc coltrace.TraceServiceServer, opts ...grpc.ServerOption) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(opts...)
	coltrace.RegisterTraceServiceServer(srv, svc)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(srv.Stop)
	return ln.Addr().String()
}

func TestSpanExporterRetries(t *testing.T) {
	res, other := testResources(t)
	for _, protocol := range []string{otelx.ProtocolGRPC, otelx.ProtocolHTTP} {
		t.Run(protocol, func(t *testing.T) {
			svc := &flakyTraces{fail: 2}
			var endpoint string
			if protocol == otelx.ProtocolHTTP {
				srv := httptest.NewServer(svc)
				t.Cleanup(srv.Close)
				endpoint = srv.URL
			} else {
				endpoint = "http://" + serveGRPC(t, svc)
			}
			exp, err := otelx.NewSpanExporterForTest(otelx.Settings{Endpoint: endpoint, Protocol: protocol}, res, 5*time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			defer exp.Shutdown(context.Background())
			if err := exp.ExportSpans(context.Background(), testSpans(res, other)); err != nil {
				t.Fatal(err)
			}
			if attempts, spans := svc.counts(); attempts != 3 || spans != 6 {
				t.Fatalf("%d attempts, %d spans", attempts, spans)
			}
		})
	}
}

func TestSpanExporterGivesUpAtTheTimeout(t *testing.T) {
	res, other := testResources(t)
	svc := &flakyTraces{fail: 1 << 30}
	exp, err := otelx.NewSpanExporterForTest(otelx.Settings{Endpoint: "http://" + serveGRPC(t, svc), TracesTimeout: 200 * time.Millisecond}, res, 20*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Shutdown(context.Background())
	start := time.Now()
	err = exp.ExportSpans(context.Background(), testSpans(res, other))
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
	if attempts, _ := svc.counts(); attempts < 2 {
		t.Fatalf("%d attempts", attempts)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key to dir.
func selfSigned(t *testing.T, dir string) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "otlp test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(file, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return pair, file
}

func TestSpanExporterTLSWithCertificate(t *testing.T) {
	res, other := testResources(t)
	pair, caFile := selfSigned(t, t.TempDir())
	for _, protocol := range []string{otelx.ProtocolGRPC, otelx.ProtocolHTTP} {
		t.Run(protocol, func(t *testing.T) {
			svc := &flakyTraces{}
			var endpoint string
			if protocol == otelx.ProtocolHTTP {
				srv := httptest.NewUnstartedServer(svc)
				srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
				srv.StartTLS()
				t.Cleanup(srv.Close)
				endpoint = srv.URL + "/v1/traces"
			} else {
				endpoint = "https://" + serveGRPC(t, svc, grpc.Creds(credentials.NewServerTLSFromCert(&pair)))
			}
			// Without the certificate the collector is not trusted.
			untrusted, err := otelx.NewSpanExporterForTest(otelx.Settings{TracesEndpoint: endpoint, Protocol: protocol, TracesTimeout: 300 * time.Millisecond}, res, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if err := untrusted.ExportSpans(context.Background(), testSpans(res, other)); err == nil {
				t.Fatal("exported to an untrusted collector")
			}
			_ = untrusted.Shutdown(context.Background())
			exp, err := otelx.NewSpanExporterForTest(otelx.Settings{TracesEndpoint: endpoint, Protocol: protocol, Certificate: caFile}, res, time.Millisecond)
			if err != nil {
				t.Fatal(err)
			}
			defer exp.Shutdown(context.Background())
			if err := exp.ExportSpans(context.Background(), testSpans(res, other)); err != nil {
				t.Fatal(err)
			}
			if _, spans := svc.counts(); spans != 6 {
				t.Fatalf("%d spans", spans)
			}
		})
	}
}

func TestSpanExporterAfterShutdownSendsNothing(t *testing.T) {
	res, other := testResources(t)
	rcv := otlptest.Start(t)
	exp, err := otelx.NewSpanExporterForTest(otelx.Settings{Endpoint: rcv.Endpoint}, res, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := exp.ExportSpans(context.Background(), testSpans(res, other)); err != nil {
		t.Fatal(err)
	}
	if err := exp.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(rcv.TraceRequests()); n != 0 {
		t.Fatalf("%d requests after Shutdown", n)
	}
}

func TestSpanExporterConcurrentExports(t *testing.T) {
	res, other := testResources(t)
	rcv := otlptest.Start(t)
	exp, err := otelx.NewSpanExporterForTest(otelx.Settings{Endpoint: rcv.Endpoint}, res, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Shutdown(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := exp.ExportSpans(context.Background(), testSpans(res, other)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n := len(rcv.Spans()); n != 24 {
		t.Fatalf("%d spans", n)
	}
}

func TestBadExportSettingsNameTheVariable(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for want, s := range map[string]otelx.Settings{
		"OTEL_EXPORTER_OTLP_COMPRESSION:":               {Compression: "zstd"},
		"OTEL_EXPORTER_OTLP_TRACES_COMPRESSION:":        {TracesCompression: "deflate"},
		"OTEL_EXPORTER_OTLP_TIMEOUT:":                   {Timeout: -time.Second},
		"OTEL_EXPORTER_OTLP_TRACES_TIMEOUT:":            {TracesTimeout: -time.Second},
		"OTEL_EXPORTER_OTLP_CERTIFICATE:":               {Certificate: filepath.Join(dir, "missing.pem")},
		"OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE:":        {TracesCertificate: garbage},
		"OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE and":     {ClientCertificate: garbage},
		"OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE,": {TracesClientCertificate: garbage, ClientKey: garbage},
	} {
		s.Endpoint = "http://127.0.0.1:1"
		_, err := otelx.Setup(context.Background(), s)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
}

// BenchmarkSpanEncode is the exporter's encoding of a batch of 512 spans
// like a traced request's; BenchmarkSpanExportSDK and
// BenchmarkSpanExportLean send the batch to a sink over gRPC with the
// SDK's exporter and with the binary's (per-span figures are ns/op / 512).
func BenchmarkSpanEncode(b *testing.B) {
	res, _ := testResources(b)
	spans := benchSpans(res)
	enc := otelx.SpanEncoderForTest(res)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n = len(enc(spans))
	}
	b.ReportMetric(float64(n), "bytes/batch")
}

func BenchmarkSpanExportSDK(b *testing.B) {
	res, _ := testResources(b)
	spans := benchSpans(res)
	sink := otlptest.StartSink(b)
	exp, err := otlptracegrpc.New(context.Background(), otlptracegrpc.WithEndpoint(strings.TrimPrefix(sink.Endpoint, "http://")), otlptracegrpc.WithInsecure())
	if err != nil {
		b.Fatal(err)
	}
	defer exp.Shutdown(context.Background())
	benchExport(b, exp, spans)
}

func BenchmarkSpanExportLean(b *testing.B) {
	res, _ := testResources(b)
	spans := benchSpans(res)
	sink := otlptest.StartSink(b)
	exp, err := otelx.NewSpanExporterForTest(otelx.Settings{Endpoint: sink.Endpoint}, res, time.Millisecond)
	if err != nil {
		b.Fatal(err)
	}
	defer exp.Shutdown(context.Background())
	benchExport(b, exp, spans)
}

func benchExport(b *testing.B, exp sdktrace.SpanExporter, spans []sdktrace.ReadOnlySpan) {
	b.ReportAllocs()
	for b.Loop() {
		if err := exp.ExportSpans(context.Background(), spans); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSpans are 512 spans of an HTTP request's shape: a server span
// with HTTP attributes, SQL client spans with a statement.
func benchSpans(res *resource.Resource) []sdktrace.ReadOnlySpan {
	scope := instrumentation.Scope{Name: otelx.ScopeName}
	start := time.Now()
	stubs := make(tracetest.SpanStubs, 512)
	for i := range stubs {
		sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{byte(i), 1}, SpanID: trace.SpanID{byte(i), 2}, TraceFlags: trace.FlagsSampled})
		parent := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{byte(i), 1}, SpanID: trace.SpanID{byte(i), 3}, TraceFlags: trace.FlagsSampled})
		stubs[i] = tracetest.SpanStub{Name: "SELECT products", SpanContext: sc, Parent: parent, SpanKind: trace.SpanKindClient,
			StartTime: start, EndTime: start.Add(time.Millisecond), Resource: res, InstrumentationScope: scope,
			Attributes: []attribute.KeyValue{attribute.String("db.system.name", "postgresql"),
				attribute.String("db.query.text", "SELECT id, name, price FROM products WHERE id = $1"), attribute.Int("db.response.returned_rows", 1)}}
		if i%8 == 0 {
			stubs[i].Name, stubs[i].SpanKind = "GET /api/v1/products/{id}", trace.SpanKindServer
			stubs[i].Attributes = []attribute.KeyValue{attribute.String("http.request.method", "GET"), attribute.String("http.route", "/api/v1/products/{id}"),
				attribute.Int("http.response.status_code", 200), attribute.String("url.path", "/api/v1/products/42"), attribute.String("client.address", "127.0.0.1")}
		}
	}
	return stubs.Snapshots()
}

func TestSpanExporterReportsRejectedSpans(t *testing.T) {
	res, other := testResources(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		b, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{PartialSuccess: &coltrace.ExportTracePartialSuccess{RejectedSpans: 2, ErrorMessage: "too old"}})
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	var mu sync.Mutex
	var handled []error
	prev := otel.GetErrorHandler()
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { mu.Lock(); handled = append(handled, err); mu.Unlock() }))
	t.Cleanup(func() { otel.SetErrorHandler(prev) })
	exp, err := otelx.NewSpanExporterForTest(otelx.Settings{TracesEndpoint: srv.URL, Protocol: otelx.ProtocolHTTP}, res, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer exp.Shutdown(context.Background())
	if err := exp.ExportSpans(context.Background(), testSpans(res, other)); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(handled) != 1 || !strings.Contains(handled[0].Error(), "2 spans rejected: too old") {
		t.Fatalf("handled %v", handled)
	}
}
