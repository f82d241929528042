// Package grpctest serves gRPC services over an in-memory bufconn listener
// and returns a client connection with the production interceptors, for
// contract tests that run one suite over in-process and gRPC transports.
package grpctest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/test/bufconn"

	"github.com/opencommerce/commerce/internal/platform/grpcx"
)

// Serve registers services on a gRPC server behind bufconn and dials it.
func Serve(t testing.TB, register func(grpc.ServiceRegistrar)) *grpc.ClientConn {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv, _ := grpcx.NewServer(slog.New(slog.NewTextHandler(io.Discard, nil)))
	register(srv)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	conn, err := grpcx.Dial("passthrough:///bufnet", grpcx.ClientConfig{Name: "test", DialOptions: []grpc.DialOption{
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}
