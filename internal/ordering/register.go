package ordering

import (
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
		return New(Deps{DB: d.DB, Outbox: d.Outbox, Catalog: cat, Cart: crt, Payments: pay, PaymentTimeout: cfg.PaymentTimeout, Reminders: cfg.Reminders,
			Log: d.Log, Meter: d.Meter("ordering"), Idempotency: d.Idempotency, Audit: d.Audit}), nil
	},
}
