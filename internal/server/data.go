package server

import (
	"context"
	"fmt"
	"log/slog"

	"google.golang.org/grpc"

	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/grpcx"
	"github.com/opencommerce/commerce/internal/platform/module"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/ratelimit"
	"github.com/opencommerce/commerce/internal/platform/redisx"
)

// The data commands (admin create, seed, search reindex) build one context
// on the database without serving: the same registrations, with a Deps
// that leaves the serving parts (keys, metrics, audit, idempotency, mail)
// nil. A neighbour is reached at <CTX>_GRPC_ADDR when set, and otherwise
// built on this database too.

// withContext builds context name for a data command, creating its topics
// first (what it changes is announced through the outbox), runs fn on it
// and releases what it opened.
func withContext(ctx context.Context, cfg *config.Config, db *pg.DB, log *slog.Logger, name string, fn func(module.Module) error) error {
	reg, ok := registry[name]
	if !ok {
		return builtWithout(name)
	}
	// A data command works on this database as the whole shop: every
	// context is "hosted" (built here when needed) unless it has an address.
	dc := *cfg
	dc.Contexts = append([]string(nil), config.AllContexts...)
	cfg = &dc
	if len(reg.Topics) > 0 {
		bus, err := events.NewBus(db, log, events.BusConfig{})
		if err != nil {
			return err
		}
		if err := bus.InitTopics(reg.Topics...); err != nil {
			return fmt.Errorf("%s topics: %w", name, err)
		}
	}
	rdb, err := redisx.Open(ctx, cfg.RedisURL)
	if err != nil {
		return err
	}
	defer rdb.Close()
	limiter := ratelimit.New(rdb)
	defer limiter.Close()
	var conns []*grpc.ClientConn
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	res := &resolver{
		deps:  module.Deps{Config: cfg, DB: db, Redis: rdb, Outbox: events.NewOutbox(log), Limiter: limiter, Log: log},
		built: map[string]module.Module{},
		hosts: func(n string) bool { return n == name || cfg.RemoteAddr(n) == "" },
		remote: func(n string, notRetried ...string) (grpc.ClientConnInterface, error) {
			c, err := grpcx.Dial(cfg.RemoteAddr(n), grpcx.ClientConfig{Name: n, NotRetried: notRetried})
			if err != nil {
				return nil, err
			}
			conns = append(conns, c)
			return c, nil
		},
	}
	m, err := res.Hosted(name)
	if err != nil {
		return err
	}
	return fn(m)
}

// CreateAdmin creates a verified admin (`commerce admin create`); false
// when the email is taken. The context offering it is auth.
func CreateAdmin(ctx context.Context, cfg *config.Config, db *pg.DB, log *slog.Logger, email, password string) (bool, error) {
	var created bool
	err := withContext(ctx, cfg, db, log, "auth", func(m module.Module) error {
		b, ok := m.(module.AdminBootstrapper)
		if !ok {
			return fmt.Errorf("%s cannot create an admin", m.Name())
		}
		var err error
		created, err = b.EnsureAdmin(ctx, email, password)
		return err
	})
	return created, err
}

// SeedCatalog adds the first n demo products (`commerce seed`).
func SeedCatalog(ctx context.Context, cfg *config.Config, db *pg.DB, log *slog.Logger, n int, progress func(int)) (int, error) {
	var added int
	err := withContext(ctx, cfg, db, log, "catalog", func(m module.Module) error {
		s, ok := m.(module.Seeder)
		if !ok {
			return fmt.Errorf("%s has no demo data", m.Name())
		}
		var err error
		added, err = s.Seed(ctx, n, progress)
		return err
	})
	return added, err
}

// ReindexSearch rebuilds search's read model from the catalog (`commerce
// search reindex`): the catalog of this database, or the one at
// CATALOG_GRPC_ADDR when set.
func ReindexSearch(ctx context.Context, cfg *config.Config, db *pg.DB, log *slog.Logger, progress func(done, total int)) (int, error) {
	var n int
	err := withContext(ctx, cfg, db, log, "search", func(m module.Module) error {
		r, ok := m.(module.Reindexer)
		if !ok {
			return fmt.Errorf("%s has no read model to rebuild", m.Name())
		}
		var err error
		n, err = r.Reindex(ctx, progress)
		return err
	})
	return n, err
}
