// Package server composes the platform and the bounded contexts into one
// process. It is called only from cmd/: which contexts run here and which
// transports connect them is decided in one place.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/migrate"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/migrations"
)

// Database opens the configured PostgreSQL, or the embedded one when
// DATABASE_URL is unset. serve marks `commerce serve`: it must own
// DATA_DIR (another serve there is an error naming it) and stops the
// embedded server on exit even if it adopted it after a crash. Other
// commands use the server of a running serve and never stop it; with no
// serve running they start it and stop it again. stop releases it all.
// Only serve's connections carry DB_STATEMENT_TIMEOUT and
// DB_IDLE_IN_TRANSACTION_TIMEOUT: the data commands (migrate, seed,
// search reindex, admin) run statements that may legitimately be long.
func Database(ctx context.Context, cfg *config.Config, log *slog.Logger, serve bool) (*pg.DB, func(), error) {
	dsn, stopServer, err := databaseServer(ctx, cfg, log, serve)
	if err != nil {
		return nil, nil, err
	}
	db, err := pg.Open(ctx, dsn, poolOptions(cfg, serve)...)
	if err != nil {
		stopServer(false)
		return nil, nil, err
	}
	return db, func() { _ = db.Close(); stopServer(true) }, nil
}

// poolOptions are the pool settings of a command: the pool size for all,
// the session timeouts for serve only.
func poolOptions(cfg *config.Config, bounded bool) []pg.Option {
	opts := []pg.Option{pg.WithMaxConns(int32(min(cfg.DBMaxConns, 1<<30)))}
	if bounded {
		opts = append(opts, pg.WithSessionTimeouts(cfg.DBStatementTimeout, cfg.DBIdleInTxTimeout))
	}
	return opts
}

// databaseServer returns the DSN of the configured PostgreSQL, starting
// the embedded one when DATABASE_URL is unset. stop(true) is the normal
// end (serve stops even a server it adopted), stop(false) the end after a
// failed start (only a server this process started is stopped).
func databaseServer(ctx context.Context, cfg *config.Config, log *slog.Logger, serve bool) (string, func(normal bool), error) {
	if cfg.DatabaseURL != "" {
		return cfg.DatabaseURL, func(bool) {}, nil
	}
	start := time.Now()
	emb, err := pg.StartEmbedded(ctx, cfg.DataDir, log, serve)
	if err != nil {
		return "", nil, fmt.Errorf("embedded PostgreSQL: %w", err)
	}
	log.Info("embedded PostgreSQL ready", "took_ms", time.Since(start).Milliseconds(), "owner", emb.Owner())
	stop := func(normal bool) {
		if err := emb.Close(context.Background(), normal && serve); err != nil && normal {
			log.Error("stop embedded PostgreSQL", "err", err)
		}
	}
	return emb.DSN(), stop, nil
}

// Migrator returns the migrator for the contexts hosted by this process.
func Migrator(db *pg.DB, cfg *config.Config) (*migrate.Migrator, error) {
	return migrate.New(db.SQL(), migrations.FS, append([]string{"platform"}, cfg.Contexts...))
}

// OpenMigrated is Database followed by applying pending migrations, the
// start of every subcommand that works on shop data (serve with
// MIGRATE_ON_START=false only checks that none is pending). It returns how many
// migrations it applied. The migrations run on connections without
// session timeouts (a migration on a large table may take minutes); for
// serve, the pool it returns is then opened anew with them.
func OpenMigrated(ctx context.Context, cfg *config.Config, log *slog.Logger, serve bool) (*pg.DB, func(), int, error) {
	dsn, stopServer, err := databaseServer(ctx, cfg, log, serve)
	if err != nil {
		return nil, nil, 0, err
	}
	db, err := pg.Open(ctx, dsn, poolOptions(cfg, false)...)
	if err != nil {
		stopServer(false)
		return nil, nil, 0, err
	}
	n, err := migrateUp(ctx, db, cfg, serve)
	if err == nil && serve {
		_ = db.Close()
		if db, err = pg.Open(ctx, dsn, poolOptions(cfg, true)...); err != nil {
			stopServer(true)
			return nil, nil, 0, err
		}
	}
	if err != nil {
		_ = db.Close()
		stopServer(true)
		return nil, nil, 0, err
	}
	return db, func() { _ = db.Close(); stopServer(true) }, n, nil
}

func migrateUp(ctx context.Context, db *pg.DB, cfg *config.Config, serve bool) (int, error) {
	m, err := Migrator(db, cfg)
	if err != nil {
		return 0, err
	}
	if serve && !cfg.MigrateOnStart {
		pending, err := m.Pending(ctx)
		if err != nil {
			return 0, fmt.Errorf("check the schema: %w", err)
		}
		if len(pending) > 0 {
			p := pending[0]
			return 0, fmt.Errorf("the database schema is behind this binary: %d migrations pending (first %s/%04d_%s) and MIGRATE_ON_START=false; run `commerce migrate up` first", len(pending), p.Context, p.Version, p.Name)
		}
		return 0, nil
	}
	return m.Up(ctx)
}
