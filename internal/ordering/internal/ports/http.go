// Package ports exposes ordering over HTTP.
package ports

import (
	"strconv"
	"time"

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
	api.Handle(openapi.Op{Method: "GET", Path: "/admin/orders", Summary: "All orders, newest first, by status, creation time, user and id prefix", Tag: "admin", Admin: true,
		Query: []string{"limit", "cursor"}, Response: httpx.Page[app.Order]{},
		Params: []openapi.Param{openapi.QueryParam("status", "only orders in this status", openapi.Enum(app.Statuses...)),
			openapi.QueryParam("from", "only orders created at or after this time (RFC 3339)", map[string]any{"type": "string", "format": "date-time"}),
			openapi.QueryParam("to", "only orders created before this time (RFC 3339)", map[string]any{"type": "string", "format": "date-time"}),
			openapi.QueryParam("user_id", "only this user's orders", map[string]any{"type": "string", "format": "uuid"}),
			openapi.QueryParam("q", "only orders whose id begins with this (hex digits, dashes allowed)", map[string]any{"type": "string", "maxLength": 36})}}, h.adminList)
	api.Handle(openapi.Op{Method: "GET", Path: "/admin/orders/{id}", Summary: "Any user's order", Tag: "admin", Admin: true,
		Response: app.Order{}, Errors: []int{404}}, h.adminGet)
	api.Handle(openapi.Op{Method: "GET", Path: "/admin/orders/{id}/events", Summary: "Any order's saga/timeline entries", Tag: "admin", Admin: true,
		Response: httpx.Page[app.TimelineEntry]{}, Errors: []int{404}}, h.adminTimeline)
	api.Handle(openapi.Op{Method: "POST", Path: "/admin/orders/{id}/cancel", Summary: "Cancel any order awaiting payment (stock and promo use released, payment intent canceled); otherwise 409 order_not_cancelable", Tag: "admin",
		Admin: true, Response: app.Order{}, Errors: []int{404, 409}}, h.adminCancel)
	api.Handle(openapi.Op{Method: "GET", Path: "/admin/summary", Summary: "The admin dashboard: orders and revenue today and over 7 days, low stock, payments needing review, dead letters", Tag: "admin", Admin: true,
		Response: app.Summary{},
		Params: []openapi.Param{openapi.QueryParam("low_stock", "list active products with at most this many available (default 5)",
			map[string]any{"type": "integer", "minimum": 0, "maximum": 1000000, "default": 5})}}, h.summary)
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
	items, next, err := h.svc.List(c.UserContext(), app.ListFilter{UserID: p.UserID, Cursor: httpx.Query(c, "cursor"), Limit: limit})
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
	f := app.ListFilter{Status: httpx.Query(c, "status"), UserID: httpx.Query(c, "user_id"), IDPrefix: httpx.Query(c, "q"),
		Cursor: httpx.Query(c, "cursor"), Limit: limit}
	var bad []errs.FieldError
	for _, b := range []struct {
		name string
		dst  **time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := httpx.Query(c, b.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				bad = append(bad, errs.Field(b.name, "must be a time in RFC 3339 (2026-01-02T15:04:05Z)"))
				continue
			}
			*b.dst = &t
		}
	}
	if len(bad) > 0 {
		return errs.Validation(bad...)
	}
	items, next, err := h.svc.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(httpx.Page[app.Order]{Items: items, NextCursor: next})
}

func (h *HTTP) adminGet(c *fiber.Ctx) error {
	o, err := h.svc.Get(c.UserContext(), "", httpx.Param(c, "id"), true)
	if err != nil {
		return err
	}
	return c.JSON(o)
}

func (h *HTTP) adminTimeline(c *fiber.Ctx) error {
	items, err := h.svc.Timeline(c.UserContext(), "", httpx.Param(c, "id"), true)
	if err != nil {
		return err
	}
	return c.JSON(httpx.Page[app.TimelineEntry]{Items: items})
}

func (h *HTTP) adminCancel(c *fiber.Ctx) error {
	p, _ := httpx.Principal(c)
	o, err := h.svc.AdminCancel(c.UserContext(), p.UserID, httpx.Param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(o)
}

func (h *HTTP) summary(c *fiber.Ctx) error {
	threshold := 5
	if v := httpx.Query(c, "low_stock"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1000000 {
			return errs.Validation(errs.Field("low_stock", "must be an integer from 0 to 1000000"))
		}
		threshold = n
	}
	sum, err := h.svc.Summary(c.UserContext(), threshold)
	if err != nil {
		return err
	}
	return c.JSON(sum)
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
