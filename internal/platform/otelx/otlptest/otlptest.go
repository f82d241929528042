// Package otlptest is an in-test OTLP receiver: the collector's trace,
// metrics and logs services over gRPC (and the same three over OTLP/HTTP
// with protobuf bodies), keeping everything exported to it so that tests
// can assert on spans, metric names and log records.
package otlptest

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	colmetrics "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	_ "google.golang.org/grpc/encoding/gzip" // exporters may compress
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"

	"github.com/opencommerce/commerce/internal/platform/otelx"
)

// Span is one received span, flattened.
type Span struct {
	TraceID, SpanID, ParentSpanID string
	Name                          string
	Kind                          tracepb.Span_SpanKind
	Attrs                         map[string]string
	Resource                      map[string]string
	Scope                         string
	StatusCode                    tracepb.Status_StatusCode
	StatusMessage                 string
	Start, End                    time.Time
}

// TraceRequest is one received trace export, as decoded, with the
// request's headers (gRPC metadata or HTTP headers, keys lower-case): for
// tests of the exporter's encoding and settings.
type TraceRequest struct {
	Request *coltrace.ExportTraceServiceRequest
	Headers map[string]string
}

// Log is one received log record.
type Log struct {
	TraceID, SpanID string
	Body            string
	Severity        string
	Attrs           map[string]string
	Resource        map[string]string
}

// Metric is one received metric (name and the resource that sent it).
type Metric struct {
	Name     string
	Scope    string
	Resource map[string]string
	// Points is the number of data points in the export.
	Points int
	// Attrs are the attribute sets of the data points.
	Attrs []map[string]string
}

// Receiver collects what is exported to it.
type Receiver struct {
	// Endpoint is the gRPC endpoint (http://127.0.0.1:port);
	// HTTPEndpoint the OTLP/HTTP base URL.
	Endpoint, HTTPEndpoint string

	mu      sync.Mutex
	spans   []Span
	logs    []Log
	metrics []Metric
	// Requests counts export requests per signal.
	requests map[string]int
	// traceReqs are the decoded trace requests, with their headers.
	traceReqs []TraceRequest

	srv  *grpc.Server
	hsrv *http.Server
}

// Start runs a receiver until the test ends.
func Start(t testing.TB) *Receiver {
	t.Helper()
	r, err := Listen()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(r.Close)
	return r
}

// Tracing installs the binary's telemetry exporting to a new receiver
// for the rest of the test (uninstalled at its end) and returns the
// receiver and a flush that pushes the ended spans to it: the start of
// every test of the spans a component makes.
func Tracing(t testing.TB) (*Receiver, func()) {
	t.Helper()
	r := Start(t)
	tel, err := otelx.Setup(context.Background(), otelx.Settings{Endpoint: r.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tel.Shutdown(context.Background()) })
	return r, func() {
		t.Helper()
		if err := tel.ForceFlush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// Listen runs a receiver on loopback ports until Close.
func Listen() (*Receiver, error) {
	r := &Receiver{requests: map[string]int{}}
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		_ = gl.Close()
		return nil, err
	}
	r.Endpoint = "http://" + gl.Addr().String()
	r.HTTPEndpoint = "http://" + hl.Addr().String()
	r.srv = grpc.NewServer()
	coltrace.RegisterTraceServiceServer(r.srv, traceService{r: r})
	colmetrics.RegisterMetricsServiceServer(r.srv, metricsService{r: r})
	collogs.RegisterLogsServiceServer(r.srv, logsService{r: r})
	go func() { _ = r.srv.Serve(gl) }()
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/traces", func(w http.ResponseWriter, hr *http.Request) {
		httpExport(func(req *coltrace.ExportTraceServiceRequest) proto.Message {
			r.keepTraceRequest(req, httpHeaders(hr.Header))
			r.addTraces(req)
			return &coltrace.ExportTraceServiceResponse{}
		})(w, hr)
	})
	mux.HandleFunc("POST /v1/metrics", httpExport(func(req *colmetrics.ExportMetricsServiceRequest) proto.Message {
		r.addMetrics(req)
		return &colmetrics.ExportMetricsServiceResponse{}
	}))
	mux.HandleFunc("POST /v1/logs", httpExport(func(req *collogs.ExportLogsServiceRequest) proto.Message {
		r.addLogs(req)
		return &collogs.ExportLogsServiceResponse{}
	}))
	r.hsrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = r.hsrv.Serve(hl) }()
	return r, nil
}

// Close stops the receiver.
func (r *Receiver) Close() {
	r.srv.Stop()
	_ = r.hsrv.Close()
}

// httpExport decodes an OTLP/HTTP protobuf request body into a new M.
func httpExport[M any, PM interface {
	*M
	proto.Message
}](handle func(PM) proto.Message) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		var in io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			in = zr
		}
		body, err := io.ReadAll(io.LimitReader(in, 64<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		m := PM(new(M))
		if err := proto.Unmarshal(body, m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out, _ := proto.Marshal(handle(m))
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(out)
	}
}

type traceService struct {
	coltrace.UnimplementedTraceServiceServer
	r *Receiver
}

func (s traceService) Export(ctx context.Context, req *coltrace.ExportTraceServiceRequest) (*coltrace.ExportTraceServiceResponse, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	h := make(map[string]string, len(md))
	for k, v := range md {
		h[k] = strings.Join(v, ",")
	}
	s.r.keepTraceRequest(req, h)
	s.r.addTraces(req)
	return &coltrace.ExportTraceServiceResponse{}, nil
}

type metricsService struct {
	colmetrics.UnimplementedMetricsServiceServer
	r *Receiver
}

func (s metricsService) Export(_ context.Context, req *colmetrics.ExportMetricsServiceRequest) (*colmetrics.ExportMetricsServiceResponse, error) {
	s.r.addMetrics(req)
	return &colmetrics.ExportMetricsServiceResponse{}, nil
}

type logsService struct {
	collogs.UnimplementedLogsServiceServer
	r *Receiver
}

func (s logsService) Export(_ context.Context, req *collogs.ExportLogsServiceRequest) (*collogs.ExportLogsServiceResponse, error) {
	s.r.addLogs(req)
	return &collogs.ExportLogsServiceResponse{}, nil
}

func httpHeaders(hh http.Header) map[string]string {
	h := make(map[string]string, len(hh))
	for k, v := range hh {
		h[strings.ToLower(k)] = strings.Join(v, ",")
	}
	return h
}

func (r *Receiver) keepTraceRequest(req *coltrace.ExportTraceServiceRequest, h map[string]string) {
	r.mu.Lock()
	r.traceReqs = append(r.traceReqs, TraceRequest{Request: req, Headers: h})
	r.mu.Unlock()
}

// TraceRequests returns the trace export requests received so far.
func (r *Receiver) TraceRequests() []TraceRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]TraceRequest(nil), r.traceReqs...)
}

func (r *Receiver) addTraces(req *coltrace.ExportTraceServiceRequest) {
	var out []Span
	for _, rs := range req.GetResourceSpans() {
		res := attrs(rs.GetResource().GetAttributes())
		for _, ss := range rs.GetScopeSpans() {
			for _, sp := range ss.GetSpans() {
				out = append(out, Span{
					TraceID: hex.EncodeToString(sp.GetTraceId()), SpanID: hex.EncodeToString(sp.GetSpanId()),
					ParentSpanID: hex.EncodeToString(sp.GetParentSpanId()), Name: sp.GetName(), Kind: sp.GetKind(),
					Attrs: attrs(sp.GetAttributes()), Resource: res, Scope: ss.GetScope().GetName(),
					StatusCode: sp.GetStatus().GetCode(), StatusMessage: sp.GetStatus().GetMessage(),
					Start: time.Unix(0, int64(sp.GetStartTimeUnixNano())), End: time.Unix(0, int64(sp.GetEndTimeUnixNano())),
				})
			}
		}
	}
	r.mu.Lock()
	r.spans = append(r.spans, out...)
	r.requests["traces"]++
	r.mu.Unlock()
}

func (r *Receiver) addMetrics(req *colmetrics.ExportMetricsServiceRequest) {
	var out []Metric
	for _, rm := range req.GetResourceMetrics() {
		res := attrs(rm.GetResource().GetAttributes())
		for _, sm := range rm.GetScopeMetrics() {
			for _, m := range sm.GetMetrics() {
				mt := Metric{Name: m.GetName(), Scope: sm.GetScope().GetName(), Resource: res}
				add := func(kv []*commonpb.KeyValue) { mt.Points++; mt.Attrs = append(mt.Attrs, attrs(kv)) }
				for _, p := range m.GetSum().GetDataPoints() {
					add(p.GetAttributes())
				}
				for _, p := range m.GetGauge().GetDataPoints() {
					add(p.GetAttributes())
				}
				for _, p := range m.GetHistogram().GetDataPoints() {
					add(p.GetAttributes())
				}
				for _, p := range m.GetExponentialHistogram().GetDataPoints() {
					add(p.GetAttributes())
				}
				for _, p := range m.GetSummary().GetDataPoints() {
					add(p.GetAttributes())
				}
				out = append(out, mt)
			}
		}
	}
	r.mu.Lock()
	r.metrics = append(r.metrics, out...)
	r.requests["metrics"]++
	r.mu.Unlock()
}

func (r *Receiver) addLogs(req *collogs.ExportLogsServiceRequest) {
	var out []Log
	for _, rl := range req.GetResourceLogs() {
		res := attrs(rl.GetResource().GetAttributes())
		for _, sl := range rl.GetScopeLogs() {
			for _, l := range sl.GetLogRecords() {
				out = append(out, Log{TraceID: hex.EncodeToString(l.GetTraceId()), SpanID: hex.EncodeToString(l.GetSpanId()),
					Body: value(l.GetBody()), Severity: l.GetSeverityText(), Attrs: attrs(l.GetAttributes()), Resource: res})
			}
		}
	}
	r.mu.Lock()
	r.logs = append(r.logs, out...)
	r.requests["logs"]++
	r.mu.Unlock()
}

func attrs(kvs []*commonpb.KeyValue) map[string]string {
	out := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		out[kv.GetKey()] = value(kv.GetValue())
	}
	return out
}

func value(v *commonpb.AnyValue) string {
	switch x := v.GetValue().(type) {
	case *commonpb.AnyValue_StringValue:
		return x.StringValue
	case *commonpb.AnyValue_IntValue:
		return strconv.FormatInt(x.IntValue, 10)
	case *commonpb.AnyValue_DoubleValue:
		return strconv.FormatFloat(x.DoubleValue, 'g', -1, 64)
	case *commonpb.AnyValue_BoolValue:
		return strconv.FormatBool(x.BoolValue)
	case *commonpb.AnyValue_BytesValue:
		return hex.EncodeToString(x.BytesValue)
	case *commonpb.AnyValue_ArrayValue:
		var parts []string
		for _, e := range x.ArrayValue.GetValues() {
			parts = append(parts, value(e))
		}
		return "[" + strings.Join(parts, ",") + "]"
	case *commonpb.AnyValue_KvlistValue:
		m := attrs(x.KvlistValue.GetValues())
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+"="+m[k])
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	return ""
}

// Spans returns a copy of the spans received so far.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// Logs returns a copy of the log records received so far.
func (r *Receiver) Logs() []Log {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Log(nil), r.logs...)
}

// Metrics returns a copy of the metrics received so far.
func (r *Receiver) Metrics() []Metric {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Metric(nil), r.metrics...)
}

// Requests returns how many export requests a signal ("traces",
// "metrics", "logs") received.
func (r *Receiver) Requests(signal string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.requests[signal]
}

// Reset forgets everything received.
func (r *Receiver) Reset() {
	r.mu.Lock()
	r.spans, r.logs, r.metrics, r.traceReqs = nil, nil, nil, nil
	r.requests = map[string]int{}
	r.mu.Unlock()
}

// Trace returns the spans of one trace.
func (r *Receiver) Trace(traceID string) []Span {
	var out []Span
	for _, s := range r.Spans() {
		if s.TraceID == traceID {
			out = append(out, s)
		}
	}
	return out
}

// WaitFor polls cond until it holds or timeout passes; it fails the test
// with what describes the wait (and a summary of what arrived).
func (r *Receiver) WaitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("OTLP receiver: timed out waiting for %s; received %s", what, r.Summary())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Summary describes what arrived, for failure messages.
func (r *Receiver) Summary() string {
	var b strings.Builder
	spans := r.Spans()
	fmt.Fprintf(&b, "%d spans, %d log records, %d metrics\n", len(spans), len(r.Logs()), len(r.Metrics()))
	for _, s := range spans {
		fmt.Fprintf(&b, "  span %s trace=%s span=%s parent=%s kind=%s service=%s contexts=%s\n", s.Name, s.TraceID, s.SpanID, s.ParentSpanID,
			s.Kind, s.Resource["service.name"], s.Resource["commerce.contexts"])
	}
	return b.String()
}
