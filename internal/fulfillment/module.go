// Package fulfillment ships orders. Its first piece: shipping quotes from a
// rate table by destination zone and weight band, which admins can change.
package fulfillment

import (
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

// Routes mounts the HTTP routes on /api/v1.
func (m *Module) Routes(api *httpx.Router) { m.http.Routes(api) }
