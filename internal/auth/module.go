// Package auth is the accounts context: registration with email
// verification, RS256 access tokens with rotating refresh tokens, password
// reset, profiles and addresses. module.go is its composition root.
package auth

import (
	"google.golang.org/grpc"

	"context"
	authv1 "github.com/opencommerce/commerce/api/proto/auth/v1"
	"log/slog"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/auth/internal/adapters"
	"github.com/opencommerce/commerce/internal/auth/internal/app"
	"github.com/opencommerce/commerce/internal/auth/internal/ports"
	"github.com/opencommerce/commerce/internal/auth/internal/ports/graph"
	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/gql"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/ratelimit"
)

// Deps are what the module needs from the platform.
type Deps struct {
	DB                *pg.DB
	Outbox            *events.Outbox
	Keys              *authn.Keys
	Limiter           *ratelimit.Limiter
	Config            app.Config
	PasswordMemoryKiB int
	// CredentialsPerMinute caps credential requests (register, login,
	// verify, refresh, password reset) per client IP; default 60.
	CredentialsPerMinute int
	Log                  *slog.Logger
}

// Config re-exports the use-case configuration for cmd/.
type Config = app.Config

// Module is the assembled auth context.
type Module struct {
	svc  *app.Service
	http *ports.HTTP
	log  *slog.Logger
}

// New assembles the module.
func New(d Deps) *Module {
	log := d.Log.With("context", "auth")
	svc := app.New(d.DB, d.Outbox, d.Keys, adapters.NewArgon2(d.PasswordMemoryKiB), d.Limiter, d.Config, log)
	return &Module{svc: svc, http: ports.NewHTTP(svc, d.Keys, d.Limiter, d.CredentialsPerMinute), log: log}
}

// API is the in-process implementation of authapi.Auth.
func (m *Module) API() authapi.Auth { return m.svc }

// RegisterGRPC serves the context's API on s (split mode).
func (m *Module) RegisterGRPC(s grpc.ServiceRegistrar) {
	authv1.RegisterAuthServiceServer(s, ports.GRPC{API: m.svc})
}

// Routes mounts the HTTP routes.
func (m *Module) Routes(root, api *httpx.Router) { m.http.Routes(root, api) }

// Topics are the event topics auth publishes.
func (m *Module) Topics() []string { return authapi.Topics }

// EnsureAdmin creates a verified admin account if the email is unused.
func (m *Module) EnsureAdmin(ctx context.Context, email, password string) (bool, error) {
	return m.svc.EnsureAdmin(ctx, email, password)
}

// SubgraphSDL is auth's GraphQL subgraph schema: what a gateway composes
// (the split topology's gateway composes it without hosting auth).
var SubgraphSDL = graph.SDL

// Subgraph is auth's part of the federated GraphQL graph: its resolvers
// call auth's app layer only.
func (m *Module) Subgraph() gql.Subgraph {
	es := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Svc: m.svc}})
	return gql.Subgraph{Name: "auth", SDL: graph.SDL, Handler: gql.NewHandler(es, m.log)}
}
