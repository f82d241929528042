package search

import (
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	cataloggrpc "github.com/opencommerce/commerce/internal/catalog/catalogapi/grpcclient"
	"github.com/opencommerce/commerce/internal/platform/module"
)

// Name is the context's name, for the composition root's registry.
func (m *Module) Name() string { return "search" }

// Registration is how the composition root hosts search
// (internal/server/ctx_search.go); docs/adding-a-context.md.
var Registration = module.Registration{
	Name:          "search",
	SDL:           SubgraphSDL,
	RoutePrefixes: []string{"/api/v1/search", "/api/v1/admin/search"},
	New: func(d module.Deps) (module.Module, error) {
		cfg := d.Config
		// The catalog is needed only by reindex, not to serve: a missing
		// catalog address must not stop a standalone search process.
		var cat catalogapi.Catalog
		if cfg.Hosts("catalog") || cfg.RemoteAddr("catalog") != "" {
			var err error
			if cat, err = module.Neighbour[catalogapi.Catalog](d, "catalog", cataloggrpc.New); err != nil {
				return nil, err
			}
		}
		m, err := New(Deps{DB: d.DB, Catalog: cat, Backend: cfg.SearchBackend, MeiliURL: cfg.MeilisearchURL, MeiliKey: cfg.MeilisearchKey, Log: d.Log, Jobs: d.Jobs})
		if err != nil {
			return nil, err
		}
		return m, nil
	},
}
