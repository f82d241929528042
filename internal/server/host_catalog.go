//go:build !no_catalog

package server

import (
	"context"
	"log/slog"

	"github.com/opencommerce/commerce/internal/catalog"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/redisx"
)

func newCatalogHost(d hostDeps) (CatalogHost, error) {
	return catalog.New(catalog.Deps{DB: d.db, Redis: d.s.Redis, Outbox: d.outbox, Log: d.s.log, Meter: d.meter("catalog"), Audit: d.s.audit}), nil
}

// SeedCatalog adds the first n demo products (`commerce seed`).
func SeedCatalog(ctx context.Context, cfg *config.Config, db *pg.DB, log *slog.Logger, n int, progress func(int)) (int, error) {
	bus, err := events.NewBus(db, log, events.BusConfig{})
	if err != nil {
		return 0, err
	}
	if err := bus.InitTopics(catalogapi.Topics...); err != nil {
		return 0, err
	}
	m, closeCat, err := catalogModule(ctx, cfg, db, log)
	if err != nil {
		return 0, err
	}
	defer closeCat()
	return m.Seed(ctx, n, progress)
}

// localCatalog is the catalog of this database, for data commands.
func localCatalog(ctx context.Context, cfg *config.Config, db *pg.DB, log *slog.Logger) (catalogapi.Catalog, func(), error) {
	m, closeCat, err := catalogModule(ctx, cfg, db, log)
	if err != nil {
		return nil, nil, err
	}
	return m.API(), closeCat, nil
}

func catalogModule(ctx context.Context, cfg *config.Config, db *pg.DB, log *slog.Logger) (*catalog.Module, func(), error) {
	rdb, err := redisx.Open(ctx, cfg.RedisURL)
	if err != nil {
		return nil, nil, err
	}
	return catalog.New(catalog.Deps{DB: db, Redis: rdb, Outbox: events.NewOutbox(log), Log: log}), func() { _ = rdb.Close() }, nil
}

func init() {
	publishedTopics["catalog"] = catalogapi.Topics
	subgraphSDLs["catalog"] = catalog.SubgraphSDL
}
