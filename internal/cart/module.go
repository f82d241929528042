// Package cart is the shopping context: one cart per customer with live
// prices, promo codes, and checkout sessions whose money is frozen.
package cart

import (
	"context"
	"log/slog"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc"

	cartv1 "github.com/opencommerce/commerce/api/proto/cart/v1"
	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/cart/internal/adapters"
	"github.com/opencommerce/commerce/internal/cart/internal/app"
	"github.com/opencommerce/commerce/internal/cart/internal/ports"
	"github.com/opencommerce/commerce/internal/cart/internal/ports/graph"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/clock"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/gql"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/jobs"
	"github.com/opencommerce/commerce/internal/platform/openapi"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Deps are what the module needs: the platform and its neighbours' APIs.
type Deps struct {
	DB          *pg.DB
	Catalog     catalogapi.Catalog
	Auth        authapi.Auth
	Fulfillment fulfillmentapi.Fulfillment
	// Payments says which gateways checkout may accept.
	Payments   paymentsapi.Payments
	SessionTTL time.Duration
	Log        *slog.Logger
	// Clock decides checkout session expiry and promotion windows; tests
	// inject a fake one to move past a deadline without waiting (nil: the
	// system clock).
	Clock clock.Clock
	// Outbox publishes cart.abandoned (nil: no recovery emails).
	Outbox *events.Outbox
	// Jobs runs the periodic tasks: expired checkout sessions every
	// minute, abandoned carts (nil: none, e.g. data commands).
	Jobs *jobs.Queue
	// AbandonedAfter is CART_ABANDONED_AFTER (0: no recovery emails);
	// RecoveryPromo is CART_RECOVERY_PROMO.
	AbandonedAfter time.Duration
	RecoveryPromo  string
	// Meter registers commerce_carts_recovered_total (nil: no metrics).
	Meter metric.Meter
}

// Module is the assembled cart context.
type Module struct {
	svc      *app.Service
	store    *adapters.Store
	http     *ports.HTTP
	log      *slog.Logger
	recovery *adapters.Recovery
	after    time.Duration
	promo    string
}

// New assembles the module: the PostgreSQL store behind the use cases.
func New(d Deps) *Module {
	log := d.Log.With("context", "cart")
	store := adapters.NewStore(d.DB)
	svc := app.New(store, d.Catalog, d.Auth, d.Fulfillment, d.Payments, d.SessionTTL, d.Clock, log)
	m := &Module{svc: svc, store: store, http: ports.NewHTTP(svc), log: log, recovery: adapters.NewRecovery(d.DB, d.Outbox),
		after: d.AbandonedAfter, promo: d.RecoveryPromo}
	if d.Jobs != nil {
		js := d.Jobs.Scope("cart")
		js.Every("expire_sessions", time.Minute, m.expireSessions)
		if d.Outbox != nil && d.AbandonedAfter > 0 {
			// Checked twice per CART_ABANDONED_AFTER, between 1s and 1m.
			js.Every("abandoned", min(max(d.AbandonedAfter/2, time.Second), time.Minute), m.emailAbandoned)
		}
	}
	if d.Meter != nil {
		if err := m.instrument(d.Meter); err != nil {
			log.Warn("cart metrics not registered", "err", err)
		}
	}
	return m
}

// instrument registers commerce_carts_recovered_total, read from the
// database so every replica reports the shop's figure.
func (m *Module) instrument(meter metric.Meter) error {
	c, err := meter.Int64ObservableCounter("commerce.carts.recovered",
		metric.WithDescription("abandoned carts whose customer ordered within 7 days of the recovery email"))
	if err != nil {
		return err
	}
	_, err = meter.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if n, err := m.recovery.Recovered(ctx); err == nil {
			o.ObserveInt64(c, n)
		}
		return nil
	}, c)
	return err
}

// RecoveredCarts is the number of recovered carts (the admin dashboard).
func (m *Module) RecoveredCarts(ctx context.Context) (int64, error) { return m.recovery.Recovered(ctx) }

// emailAbandoned is the periodic task that asks notify (cart.abandoned)
// for the recovery emails of abandoned carts, 100 per statement.
func (m *Module) emailAbandoned(ctx context.Context) error {
	for {
		n, err := m.recovery.EmailAbandoned(ctx, m.after, m.promo, 100)
		if err != nil {
			return err
		}
		if n > 0 {
			m.log.Info("abandoned carts: recovery emails requested", "count", n)
		}
		if n < 100 {
			return nil
		}
	}
}

// API is the in-process implementation of cartapi.Cart.
func (m *Module) API() cartapi.Cart { return m.svc }

// RegisterGRPC serves the context's API on s (split mode).
func (m *Module) RegisterGRPC(s grpc.ServiceRegistrar) {
	cartv1.RegisterCartServiceServer(s, ports.GRPC{API: m.svc})
}

// Routes mounts the HTTP routes on /api/v1, with the admin dashboard's
// figure of abandoned carts.
func (m *Module) Routes(api *httpx.Router) {
	m.http.Routes(api)
	api.Handle(openapi.Op{Method: "GET", Path: "/admin/carts/recovery", Summary: "Abandoned-cart recovery emails sent and carts recovered (ordered within 7 days)",
		Tag: "admin", Admin: true, Response: adapters.RecoveryStats{}}, func(c *fiber.Ctx) error {
		st, err := m.recovery.Stats(c.UserContext())
		if err != nil {
			return err
		}
		return c.JSON(st)
	})
}

// Consumers are cart's event subscriptions. Each delivery's effect goes
// through the store bound to the inbox transaction, so it commits with
// the inbox row (exactly once) and the app layer never sees the
// transaction.
func (m *Module) Consumers() []events.Consumer {
	return []events.Consumer{{
		Name:   "cart.orders",
		Inbox:  "cart.inbox",
		Topics: []string{orderingapi.EventOrderPlaced, orderingapi.EventOrderExpired, orderingapi.EventOrderCanceled},
		Handle: func(ctx context.Context, tx bun.Tx, e events.Envelope) error {
			if err := m.svc.HandleOrderEvent(ctx, m.store.WithTx(tx), e); err != nil {
				return err
			}
			if e.Type != orderingapi.EventOrderPlaced {
				return nil
			}
			var p orderingapi.OrderEvent
			if err := e.Decode(&p); err != nil || p.UserID == "" {
				return err
			}
			return adapters.MarkRecovered(ctx, tx, p.UserID, p.OrderID)
		},
	}}
}

// expireSessions is the periodic task that marks overdue checkout
// sessions expired.
func (m *Module) expireSessions(ctx context.Context) error {
	n, err := m.svc.ExpireSessions(ctx)
	if n > 0 {
		m.log.Info("checkout sessions expired", "count", n)
	}
	return err
}

// Topics are the event topics cart publishes.
func (m *Module) Topics() []string { return cartapi.Topics }

// SubgraphSDL is cart's GraphQL subgraph schema: what a gateway composes
// (the split topology's gateway composes it without hosting cart).
var SubgraphSDL = graph.SDL

// Subgraph is cart's part of the federated GraphQL graph: its resolvers
// call cart's app layer only.
func (m *Module) Subgraph() gql.Subgraph {
	es := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Svc: m.svc}})
	return gql.Subgraph{Name: "cart", SDL: graph.SDL, Handler: gql.NewHandler(es, m.log)}
}
