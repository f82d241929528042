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
	"github.com/opencommerce/commerce/internal/chat/internal/ports/graph"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/gql"
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
	svc  *app.Service
	ws   *ports.WS
	http *ports.HTTP
	log  *slog.Logger
}

// New assembles the module.
func New(d Deps) *Module {
	log := d.Log.With("context", "chat")
	svc := app.New(d.DB, d.Outbox, d.Auth, log)
	ws := ports.NewWS(svc, d.Redis, d.Limiter, log)
	svc.SetPresence(ws.OnlineOf)
	m := &Module{svc: svc, ws: ws, http: ports.NewHTTP(svc, ws), log: log}
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

// SubgraphSDL is chat's GraphQL subgraph schema: what a gateway composes
// (the split topology's gateway composes it without hosting chat).
var SubgraphSDL = graph.SDL

// Subgraph is chat's part of the federated GraphQL graph: its resolvers
// call chat's app layer, and send messages through the live side so
// connected participants receive them as they would a WebSocket's.
func (m *Module) Subgraph() gql.Subgraph {
	es := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Svc: m.svc, Send: m.ws.Send}})
	return gql.Subgraph{Name: "chat", SDL: graph.SDL, Handler: gql.NewHandler(es, m.log)}
}

// Run delivers frames to this instance's connections until ctx ends.
func (m *Module) Run(ctx context.Context) error { return m.ws.Run(ctx) }

// Shutdown closes every connection so the HTTP server can drain.
func (m *Module) Shutdown() { m.ws.Shutdown() }
