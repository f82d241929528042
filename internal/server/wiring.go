package server

import (
	"context"
	"fmt"
	"net"
	"strings"

	"google.golang.org/grpc"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/opencommerce/commerce/internal/auth"
	"github.com/opencommerce/commerce/internal/auth/authapi"
	authgrpc "github.com/opencommerce/commerce/internal/auth/authapi/grpcclient"
	"github.com/opencommerce/commerce/internal/cart"
	"github.com/opencommerce/commerce/internal/cart/cartapi"
	cartgrpc "github.com/opencommerce/commerce/internal/cart/cartapi/grpcclient"
	"github.com/opencommerce/commerce/internal/catalog"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	cataloggrpc "github.com/opencommerce/commerce/internal/catalog/catalogapi/grpcclient"
	"github.com/opencommerce/commerce/internal/fulfillment"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	fulfillmentgrpc "github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi/grpcclient"
	"github.com/opencommerce/commerce/internal/notify"
	"github.com/opencommerce/commerce/internal/ordering"
	"github.com/opencommerce/commerce/internal/payments"
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
	cfg, log := s.cfg, s.log
	var topics []string
	register := func(cs []events.Consumer) error {
		for _, c := range cs {
			if err := s.Bus.Register(c); err != nil {
				return err
			}
		}
		return nil
	}
	if cfg.Hosts("auth") {
		s.Auth = auth.New(auth.Deps{DB: db, Outbox: outbox, Keys: s.Keys, Limiter: limiter, PasswordMemoryKiB: cfg.PasswordHashMemoryKiB, Log: log,
			Config: auth.Config{AccessTTL: cfg.AccessTTL, RefreshTTL: cfg.RefreshTTL, LoginMaxFailures: cfg.LoginMaxFailures, LoginWindow: cfg.LoginWindow}})
		topics = append(topics, s.Auth.Topics()...)
		s.grpcServices = append(s.grpcServices, s.Auth.RegisterGRPC)
	}
	if cfg.Hosts("catalog") {
		s.Catalog = catalog.New(catalog.Deps{DB: db, Redis: s.Redis, Outbox: outbox, Log: log})
		topics = append(topics, s.Catalog.Topics()...)
		s.workers = append(s.workers, s.Catalog.Run)
		if err := register(s.Catalog.Consumers()); err != nil {
			return nil, err
		}
		s.grpcServices = append(s.grpcServices, s.Catalog.RegisterGRPC)
	}
	if cfg.Hosts("payments") {
		secret, err := webhookSecret(cfg)
		if err != nil {
			return nil, err
		}
		s.Pay = payments.New(payments.Deps{DB: db, Outbox: outbox, Log: log, TestWebhookSecret: secret,
			StripeSecretKey: cfg.StripeSecretKey, StripeWebhookSecret: cfg.StripeWebhook, StripeAPIBase: cfg.StripeAPIBase})
		topics = append(topics, s.Pay.Topics()...)
		if err := register(s.Pay.Consumers()); err != nil {
			return nil, err
		}
		s.workers = append(s.workers, s.Pay.Run)
		s.grpcServices = append(s.grpcServices, s.Pay.RegisterGRPC)
	}
	if cfg.Hosts("fulfillment") {
		cat, err := s.catalogAPI()
		if err != nil {
			return nil, err
		}
		s.Fulfill = fulfillment.New(fulfillment.Deps{DB: db, Catalog: cat})
		s.grpcServices = append(s.grpcServices, s.Fulfill.RegisterGRPC)
	}
	if cfg.Hosts("cart") {
		cat, err := s.catalogAPI()
		if err != nil {
			return nil, err
		}
		au, err := s.authAPI()
		if err != nil {
			return nil, err
		}
		ful, err := s.fulfillmentAPI()
		if err != nil {
			return nil, err
		}
		s.Cart = cart.New(cart.Deps{DB: db, Catalog: cat, Auth: au, Fulfillment: ful, SessionTTL: cfg.CheckoutTTL, Log: log})
		if err := register(s.Cart.Consumers()); err != nil {
			return nil, err
		}
		s.workers = append(s.workers, s.Cart.Run)
		s.grpcServices = append(s.grpcServices, s.Cart.RegisterGRPC)
	}
	if cfg.Hosts("ordering") {
		cat, err := s.catalogAPI()
		if err != nil {
			return nil, err
		}
		crt, err := s.cartAPI()
		if err != nil {
			return nil, err
		}
		pay, err := s.paymentsAPI()
		if err != nil {
			return nil, err
		}
		s.Orders = ordering.New(ordering.Deps{DB: db, Outbox: outbox, Catalog: cat, Cart: crt, Payments: pay,
			PaymentTimeout: cfg.PaymentTimeout, Reminders: cfg.Reminders, Log: log})
		topics = append(topics, s.Orders.Topics()...)
		if err := register(s.Orders.Consumers()); err != nil {
			return nil, err
		}
		s.workers = append(s.workers, s.Orders.Run)
	}
	if cfg.Hosts("notify") {
		s.notify = notify.New(notify.Deps{DB: db, Sender: sender, PublicURL: cfg.PublicURL, Log: log})
		if err := register(s.notify.Consumers()); err != nil {
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
	srv, hs := grpcx.NewServer(s.log)
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
