package server

import (
	"context"
	"fmt"
	"net"
	"strings"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	authgrpc "github.com/opencommerce/commerce/internal/auth/authapi/grpcclient"
	"github.com/opencommerce/commerce/internal/cart/cartapi"
	cartgrpc "github.com/opencommerce/commerce/internal/cart/cartapi/grpcclient"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	cataloggrpc "github.com/opencommerce/commerce/internal/catalog/catalogapi/grpcclient"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	fulfillmentgrpc "github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi/grpcclient"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	paymentsgrpc "github.com/opencommerce/commerce/internal/payments/paymentsapi/grpcclient"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/grpcx"
	"github.com/opencommerce/commerce/internal/platform/mail"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/ratelimit"
)

// wireContexts builds the contexts this process hosts (CONTEXTS). A
// context's neighbours are its in-process modules when hosted here, and
// their gRPC clients at <CTX>_GRPC_ADDR otherwise: the only place where
// the transport is chosen. It returns the topics the hosted contexts
// publish.
func (s *Server) wireContexts(db *pg.DB, outbox *events.Outbox, limiter *ratelimit.Limiter, sender mail.Sender) ([]string, error) {
	cfg := s.cfg
	d := hostDeps{s: s, db: db, outbox: outbox, limiter: limiter, sender: sender}
	var topics []string
	host := func(name string, build func() error, publishes func() []string, consumers func() []events.Consumer,
		run func(context.Context) error, grpcReg func(grpc.ServiceRegistrar)) error {
		if !cfg.Hosts(name) {
			return nil
		}
		if err := build(); err != nil {
			return err
		}
		if publishes != nil {
			topics = append(topics, publishes()...)
		}
		if consumers != nil {
			for _, c := range consumers() {
				if err := s.Bus.Register(c); err != nil {
					return err
				}
			}
		}
		if run != nil {
			s.workers = append(s.workers, run)
		}
		if grpcReg != nil {
			s.grpcServices = append(s.grpcServices, grpcReg)
		}
		return nil
	}
	var err error
	steps := []func() error{
		func() error {
			return host("auth", func() error { s.Auth, err = newAuthHost(d); return err },
				func() []string { return s.Auth.Topics() }, nil, nil, func(r grpc.ServiceRegistrar) { s.Auth.RegisterGRPC(r) })
		},
		func() error {
			return host("catalog", func() error { s.Catalog, err = newCatalogHost(d); return err },
				func() []string { return s.Catalog.Topics() }, func() []events.Consumer { return s.Catalog.Consumers() },
				func(ctx context.Context) error { return s.Catalog.Run(ctx) }, func(r grpc.ServiceRegistrar) { s.Catalog.RegisterGRPC(r) })
		},
		func() error {
			return host("payments", func() error { s.Pay, err = newPaymentsHost(d); return err },
				func() []string { return s.Pay.Topics() }, func() []events.Consumer { return s.Pay.Consumers() },
				func(ctx context.Context) error { return s.Pay.Run(ctx) }, func(r grpc.ServiceRegistrar) { s.Pay.RegisterGRPC(r) })
		},
		func() error {
			return host("fulfillment", func() error { s.Fulfill, err = newFulfillmentHost(d); return err },
				func() []string { return s.Fulfill.Topics() }, func() []events.Consumer { return s.Fulfill.Consumers() },
				func(ctx context.Context) error { return s.Fulfill.Run(ctx) }, func(r grpc.ServiceRegistrar) { s.Fulfill.RegisterGRPC(r) })
		},
		func() error {
			return host("cart", func() error { s.Cart, err = newCartHost(d); return err },
				nil, func() []events.Consumer { return s.Cart.Consumers() },
				func(ctx context.Context) error { return s.Cart.Run(ctx) }, func(r grpc.ServiceRegistrar) { s.Cart.RegisterGRPC(r) })
		},
		func() error {
			return host("ordering", func() error { s.Orders, err = newOrderingHost(d); return err },
				func() []string { return s.Orders.Topics() }, func() []events.Consumer { return s.Orders.Consumers() },
				func(ctx context.Context) error { return s.Orders.Run(ctx) }, nil)
		},
		func() error {
			return host("search", func() error { s.search, err = newSearchHost(d); return err },
				nil, func() []events.Consumer { return s.search.Consumers() },
				func(ctx context.Context) error { return s.search.Run(ctx) }, nil)
		},
		func() error {
			return host("chat", func() error { s.chat, err = newChatHost(d); return err },
				func() []string { return s.chat.Topics() }, nil,
				func(ctx context.Context) error { return s.chat.Run(ctx) }, nil)
		},
		func() error {
			return host("notify", func() error { s.notify, err = newNotifyHost(d); return err },
				nil, func() []events.Consumer { return s.notify.Consumers() }, nil, nil)
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	return topics, nil
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

func (s *Server) catalogAPI() (catalogapi.Catalog, error) {
	if s.Catalog != nil {
		return s.Catalog.API(), nil
	}
	c, err := s.remote("catalog")
	if err != nil {
		return nil, err
	}
	return cataloggrpc.New(c), nil
}

func (s *Server) authAPI() (authapi.Auth, error) {
	if s.Auth != nil {
		return s.Auth.API(), nil
	}
	c, err := s.remote("auth")
	if err != nil {
		return nil, err
	}
	return authgrpc.New(c), nil
}

func (s *Server) fulfillmentAPI() (fulfillmentapi.Fulfillment, error) {
	if s.Fulfill != nil {
		return s.Fulfill.API(), nil
	}
	c, err := s.remote("fulfillment")
	if err != nil {
		return nil, err
	}
	return fulfillmentgrpc.New(c), nil
}

func (s *Server) cartAPI() (cartapi.Cart, error) {
	if s.Cart != nil {
		return s.Cart.API(), nil
	}
	c, err := s.remote("cart")
	if err != nil {
		return nil, err
	}
	return cartgrpc.New(c), nil
}

func (s *Server) paymentsAPI() (paymentsapi.Payments, error) {
	if s.Pay != nil {
		return s.Pay.API(), nil
	}
	c, err := s.remote("payments", paymentsgrpc.NotRetried...)
	if err != nil {
		return nil, err
	}
	return paymentsgrpc.New(c), nil
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
	for _, reg := range s.grpcServices {
		reg(srv)
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
