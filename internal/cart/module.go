// Package cart is the shopping context: one cart per customer with live
// prices, promo codes, and checkout sessions whose money is frozen.
package cart

import (
	"context"
	"log/slog"
	"time"

	"github.com/uptrace/bun"
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
}

// Module is the assembled cart context.
type Module struct {
	svc   *app.Service
	store *adapters.Store
	http  *ports.HTTP
	log   *slog.Logger
}

// New assembles the module: the PostgreSQL store behind the use cases.
func New(d Deps) *Module {
	log := d.Log.With("context", "cart")
	store := adapters.NewStore(d.DB)
	svc := app.New(store, d.Catalog, d.Auth, d.Fulfillment, d.Payments, d.SessionTTL, d.Clock, log)
	return &Module{svc: svc, store: store, http: ports.NewHTTP(svc), log: log}
}

// API is the in-process implementation of cartapi.Cart.
func (m *Module) API() cartapi.Cart { return m.svc }

// RegisterGRPC serves the context's API on s (split mode).
func (m *Module) RegisterGRPC(s grpc.ServiceRegistrar) {
	cartv1.RegisterCartServiceServer(s, ports.GRPC{API: m.svc})
}

// Routes mounts the HTTP routes on /api/v1.
func (m *Module) Routes(api *httpx.Router) { m.http.Routes(api) }

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
			return m.svc.HandleOrderEvent(ctx, m.store.WithTx(tx), e)
		},
	}}
}

// Run marks overdue checkout sessions expired until ctx ends.
func (m *Module) Run(ctx context.Context) error {
	return jobs.Every(ctx, time.Minute, m.log, "cart.expire_sessions", func(ctx context.Context) error {
		n, err := m.svc.ExpireSessions(ctx)
		if n > 0 {
			m.log.Info("checkout sessions expired", "count", n)
		}
		return err
	})
}

// SubgraphSDL is cart's GraphQL subgraph schema: what a gateway composes
// (the split topology's gateway composes it without hosting cart).
var SubgraphSDL = graph.SDL

// Subgraph is cart's part of the federated GraphQL graph: its resolvers
// call cart's app layer only.
func (m *Module) Subgraph() gql.Subgraph {
	es := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Svc: m.svc}})
	return gql.Subgraph{Name: "cart", SDL: graph.SDL, Handler: gql.NewHandler(es, m.log)}
}
