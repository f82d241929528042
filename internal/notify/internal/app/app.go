// Package app turns events into queued emails and delivers queued emails
// with retries.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"golang.org/x/text/currency"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/notify/internal/templates"
	"github.com/opencommerce/commerce/internal/notify/notifyapi"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/mail"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// MaxAttempts is how often an email is tried before it is marked failed.
const MaxAttempts = 8

// Service queues and sends emails.
type Service struct {
	db        *pg.DB
	sender    mail.Sender
	publicURL string
	log       *slog.Logger
	wake      chan struct{}
}

// New builds the service.
func New(db *pg.DB, sender mail.Sender, publicURL string, log *slog.Logger) *Service {
	return &Service{db: db, sender: sender, publicURL: strings.TrimRight(publicURL, "/"), log: log, wake: make(chan struct{}, 1)}
}

// HandleAuthEvent queues the verification or reset email of an auth event,
// inside the consumer's transaction (exactly once per event).
func (s *Service) HandleAuthEvent(ctx context.Context, tx bun.Tx, e events.Envelope) error {
	var p authapi.TokenIssued
	if err := e.Decode(&p); err != nil {
		return err
	}
	var kind, page string
	switch e.Type {
	case authapi.EventVerificationRequested:
		kind, page = notifyapi.KindVerifyEmail, "/verify-email"
	case authapi.EventPasswordResetRequested:
		kind, page = notifyapi.KindPasswordReset, "/reset-password"
	default:
		return nil
	}
	r, err := templates.Render(kind, map[string]any{
		"Name": p.Name, "Token": p.Token, "ExpiresAt": p.ExpiresAt.UTC().Format(time.RFC1123),
		"Link": s.publicURL + page + "?token=" + url.QueryEscape(p.Token),
	})
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO notify.emails (id, kind, user_id, to_addr, subject, text_body, html_body)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, uuid.Must(uuid.NewV7()).String(), kind, p.UserID, p.Email, r.Subject, r.Text, r.HTML)
	if err == nil {
		s.Wake()
	}
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

// HandleOrderEvent queues the customer email of an ordering event.
func (s *Service) HandleOrderEvent(ctx context.Context, tx bun.Tx, e events.Envelope) error {
	k, ok := orderKinds[e.Type]
	if !ok {
		return nil
	}
	var p orderingapi.OrderEvent
	if err := e.Decode(&p); err != nil {
		return err
	}
	if err := notifyInApp(ctx, tx, e.ID, p.UserID, k.kind, templates.Subject(k.kind), k.headline+" Order "+p.OrderID+"."); err != nil {
		return err
	}
	if p.Email == "" {
		return nil
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
	r, err := templates.Render(k.kind, data)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO notify.emails (id, kind, user_id, to_addr, subject, text_body, html_body)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, uuid.Must(uuid.NewV7()).String(), k.kind, p.UserID, p.Email, r.Subject, r.Text, r.HTML)
	if err == nil {
		s.Wake()
	}
	return err
}

// HandleFulfillmentEvent emails the customer when the order ships.
func (s *Service) HandleFulfillmentEvent(ctx context.Context, tx bun.Tx, e events.Envelope) error {
	if e.Type != fulfillmentapi.EventShipped {
		return nil
	}
	var p fulfillmentapi.FulfillmentEvent
	if err := e.Decode(&p); err != nil {
		return err
	}
	if err := notifyInApp(ctx, tx, e.ID, p.UserID, notifyapi.KindOrderShipped, templates.Subject(notifyapi.KindOrderShipped),
		"Order "+p.OrderID+" is on its way ("+p.Courier+", tracking "+p.TrackingID+")."); err != nil {
		return err
	}
	if p.Email == "" {
		return nil
	}
	reason := "Tracking: " + p.TrackingID
	if p.ETA != "" {
		reason += ", expected by " + p.ETA[:10]
	}
	r, err := templates.Render(notifyapi.KindOrderShipped, map[string]any{"Headline": "Your order is on its way (" + p.Courier + ").", "OrderID": p.OrderID,
		"Total": "", "Link": s.publicURL + "/orders/" + p.OrderID, "Reason": reason, "PayBy": "", "Refunded": ""})
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO notify.emails (id, kind, user_id, to_addr, subject, text_body, html_body)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, uuid.Must(uuid.NewV7()).String(), notifyapi.KindOrderShipped, p.UserID, p.Email, r.Subject, r.Text, r.HTML)
	if err == nil {
		s.Wake()
	}
	return err
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

type queued struct {
	ID       string `bun:"id"`
	To       string `bun:"to_addr"`
	Subject  string `bun:"subject"`
	Text     string `bun:"text_body"`
	HTML     string `bun:"html_body"`
	Attempts int    `bun:"attempts"`
}

// Run delivers pending emails until ctx ends. A batch is claimed by pushing
// next_attempt_at forward in a short transaction; the SMTP call happens
// outside any transaction; success or failure is recorded afterwards. A
// crash mid-send means the email is tried again later (at-least-once).
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		n, err := s.DispatchOnce(ctx)
		if err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "email dispatch failed", "err", err)
		}
		if n > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
	}
}

// DispatchOnce sends one batch and returns how many emails it handled.
func (s *Service) DispatchOnce(ctx context.Context) (int, error) {
	var batch []queued
	err := s.db.NewRaw(`UPDATE notify.emails SET attempts = attempts + 1,
			next_attempt_at = now() + make_interval(secs => least(300, 2 ^ attempts * 5))
		WHERE id IN (SELECT id FROM notify.emails WHERE status = 'pending' AND next_attempt_at <= now()
		             ORDER BY next_attempt_at LIMIT 10 FOR UPDATE SKIP LOCKED)
		RETURNING id::text, to_addr, subject, text_body, html_body, attempts`).Scan(ctx, &batch)
	if err != nil {
		return 0, err
	}
	for _, q := range batch {
		sendCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := s.sender.Send(sendCtx, mail.Message{To: q.To, Subject: q.Subject, Text: q.Text, HTML: q.HTML})
		cancel()
		if err == nil {
			_, err = s.db.ExecContext(ctx, "UPDATE notify.emails SET status = 'sent', sent_at = now(), last_error = NULL WHERE id = ?", q.ID)
			if err != nil {
				return len(batch), err
			}
			continue
		}
		status := "pending"
		if q.Attempts >= MaxAttempts {
			status = "failed"
		}
		s.log.WarnContext(ctx, "email not sent", "email_id", q.ID, "attempt", q.Attempts, "err", err)
		if _, uerr := s.db.ExecContext(ctx, "UPDATE notify.emails SET status = ?, last_error = ? WHERE id = ?", status, truncate(err.Error(), 1000), q.ID); uerr != nil {
			return len(batch), fmt.Errorf("record send failure: %w", uerr)
		}
	}
	return len(batch), nil
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
