package server

import (
	"context"

	"google.golang.org/grpc"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/gql"
	"github.com/opencommerce/commerce/internal/platform/httpx"
)

// The hosted contexts as the composition root sees them. Each is built in
// a file of its own (host_<ctx>.go) that a build tag no_<ctx> replaces with
// a stub, so a deployment can compile a binary without the contexts it
// does not host: `go build -tags "no_cart no_ordering" ./cmd/commerce`.

// AuthHost is a hosted auth context.
type AuthHost interface {
	API() authapi.Auth
	Routes(root, api *httpx.Router)
	Topics() []string
	EnsureAdmin(ctx context.Context, email, password string) (bool, error)
	RegisterGRPC(grpc.ServiceRegistrar)
	// Subgraph is the context's part of the GraphQL graph.
	Subgraph() gql.Subgraph
}

// CatalogHost is a hosted catalog context.
type CatalogHost interface {
	API() catalogapi.Catalog
	Routes(api *httpx.Router)
	Topics() []string
	Consumers() []events.Consumer
	Run(ctx context.Context) error
	RegisterGRPC(grpc.ServiceRegistrar)
	// Subgraph is the context's part of the GraphQL graph.
	Subgraph() gql.Subgraph
}

// FulfillmentHost is a hosted fulfillment context.
type FulfillmentHost interface {
	API() fulfillmentapi.Fulfillment
	Routes(api *httpx.Router)
	Topics() []string
	Consumers() []events.Consumer
	Run(ctx context.Context) error
	RegisterGRPC(grpc.ServiceRegistrar)
	// Subgraph is the context's part of the GraphQL graph.
	Subgraph() gql.Subgraph
}

// CartHost is a hosted cart context.
type CartHost interface {
	API() cartapi.Cart
	Routes(api *httpx.Router)
	Consumers() []events.Consumer
	Run(ctx context.Context) error
	RegisterGRPC(grpc.ServiceRegistrar)
	// Subgraph is the context's part of the GraphQL graph.
	Subgraph() gql.Subgraph
}

// PaymentsHost is a hosted payments context.
type PaymentsHost interface {
	API() paymentsapi.Payments
	Routes(api *httpx.Router)
	Topics() []string
	Consumers() []events.Consumer
	Run(ctx context.Context) error
	RegisterGRPC(grpc.ServiceRegistrar)
	// Subgraph is the context's part of the GraphQL graph.
	Subgraph() gql.Subgraph
}

// OrderingHost is a hosted ordering context.
type OrderingHost interface {
	Routes(api *httpx.Router)
	Topics() []string
	Consumers() []events.Consumer
	Run(ctx context.Context) error
	PlaceOrder(ctx context.Context, who authn.Principal, sessionID string) (string, error)
	// Subgraph is the context's part of the GraphQL graph.
	Subgraph() gql.Subgraph
}

// ChatHost is a hosted chat context.
type ChatHost interface {
	Topics() []string
	Routes(api *httpx.Router)
	Run(ctx context.Context) error
	// Shutdown closes the live connections so the HTTP server can drain.
	Shutdown()
	// Subgraph is the context's part of the GraphQL graph.
	Subgraph() gql.Subgraph
}

// SearchHost is a hosted search context.
type SearchHost interface {
	Routes(api *httpx.Router)
	Consumers() []events.Consumer
	Run(ctx context.Context) error
	// Subgraph is the context's part of the GraphQL graph.
	Subgraph() gql.Subgraph
}

// NotifyHost is a hosted notify context.
type NotifyHost interface {
	Routes(api *httpx.Router)
	Consumers() []events.Consumer
	Run(ctx context.Context) error
	// Shutdown ends the live streams so the HTTP server can drain.
	Shutdown()
	// Subgraph is the context's part of the GraphQL graph.
	Subgraph() gql.Subgraph
}
