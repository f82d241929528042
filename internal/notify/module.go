// Package notify is the notifications context. For now it turns auth's
// token events into verification and password-reset emails and delivers
// them over SMTP (or to the log) with retries.
package notify

import (
	"context"
	"log/slog"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/notify/internal/app"
	"github.com/opencommerce/commerce/internal/notify/internal/ports"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/mail"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Deps are what the module needs.
type Deps struct {
	DB        *pg.DB
	Sender    mail.Sender
	PublicURL string
	Log       *slog.Logger
}

// Module is the assembled notify context.
type Module struct {
	svc  *app.Service
	http *ports.HTTP
}

// New assembles the module.
func New(d Deps) *Module {
	svc := app.New(d.DB, d.Sender, d.PublicURL, d.Log.With("context", "notify"))
	return &Module{svc: svc, http: ports.NewHTTP(svc)}
}

// Consumers are notify's event subscriptions.
func (m *Module) Consumers() []events.Consumer {
	return []events.Consumer{{
		Name:   "notify.auth_emails",
		Inbox:  "notify.inbox",
		Topics: []string{authapi.EventVerificationRequested, authapi.EventPasswordResetRequested},
		Handle: m.svc.HandleAuthEvent,
	}, {
		Name:  "notify.order_emails",
		Inbox: "notify.inbox",
		Topics: []string{orderingapi.EventOrderPlaced, orderingapi.EventPaymentReminder, orderingapi.EventOrderPaid,
			orderingapi.EventOrderExpired, orderingapi.EventOrderCanceled, orderingapi.EventOrderRefunded},
		Handle: m.svc.HandleOrderEvent,
	}, {
		Name: "notify.fulfillment_emails", Inbox: "notify.inbox",
		Topics: []string{fulfillmentapi.EventShipped}, Handle: m.svc.HandleFulfillmentEvent,
	}}
}

// Routes mounts the HTTP routes on /api/v1.
func (m *Module) Routes(api *httpx.Router) { m.http.Routes(api) }

// Run delivers queued emails until ctx ends.
func (m *Module) Run(ctx context.Context) error { return m.svc.Run(ctx) }
