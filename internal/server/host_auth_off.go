//go:build no_auth

package server

import (
	"context"
	"log/slog"

	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

func newAuthHost(hostDeps) (AuthHost, error) { return nil, builtWithout("auth") }

// CreateAdmin is unavailable without the auth context.
func CreateAdmin(context.Context, *config.Config, *pg.DB, *slog.Logger, string, string) (bool, error) {
	return false, builtWithout("auth")
}
