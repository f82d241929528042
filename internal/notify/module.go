// Package notify is the notifications context: it turns events of auth,
// ordering, payments and fulfillment into in-app notifications (listed,
// marked read, and pushed live over Server-Sent Events through Redis so any
// instance serves any user), emails over SMTP and text messages through a
// failover chain of providers, each delivered once per event and channel.
package notify

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric"
	"golang.org/x/sync/errgroup"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/chat/chatapi"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/notify/internal/app"
	"github.com/opencommerce/commerce/internal/notify/internal/ports"
	"github.com/opencommerce/commerce/internal/notify/internal/ports/graph"
	"github.com/opencommerce/commerce/internal/notify/internal/push"
	"github.com/opencommerce/commerce/internal/notify/internal/sms"
	"github.com/opencommerce/commerce/internal/notify/internal/templates"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/gql"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/mail"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/webhooks/webhooksapi"
)

// Deps are what the module needs.
type Deps struct {
	DB     *pg.DB
	Redis  *redis.Client // live pushes; nil turns the stream off (503)
	Sender mail.Sender
	Log    *slog.Logger
	// PublicURL is the storefront's base URL, for links in messages.
	PublicURL string
	// TemplatesDir holds email templates overriding the embedded ones.
	TemplatesDir string
	// SMSProviders is the failover chain ("log", http(s) URLs); SMSToken
	// the bearer token of HTTP providers without their own.
	SMSProviders, SMSToken string
	// Heartbeat is the SSE keep-alive interval (default 15s).
	Heartbeat time.Duration
	// Meter registers commerce_sse_streams (nil: no metrics).
	Meter metric.Meter
}

// Module is the assembled notify context.
type Module struct {
	svc      *app.Service
	hub      *push.Hub
	adminHub *push.AdminHub
	http     *ports.HTTP
	log      *slog.Logger
}

// New assembles the module; bad templates or providers fail here, at
// startup, not at the first send.
func New(d Deps) (*Module, error) {
	log := d.Log.With("context", "notify")
	tpl, err := templates.Load(d.TemplatesDir)
	if err != nil {
		return nil, err
	}
	chain, err := sms.Parse(d.SMSProviders, d.SMSToken, log)
	if err != nil {
		return nil, err
	}
	svc := app.New(d.DB, d.Redis, d.Sender, app.Config{PublicURL: d.PublicURL, Templates: tpl, SMS: chain}, log)
	var hub *push.Hub
	var adminHub *push.AdminHub
	if d.Redis != nil {
		hub = push.NewHub(d.Redis, log)
		adminHub = push.NewAdminHub(d.Redis, log)
	}
	m := &Module{svc: svc, hub: hub, adminHub: adminHub, log: log,
		http: ports.NewHTTP(svc, hub, adminHub, ports.StreamConfig{Heartbeat: d.Heartbeat}, log)}
	if d.Meter != nil {
		if err := m.instrument(d.Meter); err != nil {
			log.Warn("notify metrics not registered", "err", err)
		}
	}
	return m, nil
}

// Consumers are notify's event subscriptions. After each applied event the
// notifications it created are pushed live.
func (m *Module) Consumers() []events.Consumer {
	return []events.Consumer{{
		Name: "notify.auth_emails", Inbox: "notify.inbox", After: m.svc.AfterEvent,
		Topics: []string{authapi.EventVerificationRequested, authapi.EventPasswordResetRequested, authapi.EventUserRegistered, authapi.EventUserVerified},
		Handle: m.svc.HandleAuthEvent,
	}, {
		Name: "notify.order_emails", Inbox: "notify.inbox", After: m.svc.AfterEvent, Batch: true,
		Topics: []string{orderingapi.EventOrderPlaced, orderingapi.EventPaymentReminder, orderingapi.EventOrderPaid,
			orderingapi.EventOrderExpired, orderingapi.EventOrderCanceled, orderingapi.EventOrderRefunded},
		Handle: m.svc.HandleOrderEvent,
	}, {
		Name: "notify.fulfillment_emails", Inbox: "notify.inbox", After: m.svc.AfterEvent,
		Topics: []string{fulfillmentapi.EventShipped, fulfillmentapi.EventDelivered}, Handle: m.svc.HandleFulfillmentEvent,
	}, {
		Name: "notify.cart_emails", Inbox: "notify.inbox",
		Topics: []string{cartapi.EventCartAbandoned}, Handle: m.svc.HandleCartEvent,
	}, {
		Name: "notify.chat", Inbox: "notify.inbox", After: m.svc.AfterEvent,
		Topics: []string{chatapi.EventMessageSent}, Handle: m.svc.HandleChatEvent,
	}, {
		Name: "notify.payments", Inbox: "notify.inbox", After: m.svc.AfterEvent,
		Topics: []string{paymentsapi.EventPaymentFailed, paymentsapi.EventPaymentAmountMismatch}, Handle: m.svc.HandlePaymentEvent,
	}, {
		Name: "notify.webhooks", Inbox: "notify.inbox", After: m.svc.AfterEvent,
		Topics: []string{webhooksapi.EventEndpointDisabled}, Handle: m.svc.HandleWebhookEvent,
	}}
}

// Routes mounts the HTTP routes on /api/v1.
func (m *Module) Routes(api *httpx.Router) { m.http.Routes(api) }

// SubgraphSDL is notify's GraphQL subgraph schema: what a gateway composes
// (the split topology's gateway composes it without hosting notify).
var SubgraphSDL = graph.SDL

// Subgraph is notify's part of the federated GraphQL graph: its resolvers
// call notify's app layer only.
func (m *Module) Subgraph() gql.Subgraph {
	es := graph.NewExecutableSchema(graph.Config{Resolvers: &graph.Resolver{Svc: m.svc}})
	return gql.Subgraph{Name: "notify", SDL: graph.SDL, Handler: gql.NewHandler(es, m.log)}
}

// Run delivers queued emails and texts and feeds the live streams until
// ctx ends.
func (m *Module) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return m.svc.Run(ctx) })
	if m.hub != nil {
		g.Go(func() error { return m.hub.Run(ctx) })
	}
	if m.adminHub != nil {
		g.Go(func() error { return m.adminHub.Run(ctx) })
	}
	return g.Wait()
}

// Shutdown ends every live stream (clients resume on another instance),
// so the HTTP server can drain; call it before shutting the server down.
func (m *Module) Shutdown() {
	if m.hub != nil {
		m.hub.Close()
	}
	if m.adminHub != nil {
		m.adminHub.Close()
	}
}
