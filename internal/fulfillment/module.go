// Package fulfillment ships orders. Its first piece: shipping quotes from a
// rate table by destination zone and weight band, which admins can change.
package fulfillment

import (
	"google.golang.org/grpc"

	fulfillmentv1 "github.com/opencommerce/commerce/api/proto/fulfillment/v1"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/fulfillment/internal/app"
	"github.com/opencommerce/commerce/internal/fulfillment/internal/ports"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Deps are what the module needs.
type Deps struct {
	DB      *pg.DB
	Catalog catalogapi.Catalog
}

// Module is the assembled fulfillment context.
type Module struct {
	svc  *app.Service
	http *ports.HTTP
}

// New assembles the module.
func New(d Deps) *Module {
	svc := app.New(d.DB)
	return &Module{svc: svc, http: ports.NewHTTP(svc, d.Catalog)}
}

// API is the in-process implementation of fulfillmentapi.Fulfillment.
func (m *Module) API() fulfillmentapi.Fulfillment { return m.svc }

// RegisterGRPC serves the context's API on s (split mode).
func (m *Module) RegisterGRPC(s grpc.ServiceRegistrar) {
	fulfillmentv1.RegisterFulfillmentServiceServer(s, ports.GRPC{API: m.svc})
}

// Routes mounts the HTTP routes on /api/v1.
func (m *Module) Routes(api *httpx.Router) { m.http.Routes(api) }
