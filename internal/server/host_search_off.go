//go:build no_search

package server

import (
	"context"
	"log/slog"

	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

func newSearchHost(hostDeps) (SearchHost, error) { return nil, builtWithout("search") }

// ReindexSearch is unavailable without the search context.
func ReindexSearch(context.Context, *config.Config, *pg.DB, *slog.Logger, func(done, total int)) (int, error) {
	return 0, builtWithout("search")
}
