// Package payments takes money: intents at a provider (Stripe, or the
// built-in test gateway), signed webhooks applied exactly once, refunds.
package payments

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc"

	paymentsv1 "github.com/opencommerce/commerce/api/proto/payments/v1"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/payments/internal/adapters"
	"github.com/opencommerce/commerce/internal/payments/internal/app"
	"github.com/opencommerce/commerce/internal/payments/internal/gateway"
	"github.com/opencommerce/commerce/internal/payments/internal/ports"
	"github.com/opencommerce/commerce/internal/payments/internal/ports/graph"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/clock"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/gql"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/jobs"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Deps are what the module needs.
type Deps struct {
	DB     *pg.DB
	Outbox *events.Outbox
	Log    *slog.Logger
	// TestWebhookSecret signs webhooks of the built-in test gateway.
	TestWebhookSecret string
	// Stripe settings; the stripe gateway is enabled when SecretKey is set.
	StripeSecretKey, StripeWebhookSecret, StripeAPIBase string
	// Meter registers commerce_payments_total (nil: no metrics).
	Meter metric.Meter
	// Clock decides webhook freshness and when a pending refund is
	// retried (nil: the system clock; tests inject a fake).
	Clock clock.Clock
}

// Module is the assembled payments context.
type Module struct {
	svc   *app.Service
	store *adapters.Store
	http  *ports.HTTP
	log   *slog.Logger
}

// New assembles the module.
func New(d Deps) *Module {
	log := d.Log.With("context", "payments")
	gws := []gateway.Gateway{gateway.Test{Secret: d.TestWebhookSecret}}
	if d.StripeSecretKey != "" {
		gws = append(gws, gateway.NewStripe(d.StripeSecretKey, d.StripeWebhookSecret, d.StripeAPIBase))
	}
	store := adapters.NewStore(d.DB, d.Outbox)
	svc := app.New(app.Deps{Repo: store, Reads: adapters.NewQueries(d.DB), Gateways: gws, Log: log, Clock: d.Clock})
	if d.Meter != nil {
		if err := svc.Instrument(d.Meter); err != nil {
			log.Warn("payments metrics not registered", "err", err)
		}
	}
	return &Module{svc: svc, store: store, http: ports.NewHTTP(svc), log: log}
}

// API is the in-process implementation of paymentsapi.Payments.
func (m *Module) API() paymentsapi.Payments { return m.svc }

// RegisterGRPC serves the context's API on s (split mode).
func (m *Module) RegisterGRPC(s grpc.ServiceRegistrar) {
	paymentsv1.RegisterPaymentsServiceServer(s, ports.GRPC{API: m.svc})
}

// Routes mounts the HTTP routes on /api/v1.
func (m *Module) Routes(api *httpx.Router) { m.http.Routes(api) }

// Topics are the event topics payments publishes.
func (m *Module) Topics() []string { return paymentsapi.Topics }

// Consumers are payments' event subscriptions.
func (m *Module) Consumers() []events.Consumer {
	return []events.Consumer{{Name: "payments.orders", Inbox: "payments.inbox",
		Topics: []string{orderingapi.EventOrderCanceled, orderingapi.EventOrderExpired}, Handle: ports.OrderClosed(m.svc, m.store.WithTx)}}
}

// Run performs pending provider calls until ctx ends.
func (m *Module) Run(ctx context.Context) error {
	return jobs.Every(ctx, 2*time.Second, m.log, "payments.provider_work", m.svc.Work)
}

// SubgraphSDL is payments's GraphQL subgraph schema: what a gateway composes
// (the split topology's gateway composes it without hosting payments).
var SubgraphSDL = graph.SDL

// Subgraph is payments's part of the federated GraphQL graph: its resolvers
// call payments's app layer only.
func (m *Module) Subgraph() gql.Subgraph {
	es := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Svc: m.svc}})
	return gql.Subgraph{Name: "payments", SDL: graph.SDL, Handler: gql.NewHandler(es, m.log)}
}
