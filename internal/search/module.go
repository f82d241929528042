// Package search is the product search context: a read model of the
// catalog fed by catalog events (and rebuilt by `commerce search
// reindex`), searched by PostgreSQL by default or by Meilisearch
// (SEARCH_BACKEND=meilisearch), with query analytics for admins.
package search

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/uptrace/bun"
	"golang.org/x/sync/errgroup"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/gql"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/jobs"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/search/internal/analytics"
	"github.com/opencommerce/commerce/internal/search/internal/engine"
	"github.com/opencommerce/commerce/internal/search/internal/index"
	"github.com/opencommerce/commerce/internal/search/internal/ports"
	"github.com/opencommerce/commerce/internal/search/internal/ports/graph"
)

// Deps are what the module needs.
type Deps struct {
	DB *pg.DB
	// Catalog is read by Reindex only (in-process or over gRPC).
	Catalog catalogapi.Catalog
	// Backend is "postgres" or "meilisearch" (MeiliURL, MeiliKey).
	Backend, MeiliURL, MeiliKey string
	Log                         *slog.Logger
	// Jobs runs the hourly purge of analytics past 90 days, once per hour
	// across replicas (nil: not purged).
	Jobs *jobs.Queue
}

// Module is the assembled search context.
type Module struct {
	db      *pg.DB
	catalog catalogapi.Catalog
	store   index.Store
	backend engine.Backend
	meili   *engine.Meili
	queries *analytics.Log
	http    *ports.HTTP
	log     *slog.Logger
	wake    chan struct{}
}

// New assembles the module.
func New(d Deps) (*Module, error) {
	log := d.Log.With("context", "search")
	m := &Module{db: d.DB, catalog: d.Catalog, queries: analytics.New(d.DB, log), log: log, wake: make(chan struct{}, 1)}
	if d.Jobs != nil {
		d.Jobs.Scope("search").Every("purge_queries", time.Hour, m.queries.Purge)
	}
	switch d.Backend {
	case "", "postgres":
		m.backend = engine.NewPostgres(d.DB)
	case "meilisearch":
		if d.MeiliURL == "" {
			return nil, fmt.Errorf("SEARCH_BACKEND=meilisearch needs MEILISEARCH_URL")
		}
		m.meili = engine.NewMeili(d.DB, d.MeiliURL, d.MeiliKey, log)
		m.backend = m.meili
		m.store.External = true
	default:
		return nil, fmt.Errorf("SEARCH_BACKEND: %q is neither postgres nor meilisearch", d.Backend)
	}
	m.http = ports.NewHTTP(m.backend, m.queries)
	return m, nil
}

// Backend is the engine in use (for tests and logs).
func (m *Module) Backend() string { return m.backend.Name() }

// Consumers feed the read model from catalog's events.
func (m *Module) Consumers() []events.Consumer {
	return []events.Consumer{{
		Name: "search.products", Inbox: "search.inbox", After: m.changed,
		Topics: []string{catalogapi.EventProductCreated, catalogapi.EventProductUpdated, catalogapi.EventProductArchived},
		Handle: m.store.HandleProduct,
	}, {
		Name: "search.stock", Inbox: "search.inbox",
		Topics: []string{catalogapi.EventStockChanged}, Handle: m.store.HandleStock,
	}}
}

// changed wakes the Meilisearch sync after a product changed.
func (m *Module) changed(context.Context, events.Envelope) {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Routes mounts the HTTP routes on /api/v1.
func (m *Module) Routes(api *httpx.Router) { m.http.Routes(api) }

// SubgraphSDL is search's GraphQL subgraph schema: what a gateway composes
// (the split topology's gateway composes it without hosting search).
var SubgraphSDL = graph.SDL

// Subgraph is search's part of the federated GraphQL graph: its resolvers
// call search's own engine and analytics; hits are Product references
// whose fields catalog's subgraph resolves.
func (m *Module) Subgraph() gql.Subgraph {
	es := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Backend: m.backend, Queries: m.queries}})
	return gql.Subgraph{Name: "search", SDL: graph.SDL, Handler: gql.NewHandler(es, m.log)}
}

// Run writes query analytics and, with Meilisearch, configures the index
// and keeps it in sync, until ctx ends.
func (m *Module) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return m.queries.Run(ctx) })
	if m.meili != nil {
		g.Go(func() error { return m.syncLoop(ctx) })
	}
	return g.Wait()
}

// syncLoop applies the settings, then sends changed products whenever a
// product event arrives (and every few seconds, to retry failures).
func (m *Module) syncLoop(ctx context.Context) error {
	for {
		err := m.meili.Configure(ctx)
		if err == nil {
			break
		}
		m.log.WarnContext(ctx, "meilisearch not ready; retrying", "err", err)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(5 * time.Second):
		}
	}
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		n, err := m.meili.Sync(ctx)
		if err != nil && ctx.Err() == nil {
			m.log.WarnContext(ctx, "meilisearch sync failed", "err", err)
		}
		if n > 0 && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-m.wake:
		}
	}
}

// Reindex rebuilds the read model from catalog, in pages of 500, reporting
// progress (done, total). Products are written with their stored version
// guard, so events applied meanwhile are not rolled back.
func (m *Module) Reindex(ctx context.Context, progress func(done, total int)) (int, error) {
	if m.catalog == nil {
		return 0, fmt.Errorf("reindex needs the catalog (host it here or set CATALOG_GRPC_ADDR)")
	}
	after, done, total := "", 0, 0
	for {
		page, n, err := m.catalog.Page(ctx, after, 500)
		if err != nil {
			return done, err
		}
		if after == "" {
			total = n
		}
		if len(page) == 0 {
			// Merge the full-text index's pending entries and refresh the
			// planner's statistics: the first searches after a rebuild
			// should be as fast as any other.
			for _, t := range []string{"search.products", "search.stock", "search.terms"} {
				if _, err := m.db.ExecContext(ctx, "VACUUM (ANALYZE) "+t); err != nil {
					return done, err
				}
			}
			return done, nil
		}
		ids := make([]string, len(page))
		onHand := make([]int, len(page))
		reserved := make([]int, len(page))
		for i, p := range page {
			ids[i], onHand[i], reserved[i] = p.ID, p.Stock.OnHand, p.Stock.Reserved
		}
		err = m.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if err := m.store.Upsert(ctx, tx, page); err != nil {
				return err
			}
			return m.store.SetStock(ctx, tx, ids, onHand, reserved)
		})
		if err != nil {
			return done, err
		}
		done += len(page)
		after = page[len(page)-1].ID
		if progress != nil {
			progress(done, max(total, done))
		}
	}
}
