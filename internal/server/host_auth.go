//go:build !no_auth

package server

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/opencommerce/commerce/internal/auth"
	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/ratelimit"
	"github.com/opencommerce/commerce/internal/platform/redisx"
)

func newAuthHost(d hostDeps) (AuthHost, error) {
	cfg := d.s.cfg
	return auth.New(auth.Deps{DB: d.db, Outbox: d.outbox, Keys: d.s.Keys, Limiter: d.limiter, PasswordMemoryKiB: cfg.PasswordHashMemoryKiB, Log: d.s.log,
		CredentialsPerMinute: cfg.AuthPerMinute, Config: auth.Config{AccessTTL: cfg.AccessTTL, RefreshTTL: cfg.RefreshTTL, LoginMaxFailures: cfg.LoginMaxFailures, LoginWindow: cfg.LoginWindow}}), nil
}

// CreateAdmin creates a verified admin (`commerce admin create`); false
// when the email is taken.
func CreateAdmin(ctx context.Context, cfg *config.Config, db *pg.DB, log *slog.Logger, email, password string) (bool, error) {
	// The admin is announced through the outbox (notify learns whom to
	// tell about payments needing review), so its topic must exist even
	// before the first serve.
	bus, err := events.NewBus(db, log, events.BusConfig{})
	if err != nil {
		return false, err
	}
	if err := bus.InitTopics(authapi.Topics...); err != nil {
		return false, fmt.Errorf("auth topics: %w", err)
	}
	rdb, err := redisx.Open(ctx, cfg.RedisURL)
	if err != nil {
		return false, err
	}
	defer rdb.Close()
	mod := auth.New(auth.Deps{DB: db, Outbox: events.NewOutbox(log), Limiter: ratelimit.New(rdb), PasswordMemoryKiB: cfg.PasswordHashMemoryKiB, Log: log,
		Config: auth.Config{AccessTTL: cfg.AccessTTL, RefreshTTL: cfg.RefreshTTL}})
	return mod.EnsureAdmin(ctx, email, password)
}

func init() {
	publishedTopics["auth"] = authapi.Topics
	subgraphSDLs["auth"] = auth.SubgraphSDL
}
