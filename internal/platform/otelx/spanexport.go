package otelx

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	_ "google.golang.org/grpc/encoding/gzip" // registers the gzip compressor of OTEL_EXPORTER_OTLP_COMPRESSION
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// traceExportMethod is the OTLP/gRPC trace service's Export.
const traceExportMethod = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"

// userAgent names the exporter to collectors.
const userAgent = "commerce OTLP trace exporter"

// backoff is the SDK exporters' default retry policy: exponential from
// initial up to maxInterval between attempts, with jitter, for at most
// maxElapsed (and never past the export's deadline).
type backoff struct {
	initial, maxInterval, maxElapsed time.Duration
}

var defaultBackoff = backoff{initial: 5 * time.Second, maxInterval: 30 * time.Second, maxElapsed: time.Minute}

// SpanExporter exports spans over OTLP (gRPC or HTTP/protobuf) encoding
// the request itself (spanEncoder) instead of through the SDK's proto
// objects: it is what the batch span processor runs for every batch, and
// the SDK exporter's transform and marshalling were most of the cost of a
// sampled span. It honors the settings the SDK exporter honored
// (endpoint, protocol, headers, insecure, timeout, compression,
// certificates) and retries like it. Safe for concurrent use.
type SpanExporter struct {
	t     target
	retry backoff

	mu  sync.Mutex // serialises exports: the encoder's buffer is reused
	enc *spanEncoder
	zw  *gzip.Writer
	zb  bytes.Buffer

	// gRPC
	conn *grpc.ClientConn
	md   metadata.MD
	// HTTP
	hc *http.Client

	stopped  atomic.Bool
	stopCtx  context.Context
	stopFunc context.CancelFunc
}

var _ sdktrace.SpanExporter = (*SpanExporter)(nil)

// newSpanExporter builds the exporter of t, encoding res once. The gRPC
// connection is made lazily (at the first export), as the SDK's is.
func newSpanExporter(t target, res *resource.Resource) (*SpanExporter, error) {
	e := &SpanExporter{t: t, retry: defaultBackoff, enc: newSpanEncoder(res)}
	e.stopCtx, e.stopFunc = context.WithCancel(context.Background())
	if t.timeout <= 0 {
		e.t.timeout = 10 * time.Second
	}
	if t.protocol == ProtocolHTTP {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		if t.tls != nil {
			tr.TLSClientConfig = t.tls.Clone()
		}
		e.hc = &http.Client{Transport: tr}
		return e, nil
	}
	var creds credentials.TransportCredentials
	switch {
	case t.insecure:
		creds = insecure.NewCredentials()
	case t.tls != nil:
		creds = credentials.NewTLS(t.tls.Clone())
	default:
		creds = credentials.NewTLS(nil)
	}
	conn, err := grpc.NewClient(t.endpoint, grpc.WithTransportCredentials(creds), grpc.WithUserAgent(userAgent))
	if err != nil {
		return nil, fmt.Errorf("gRPC client of %s: %w", t.endpoint, err)
	}
	e.conn = conn
	e.md = metadata.New(t.headers)
	return e, nil
}

// ExportSpans sends spans as one request, retrying transient failures
// until the export timeout; after Shutdown it drops them.
func (e *SpanExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 {
		return nil
	}
	return e.export(ctx, len(spans), func(enc *spanEncoder) []byte { return enc.encode(spans) })
}

// export sends the request that encode writes with the exporter's
// encoder (n spans), one export at a time, retrying transient failures
// until the export timeout; after Shutdown it drops it.
func (e *SpanExporter) export(ctx context.Context, n int, encode func(*spanEncoder) []byte) error {
	if e.stopped.Load() {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped.Load() {
		return nil
	}
	ctx, cancel := context.WithTimeoutCause(ctx, e.t.timeout, errors.New("OTLP trace export timed out"))
	defer cancel()
	// Shutdown cancels an export in flight.
	stop := context.AfterFunc(e.stopCtx, cancel)
	defer stop()

	body := encode(e.enc)
	var err error
	if e.hc != nil {
		err = e.retrying(ctx, func(ctx context.Context) (bool, time.Duration, error) { return e.postHTTP(ctx, body) })
	} else {
		err = e.retrying(ctx, func(ctx context.Context) (bool, time.Duration, error) { return e.invokeGRPC(ctx, body) })
	}
	if err != nil {
		// The transport may still hold the bytes of an abandoned
		// attempt: the next batch gets a buffer of its own.
		e.enc.buf = nil
		return fmt.Errorf("OTLP trace export of %d spans to %s: %w", n, e.t.endpoint, err)
	}
	return nil
}

// retrying runs attempt until it succeeds, fails permanently, or the
// backoff's time or ctx ends. attempt reports whether its error is
// retryable and the delay the server asked for (0: none).
func (e *SpanExporter) retrying(ctx context.Context, attempt func(context.Context) (bool, time.Duration, error)) error {
	start := time.Now()
	interval := e.retry.initial
	for {
		retry, throttle, err := attempt(ctx)
		if err == nil || !retry {
			return err
		}
		// Jitter: ±50% of the interval, as the SDK's backoff.
		wait := interval/2 + rand.N(interval+1)
		wait = max(wait, throttle)
		if time.Since(start)+wait > e.retry.maxElapsed {
			return fmt.Errorf("gave up retrying after %v: %w", time.Since(start).Round(time.Millisecond), err)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("%w (last attempt: %w)", context.Cause(ctx), err)
		case <-timer.C:
		}
		interval = min(interval*3/2, e.retry.maxInterval)
	}
}

// rawCodec sends the encoder's bytes as the request and decodes the
// response as a proto message.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, fmt.Errorf("raw codec: cannot marshal %T", v)
	}
	return mem.BufferSlice{mem.SliceBuffer(*b)}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("raw codec: cannot unmarshal into %T", v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	return proto.Unmarshal(buf.ReadOnlyData(), m)
}

func (rawCodec) Name() string { return "proto" }

var _ encoding.CodecV2 = rawCodec{}

func (e *SpanExporter) invokeGRPC(ctx context.Context, body []byte) (bool, time.Duration, error) {
	if len(e.md) > 0 {
		ctx = metadata.NewOutgoingContext(ctx, e.md)
	}
	opts := []grpc.CallOption{grpc.ForceCodecV2(rawCodec{})}
	if e.t.gzip {
		opts = append(opts, grpc.UseCompressor("gzip"))
	}
	var resp coltrace.ExportTraceServiceResponse
	err := e.conn.Invoke(ctx, traceExportMethod, &body, &resp, opts...)
	if err == nil {
		reportPartial(resp.GetPartialSuccess())
		return false, 0, nil
	}
	st := status.Convert(err)
	var throttle time.Duration
	hasInfo := false
	for _, d := range st.Details() {
		if ri, ok := d.(*errdetails.RetryInfo); ok {
			hasInfo, throttle = true, ri.GetRetryDelay().AsDuration()
		}
	}
	switch st.Code() {
	case codes.Canceled, codes.DeadlineExceeded, codes.Aborted, codes.OutOfRange, codes.Unavailable, codes.DataLoss:
		return ctx.Err() == nil, throttle, err
	case codes.ResourceExhausted:
		// Retried only when the server says recovery is possible, as the SDK.
		return hasInfo && ctx.Err() == nil, throttle, err
	}
	return false, 0, err
}

// reportPartial hands rejected spans to the error handler (the export
// itself succeeded).
func reportPartial(p *coltrace.ExportTracePartialSuccess) {
	if p == nil || (p.GetRejectedSpans() == 0 && p.GetErrorMessage() == "") {
		return
	}
	otel.Handle(fmt.Errorf("OTLP partial success: %d spans rejected: %s", p.GetRejectedSpans(), p.GetErrorMessage()))
}

func (e *SpanExporter) postHTTP(ctx context.Context, body []byte) (bool, time.Duration, error) {
	payload := body
	if e.t.gzip {
		e.zb.Reset()
		if e.zw == nil {
			e.zw = gzip.NewWriter(&e.zb)
		} else {
			e.zw.Reset(&e.zb)
		}
		if _, err := e.zw.Write(body); err != nil {
			return false, 0, fmt.Errorf("gzip: %w", err)
		}
		if err := e.zw.Close(); err != nil {
			return false, 0, fmt.Errorf("gzip: %w", err)
		}
		payload = e.zb.Bytes()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.t.endpoint, bytes.NewReader(payload))
	if err != nil {
		return false, 0, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("User-Agent", userAgent)
	if e.t.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	for k, v := range e.t.headers {
		req.Header.Set(k, v)
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		// Connection errors are transient (a collector restarting).
		return ctx.Err() == nil, 0, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		if err == nil && len(b) > 0 {
			var r coltrace.ExportTraceServiceResponse
			if proto.Unmarshal(b, &r) == nil {
				reportPartial(r.GetPartialSuccess())
			}
		}
		return false, 0, nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	err = fmt.Errorf("HTTP %s: %s", resp.Status, bytes.TrimSpace(msg))
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		var throttle time.Duration
		if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 {
			throttle = time.Duration(s) * time.Second
		}
		return ctx.Err() == nil, throttle, err
	}
	return false, 0, err
}

// Shutdown stops exporting: later exports are dropped, an export in
// flight may finish until ctx ends (then it is cancelled), and the
// connection is closed.
func (e *SpanExporter) Shutdown(ctx context.Context) error {
	if e.stopped.Swap(true) {
		return nil
	}
	// Let an export in flight finish until ctx ends, then cancel it.
	done := make(chan struct{})
	go func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = fmt.Errorf("OTLP trace exporter shutdown: %w", ctx.Err())
	}
	e.stopFunc()
	if e.conn != nil {
		if cerr := e.conn.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("closing the OTLP trace connection: %w", cerr))
		}
	}
	if e.hc != nil {
		e.hc.CloseIdleConnections()
	}
	return err
}
