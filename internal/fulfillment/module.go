// Package fulfillment ships orders. Its first piece: shipping quotes from a
// rate table by destination zone and weight band, which admins can change.
package fulfillment

import (
	"context"
	"log/slog"
	"time"

	"google.golang.org/grpc"

	fulfillmentv1 "github.com/opencommerce/commerce/api/proto/fulfillment/v1"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/fulfillment/internal/app"
	"github.com/opencommerce/commerce/internal/fulfillment/internal/ports"
	"github.com/opencommerce/commerce/internal/fulfillment/internal/ports/graph"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/gql"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/jobs"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Deps are what the module needs.
type Deps struct {
	DB      *pg.DB
	Outbox  *events.Outbox
	Catalog catalogapi.Catalog
	Log     *slog.Logger
	// Audit records the administrators' GraphQL mutations (shipOrder), as
	// the REST router records the admin routes (nil: not recorded).
	Audit httpx.Auditor
}

// Module is the assembled fulfillment context.
type Module struct {
	svc   *app.Service
	http  *ports.HTTP
	log   *slog.Logger
	audit httpx.Auditor
}

// New assembles the module.
func New(d Deps) *Module {
	svc := app.New(d.DB, d.Outbox)
	return &Module{svc: svc, http: ports.NewHTTP(svc, d.Catalog), log: d.Log.With("context", "fulfillment"), audit: d.Audit}
}

// API is the in-process implementation of fulfillmentapi.Fulfillment.
func (m *Module) API() fulfillmentapi.Fulfillment { return m.svc }

// RegisterGRPC serves the context's API on s (split mode).
func (m *Module) RegisterGRPC(s grpc.ServiceRegistrar) {
	fulfillmentv1.RegisterFulfillmentServiceServer(s, ports.GRPC{API: m.svc})
}

// Routes mounts the HTTP routes on /api/v1.
func (m *Module) Routes(api *httpx.Router) { m.http.Routes(api) }

// Topics are the event topics fulfillment publishes.
func (m *Module) Topics() []string { return fulfillmentapi.Topics }

// Consumers are fulfillment's event subscriptions: a paid order gets its
// one fulfillment.
func (m *Module) Consumers() []events.Consumer {
	return []events.Consumer{{Name: "fulfillment.orders", Inbox: "fulfillment.inbox",
		Topics: []string{orderingapi.EventOrderPaid}, Handle: m.svc.HandleOrderPaid}}
}

// Run hands pending fulfillments to the carrier until ctx ends.
func (m *Module) Run(ctx context.Context) error {
	return jobs.Every(ctx, time.Second, m.log, "fulfillment.create_shipments", m.svc.CreateShipments)
}

// SubgraphSDL is fulfillment's GraphQL subgraph schema: what a gateway composes
// (the split topology's gateway composes it without hosting fulfillment).
var SubgraphSDL = graph.SDL

// Subgraph is fulfillment's part of the federated GraphQL graph: its resolvers
// call fulfillment's app layer only.
func (m *Module) Subgraph() gql.Subgraph {
	es := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Svc: m.svc, Audit: m.audit}})
	return gql.Subgraph{Name: "fulfillment", SDL: graph.SDL, Handler: gql.NewHandler(es, m.log)}
}
