// Package ports exposes fulfillment over HTTP.
package ports

import (
	"context"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/fulfillment/internal/app"
	"github.com/opencommerce/commerce/internal/platform/address"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/openapi"
)

// HTTP holds the handlers.
type HTTP struct {
	svc     *app.Service
	catalog catalogapi.Catalog
}

// NewHTTP builds the handlers.
func NewHTTP(svc *app.Service, catalog catalogapi.Catalog) *HTTP {
	return &HTTP{svc: svc, catalog: catalog}
}

// QuoteAddress is the destination of a quote: the platform's one address
// shape (a saved or checkout address may be sent as is); only the country
// is required, as only the country prices a shipment.
type QuoteAddress = address.Address

// QuoteItem is a product and quantity to ship.
type QuoteItem struct {
	ProductID string `json:"product_id" validate:"required,uuid"`
	Quantity  int    `json:"quantity" validate:"gte=1,lte=99"`
}

// QuoteInput is the body of POST /shipping/quote.
type QuoteInput struct {
	Address QuoteAddress `json:"address" validate:"required"`
	Items   []QuoteItem  `json:"items" validate:"required,min=1,max=100,dive"`
	Courier string       `json:"courier" validate:"required,oneof=standard express"`
}

// Routes mounts fulfillment's routes on /api/v1.
func (h *HTTP) Routes(api *httpx.Router) {
	api.Handle(openapi.Op{Method: "POST", Path: "/shipping/quote", Summary: "Price a shipment of products to an address", Tag: "fulfillment",
		Request: QuoteInput{}, Response: fulfillmentapi.Quote{}}, h.quote)
	api.Handle(openapi.Op{Method: "GET", Path: "/orders/{id}/fulfillment", Summary: "The fulfillment of one of the caller's orders", Tag: "fulfillment",
		Auth: true, Response: app.Fulfillment{}, Errors: []int{404}}, h.ofOrder)
	api.Handle(openapi.Op{Method: "GET", Path: "/admin/fulfillments", Summary: "The fulfillment queue, oldest first, optionally in one status", Tag: "admin", Admin: true,
		Query: []string{"limit", "cursor"}, Response: httpx.Page[app.Fulfillment]{},
		Params: []openapi.Param{openapi.QueryParam("status", "only fulfillments in this status", openapi.Enum(app.Statuses...))}}, h.queue)
	api.Handle(openapi.Op{Method: "GET", Path: "/admin/fulfillments/{id}", Summary: "One fulfillment", Tag: "admin", Admin: true,
		Response: app.Fulfillment{}, Errors: []int{404}}, h.get)
	api.Handle(openapi.Op{Method: "POST", Path: "/admin/fulfillments/{id}/ship", Summary: "Mark a fulfillment shipped; the body is optional: a tracking_id replaces the carrier's", Tag: "admin", Admin: true,
		Request: ShipInput{}, Response: app.Fulfillment{}, Errors: []int{404, 409}}, h.ship)
	api.Handle(openapi.Op{Method: "POST", Path: "/admin/fulfillments/{id}/deliver", Summary: "Mark a fulfillment delivered", Tag: "admin", Admin: true,
		Response: app.Fulfillment{}, Errors: []int{404, 409}}, h.advance("delivered"))
	api.Handle(openapi.Op{Method: "GET", Path: "/admin/shipping/rates", Summary: "The shipping rate table", Tag: "admin", Admin: true,
		Response: app.RateTable{}}, h.table)
	api.Handle(openapi.Op{Method: "PUT", Path: "/admin/shipping/rates", Summary: "Replace the shipping rate table", Tag: "admin", Admin: true,
		Request: app.RateTable{}, Response: app.RateTable{}}, h.replace)
}

func (h *HTTP) quote(c *fiber.Ctx) error {
	var in QuoteInput
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	if err := in.Address.Normalize(address.Destination, "address."); err != nil {
		return err
	}
	q, err := QuoteItems(c.UserContext(), h.svc, h.catalog, in.Address.Country, in.Courier, in.Items)
	if err != nil {
		return err
	}
	return c.JSON(q)
}

// QuoteItems weighs the items through the catalog and prices the shipment.
// All items must share one currency.
func QuoteItems(ctx context.Context, f fulfillmentapi.Fulfillment, catalog catalogapi.Catalog, country, courier string, items []QuoteItem) (fulfillmentapi.Quote, error) {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ProductID
	}
	products, err := catalog.Products(ctx, ids)
	if err != nil {
		return fulfillmentapi.Quote{}, err
	}
	weight, currency := 0, ""
	for i, it := range items {
		p, ok := products[it.ProductID]
		if !ok {
			return fulfillmentapi.Quote{}, errs.Validation(errs.Field(fmt.Sprintf("items[%d].product_id", i), "no such product"))
		}
		if currency != "" && p.Currency != currency {
			return fulfillmentapi.Quote{}, errs.New(errs.Invalid, "currency_mismatch", "all items of one shipment must have the same currency")
		}
		currency = p.Currency
		weight += p.WeightGrams * it.Quantity
	}
	return f.Quote(ctx, fulfillmentapi.QuoteRequest{Country: country, WeightGrams: weight, Courier: courier, Currency: currency})
}

func (h *HTTP) table(c *fiber.Ctx) error {
	t, err := h.svc.Table(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(t)
}

func (h *HTTP) replace(c *fiber.Ctx) error {
	var in app.RateTable
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	t, err := h.svc.ReplaceTable(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.JSON(t)
}

func (h *HTTP) ofOrder(c *fiber.Ctx) error {
	p, _ := httpx.Principal(c)
	f, err := h.svc.OfOrder(c.UserContext(), p.UserID, httpx.Param(c, "id"), p.IsAdmin())
	if err != nil {
		return err
	}
	return c.JSON(f)
}

// ShipInput is the optional body of POST /admin/fulfillments/{id}/ship.
type ShipInput struct {
	// TrackingID is the parcel's tracking number when the admin booked it
	// by hand; without it the carrier's tracking id is kept.
	TrackingID string `json:"tracking_id,omitempty" validate:"omitempty,max=100,printascii"`
}

func (h *HTTP) ship(c *fiber.Ctx) error {
	var in ShipInput
	if len(c.Body()) > 0 {
		if err := httpx.Bind(c, &in); err != nil {
			return err
		}
	}
	f, err := h.svc.Advance(c.UserContext(), httpx.Param(c, "id"), "shipped", strings.TrimSpace(in.TrackingID))
	if err != nil {
		return err
	}
	return c.JSON(f)
}

func (h *HTTP) queue(c *fiber.Ctx) error {
	limit, err := httpx.Limit(c)
	if err != nil {
		return err
	}
	items, next, err := h.svc.Queue(c.UserContext(), httpx.Query(c, "status"), httpx.Query(c, "cursor"), limit)
	if err != nil {
		return err
	}
	return c.JSON(httpx.Page[app.Fulfillment]{Items: items, NextCursor: next})
}

func (h *HTTP) get(c *fiber.Ctx) error {
	f, err := h.svc.Get(c.UserContext(), httpx.Param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(f)
}

func (h *HTTP) advance(to string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		f, err := h.svc.Advance(c.UserContext(), httpx.Param(c, "id"), to, "")
		if err != nil {
			return err
		}
		return c.JSON(f)
	}
}
