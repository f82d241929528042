//go:build !no_search

package server

import (
	"context"
	"log/slog"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	cataloggrpc "github.com/opencommerce/commerce/internal/catalog/catalogapi/grpcclient"
	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/grpcx"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/search"
)

func newSearchHost(d hostDeps) (SearchHost, error) {
	cfg := d.s.cfg
	// The catalog is needed only by reindex, not to serve: a missing
	// catalog address must not stop a standalone search process.
	var cat catalogapi.Catalog
	if d.s.Catalog != nil {
		cat = d.s.Catalog.API()
	} else if cfg.RemoteAddr("catalog") != "" {
		var err error
		if cat, err = d.s.catalogAPI(); err != nil {
			return nil, err
		}
	}
	return search.New(search.Deps{DB: d.db, Catalog: cat, Backend: cfg.SearchBackend, MeiliURL: cfg.MeilisearchURL, MeiliKey: cfg.MeilisearchKey, Log: d.s.log})
}

// ReindexSearch rebuilds search's read model from the catalog (`commerce
// search reindex`): the catalog of this database, or the one at
// CATALOG_GRPC_ADDR when set.
func ReindexSearch(ctx context.Context, cfg *config.Config, db *pg.DB, log *slog.Logger, progress func(done, total int)) (int, error) {
	var cat catalogapi.Catalog
	if addr := cfg.RemoteAddr("catalog"); addr != "" {
		conn, err := grpcx.Dial(addr, grpcx.ClientConfig{Name: "catalog"})
		if err != nil {
			return 0, err
		}
		defer conn.Close()
		cat = cataloggrpc.New(conn)
	} else {
		local, closeCat, err := localCatalog(ctx, cfg, db, log)
		if err != nil {
			return 0, err
		}
		defer closeCat()
		cat = local
	}
	m, err := search.New(search.Deps{DB: db, Catalog: cat, Backend: cfg.SearchBackend, MeiliURL: cfg.MeilisearchURL, MeiliKey: cfg.MeilisearchKey, Log: log})
	if err != nil {
		return 0, err
	}
	return m.Reindex(ctx, progress)
}

func init() { subgraphSDLs["search"] = search.SubgraphSDL }
