package catalog

import (
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/platform/module"
)

// Name is the context's name, for the composition root's registry.
func (m *Module) Name() string { return "catalog" }

// Registration is how the composition root hosts catalog
// (internal/server/ctx_catalog.go); docs/adding-a-context.md.
var Registration = module.Registration{
	Name:          "catalog",
	Topics:        catalogapi.Topics,
	SDL:           SubgraphSDL,
	RoutePrefixes: []string{"/api/v1/products", "/api/v1/admin/products"},
	New: func(d module.Deps) (module.Module, error) {
		deps := Deps{DB: d.DB, Outbox: d.Outbox, Log: d.Log, Meter: d.Meter("catalog"), Audit: d.Audit, Jobs: d.Jobs}
		if d.Redis != nil { // no typed nil in the interface
			deps.Redis = d.Redis
		}
		return New(deps), nil
	},
}
