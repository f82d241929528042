package server

import (
	"context"
	"fmt"
	"net"
	"strings"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/grpcx"
	"github.com/opencommerce/commerce/internal/platform/mail"
	"github.com/opencommerce/commerce/internal/platform/module"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/ratelimit"
)

// wireContexts builds the contexts this process hosts (CONTEXTS) from the
// registry. A context's neighbours are its in-process modules when hosted
// here, and their gRPC clients at <CTX>_GRPC_ADDR otherwise (resolver,
// module.Neighbour): the only place where the transport is chosen. It
// returns the topics the hosted contexts publish.
func (s *Server) wireContexts(db *pg.DB, outbox *events.Outbox, limiter *ratelimit.Limiter, sender mail.Sender) ([]string, error) {
	cfg := s.cfg
	for _, name := range cfg.Contexts {
		if _, ok := registry[name]; !ok {
			return nil, builtWithout(name)
		}
	}
	deps := module.Deps{Config: cfg, DB: db, Redis: s.Redis, Outbox: outbox, Limiter: limiter, Keys: s.Keys, Sender: sender, Log: s.log,
		Metrics: s.metrics, Audit: s.audit, Idempotency: s.idem, Jobs: s.jobs}
	res := &resolver{deps: deps, hosts: cfg.Hosts, built: map[string]module.Module{}, remote: func(name string, notRetried ...string) (grpc.ClientConnInterface, error) {
		return s.remote(name, notRetried...)
	}}
	var topics []string
	for _, reg := range registrations() {
		if !cfg.Hosts(reg.Name) {
			continue
		}
		m, err := res.Hosted(reg.Name)
		if err != nil {
			return nil, err
		}
		s.modules = append(s.modules, m)
		topics = append(topics, reg.Topics...)
		if c, ok := m.(module.Consumers); ok {
			for _, c := range c.Consumers() {
				if err := s.Bus.Register(c); err != nil {
					return nil, err
				}
			}
		}
	}
	return topics, nil
}

// Hosted is the module of a context this process hosts (nil when it does
// not): tests reach a context's in-process API and gRPC service through
// it, e.g. Hosted("catalog").(*catalog.Module).
func (s *Server) Hosted(name string) module.Module {
	for _, m := range s.modules {
		if m.Name() == name {
			return m
		}
	}
	return nil
}

// remote dials a context this process does not host.
func (s *Server) remote(ctx string, notRetried ...string) (*grpc.ClientConn, error) {
	if c, ok := s.conns[ctx]; ok {
		return c, nil
	}
	addr := s.cfg.RemoteAddr(ctx)
	if addr == "" {
		return nil, fmt.Errorf("%s_GRPC_ADDR: required because this process does not host %s (CONTEXTS=%s)", strings.ToUpper(ctx), ctx, strings.Join(s.cfg.Contexts, ","))
	}
	c, err := grpcx.Dial(addr, grpcx.ClientConfig{Name: ctx, NotRetried: notRetried})
	if err != nil {
		return nil, fmt.Errorf("%s_GRPC_ADDR: %w", strings.ToUpper(ctx), err)
	}
	if s.conns == nil {
		s.conns = map[string]*grpc.ClientConn{}
	}
	s.conns[ctx] = c
	return c, nil
}

// serveGRPC serves the hosted contexts' gRPC services on GRPC_ADDR (split
// mode) until ctx ends, with the health service reporting SERVING.
func (s *Server) serveGRPC(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.GRPCAddr)
	if err != nil {
		return fmt.Errorf("GRPC_ADDR: %w", err)
	}
	served, err := grpcx.ServerMetrics(s.metrics.Meter("commerce/grpc"))
	if err != nil {
		_ = ln.Close()
		return fmt.Errorf("gRPC metrics: %w", err)
	}
	srv, hs := grpcx.NewServer(s.log, served)
	for _, m := range s.modules {
		if g, ok := m.(module.GRPCServer); ok {
			g.RegisterGRPC(srv)
		}
	}
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.log.Info("gRPC listening", "addr", ln.Addr().String())
	go func() {
		<-ctx.Done()
		hs.Shutdown()
		srv.GracefulStop()
	}()
	return srv.Serve(ln)
}

// grpcServed reports whether a hosted context has a gRPC service.
func (s *Server) grpcServed() bool {
	for _, m := range s.modules {
		if _, ok := m.(module.GRPCServer); ok {
			return true
		}
	}
	return false
}
