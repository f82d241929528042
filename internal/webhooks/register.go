package webhooks

import (
	"github.com/opencommerce/commerce/internal/platform/module"
	"github.com/opencommerce/commerce/internal/webhooks/internal/ssrf"
	"github.com/opencommerce/commerce/internal/webhooks/webhooksapi"
)

// Name is the context's name, for the composition root's registry.
func (m *Module) Name() string { return "webhooks" }

// Registration is how the composition root hosts webhooks
// (internal/server/ctx_webhooks.go); docs/adding-a-context.md.
var Registration = module.Registration{
	Name:          "webhooks",
	Topics:        webhooksapi.Topics,
	RoutePrefixes: []string{"/api/v1/admin/webhooks"},
	New: func(d module.Deps) (module.Module, error) {
		return New(Deps{DB: d.DB, Outbox: d.Outbox, Log: d.Log,
			Config: Config{Policy: ssrf.Policy{AllowLoopback: d.Config.WebhooksAllowInsecure}}}), nil
	},
}
