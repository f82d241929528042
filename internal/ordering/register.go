package ordering

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/opencommerce/commerce/internal/cart/cartapi"
	cartgrpc "github.com/opencommerce/commerce/internal/cart/cartapi/grpcclient"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	cataloggrpc "github.com/opencommerce/commerce/internal/catalog/catalogapi/grpcclient"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	paymentsgrpc "github.com/opencommerce/commerce/internal/payments/paymentsapi/grpcclient"
	"github.com/opencommerce/commerce/internal/platform/module"
)

// Name is the context's name, for the composition root's registry.
func (m *Module) Name() string { return "ordering" }

// Registration is how the composition root hosts ordering
// (internal/server/ctx_ordering.go); docs/adding-a-context.md.
var Registration = module.Registration{
	Name:   "ordering",
	Topics: orderingapi.Topics,
	SDL:    SubgraphSDL,
	// The dead letters are the platform's (every process serves them); the
	// gateway sends them to ordering, whose consumers most often need them.
	RoutePrefixes: []string{"/api/v1/orders", "/api/v1/admin/orders", "/api/v1/admin/summary", "/api/v1/admin/events"},
	New: func(d module.Deps) (module.Module, error) {
		cat, err := module.Neighbour[catalogapi.Catalog](d, "catalog", cataloggrpc.New)
		if err != nil {
			return nil, err
		}
		crt, err := module.Neighbour[cartapi.Cart](d, "cart", cartgrpc.New)
		if err != nil {
			return nil, err
		}
		pay, err := module.Neighbour[paymentsapi.Payments](d, "payments", paymentsgrpc.New, paymentsgrpc.NotRetried...)
		if err != nil {
			return nil, err
		}
		cfg := d.Config
		deps := Deps{DB: d.DB, Outbox: d.Outbox, Catalog: cat, Cart: crt, Payments: pay, PaymentTimeout: cfg.PaymentTimeout, Reminders: cfg.Reminders,
			Log: d.Log, Meter: d.Meter("ordering"), Idempotency: d.Idempotency, Audit: d.Audit}
		if cfg.SagaEngine == "temporal" {
			c, err := dialTemporal(cfg.TemporalAddress, cfg.TemporalNamespace, d)
			if err != nil {
				return nil, err
			}
			deps.Temporal, deps.TaskQueue = c, cfg.TemporalTaskQueue
		}
		return New(deps), nil
	},
}

// dialTemporal connects to the Temporal frontend, failing the start with a
// clear error when it does not answer (SAGA_ENGINE=temporal).
func dialTemporal(addr, namespace string, d module.Deps) (client.Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	c, err := client.DialContext(ctx, client.Options{HostPort: addr, Namespace: namespace,
		Logger: tlog.NewStructuredLogger(d.Log.With("context", "ordering", "component", "temporal"))})
	if err != nil {
		return nil, fmt.Errorf("SAGA_ENGINE=temporal: the Temporal frontend at TEMPORAL_ADDRESS=%s (namespace %s) does not answer: %w", addr, namespace, err)
	}
	return c, nil
}
