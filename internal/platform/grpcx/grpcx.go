// Package grpcx is the gRPC side of the platform: one mapping of error
// categories to status codes (and back, so errors.Is works the same in
// both transports), a server with recovery and the health service, and
// client connections with deadlines, retries for idempotent calls and a
// circuit breaker per remote context.
package grpcx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/sony/gobreaker/v2"
	"go.opentelemetry.io/contrib/instrumentation/google.golang.org/grpc/otelgrpc"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/stats"
	"google.golang.org/grpc/status"

	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/logx"
	"github.com/opencommerce/commerce/internal/platform/otelx"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

var kindCode = map[errs.Kind]codes.Code{
	errs.Internal:        codes.Internal,
	errs.BadRequest:      codes.InvalidArgument,
	errs.Invalid:         codes.InvalidArgument,
	errs.NotFound:        codes.NotFound,
	errs.Conflict:        codes.FailedPrecondition,
	errs.Forbidden:       codes.PermissionDenied,
	errs.Unauthenticated: codes.Unauthenticated,
	errs.RateLimited:     codes.ResourceExhausted,
	errs.TooLarge:        codes.InvalidArgument,
	errs.Unavailable:     codes.Unavailable,
}

const domain = "commerce"

// ToStatus turns an error into a gRPC status carrying its category, code,
// detail and fields, so the client can rebuild the same error.
func ToStatus(err error) error {
	if err == nil {
		return nil
	}
	e, ok := errs.As(err)
	if !ok {
		if _, isStatus := status.FromError(err); isStatus {
			return err
		}
		if pg.IsConnectionError(err) {
			// Retryable, like the 503 the HTTP side answers for it.
			return status.Error(codes.Unavailable, "database unavailable")
		}
		return status.Error(codes.Internal, "internal error")
	}
	md := map[string]string{"kind": strconv.Itoa(int(e.Kind)), "detail": e.Detail}
	for i, f := range e.Fields {
		md[fmt.Sprintf("field.%d", i)] = f.Field + "\x00" + f.Message
	}
	st, derr := status.New(kindCode[e.Kind], e.Code+": "+e.Detail).WithDetails(&errdetails.ErrorInfo{Reason: e.Code, Domain: domain, Metadata: md})
	if derr != nil {
		return status.Error(kindCode[e.Kind], e.Code)
	}
	return st.Err()
}

// FromStatus turns a status from a peer back into the categorised error
// the peer returned (Unavailable when the peer could not be reached).
func FromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range st.Details() {
		info, ok := d.(*errdetails.ErrorInfo)
		if !ok || info.Domain != domain {
			continue
		}
		kind, _ := strconv.Atoi(info.Metadata["kind"])
		e := &errs.Error{Kind: errs.Kind(kind), Code: info.Reason, Detail: info.Metadata["detail"]}
		for i := 0; ; i++ {
			v, ok := info.Metadata[fmt.Sprintf("field.%d", i)]
			if !ok {
				break
			}
			name, msg, _ := strings.Cut(v, "\x00")
			e.Fields = append(e.Fields, errs.Field(name, msg))
		}
		return e
	}
	switch st.Code() {
	case codes.Unavailable, codes.DeadlineExceeded:
		return &errs.Error{Kind: errs.Unavailable, Code: "unavailable", Detail: "a service this request needs is unavailable; retry shortly", Cause: err}
	case codes.NotFound:
		return &errs.Error{Kind: errs.NotFound, Code: "not_found", Detail: st.Message()}
	}
	return fmt.Errorf("remote: %w", err)
}

// NewServer builds a gRPC server that maps errors, recovers panics,
// carries request ids and serves the health service.
// With tracing on (otelx.Setup), every call runs in a server span that
// continues the caller's trace. outer interceptors (ServerMetrics) run
// around those, in order: they see the status the client gets, panics
// included.
func NewServer(log *slog.Logger, outer ...grpc.UnaryServerInterceptor) (*grpc.Server, *health.Server) {
	var opts []grpc.ServerOption
	if otelx.Tracing() {
		opts = append(opts, grpc.StatsHandler(otelgrpc.NewServerHandler(otelOptions()...)))
	}
	opts = append(opts, grpc.ChainUnaryInterceptor(append(outer[:len(outer):len(outer)], func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
		if md, ok := metadata.FromIncomingContext(ctx); ok {
			if ids := md.Get("x-request-id"); len(ids) > 0 {
				ctx = logx.WithRequestID(ctx, ids[0])
			}
			// The server span (tracing on) already continues the caller's
			// trace; otherwise the trace context only travels on.
			if !trace.SpanContextFromContext(ctx).IsValid() {
				ctx = otelx.Extract(ctx, func(k string) string {
					if v := md.Get(k); len(v) > 0 {
						return v[0]
					}
					return ""
				})
			}
		}
		defer func() {
			if r := recover(); r != nil {
				log.ErrorContext(ctx, "panic in gRPC handler", "method", info.FullMethod, "panic", r)
				err = status.Error(codes.Internal, "internal error")
			}
		}()
		resp, err = h(ctx, req)
		if err != nil {
			if _, ok := errs.As(err); !ok {
				log.ErrorContext(ctx, "gRPC call failed", "method", info.FullMethod, "err", err)
			}
			return nil, ToStatus(err)
		}
		return resp, nil
	})...))
	srv := grpc.NewServer(opts...)
	hs := health.NewServer()
	healthpb.RegisterHealthServer(srv, hs)
	return srv, hs
}

// ClientConfig tunes a connection to one remote context.
type ClientConfig struct {
	Name        string        // the remote context, for the breaker and logs
	Timeout     time.Duration // per call, default 5s
	Retries     int           // extra attempts for idempotent calls, default 2
	NotRetried  []string      // full method names that must not be retried
	BreakAfter  uint32        // consecutive failures that open the breaker, default 5
	OpenFor     time.Duration // how long the breaker stays open, default 5s
	DialOptions []grpc.DialOption
}

// Dial connects to a remote context with deadlines, retries with backoff
// (Unavailable/DeadlineExceeded only, idempotent methods only) and a
// circuit breaker that fails fast while the remote is down.
func Dial(addr string, cfg ClientConfig) (*grpc.ClientConn, error) {
	if cfg.Timeout == 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Retries == 0 {
		cfg.Retries = 2
	}
	if cfg.BreakAfter == 0 {
		cfg.BreakAfter = 5
	}
	if cfg.OpenFor == 0 {
		cfg.OpenFor = 5 * time.Second
	}
	noRetry := map[string]bool{}
	for _, m := range cfg.NotRetried {
		noRetry[m] = true
	}
	cb := gobreaker.NewCircuitBreaker[any](gobreaker.Settings{
		Name: cfg.Name, Timeout: cfg.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= cfg.BreakAfter },
		IsSuccessful: func(err error) bool {
			c := status.Code(err)
			return c != codes.Unavailable && c != codes.DeadlineExceeded
		},
	})
	interceptor := func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if id := logx.RequestID(ctx); id != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, "x-request-id", id)
		}
		otelx.Inject(ctx, func(k, v string) { ctx = metadata.AppendToOutgoingContext(ctx, k, v) })
		attempts := 1
		if !noRetry[method] {
			attempts += cfg.Retries
		}
		var err error
		backoff := 50 * time.Millisecond
		for a := 0; a < attempts; a++ {
			_, err = cb.Execute(func() (any, error) {
				cctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
				defer cancel()
				return nil, invoker(cctx, method, req, reply, cc, opts...)
			})
			if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
				return status.Error(codes.Unavailable, cfg.Name+" is unavailable (circuit open)")
			}
			c := status.Code(err)
			if err == nil || (c != codes.Unavailable && c != codes.DeadlineExceeded) || ctx.Err() != nil {
				return err
			}
			time.Sleep(backoff)
			backoff *= 3
		}
		return err
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithUnaryInterceptor(interceptor)}
	if otelx.Tracing() {
		// One client span per attempt; its traceparent replaces the one
		// the interceptor set, so the server span is its child.
		opts = append(opts, grpc.WithStatsHandler(otelgrpc.NewClientHandler(otelOptions()...)))
	}
	return grpc.NewClient(addr, append(opts, cfg.DialOptions...)...)
}

// otelOptions make the gRPC spans with the binary's tracer provider and
// W3C propagation, leaving health checks out (they would be most spans).
func otelOptions() []otelgrpc.Option {
	return []otelgrpc.Option{
		otelgrpc.WithTracerProvider(otelx.TracerProvider()),
		otelgrpc.WithPropagators(otelx.Propagator()),
		otelgrpc.WithFilter(func(info *stats.RPCTagInfo) bool {
			return !strings.HasPrefix(info.FullMethodName, "/grpc.health.v1.Health/")
		}),
	}
}
