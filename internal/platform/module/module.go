// Package module is the contract between a bounded context and the
// composition root (internal/server): one Module interface, optional
// capabilities the root detects by type assertion, the Registration each
// context declares once, and the Deps every context is built from.
//
// It names no context: the root keeps the registry (one line per context,
// in a file carrying the context's no_<ctx> build tag) and decides, per
// process, which contexts are hosted and how a context reaches the others
// (Neighbour: in-process when hosted here, over gRPC otherwise).
package module

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"go.opentelemetry.io/otel/metric"
	"google.golang.org/grpc"

	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/gql"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/idempotency"
	"github.com/opencommerce/commerce/internal/platform/jobs"
	"github.com/opencommerce/commerce/internal/platform/mail"
	"github.com/opencommerce/commerce/internal/platform/metrics"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/ratelimit"
	"github.com/opencommerce/commerce/internal/platform/redisx"
)

// Module is a built context. Name is all the root requires; everything
// else a context offers is one of the capabilities below, so a context
// implements only what it has (search has no gRPC service, chat no
// consumers) and the root needs no per-context interface.
type Module interface {
	// Name is the context's name (CONTEXTS, <NAME>_GRPC_ADDR, metrics).
	Name() string
}

// The capabilities. The composition root type-asserts each hosted Module
// against them; adding one to a context needs no change to the root.
type (
	// Router serves the context's REST routes under /api/v1.
	Router interface {
		Routes(api *httpx.Router)
	}
	// RootRouter serves routes outside /api/v1 too (auth's
	// /.well-known/jwks.json) besides those under it.
	RootRouter interface {
		Routes(root, api *httpx.Router)
	}
	// GRPCServer registers the context's gRPC service, served on GRPC_ADDR
	// in a split process so that other processes can call it.
	GRPCServer interface {
		RegisterGRPC(grpc.ServiceRegistrar)
	}
	// Consumers are the context's event consumers, registered on the bus
	// before it starts.
	Consumers interface {
		Consumers() []events.Consumer
	}
	// Runner is the context's background work (sweepers, schedulers, live
	// hubs); it runs until ctx ends and an error stops the process.
	Runner interface {
		Run(ctx context.Context) error
	}
	// Shutdowner ends long-lived connections (SSE streams, WebSockets),
	// which never end by themselves, so the HTTP server can drain.
	Shutdowner interface {
		Shutdown()
	}
	// ReadinessChecker checks a dependency of the context only (the
	// Temporal frontend of ordering's saga engine): /readyz reports it as
	// checks.<name> and answers 503 while it fails; name "" has no check.
	ReadinessChecker interface {
		CheckReady(ctx context.Context) (name string, err error)
	}
	// SubgraphServer is the context's part of the GraphQL graph.
	SubgraphServer interface {
		Subgraph() gql.Subgraph
	}
	// AdminBootstrapper creates the first administrator
	// (BOOTSTRAP_ADMIN_EMAIL, `commerce admin create`); false when the
	// email is taken.
	AdminBootstrapper interface {
		EnsureAdmin(ctx context.Context, email, password string) (bool, error)
	}
	// Seeder adds demo data (`commerce seed`).
	Seeder interface {
		Seed(ctx context.Context, n int, progress func(done int)) (int, error)
	}
	// Reindexer rebuilds a read model from its source (`commerce search
	// reindex`).
	Reindexer interface {
		Reindex(ctx context.Context, progress func(done, total int)) (int, error)
	}
)

// Registration is what a context declares once (internal/<ctx>/register.go)
// and the root registers with one line: what is known about the context
// without building it, and how to build it.
type Registration struct {
	// Name is the context's name, the directory internal/<Name>.
	Name string
	// Topics are the event topics the context publishes (its
	// <ctx>api.Topics): created at start, relayed to Kafka, listed by
	// `commerce events topics`.
	Topics []string
	// SDL is the context's GraphQL subgraph schema ("" when it has none):
	// the split gateway composes the graph from it without hosting the
	// context.
	SDL string
	// RoutePrefixes are the public paths the context serves: the gateway
	// sends a request whose path is a prefix or below it here (the
	// longest prefix wins across contexts).
	RoutePrefixes []string
	// RoutePatterns are exact paths taken before any prefix, * standing
	// for one segment: a path under another context's prefix that this
	// context serves (/api/v1/orders/*/fulfillment).
	RoutePatterns []string
	// New builds the context from the platform and its neighbours.
	New func(Deps) (Module, error)
}

// Resolver is how Deps reaches the other contexts; the composition root
// implements it (the one place where the transport is chosen).
type Resolver interface {
	// Hosted returns the named context's module when this process hosts
	// it, building it first if needed; nil (and no error) when it does
	// not.
	Hosted(name string) (Module, error)
	// Remote is the connection to the named context at <NAME>_GRPC_ADDR;
	// notRetried lists full method names the client must not retry.
	Remote(name string, notRetried ...string) (grpc.ClientConnInterface, error)
}

// Deps is what every context is built from: the platform of the process
// (a data command such as `commerce seed` leaves the serving parts nil:
// Keys, Metrics, Audit, Idempotency, Sender) and, through Neighbour, the
// other contexts.
type Deps struct {
	Config      *config.Config
	DB          *pg.DB
	Redis       *redisx.Client
	Outbox      *events.Outbox
	Limiter     *ratelimit.Limiter
	Keys        *authn.Keys
	Sender      mail.Sender
	Log         *slog.Logger
	Metrics     *metrics.Metrics
	Audit       httpx.Auditor
	Idempotency *idempotency.Store
	// Jobs is the process's job system (asynq): a context takes its
	// Scope (d.Jobs.Scope("<ctx>")) to register handlers and periodic
	// tasks while it is built and to enqueue after commit. Nil in data
	// commands.
	Jobs     *jobs.Queue
	Resolver Resolver
}

// Meter is the meter of a context's instruments (scope commerce/<ctx>;
// docs/operations.md, Metrics and dashboards), nil without metrics.
func (d Deps) Meter(ctx string) metric.Meter {
	if d.Metrics == nil {
		return nil
	}
	return d.Metrics.Meter("commerce/" + ctx)
}

// Neighbour returns the typed API T of context name: its in-process
// module's API() when this process hosts it, otherwise client over the
// connection at <NAME>_GRPC_ADDR. client is the context's
// <ctx>api/grpcclient.New, which maps gRPC back to the same DTOs and
// sentinel errors, so the caller cannot tell the two apart:
//
//	cat, err := module.Neighbour[catalogapi.Catalog](d, "catalog", cataloggrpc.New)
func Neighbour[T, C any](d Deps, name string, client func(grpc.ClientConnInterface) C, notRetried ...string) (T, error) {
	var zero T
	if d.Resolver == nil {
		return zero, errors.New("module: no resolver for " + name)
	}
	m, err := d.Resolver.Hosted(name)
	if err != nil {
		return zero, err
	}
	if m != nil {
		api, ok := m.(interface{ API() T })
		if !ok {
			return zero, fmt.Errorf("module: %s has no API() %T", name, (*T)(nil))
		}
		return api.API(), nil
	}
	conn, err := d.Resolver.Remote(name, notRetried...)
	if err != nil {
		return zero, err
	}
	api, ok := any(client(conn)).(T)
	if !ok {
		return zero, fmt.Errorf("module: the gRPC client of %s is no %T", name, (*T)(nil))
	}
	return api, nil
}
