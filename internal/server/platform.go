// Package server composes the platform and the bounded contexts into one
// process. It is called only from cmd/: which contexts run here and which
// transports connect them is decided in one place.
package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
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
func Database(ctx context.Context, cfg *config.Config, log *slog.Logger, serve bool) (*pg.DB, func(), error) {
	dsn := cfg.DatabaseURL
	var emb *pg.Embedded
	if dsn == "" {
		start := time.Now()
		var err error
		emb, err = pg.StartEmbedded(ctx, cfg.DataDir, log, serve)
		if err != nil {
			return nil, nil, fmt.Errorf("embedded PostgreSQL: %w", err)
		}
		log.Info("embedded PostgreSQL ready", "took_ms", time.Since(start).Milliseconds(), "owner", emb.Owner())
		dsn = emb.DSN()
	}
	db, err := pg.Open(ctx, dsn)
	if err != nil {
		if emb != nil {
			_ = emb.Close(context.Background(), false)
		}
		return nil, nil, err
	}
	stop := func() {
		_ = db.Close()
		if emb != nil {
			if err := emb.Close(context.Background(), serve); err != nil {
				log.Error("stop embedded PostgreSQL", "err", err)
			}
		}
	}
	return db, stop, nil
}

// Migrator returns the migrator for the contexts hosted by this process.
func Migrator(db *pg.DB, cfg *config.Config) (*migrate.Migrator, error) {
	return migrate.New(db.SQL(), migrations.FS, append([]string{"platform"}, cfg.Contexts...))
}

// OpenMigrated is Database followed by applying pending migrations, the
// start of every subcommand that works on shop data. It returns how many
// migrations it applied.
func OpenMigrated(ctx context.Context, cfg *config.Config, log *slog.Logger, serve bool) (*pg.DB, func(), int, error) {
	db, stop, err := Database(ctx, cfg, log, serve)
	if err != nil {
		return nil, nil, 0, err
	}
	m, err := Migrator(db, cfg)
	if err != nil {
		stop()
		return nil, nil, 0, err
	}
	n, err := m.Up(ctx)
	if err != nil {
		stop()
		return nil, nil, 0, err
	}
	return db, stop, n, nil
}

// webhookSecret is PAYMENT_WEBHOOK_SECRET, or a secret generated once into
// DATA_DIR so the test gateway works with no configuration.
func webhookSecret(cfg *config.Config) (string, error) {
	if cfg.PaymentWebhook != "" {
		return cfg.PaymentWebhook, nil
	}
	file := filepath.Join(cfg.DataDir, "payment_webhook_secret")
	if b, err := os.ReadFile(file); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	buf := make([]byte, 32)
	if _, err := rand.Read(buf); err != nil {
		return "", err
	}
	secret := "whsec_" + hex.EncodeToString(buf)
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return "", err
	}
	if err := os.WriteFile(file, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("PAYMENT_WEBHOOK_SECRET: cannot store a generated secret: %w", err)
	}
	return secret, nil
}
