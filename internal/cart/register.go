package cart

import (
	"github.com/opencommerce/commerce/internal/auth/authapi"
	authgrpc "github.com/opencommerce/commerce/internal/auth/authapi/grpcclient"
	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	cataloggrpc "github.com/opencommerce/commerce/internal/catalog/catalogapi/grpcclient"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	fulfillmentgrpc "github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi/grpcclient"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	paymentsgrpc "github.com/opencommerce/commerce/internal/payments/paymentsapi/grpcclient"
	"github.com/opencommerce/commerce/internal/platform/module"
)

// Name is the context's name, for the composition root's registry.
func (m *Module) Name() string { return "cart" }

// Registration is how the composition root hosts cart
// (internal/server/ctx_cart.go); docs/adding-a-context.md.
var Registration = module.Registration{
	Name:          "cart",
	Topics:        cartapi.Topics,
	SDL:           SubgraphSDL,
	RoutePrefixes: []string{"/api/v1/cart", "/api/v1/checkout", "/api/v1/admin/promotions", "/api/v1/admin/carts"},
	New: func(d module.Deps) (module.Module, error) {
		cat, err := module.Neighbour[catalogapi.Catalog](d, "catalog", cataloggrpc.New)
		if err != nil {
			return nil, err
		}
		au, err := module.Neighbour[authapi.Auth](d, "auth", authgrpc.New)
		if err != nil {
			return nil, err
		}
		ful, err := module.Neighbour[fulfillmentapi.Fulfillment](d, "fulfillment", fulfillmentgrpc.New)
		if err != nil {
			return nil, err
		}
		pay, err := module.Neighbour[paymentsapi.Payments](d, "payments", paymentsgrpc.New, paymentsgrpc.NotRetried...)
		if err != nil {
			return nil, err
		}
		return New(Deps{DB: d.DB, Catalog: cat, Auth: au, Fulfillment: ful, Payments: pay, SessionTTL: d.Config.CheckoutTTL, Log: d.Log,
			Outbox: d.Outbox, Jobs: d.Jobs, AbandonedAfter: d.Config.CartAbandonedAfter, RecoveryPromo: d.Config.CartRecoveryPromo, Meter: d.Meter("cart")}), nil
	},
}
