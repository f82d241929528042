// Package ports exposes webhooks over HTTP: the administrators' routes to
// register endpoints, read their delivery log, replay and ping.
package ports

import (
	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/openapi"
	"github.com/opencommerce/commerce/internal/webhooks/internal/app"
)

// HTTP holds the handlers.
type HTTP struct {
	svc *app.Service
}

// NewHTTP builds the handlers.
func NewHTTP(svc *app.Service) *HTTP { return &HTTP{svc: svc} }

// Routes mounts webhooks' routes on /api/v1; every one is admin-only.
func (h *HTTP) Routes(api *httpx.Router) {
	api.Handle(openapi.Op{Method: "POST", Path: "/admin/webhooks", Summary: "Register a webhook endpoint; the answer shows its signing secret, once", Tag: "admin", Admin: true,
		Request: app.CreateInput{}, Response: app.EndpointWithSecret{}, Status: 201}, h.create)
	api.Handle(openapi.Op{Method: "GET", Path: "/admin/webhooks", Summary: "The webhook endpoints, oldest first", Tag: "admin", Admin: true,
		Query: []string{"limit", "cursor"}, Response: httpx.Page[app.Endpoint]{}}, h.list)
	api.Handle(openapi.Op{Method: "GET", Path: "/admin/webhooks/{id}", Summary: "One webhook endpoint", Tag: "admin", Admin: true,
		Response: app.Endpoint{}, Errors: []int{404}}, h.get)
	api.Handle(openapi.Op{Method: "PATCH", Path: "/admin/webhooks/{id}", Summary: "Change a webhook endpoint's URL, events or description, or disable (enabled=false) or enable it", Tag: "admin", Admin: true,
		Request: app.UpdateInput{}, Response: app.Endpoint{}, Errors: []int{404}}, h.update)
	api.Handle(openapi.Op{Method: "DELETE", Path: "/admin/webhooks/{id}", Summary: "Delete a webhook endpoint with its delivery log", Tag: "admin", Admin: true,
		Status: 204, Errors: []int{404}}, h.delete)
	api.Handle(openapi.Op{Method: "POST", Path: "/admin/webhooks/{id}/rotate-secret", Summary: "Give the endpoint a new signing secret (shown once); the previous one keeps signing for the overlap", Tag: "admin", Admin: true,
		Request: app.RotateInput{}, Response: app.RotatedSecret{}, Errors: []int{404}}, h.rotate)
	api.Handle(openapi.Op{Method: "GET", Path: "/admin/webhooks/{id}/deliveries", Summary: "The endpoint's deliveries, newest first, each with its attempts", Tag: "admin", Admin: true,
		Query: []string{"limit", "cursor"}, Response: httpx.Page[app.Delivery]{}, Errors: []int{404}}, h.deliveries)
	api.Handle(openapi.Op{Method: "POST", Path: "/admin/webhooks/{id}/deliveries/{delivery_id}/replay", Summary: "Deliver a delivery's event again (same event id)", Tag: "admin", Admin: true,
		Response: app.Delivery{}, Status: 202, Errors: []int{404, 409}}, h.replay)
	api.Handle(openapi.Op{Method: "POST", Path: "/admin/webhooks/{id}/ping", Summary: "Send a webhooks.ping event to the endpoint now and answer with the attempt", Tag: "admin", Admin: true,
		Response: app.Delivery{}, Errors: []int{404}}, h.ping)
}

func (h *HTTP) create(c *fiber.Ctx) error {
	var in app.CreateInput
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	e, err := h.svc.Create(c.UserContext(), in)
	if err != nil {
		return err
	}
	return httpx.JSON(c, fiber.StatusCreated, e)
}

func (h *HTTP) list(c *fiber.Ctx) error {
	limit, err := httpx.Limit(c)
	if err != nil {
		return err
	}
	items, next, err := h.svc.List(c.UserContext(), httpx.Query(c, "cursor"), limit)
	if err != nil {
		return err
	}
	return c.JSON(httpx.Page[app.Endpoint]{Items: items, NextCursor: next})
}

func (h *HTTP) get(c *fiber.Ctx) error {
	e, err := h.svc.Get(c.UserContext(), httpx.Param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(e)
}

func (h *HTTP) update(c *fiber.Ctx) error {
	var in app.UpdateInput
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	e, err := h.svc.Update(c.UserContext(), httpx.Param(c, "id"), in)
	if err != nil {
		return err
	}
	return c.JSON(e)
}

func (h *HTTP) delete(c *fiber.Ctx) error {
	if err := h.svc.Delete(c.UserContext(), httpx.Param(c, "id")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *HTTP) rotate(c *fiber.Ctx) error {
	var in app.RotateInput
	if len(c.Body()) > 0 {
		if err := httpx.Bind(c, &in); err != nil {
			return err
		}
	}
	r, err := h.svc.RotateSecret(c.UserContext(), httpx.Param(c, "id"), in)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (h *HTTP) deliveries(c *fiber.Ctx) error {
	limit, err := httpx.Limit(c)
	if err != nil {
		return err
	}
	items, next, err := h.svc.Deliveries(c.UserContext(), httpx.Param(c, "id"), httpx.Query(c, "cursor"), limit)
	if err != nil {
		return err
	}
	return c.JSON(httpx.Page[app.Delivery]{Items: items, NextCursor: next})
}

func (h *HTTP) replay(c *fiber.Ctx) error {
	d, err := h.svc.Replay(c.UserContext(), httpx.Param(c, "id"), httpx.Param(c, "delivery_id"))
	if err != nil {
		return err
	}
	return httpx.JSON(c, fiber.StatusAccepted, d)
}

func (h *HTTP) ping(c *fiber.Ctx) error {
	d, err := h.svc.Ping(c.UserContext(), httpx.Param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(d)
}
