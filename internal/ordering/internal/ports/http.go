// Package ports exposes ordering over HTTP.
package ports

import (
	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/ordering/internal/app"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/idempotency"
	"github.com/opencommerce/commerce/internal/platform/openapi"
)

// HTTP holds the handlers.
type HTTP struct{ svc *app.Service }

// NewHTTP builds the handlers.
func NewHTTP(svc *app.Service) *HTTP { return &HTTP{svc: svc} }

type placeBody struct {
	CheckoutSessionID string `json:"checkout_session_id" validate:"required,uuid"`
}

var statuses = map[string]bool{"pending_payment": true, "paid": true, "fulfilling": true, "shipped": true, "delivered": true, "expired": true, "canceled": true, "refunded": true}

// Routes mounts ordering's routes on /api/v1.
func (h *HTTP) Routes(api *httpx.Router) {
	api.Handle(openapi.Op{Method: "POST", Path: "/orders", Summary: "Place an order from a checkout session (reserves stock, creates the payment intent)", Tag: "orders",
		Auth: true, Request: placeBody{}, Response: app.Order{}, Status: 201, Errors: []int{404, 409}}, h.place)
	api.Handle(openapi.Op{Method: "GET", Path: "/orders", Summary: "The caller's orders, newest first", Tag: "orders", Auth: true,
		Query: []string{"limit", "cursor"}, Response: httpx.Page[app.Order]{}}, h.list)
	api.Handle(openapi.Op{Method: "GET", Path: "/orders/{id}", Summary: "One of the caller's orders", Tag: "orders", Auth: true, Response: app.Order{}, Errors: []int{404}}, h.get)
	api.Handle(openapi.Op{Method: "POST", Path: "/orders/{id}/cancel", Summary: "Cancel an order awaiting payment (stock and promo use released)", Tag: "orders",
		Auth: true, Response: app.Order{}, Errors: []int{404, 409}}, h.cancel)
	api.Handle(openapi.Op{Method: "GET", Path: "/orders/{id}/events", Summary: "The order's saga/timeline entries", Tag: "orders", Auth: true,
		Response: httpx.Page[app.TimelineEntry]{}, Errors: []int{404}}, h.timeline)
	api.Handle(openapi.Op{Method: "GET", Path: "/admin/orders", Summary: "All orders, optionally by status", Tag: "admin", Admin: true,
		Query: []string{"status", "limit", "cursor"}, Response: httpx.Page[app.Order]{},
		Params: []openapi.Param{openapi.QueryParam("status", "only orders in this status", openapi.Enum("pending_payment", "paid", "fulfilling", "shipped", "delivered", "expired", "canceled", "refunded"))}}, h.adminList)
	api.Handle(openapi.Op{Method: "POST", Path: "/admin/orders/{id}/refund", Summary: "Refund part or all of a paid order (never above the captured amount)", Tag: "admin",
		Admin: true, Request: app.RefundInput{}, Response: app.Order{}, Errors: []int{404, 409}}, h.refund)
}

func (h *HTTP) place(c *fiber.Ctx) error {
	var in placeBody
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	p, _ := httpx.Principal(c)
	o, err := h.svc.PlaceOrder(c.UserContext(), p, in.CheckoutSessionID)
	if err != nil {
		return err
	}
	return httpx.JSON(c, fiber.StatusCreated, o)
}

func (h *HTTP) list(c *fiber.Ctx) error {
	limit, err := httpx.Limit(c)
	if err != nil {
		return err
	}
	p, _ := httpx.Principal(c)
	items, next, err := h.svc.List(c.UserContext(), p.UserID, "", httpx.Query(c, "cursor"), limit)
	if err != nil {
		return err
	}
	return c.JSON(httpx.Page[app.Order]{Items: items, NextCursor: next})
}

func (h *HTTP) get(c *fiber.Ctx) error {
	p, _ := httpx.Principal(c)
	o, err := h.svc.Get(c.UserContext(), p.UserID, httpx.Param(c, "id"), p.IsAdmin())
	if err != nil {
		return err
	}
	return c.JSON(o)
}

func (h *HTTP) cancel(c *fiber.Ctx) error {
	p, _ := httpx.Principal(c)
	o, err := h.svc.Cancel(c.UserContext(), p.UserID, httpx.Param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(o)
}

func (h *HTTP) timeline(c *fiber.Ctx) error {
	p, _ := httpx.Principal(c)
	items, err := h.svc.Timeline(c.UserContext(), p.UserID, httpx.Param(c, "id"), p.IsAdmin())
	if err != nil {
		return err
	}
	return c.JSON(httpx.Page[app.TimelineEntry]{Items: items})
}

func (h *HTTP) adminList(c *fiber.Ctx) error {
	limit, err := httpx.Limit(c)
	if err != nil {
		return err
	}
	status := httpx.Query(c, "status")
	if status != "" && !statuses[status] {
		return errs.Validation(errs.Field("status", "is not an order status"))
	}
	items, next, err := h.svc.List(c.UserContext(), "", status, httpx.Query(c, "cursor"), limit)
	if err != nil {
		return err
	}
	return c.JSON(httpx.Page[app.Order]{Items: items, NextCursor: next})
}

func (h *HTTP) refund(c *fiber.Ctx) error {
	var in app.RefundInput
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	o, err := h.svc.Refund(c.UserContext(), httpx.Param(c, "id"), in, c.Get(idempotency.Header))
	if err != nil {
		return err
	}
	return c.JSON(o)
}
