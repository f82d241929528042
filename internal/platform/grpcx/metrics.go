package grpcx

import (
	"context"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// ServerMetrics is the RED interceptor of the gRPC server (split
// topology), the counterpart of HTTP's http.server.* instruments:
//
//   - rpc_server_requests_total{rpc_method, grpc_code}: calls by full
//     method (/catalog.v1.CatalogService/GetProduct) and status code name
//     (OK, NotFound, Unavailable, ...);
//   - rpc_server_duration_seconds{rpc_method, grpc_code}: their latency
//     (histogram, the HTTP buckets).
//
// The code is the one the client sees: errors are mapped with ToStatus
// whether the interceptor runs inside or outside NewServer's.
func ServerMetrics(m metric.Meter) (grpc.UnaryServerInterceptor, error) {
	calls, err := m.Int64Counter("rpc.server.requests", metric.WithDescription("gRPC calls served, by method and status code"))
	if err != nil {
		return nil, err
	}
	dur, err := m.Float64Histogram("rpc.server.duration", metric.WithUnit("s"), metric.WithDescription("gRPC call latency, by method and status code"),
		metric.WithExplicitBucketBoundaries(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		start := time.Now()
		resp, err := h(ctx, req)
		attrs := callAttrs(info.FullMethod, status.Code(ToStatus(err)))
		calls.Add(ctx, 1, attrs)
		dur.Record(ctx, time.Since(start).Seconds(), attrs)
		return resp, err
	}, nil
}

// callKey is a served method and its outcome.
type callKey struct {
	method string
	code   codes.Code
}

// callOpts caches the attribute set of each method and code: the methods
// are the registered ones and the codes a fixed list, so the set is
// bounded, and a call builds none.
var callOpts sync.Map // callKey → metric.MeasurementOption

func callAttrs(method string, code codes.Code) metric.MeasurementOption {
	k := callKey{method, code}
	if v, ok := callOpts.Load(k); ok {
		return v.(metric.MeasurementOption)
	}
	opt := metric.WithAttributeSet(attribute.NewSet(attribute.String("rpc.method", method), attribute.String("grpc.code", code.String())))
	callOpts.Store(k, opt)
	return opt
}
