// Package webhooks is the outbound webhooks context: administrators
// register HTTPS endpoints with an event filter, and every matching
// integration event is delivered to them as its JSON envelope, signed with
// the endpoint's secret (HMAC-SHA256), retried with exponential backoff and
// jitter for up to three days, logged per attempt, and replayable. An
// endpoint failing for a day straight is disabled and the administrators
// are told (webhooks.endpoint_disabled, which notify turns into emails).
// Deliveries never reach private, loopback, link-local or metadata
// addresses (internal/ssrf).
package webhooks

import (
	"context"
	"log/slog"

	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/webhooks/internal/app"
	"github.com/opencommerce/commerce/internal/webhooks/internal/ports"
	"github.com/opencommerce/commerce/internal/webhooks/webhooksapi"
)

// Config tunes delivery (timeouts, retry schedule, SSRF policy); see
// app.Config. Tests inject a resolver, root CAs and short schedules.
type Config = app.Config

// Deps are what the module needs.
type Deps struct {
	DB     *pg.DB
	Outbox *events.Outbox
	Log    *slog.Logger
	Config Config
}

// Module is the assembled webhooks context.
type Module struct {
	svc  *app.Service
	http *ports.HTTP
}

// New assembles the module.
func New(d Deps) *Module {
	svc := app.New(d.DB, d.Outbox, d.Config, d.Log.With("context", "webhooks"))
	return &Module{svc: svc, http: ports.NewHTTP(svc)}
}

// Routes mounts the HTTP routes on /api/v1.
func (m *Module) Routes(api *httpx.Router) { m.http.Routes(api) }

// Topics are the event topics webhooks publishes.
func (m *Module) Topics() []string { return webhooksapi.Topics }

// Consumers turn every offered integration event into deliveries, and wake
// the dispatcher once they committed.
func (m *Module) Consumers() []events.Consumer {
	return []events.Consumer{{Name: "webhooks.events", Inbox: "webhooks.inbox", Topics: webhooksapi.Events,
		Handle: m.svc.HandleEvent, After: func(context.Context, events.Envelope) { m.svc.Wake() }, Batch: true}}
}

// Run attempts due deliveries until ctx ends.
func (m *Module) Run(ctx context.Context) error { return m.svc.Run(ctx) }
