package notify

import "github.com/opencommerce/commerce/internal/platform/module"

// Name is the context's name, for the composition root's registry.
func (m *Module) Name() string { return "notify" }

// Registration is how the composition root hosts notify
// (internal/server/ctx_notify.go); docs/adding-a-context.md.
var Registration = module.Registration{
	Name: "notify",
	SDL:  SubgraphSDL,
	// The admin console's live stream is notify's fan-out.
	RoutePrefixes: []string{"/api/v1/notifications", "/api/v1/admin/stream"},
	New: func(d module.Deps) (module.Module, error) {
		cfg := d.Config
		m, err := New(Deps{DB: d.DB, Redis: d.Redis.Client, Sender: d.Sender, Log: d.Log, PublicURL: cfg.PublicURL,
			TemplatesDir: cfg.TemplatesDir, SMSProviders: cfg.SMSProviders, SMSToken: cfg.SMSHTTPToken, Heartbeat: cfg.SSEHeartbeat, Meter: d.Meter("notify")})
		if err != nil {
			return nil, err
		}
		return m, nil
	},
}
