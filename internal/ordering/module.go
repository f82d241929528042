// Package ordering turns checkout sessions into orders through a durable
// saga, follows their payments, deadlines, cancellations and refunds.
package ordering

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/metric"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/ordering/internal/adapters"
	"github.com/opencommerce/commerce/internal/ordering/internal/app"
	"github.com/opencommerce/commerce/internal/ordering/internal/ports"
	"github.com/opencommerce/commerce/internal/ordering/internal/ports/graph"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/clock"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/gql"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/idempotency"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Deps are what the module needs.
type Deps struct {
	DB             *pg.DB
	Outbox         *events.Outbox
	Catalog        catalogapi.Catalog
	Cart           cartapi.Cart
	Payments       paymentsapi.Payments
	PaymentTimeout time.Duration
	Reminders      []time.Duration
	Log            *slog.Logger
	Meter          metric.Meter // commerce_orders_total, commerce_deadlines_due; nil: none
	// Idempotency gives GraphQL's placeOrder(idempotencyKey) the semantics
	// of the Idempotency-Key header (the same store as REST's).
	Idempotency *idempotency.Store
	// Audit records the administrators' GraphQL mutations (refundOrder),
	// as the REST router records the admin routes (nil: not recorded).
	Audit httpx.Auditor
	// Clock decides expiry, reminders and due deadlines (nil: the system
	// clock); tests move a fake one instead of sleeping.
	Clock clock.Clock
	// Temporal, when set, runs the place-order saga as Temporal workflows
	// (SAGA_ENGINE=temporal) on TaskQueue; nil: the PostgreSQL engine.
	Temporal  client.Client
	TaskQueue string
}

// Module is the assembled ordering context.
type Module struct {
	svc    *app.Service
	orders *adapters.Orders
	http   *ports.HTTP
	log    *slog.Logger
	idem   *idempotency.Store
	audit  httpx.Auditor
	// temporal and worker: the Temporal engine's client and the worker
	// Run starts (nil under the PostgreSQL engine).
	temporal client.Client
	worker   worker.Worker
}

// New assembles the module.
func New(d Deps) *Module {
	log := d.Log.With("context", "ordering")
	orders := adapters.NewOrders(d.DB, d.Outbox)
	svc := app.New(app.Deps{Orders: orders, Reads: adapters.NewReads(d.DB), Catalog: d.Catalog, Cart: d.Cart, Payments: d.Payments,
		Config: app.Config{PaymentTimeout: d.PaymentTimeout, Reminders: d.Reminders}, Log: log, Clock: d.Clock})
	if d.Meter != nil {
		if err := svc.Instrument(d.Meter); err != nil {
			log.Warn("ordering metrics not registered", "err", err)
		}
	}
	m := &Module{svc: svc, orders: orders, http: ports.NewHTTP(svc), log: log, idem: d.Idempotency, audit: d.Audit}
	if d.Temporal != nil {
		svc.UseTemporal(d.Temporal, d.TaskQueue)
		m.temporal = d.Temporal
		// Activities may run long after a deploy: the worker stops taking
		// tasks on shutdown and waits for those it runs (Stop).
		m.worker = worker.New(d.Temporal, d.TaskQueue, worker.Options{WorkerStopTimeout: 15 * time.Second})
		app.Register(m.worker, svc)
	}
	return m
}

// CheckReady checks the Temporal frontend when it runs the saga (/readyz's
// checks.temporal); the name is "" under the PostgreSQL engine.
func (m *Module) CheckReady(ctx context.Context) (string, error) {
	if m.temporal == nil {
		return "", nil
	}
	if _, err := m.temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		return "temporal", fmt.Errorf("temporal frontend: %w", err)
	}
	return "temporal", nil
}

// SagaState answers the Temporal workflow's state of an order (tests and
// operators); an error under the PostgreSQL engine.
func (m *Module) SagaState(ctx context.Context, orderID string) (app.SagaState, error) {
	if m.svc.Temporal() == nil {
		return app.SagaState{}, fmt.Errorf("saga state of order %s: the saga engine is postgres", orderID)
	}
	return m.svc.Temporal().State(ctx, orderID)
}

// PlaceOrder runs the place-order saga for the caller (HTTP calls it; so
// do benchmarks).
func (m *Module) PlaceOrder(ctx context.Context, who authn.Principal, sessionID string) (string, error) {
	o, err := m.svc.PlaceOrder(ctx, who, sessionID)
	if err != nil {
		return "", err
	}
	return o.ID, nil
}

// Routes mounts the HTTP routes on /api/v1.
func (m *Module) Routes(api *httpx.Router) { m.http.Routes(api) }

// Topics are the event topics ordering publishes.
func (m *Module) Topics() []string { return orderingapi.Topics }

// Consumers are ordering's event subscriptions: each handler gets the
// order repository bound to the inbox transaction, so its effect commits
// with the inbox row (exactly once).
func (m *Module) Consumers() []events.Consumer {
	return []events.Consumer{{Name: "ordering.payments", Inbox: "ordering.inbox",
		Topics: []string{paymentsapi.EventPaymentSucceeded, paymentsapi.EventPaymentFailed, paymentsapi.EventRefundSucceeded,
			paymentsapi.EventPaymentAmountMismatch},
		Handle: func(ctx context.Context, tx bun.Tx, e events.Envelope) error {
			return m.svc.HandlePaymentEvent(ctx, m.orders.WithTx(tx), e)
		},
		// After the event's transaction committed, the order's workflow
		// (under Temporal) is told.
		After: m.svc.SignalPaymentEvent}, {Name: "ordering.fulfillment", Inbox: "ordering.inbox",
		Topics: []string{fulfillmentapi.EventFulfillmentCreated, fulfillmentapi.EventShipped, fulfillmentapi.EventDelivered},
		Handle: func(ctx context.Context, tx bun.Tx, e events.Envelope) error {
			return m.svc.HandleFulfillmentEvent(ctx, m.orders.WithTx(tx), e)
		}}}
}

// Run fires deadlines (every second: reminders and expiries are minutes
// apart, and a faster tick only costs idle CPU here and in PostgreSQL),
// refunds late payments and recovers
// interrupted sagas until ctx ends. Everything it acts on lives in
// PostgreSQL, so a restart resumes exactly where the last process stopped.
// Under Temporal it also runs the worker of the order workflows, which
// drains (in-flight activities finish) when ctx ends.
func (m *Module) Run(ctx context.Context) error {
	if m.worker != nil {
		if err := m.worker.Start(); err != nil {
			return fmt.Errorf("start the temporal worker: %w", err)
		}
		defer func() {
			m.worker.Stop()
			m.temporal.Close()
		}()
	}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	slow := time.Now()
	for {
		if _, err := m.svc.FireDeadlines(ctx); err != nil && ctx.Err() == nil {
			m.log.Warn("fire deadlines", "err", err)
		}
		if time.Since(slow) > 2*time.Second {
			slow = time.Now()
			if err := m.svc.RefundLatePayments(ctx); err != nil && ctx.Err() == nil {
				m.log.Warn("refund late payments", "err", err)
			}
			if n, err := m.svc.Recover(ctx, time.Minute); err != nil && ctx.Err() == nil {
				m.log.Warn("recover interrupted orders", "err", err)
			} else if n > 0 {
				m.log.Warn("compensated interrupted orders", "count", n)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// SubgraphSDL is ordering's GraphQL subgraph schema: what a gateway composes
// (the split topology's gateway composes it without hosting ordering).
var SubgraphSDL = graph.SDL

// Subgraph is ordering's part of the federated GraphQL graph: its resolvers
// call ordering's app layer only; its admin mutation is audited like the
// REST admin routes.
func (m *Module) Subgraph() gql.Subgraph {
	es := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Svc: m.svc, Idem: m.idem, Audit: m.audit}})
	return gql.Subgraph{Name: "ordering", SDL: graph.SDL, Handler: graph.WithLoaders(m.svc, gql.NewHandler(es, m.log))}
}
