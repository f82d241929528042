// Package ports exposes cart over HTTP.
package ports

import (
	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/cart/internal/app"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/openapi"
)

// HTTP holds the handlers.
type HTTP struct{ svc *app.Service }

// NewHTTP builds the handlers.
func NewHTTP(svc *app.Service) *HTTP { return &HTTP{svc: svc} }

type addBody struct {
	ProductID string `json:"product_id" validate:"required,uuid"`
	Quantity  int    `json:"quantity" validate:"required,gte=1,lte=99"`
}
type qtyBody struct {
	Quantity *int `json:"quantity" validate:"required,gte=0,lte=99"`
}
type promoBody struct {
	Code string `json:"code" validate:"required,max=64"`
}
type activeBody struct {
	Active *bool `json:"active" validate:"required"`
}

// Routes mounts cart's routes on /api/v1.
func (h *HTTP) Routes(api *httpx.Router) {
	api.Handle(openapi.Op{Method: "GET", Path: "/cart", Summary: "The caller's cart with live prices and flags", Tag: "cart", Auth: true, Response: app.Cart{}}, h.view)
	api.Handle(openapi.Op{Method: "POST", Path: "/cart/items", Summary: "Add a product (merges with an existing line)", Tag: "cart", Auth: true,
		Request: addBody{}, Response: app.Cart{}}, h.add)
	api.Handle(openapi.Op{Method: "PATCH", Path: "/cart/items/{product_id}", Summary: "Set a line's quantity (0 removes)", Tag: "cart", Auth: true,
		Request: qtyBody{}, Response: app.Cart{}, Errors: []int{404}}, h.set)
	api.Handle(openapi.Op{Method: "DELETE", Path: "/cart/items/{product_id}", Summary: "Remove a line", Tag: "cart", Auth: true, Response: app.Cart{}, Errors: []int{404}}, h.remove)
	api.Handle(openapi.Op{Method: "POST", Path: "/cart/promo", Summary: "Apply a promo code (refusals explain themselves with a code)", Tag: "cart", Auth: true,
		Request: promoBody{}, Response: app.Cart{}}, h.applyPromo)
	api.Handle(openapi.Op{Method: "DELETE", Path: "/cart/promo", Summary: "Remove the promo code", Tag: "cart", Auth: true, Response: app.Cart{}}, h.removePromo)
	api.Handle(openapi.Op{Method: "POST", Path: "/checkout", Summary: "Freeze the cart into a checkout session", Tag: "cart", Auth: true,
		Request: app.CheckoutInput{}, Response: cartapi.Session{}, Status: 201, Errors: []int{404, 409}}, h.checkout)
	api.Handle(openapi.Op{Method: "GET", Path: "/checkout/{id}", Summary: "One of the caller's checkout sessions", Tag: "cart", Auth: true,
		Response: cartapi.Session{}, Errors: []int{404}}, h.session)
	api.Handle(openapi.Op{Method: "POST", Path: "/checkout/{id}/cancel", Summary: "Cancel a pending checkout session", Tag: "cart", Auth: true,
		Response: cartapi.Session{}, Errors: []int{404, 409}}, h.cancel)
	api.Handle(openapi.Op{Method: "POST", Path: "/admin/promotions", Summary: "Create a promotion", Tag: "admin", Admin: true,
		Request: app.PromotionInput{}, Response: app.PromotionRow{}, Status: 201, Errors: []int{409}}, h.createPromo)
	api.Handle(openapi.Op{Method: "GET", Path: "/admin/promotions", Summary: "List promotions", Tag: "admin", Admin: true,
		Response: httpx.Page[app.PromotionRow]{}}, h.listPromos)
	api.Handle(openapi.Op{Method: "PATCH", Path: "/admin/promotions/{id}", Summary: "Activate or deactivate a promotion", Tag: "admin", Admin: true,
		Request: activeBody{}, Response: app.PromotionRow{}, Errors: []int{404}}, h.setActive)
}

func user(c *fiber.Ctx) string {
	p, _ := httpx.Principal(c) // behind RequireUser
	return p.UserID
}

func (h *HTTP) view(c *fiber.Ctx) error {
	cart, err := h.svc.View(c.UserContext(), user(c))
	if err != nil {
		return err
	}
	return c.JSON(cart)
}

func (h *HTTP) add(c *fiber.Ctx) error {
	var in addBody
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	cart, err := h.svc.AddItem(c.UserContext(), user(c), in.ProductID, in.Quantity)
	if err != nil {
		return err
	}
	return c.JSON(cart)
}

func (h *HTTP) set(c *fiber.Ctx) error {
	var in qtyBody
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	cart, err := h.svc.SetQuantity(c.UserContext(), user(c), httpx.Param(c, "product_id"), *in.Quantity)
	if err != nil {
		return err
	}
	return c.JSON(cart)
}

func (h *HTTP) remove(c *fiber.Ctx) error {
	cart, err := h.svc.RemoveItem(c.UserContext(), user(c), httpx.Param(c, "product_id"))
	if err != nil {
		return err
	}
	return c.JSON(cart)
}

func (h *HTTP) applyPromo(c *fiber.Ctx) error {
	var in promoBody
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	cart, err := h.svc.ApplyPromo(c.UserContext(), user(c), in.Code)
	if err != nil {
		return err
	}
	return c.JSON(cart)
}

func (h *HTTP) removePromo(c *fiber.Ctx) error {
	cart, err := h.svc.RemovePromo(c.UserContext(), user(c))
	if err != nil {
		return err
	}
	return c.JSON(cart)
}

func (h *HTTP) checkout(c *fiber.Ctx) error {
	var in app.CheckoutInput
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	s, err := h.svc.Checkout(c.UserContext(), user(c), in)
	if err != nil {
		return err
	}
	return httpx.JSON(c, fiber.StatusCreated, s)
}

func (h *HTTP) session(c *fiber.Ctx) error {
	s, err := h.svc.OwnSession(c.UserContext(), user(c), httpx.Param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(s)
}

func (h *HTTP) cancel(c *fiber.Ctx) error {
	s, err := h.svc.CancelSession(c.UserContext(), user(c), httpx.Param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(s)
}

func (h *HTTP) createPromo(c *fiber.Ctx) error {
	var in app.PromotionInput
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	p, err := h.svc.CreatePromotion(c.UserContext(), in)
	if err != nil {
		return err
	}
	return httpx.JSON(c, fiber.StatusCreated, p)
}

func (h *HTTP) listPromos(c *fiber.Ctx) error {
	list, err := h.svc.Promotions(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(httpx.Page[app.PromotionRow]{Items: list})
}

func (h *HTTP) setActive(c *fiber.Ctx) error {
	var in activeBody
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	p, err := h.svc.SetPromotionActive(c.UserContext(), httpx.Param(c, "id"), *in.Active)
	if err != nil {
		return err
	}
	return c.JSON(p)
}
