package auth

import (
	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/platform/module"
)

// Name is the context's name, for the composition root's registry.
func (m *Module) Name() string { return "auth" }

// Registration is how the composition root hosts auth
// (internal/server/ctx_auth.go); docs/adding-a-context.md.
var Registration = module.Registration{
	Name:   "auth",
	Topics: authapi.Topics,
	SDL:    SubgraphSDL,
	// The audit log is the platform's (every process serves it); the
	// gateway sends it to auth, which is always deployed.
	RoutePrefixes: []string{"/.well-known/jwks.json", "/api/v1/auth", "/api/v1/me", "/api/v1/admin/users", "/api/v1/admin/audit"},
	New: func(d module.Deps) (module.Module, error) {
		cfg := d.Config
		return New(Deps{DB: d.DB, Outbox: d.Outbox, Keys: d.Keys, Limiter: d.Limiter, PasswordMemoryKiB: cfg.PasswordHashMemoryKiB, Log: d.Log,
			CredentialsPerMinute: cfg.AuthPerMinute, Config: Config{AccessTTL: cfg.AccessTTL, RefreshTTL: cfg.RefreshTTL, LoginMaxFailures: cfg.LoginMaxFailures, LoginWindow: cfg.LoginWindow}}), nil
	},
}
