// Package ports exposes payments over HTTP: provider webhooks and the
// admin list.
package ports

import (
	"github.com/gofiber/fiber/v2"

	"github.com/opencommerce/commerce/internal/payments/internal/app"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/openapi"
)

// HTTP holds the handlers.
type HTTP struct{ svc *app.Service }

// NewHTTP builds the handlers.
func NewHTTP(svc *app.Service) *HTTP { return &HTTP{svc: svc} }

// WebhookEvent documents the accepted event shape (Stripe's).
type WebhookEvent struct {
	ID   string `json:"id"`
	Type string `json:"type"`
	Data struct {
		Object struct {
			ID             string            `json:"id"`
			Amount         int64             `json:"amount"`
			AmountReceived int64             `json:"amount_received"`
			Currency       string            `json:"currency"`
			Metadata       map[string]string `json:"metadata"`
		} `json:"object"`
	} `json:"data"`
}

type received struct {
	Received bool `json:"received"`
}

// Routes mounts payments' routes on /api/v1.
func (h *HTTP) Routes(api *httpx.Router) {
	api.Handle(openapi.Op{Method: "POST", Path: "/payments/webhooks/{gateway}", Summary: "Provider webhook (Stripe-Signature: t=..,v1=..; 300 s tolerance)", Tag: "payments",
		Request: WebhookEvent{}, LooseRequest: true, Response: received{}, Errors: []int{404},
		Params: []openapi.Param{openapi.HeaderParam("Stripe-Signature", "t=<unix>,v1=<hex HMAC-SHA256(secret, t + \".\" + body)>", true)}}, h.webhook)
	api.Handle(openapi.Op{Method: "GET", Path: "/payments/gateways", Summary: "Payment gateways this shop accepts at checkout", Tag: "payments",
		Response: httpx.Page[paymentsapi.Gateway]{}}, h.gateways)
	api.Handle(openapi.Op{Method: "POST", Path: "/payments/test/confirm", Summary: "Pay a test-gateway intent with a test card, as Stripe test mode does in a browser (owner only): 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined (card_declined), 4000 0000 0000 9995 fails (insufficient_funds); the outcome takes the webhook's path", Tag: "payments",
		Auth: true, Request: ConfirmRequest{}, Response: ConfirmResponse{}, Errors: []int{404, 409}}, h.confirm)
	api.Handle(openapi.Op{Method: "GET", Path: "/admin/payments", Summary: "Payments with status, gateway, amounts and refunds, newest first, by status and order", Tag: "admin", Admin: true,
		Query: []string{"limit", "cursor"}, Response: httpx.Page[app.Payment]{},
		Params: []openapi.Param{openapi.QueryParam("status", "only payments in this status", openapi.Enum(app.Statuses...)),
			openapi.QueryParam("order_id", "only the payment of this order", map[string]any{"type": "string", "format": "uuid"})}}, h.list)
}

func (h *HTTP) webhook(c *fiber.Ctx) error {
	body := append([]byte(nil), c.Body()...)
	if err := h.svc.HandleWebhook(c.UserContext(), httpx.Param(c, "gateway"), body, c.Get("Stripe-Signature")); err != nil {
		return err
	}
	return c.JSON(received{Received: true})
}

// ConfirmRequest is the body of POST /payments/test/confirm.
type ConfirmRequest struct {
	IntentID   string `json:"intent_id" validate:"required,max=255"`
	CardNumber string `json:"card_number" validate:"required,max=32"`
}

// ConfirmResponse is the payment's status after a successful confirmation.
type ConfirmResponse struct {
	IntentID string `json:"intent_id"`
	Status   string `json:"status" enum:"succeeded"`
}

func (h *HTTP) confirm(c *fiber.Ctx) error {
	var in ConfirmRequest
	if err := httpx.Bind(c, &in); err != nil {
		return err
	}
	p, _ := httpx.Principal(c)
	status, err := h.svc.ConfirmTest(c.UserContext(), p.UserID, in.IntentID, in.CardNumber)
	if err != nil {
		return err
	}
	return c.JSON(ConfirmResponse{IntentID: in.IntentID, Status: status})
}

func (h *HTTP) gateways(c *fiber.Ctx) error {
	gws, err := h.svc.Gateways(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(httpx.Page[paymentsapi.Gateway]{Items: gws})
}

func (h *HTTP) list(c *fiber.Ctx) error {
	limit, err := httpx.Limit(c)
	if err != nil {
		return err
	}
	list, next, err := h.svc.Payments(c.UserContext(), app.ListFilter{Status: httpx.Query(c, "status"), OrderID: httpx.Query(c, "order_id"),
		Cursor: httpx.Query(c, "cursor"), Limit: limit})
	if err != nil {
		return err
	}
	return c.JSON(httpx.Page[app.Payment]{Items: list, NextCursor: next})
}
