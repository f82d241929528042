package server_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
	"github.com/opencommerce/commerce/internal/server"
)

// serve's pool carries DB_STATEMENT_TIMEOUT and
// DB_IDLE_IN_TRANSACTION_TIMEOUT; the data commands' pools (seed, search
// reindex, migrate, admin) carry none, so long data work is not cut; both
// have DB_MAX_CONNS connections.
func TestServeBoundsItsConnectionsDataCommandsDoNot(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	cfg, err := config.Load(nil, func(k string) string {
		return map[string]string{"DATABASE_URL": dsn, "DB_STATEMENT_TIMEOUT": "7s", "DB_IDLE_IN_TRANSACTION_TIMEOUT": "3s", "DB_MAX_CONNS": "4"}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	for _, c := range []struct {
		serve         bool
		stmt, idleInT string
	}{{true, "7s", "3s"}, {false, "0", "0"}} {
		db, stop, _, err := server.OpenMigrated(ctx, cfg, log, c.serve)
		if err != nil {
			t.Fatal(err)
		}
		var stmt, idle string
		if err := db.QueryRowContext(ctx, "SELECT current_setting('statement_timeout'), current_setting('idle_in_transaction_session_timeout')").Scan(&stmt, &idle); err != nil {
			t.Fatal(err)
		}
		if stmt != c.stmt || idle != c.idleInT || db.Pool.Config().MaxConns != 4 {
			t.Errorf("serve=%v: statement_timeout=%s idle_in_transaction_session_timeout=%s max_conns=%d", c.serve, stmt, idle, db.Pool.Config().MaxConns)
		}
		stop()
		db2, stop2, err := server.Database(ctx, cfg, log, c.serve)
		if err != nil {
			t.Fatal(err)
		}
		if err := db2.QueryRowContext(ctx, "SHOW statement_timeout").Scan(&stmt); err != nil || stmt != c.stmt {
			t.Errorf("Database(serve=%v): statement_timeout=%s %v", c.serve, stmt, err)
		}
		stop2()
	}
}

// With MIGRATE_ON_START=false serve applies nothing: on a schema behind
// its code it refuses to start and names `commerce migrate up`; after a
// data command (migrate up) has migrated, it starts and applies nothing.
func TestServeWithoutMigrateOnStartRefusesAnOldSchema(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	load := func(migrate string) *config.Config {
		cfg, err := config.Load(nil, func(k string) string {
			return map[string]string{"DATABASE_URL": dsn, "MIGRATE_ON_START": migrate}[k]
		})
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	_, _, _, err := server.OpenMigrated(ctx, load("false"), log, true)
	if err == nil || !strings.Contains(err.Error(), "migrations pending") || !strings.Contains(err.Error(), "commerce migrate up") {
		t.Fatalf("serve on an empty schema: %v", err)
	}
	// What `commerce migrate up` does (a data command migrates whatever
	// MIGRATE_ON_START says).
	_, stop, n, err := server.OpenMigrated(ctx, load("false"), log, false)
	if err != nil || n == 0 {
		t.Fatalf("migrate: %d %v", n, err)
	}
	stop()
	_, stop, n, err = server.OpenMigrated(ctx, load("false"), log, true)
	if err != nil || n != 0 {
		t.Fatalf("serve on a current schema: %d %v", n, err)
	}
	stop()
}
