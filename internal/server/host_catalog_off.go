//go:build no_catalog

package server

import (
	"context"
	"log/slog"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

func newCatalogHost(hostDeps) (CatalogHost, error) { return nil, builtWithout("catalog") }

// SeedCatalog is unavailable without the catalog context.
func SeedCatalog(context.Context, *config.Config, *pg.DB, *slog.Logger, int, func(int)) (int, error) {
	return 0, builtWithout("catalog")
}

func localCatalog(context.Context, *config.Config, *pg.DB, *slog.Logger) (catalogapi.Catalog, func(), error) {
	return nil, nil, builtWithout("catalog")
}
