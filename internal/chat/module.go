// Package chat is the support chat context: conversations between a
// customer and admins (or groups), messages persisted in order before
// delivery, and live delivery over WebSocket across instances through
// Redis (typing, read receipts, presence).
package chat

import (
	"context"
	"log/slog"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/chat/chatapi"
	"github.com/opencommerce/commerce/internal/chat/internal/app"
	"github.com/opencommerce/commerce/internal/chat/internal/ports"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/ratelimit"
)

// Deps are what the module needs.
type Deps struct {
	DB      *pg.DB
	Outbox  *events.Outbox
	Redis   *redis.Client
	Auth    authapi.Auth
	Limiter *ratelimit.Limiter
	Log     *slog.Logger
	// Meter registers commerce_ws_connections (nil: no metrics).
	Meter metric.Meter
}

// Module is the assembled chat context.
type Module struct {
	ws   *ports.WS
	http *ports.HTTP
}

// New assembles the module.
func New(d Deps) *Module {
	log := d.Log.With("context", "chat")
	svc := app.New(d.DB, d.Outbox, d.Auth, log)
	ws := ports.NewWS(svc, d.Redis, d.Limiter, log)
	svc.SetPresence(ws.OnlineOf)
	m := &Module{ws: ws, http: ports.NewHTTP(svc, ws)}
	if d.Meter != nil {
		if err := m.instrument(d.Meter); err != nil {
			log.Warn("chat metrics not registered", "err", err)
		}
	}
	return m
}

// Topics are the events chat publishes.
func (m *Module) Topics() []string { return chatapi.Topics }

// Routes mounts the HTTP and WebSocket routes on /api/v1.
func (m *Module) Routes(api *httpx.Router) { m.http.Routes(api) }

// Run delivers frames to this instance's connections until ctx ends.
func (m *Module) Run(ctx context.Context) error { return m.ws.Run(ctx) }

// Shutdown closes every connection so the HTTP server can drain.
func (m *Module) Shutdown() { m.ws.Shutdown() }
