// Package app turns events of auth, ordering, payments and fulfillment into
// in-app notifications (pushed live to the user's streams), emails and
// text messages, and delivers the queued emails and texts with retries.
package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"golang.org/x/text/currency"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/notify/internal/sms"
	"github.com/opencommerce/commerce/internal/notify/internal/templates"
	"github.com/opencommerce/commerce/internal/notify/notifyapi"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/mail"
	"github.com/opencommerce/commerce/internal/platform/otelx"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/webhooks/webhooksapi"
)

// MaxAttempts is how often an email or text is tried before it is marked failed.
const MaxAttempts = 8

// Config is what the service needs besides its stores.
type Config struct {
	PublicURL string
	Templates *templates.Set
	SMS       sms.Failover
}

// Service queues and sends notifications.
type Service struct {
	db        *pg.DB
	rdb       *redis.Client
	sender    mail.Sender
	sms       sms.Failover
	tpl       *templates.Set
	publicURL string
	log       *slog.Logger
	wake      chan struct{}
}

// New builds the service. rdb carries live pushes; nil disables them.
func New(db *pg.DB, rdb *redis.Client, sender mail.Sender, cfg Config, log *slog.Logger) *Service {
	if cfg.Templates == nil {
		cfg.Templates = templates.Default()
	}
	if len(cfg.SMS) == 0 {
		cfg.SMS = sms.Failover{sms.Log{Logger: log}}
	}
	return &Service{db: db, rdb: rdb, sender: sender, sms: cfg.SMS, tpl: cfg.Templates, publicURL: strings.TrimRight(cfg.PublicURL, "/"),
		log: log, wake: make(chan struct{}, 1)}
}

// contact is whom an event is about and how to reach them.
type contact struct{ userID, email, phone string }

// deliver records what one event tells one user, inside the consumer's
// transaction (so exactly once per event and channel): the in-app
// notification, the email when there is an address and a template, and a
// text when there is a phone and the kind asks for one.
func (s *Service) deliver(ctx context.Context, tx bun.Tx, e events.Envelope, to contact, kind, title, body string, email map[string]any) error {
	if err := notifyInApp(ctx, tx, e.ID, to.userID, kind, title, body); err != nil {
		return err
	}
	if email != nil && to.email != "" {
		if err := s.queueEmail(ctx, tx, e.ID, kind, to.userID, to.email, email); err != nil {
			return err
		}
	}
	if smsKinds[kind] && to.phone != "" {
		text := title + ": " + body
		if len(text) > 300 {
			text = text[:297] + "..."
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO notify.sms (id, kind, user_id, to_phone, body, trace_parent) VALUES (?, ?, ?, ?, ?, nullif(?, ''))
			ON CONFLICT (id) DO NOTHING`, derivedID(e.ID, "sms/"+kind), kind, nullUUID(to.userID), to.phone, text, otelx.TraceParent(ctx)); err != nil {
			return err
		}
	}
	return nil
}

// smsKinds are the kinds worth a text message: time-critical ones.
var smsKinds = map[string]bool{
	notifyapi.KindPaymentReminder: true, notifyapi.KindOrderPaid: true, notifyapi.KindOrderShipped: true,
}

// derivedID is a stable id for what an event causes, so a redelivered
// event cannot queue a second email, text or notification.
func derivedID(eventID, what string) string {
	return notifyapi.DerivedID(eventID, what)
}

func nullUUID(s string) any {
	if _, err := uuid.Parse(s); err != nil {
		return nil
	}
	return s
}

// HandleAuthEvent turns auth's events into the verification and reset
// emails and the account notifications.
func (s *Service) HandleAuthEvent(ctx context.Context, tx bun.Tx, e events.Envelope) error {
	switch e.Type {
	case authapi.EventVerificationRequested, authapi.EventPasswordResetRequested:
		var p authapi.TokenIssued
		if err := e.Decode(&p); err != nil {
			return err
		}
		if err := rememberUser(ctx, tx, p.UserID, p.Email, p.Name); err != nil {
			return err
		}
		kind, page := notifyapi.KindVerifyEmail, "/verify-email"
		if e.Type == authapi.EventPasswordResetRequested {
			kind, page = notifyapi.KindPasswordReset, "/reset-password"
		}
		data := map[string]any{"Name": p.Name, "Token": p.Token, "ExpiresAt": p.ExpiresAt.UTC().Format(time.RFC1123),
			"Link": s.publicURL + page + "?token=" + url.QueryEscape(p.Token)}
		if kind == notifyapi.KindVerifyEmail {
			// The welcome notification says what to do; the token goes by email only.
			return s.queueEmail(ctx, tx, e.ID, kind, p.UserID, p.Email, data)
		}
		return s.deliver(ctx, tx, e, contact{userID: p.UserID, email: p.Email}, kind, s.tpl.Subject(kind),
			"A password reset was requested for your account. If it was not you, you can ignore the email we sent.", data)
	case authapi.EventUserRegistered:
		var p authapi.UserRegistered
		if err := e.Decode(&p); err != nil {
			return err
		}
		if err := rememberUser(ctx, tx, p.UserID, p.Email, p.Name); err != nil {
			return err
		}
		if p.Role == authn.RoleAdmin {
			// Administrators are created verified; they need no welcome.
			_, err := tx.ExecContext(ctx, "UPDATE notify.users SET role = ? WHERE user_id = ?", authn.RoleAdmin, p.UserID)
			return err
		}
		return notifyInApp(ctx, tx, e.ID, p.UserID, notifyapi.KindWelcome, "Welcome", "Your account is ready. Confirm your email address with the link we sent you.")
	case authapi.EventUserVerified:
		var p authapi.UserVerified
		if err := e.Decode(&p); err != nil {
			return err
		}
		return notifyInApp(ctx, tx, e.ID, p.UserID, notifyapi.KindEmailVerified, "Email address confirmed", "Your email address "+p.Email+" is confirmed.")
	}
	return nil
}

// rememberUser keeps the address notify may write to outside orders.
func rememberUser(ctx context.Context, tx bun.Tx, userID, email, name string) error {
	if nullUUID(userID) == nil || email == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO notify.users (user_id, email, name) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, name = excluded.name, updated_at = now()`, userID, email, name)
	return err
}

func (s *Service) queueEmail(ctx context.Context, tx bun.Tx, eventID, kind, userID, to string, data map[string]any) error {
	r, err := s.tpl.Render(kind, data)
	if err != nil {
		return err
	}
	// The trace context travels with the row: the dispatcher sends the
	// email in the trace of the event that queued it.
	_, err = tx.ExecContext(ctx, `INSERT INTO notify.emails (id, kind, user_id, to_addr, subject, text_body, html_body, trace_parent)
		VALUES (?, ?, ?, ?, ?, ?, ?, nullif(?, '')) ON CONFLICT (id) DO NOTHING`, derivedID(eventID, "email/"+kind), kind, nullUUID(userID), to, r.Subject, r.Text, r.HTML,
		otelx.TraceParent(ctx))
	return err
}

var orderKinds = map[string]struct{ kind, headline string }{
	orderingapi.EventOrderPlaced:     {notifyapi.KindOrderPlaced, "Thanks for your order. It is reserved for you until the pay-by time below."},
	orderingapi.EventPaymentReminder: {notifyapi.KindPaymentReminder, "Your order is still waiting for payment."},
	orderingapi.EventOrderPaid:       {notifyapi.KindOrderPaid, "We received your payment. We will let you know when it ships."},
	orderingapi.EventOrderExpired:    {notifyapi.KindOrderExpired, "Your order expired because it was not paid in time; the items were released."},
	orderingapi.EventOrderCanceled:   {notifyapi.KindOrderCanceled, "Your order was canceled."},
	orderingapi.EventOrderRefunded:   {notifyapi.KindOrderRefunded, "We issued a refund for your order."},
}

// HandleOrderEvent notifies the customer of an ordering event and keeps
// notify's record of whom each order belongs to.
func (s *Service) HandleOrderEvent(ctx context.Context, tx bun.Tx, e events.Envelope) error {
	k, ok := orderKinds[e.Type]
	if !ok {
		return nil
	}
	var p orderingapi.OrderEvent
	if err := e.Decode(&p); err != nil {
		return err
	}
	if nullUUID(p.UserID) != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO notify.orders (order_id, user_id, email, phone) VALUES (?, ?, ?, ?)
			ON CONFLICT (order_id) DO UPDATE SET email = excluded.email, phone = excluded.phone, updated_at = now()`,
			p.OrderID, p.UserID, p.Email, p.Phone); err != nil {
			return err
		}
	}
	data := map[string]any{"Headline": k.headline, "OrderID": p.OrderID, "Total": money(p.Total, p.Currency),
		"Link": s.publicURL + "/orders/" + p.OrderID, "Reason": p.Reason, "PayBy": "", "Refunded": ""}
	if e.Type == orderingapi.EventOrderPlaced || e.Type == orderingapi.EventPaymentReminder {
		if t, err := time.Parse(time.RFC3339, p.ExpiresAt); err == nil {
			data["PayBy"] = t.UTC().Format(time.RFC1123)
		}
	}
	if p.RefundedAmount > 0 {
		data["Refunded"] = money(p.RefundedAmount, p.Currency)
	}
	return s.deliver(ctx, tx, e, contact{p.UserID, p.Email, p.Phone}, k.kind, s.tpl.Subject(k.kind), k.headline+" Order "+p.OrderID+".", data)
}

// orderContact is whom an order belongs to, from notify's own record.
func orderContact(ctx context.Context, tx bun.Tx, orderID string) (contact, bool, error) {
	var c contact
	err := tx.QueryRowContext(ctx, "SELECT user_id::text, email, phone FROM notify.orders WHERE order_id = ?", orderID).Scan(&c.userID, &c.email, &c.phone)
	if err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return c, false, nil
		}
		return c, false, err
	}
	return c, true, nil
}

// HandlePaymentEvent tells the customer a payment attempt failed (success
// and refunds reach them through ordering's events).
func (s *Service) HandlePaymentEvent(ctx context.Context, tx bun.Tx, e events.Envelope) error {
	switch e.Type {
	case paymentsapi.EventPaymentFailed:
		var p paymentsapi.PaymentEvent
		if err := e.Decode(&p); err != nil {
			return err
		}
		to, ok, err := orderContact(ctx, tx, p.OrderID)
		if err != nil || !ok {
			return err // an order notify never heard of has no one to tell
		}
		return notifyInApp(ctx, tx, e.ID, to.userID, notifyapi.KindPaymentFailed, "Payment failed",
			"The payment of "+money(p.Amount, strings.ToUpper(p.Currency))+" for order "+p.OrderID+" did not go through. You can try again before the order expires.")
	case paymentsapi.EventPaymentAmountMismatch:
		return s.tellAdminsMismatch(ctx, tx, e)
	}
	return nil
}

// tellAdminsMismatch gives every administrator an in-app notification
// (pushed live after commit) about a payment that needs review.
func (s *Service) tellAdminsMismatch(ctx context.Context, tx bun.Tx, e events.Envelope) error {
	var m paymentsapi.AmountMismatchEvent
	if err := e.Decode(&m); err != nil {
		return err
	}
	got := "no amount"
	switch {
	case m.ReceivedAmount >= 0 && m.ReceivedCurrency == "":
		got = strconv.FormatInt(m.ReceivedAmount, 10) + " (minor units, no currency)"
	case m.ReceivedAmount >= 0:
		got = money(m.ReceivedAmount, strings.ToUpper(m.ReceivedCurrency))
	}
	body := "The " + m.Gateway + " payment " + m.PaymentID + " for order " + m.OrderID + " reported " + got + " instead of " +
		money(m.ExpectedAmount, strings.ToUpper(m.ExpectedCurrency)) + " (provider event " + m.ProviderEventID +
		"). The order was not marked paid; review the payment with the provider."
	var admins []string
	if err := tx.NewRaw("SELECT user_id::text FROM notify.users WHERE role = ? ORDER BY user_id", authn.RoleAdmin).Scan(ctx, &admins); err != nil {
		return fmt.Errorf("admins to tell: %w", err)
	}
	if len(admins) == 0 {
		s.log.ErrorContext(ctx, "payment needs review and no administrator is known to notify", "payment_id", m.PaymentID, "order_id", m.OrderID)
	}
	for _, id := range admins {
		if err := notifyInAppKeyed(ctx, tx, e.ID, e.ID+":"+id, id, notifyapi.KindPaymentReview, "Payment needs review", body); err != nil {
			return err
		}
	}
	return nil
}

// HandleWebhookEvent tells every administrator, in-app and by email, that
// a webhook endpoint was disabled after failing for a day.
func (s *Service) HandleWebhookEvent(ctx context.Context, tx bun.Tx, e events.Envelope) error {
	if e.Type != webhooksapi.EventEndpointDisabled {
		return nil
	}
	var d webhooksapi.EndpointDisabled
	if err := e.Decode(&d); err != nil {
		return err
	}
	since := d.FailingSince.UTC().Format("2006-01-02 15:04 UTC")
	body := "The webhook endpoint " + d.URL + " failed every delivery since " + since + " and was disabled; fix the receiver and enable it again."
	var admins []struct {
		ID    string `bun:"user_id"`
		Email string `bun:"email"`
		Name  string `bun:"name"`
	}
	if err := tx.NewRaw("SELECT user_id::text, email, name FROM notify.users WHERE role = ? ORDER BY user_id", authn.RoleAdmin).Scan(ctx, &admins); err != nil {
		return fmt.Errorf("admins to tell: %w", err)
	}
	if len(admins) == 0 {
		s.log.ErrorContext(ctx, "webhook endpoint disabled and no administrator is known to notify", "endpoint_id", d.EndpointID)
	}
	for _, a := range admins {
		if err := notifyInAppKeyed(ctx, tx, e.ID, e.ID+":"+a.ID, a.ID, notifyapi.KindWebhookDisabled, "Webhook endpoint disabled", body); err != nil {
			return err
		}
		if err := s.queueEmail(ctx, tx, e.ID+":"+a.ID, notifyapi.KindWebhookDisabled, a.ID, a.Email,
			map[string]any{"Name": a.Name, "URL": d.URL, "Description": d.Description, "Since": since}); err != nil {
			return err
		}
	}
	return nil
}

// HandleFulfillmentEvent tells the customer the order shipped or arrived.
func (s *Service) HandleFulfillmentEvent(ctx context.Context, tx bun.Tx, e events.Envelope) error {
	var p fulfillmentapi.FulfillmentEvent
	if err := e.Decode(&p); err != nil {
		return err
	}
	to := contact{userID: p.UserID, email: p.Email}
	if c, ok, err := orderContact(ctx, tx, p.OrderID); err != nil {
		return err
	} else if ok {
		to.phone = c.phone
	}
	switch e.Type {
	case fulfillmentapi.EventShipped:
		reason := "Tracking: " + p.TrackingID
		if len(p.ETA) >= 10 {
			reason += ", expected by " + p.ETA[:10]
		}
		return s.deliver(ctx, tx, e, to, notifyapi.KindOrderShipped, s.tpl.Subject(notifyapi.KindOrderShipped),
			"Order "+p.OrderID+" is on its way ("+p.Courier+", tracking "+p.TrackingID+").",
			map[string]any{"Headline": "Your order is on its way (" + p.Courier + ").", "OrderID": p.OrderID,
				"Total": "", "Link": s.publicURL + "/orders/" + p.OrderID, "Reason": reason, "PayBy": "", "Refunded": ""})
	case fulfillmentapi.EventDelivered:
		return s.deliver(ctx, tx, e, to, notifyapi.KindOrderDelivered, "Your order was delivered", "Order "+p.OrderID+" was delivered.", nil)
	}
	return nil
}

// money formats minor units with the currency's decimals (12.99 USD).
func money(minor int64, cur string) string {
	digits := 2
	if u, err := currency.ParseISO(cur); err == nil {
		digits, _ = currency.Standard.Rounding(u)
	}
	if digits == 0 {
		return fmt.Sprintf("%d %s", minor, cur)
	}
	div := int64(1)
	for i := 0; i < digits; i++ {
		div *= 10
	}
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%0*d %s", sign, minor/div, digits, minor%div, cur)
}

// Wake makes the dispatcher look for work now.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}
