// Package catalog is the products and inventory context: admin-managed
// products with optimistic locking, cache-aside reads, and stock
// reservations that never oversell. module.go is its composition root.
package catalog

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc"

	catalogv1 "github.com/opencommerce/commerce/api/proto/catalog/v1"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/catalog/internal/adapters"
	"github.com/opencommerce/commerce/internal/catalog/internal/app"
	"github.com/opencommerce/commerce/internal/catalog/internal/ports"
	"github.com/opencommerce/commerce/internal/catalog/internal/ports/graph"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/platform/clock"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/gql"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/jobs"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Deps are what the module needs from the platform.
type Deps struct {
	DB       *pg.DB
	Redis    redis.UniversalClient
	Outbox   *events.Outbox
	CacheTTL time.Duration // default 10m
	Log      *slog.Logger
	// Meter registers commerce_stock_reservations_total and
	// commerce_cache_requests_total (nil: no metrics).
	Meter metric.Meter
	// Audit records the administrators' GraphQL mutations, as the REST
	// router records the admin routes (nil: not recorded).
	Audit httpx.Auditor
	// Clock decides when reservations have expired; tests inject a fake
	// one to move past an expiry without waiting (nil: the system clock).
	Clock clock.Clock
	// Jobs runs the release of expired reservations every 15s, once per
	// period across replicas (nil: not swept, e.g. data commands).
	Jobs *jobs.Queue
}

// Module is the assembled catalog context.
type Module struct {
	svc   *app.Service
	store *adapters.Store
	http  *ports.HTTP
	log   *slog.Logger
	audit httpx.Auditor
}

// New assembles the module.
func New(d Deps) *Module {
	if d.CacheTTL == 0 {
		d.CacheTTL = 10 * time.Minute
	}
	log := d.Log.With("context", "catalog")
	store := adapters.NewStore(d.DB, d.Outbox)
	svc := app.New(store, adapters.NewCache(d.Redis, d.CacheTTL), d.Clock, log)
	if d.Meter != nil {
		if err := svc.Instrument(d.Meter); err != nil {
			log.Warn("catalog metrics not registered", "err", err)
		}
	}
	m := &Module{svc: svc, store: store, http: ports.NewHTTP(svc), log: log, audit: d.Audit}
	if d.Jobs != nil {
		d.Jobs.Scope("catalog").Every("release_expired", 15*time.Second, m.releaseExpired)
	}
	return m
}

// API is the in-process implementation of catalogapi.Catalog.
func (m *Module) API() catalogapi.Catalog { return m.svc }

// RegisterGRPC serves catalogapi.Catalog on s (split mode).
func (m *Module) RegisterGRPC(s grpc.ServiceRegistrar) {
	catalogv1.RegisterCatalogServiceServer(s, ports.NewGRPC(m.svc))
}

// Routes mounts the HTTP routes on /api/v1.
func (m *Module) Routes(api *httpx.Router) { m.http.Routes(api) }

// Consumers are catalog's event subscriptions: orders settle reservations.
// Each delivery's effect (and the stock events it publishes) goes through
// the store bound to the inbox transaction, so it commits with the inbox
// row (exactly once) and the app layer never sees the transaction.
func (m *Module) Consumers() []events.Consumer {
	return []events.Consumer{{Name: "catalog.orders", Inbox: "catalog.inbox",
		Topics: []string{orderingapi.EventOrderPaid, orderingapi.EventOrderExpired, orderingapi.EventOrderCanceled},
		Handle: func(ctx context.Context, tx bun.Tx, e events.Envelope) error {
			return m.svc.HandleOrderEvent(ctx, m.store.WithTx(tx), e)
		},
		After: m.svc.AfterOrderEvent}}
}

// Topics are the event topics catalog publishes.
func (m *Module) Topics() []string { return catalogapi.Topics }

// Seed adds the first n products of the deterministic demo catalog,
// skipping those already present; it returns how many it created.
func (m *Module) Seed(ctx context.Context, n int, progress func(done int)) (int, error) {
	return m.svc.Seed(ctx, n, progress)
}

// releaseExpired is the periodic task that releases expired reservations.
func (m *Module) releaseExpired(ctx context.Context) error {
	n, err := m.svc.SweepExpired(ctx)
	if n > 0 {
		m.log.Info("released expired reservations", "orders", n)
	}
	return err
}

// SubgraphSDL is catalog's GraphQL subgraph schema: what a gateway composes
// (the split topology's gateway composes it without hosting catalog).
var SubgraphSDL = graph.SDL

// Subgraph is catalog's part of the federated GraphQL graph: its resolvers
// call catalog's app layer only; its admin mutations are audited like the
// REST admin routes.
func (m *Module) Subgraph() gql.Subgraph {
	es := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Svc: m.svc, Audit: m.audit}})
	return gql.Subgraph{Name: "catalog", SDL: graph.SDL, Handler: gql.NewHandler(es, m.log)}
}
