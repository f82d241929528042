package fulfillment

import (
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	cataloggrpc "github.com/opencommerce/commerce/internal/catalog/catalogapi/grpcclient"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/platform/module"
)

// Name is the context's name, for the composition root's registry.
func (m *Module) Name() string { return "fulfillment" }

// Registration is how the composition root hosts fulfillment
// (internal/server/ctx_fulfillment.go); docs/adding-a-context.md.
var Registration = module.Registration{
	Name:          "fulfillment",
	Topics:        fulfillmentapi.Topics,
	SDL:           SubgraphSDL,
	RoutePrefixes: []string{"/api/v1/shipping", "/api/v1/admin/shipping", "/api/v1/admin/fulfillments"},
	// An order's fulfillment, under ordering's /api/v1/orders.
	RoutePatterns: []string{"/api/v1/orders/*/fulfillment"},
	New: func(d module.Deps) (module.Module, error) {
		cat, err := module.Neighbour[catalogapi.Catalog](d, "catalog", cataloggrpc.New)
		if err != nil {
			return nil, err
		}
		return New(Deps{DB: d.DB, Outbox: d.Outbox, Catalog: cat, Log: d.Log, Audit: d.Audit}), nil
	},
}
