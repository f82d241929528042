// Package app holds payments' use cases: intents, signed webhooks applied
// once, refunds that never exceed the captured amount, and the provider
// calls that run outside transactions with retries.
package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/payments/internal/gateway"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Service implements paymentsapi.Payments.
type Service struct {
	db       *pg.DB
	outbox   *events.Outbox
	gateways map[string]gateway.Gateway
	log      *slog.Logger
	now      func() time.Time
	inst     instruments // metrics.go
}

// New builds the service over the configured gateways.
func New(db *pg.DB, outbox *events.Outbox, gws []gateway.Gateway, log *slog.Logger) *Service {
	m := map[string]gateway.Gateway{}
	for _, g := range gws {
		m[g.Name()] = g
	}
	return &Service{db: db, outbox: outbox, gateways: m, log: log, now: time.Now}
}

var _ paymentsapi.Payments = (*Service)(nil)

// Payment is a stored payment (admin view).
type Payment struct {
	ID             string    `bun:"id" json:"id"`
	OrderID        string    `bun:"order_id" json:"order_id"`
	Gateway        string    `bun:"gateway" json:"gateway"`
	IntentID       string    `bun:"provider_intent_id" json:"intent_id"`
	ClientSecret   string    `bun:"client_secret" json:"-"`
	Amount         int64     `bun:"amount" json:"amount"`
	Currency       string    `bun:"currency" json:"currency"`
	Status         string    `bun:"status" json:"status" enum:"requires_payment,succeeded,failed,canceled,amount_mismatch"`
	AmountCaptured int64     `bun:"amount_captured" json:"amount_captured"`
	AmountRefunded int64     `bun:"amount_refunded" json:"amount_refunded"`
	CreatedAt      time.Time `bun:"created_at" json:"created_at"`
	UpdatedAt      time.Time `bun:"updated_at" json:"updated_at"`
	Refunds        []Refund  `bun:"-" json:"refunds"`
}

// Refund is a stored refund.
type Refund struct {
	ID        string    `bun:"id" json:"id"`
	PaymentID string    `bun:"payment_id" json:"-"`
	Amount    int64     `bun:"amount" json:"amount"`
	Reason    string    `bun:"reason" json:"reason"`
	Status    string    `bun:"status" json:"status"`
	CreatedAt time.Time `bun:"created_at" json:"created_at"`
}

const paymentCols = "id::text, order_id::text, gateway, provider_intent_id, client_secret, amount, currency, status, amount_captured, amount_refunded, created_at, updated_at"

func (s *Service) payment(ctx context.Context, db bun.IDB, where string, arg any, lock bool) (*Payment, error) {
	q := "SELECT " + paymentCols + " FROM payments.payments WHERE " + where
	if lock {
		q += " FOR UPDATE"
	}
	p := new(Payment)
	err := db.NewRaw(q, arg).Scan(ctx, p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, paymentsapi.ErrNotFound
	}
	return p, err
}

func toIntent(p *Payment) paymentsapi.Intent {
	return paymentsapi.Intent{PaymentID: p.ID, Gateway: p.Gateway, IntentID: p.IntentID, ClientSecret: p.ClientSecret, Status: p.Status}
}

// CreateIntent implements paymentsapi.Payments: the provider is called with
// the order id as idempotency key, outside any transaction; the row is
// then stored once (a concurrent duplicate finds it).
func (s *Service) CreateIntent(ctx context.Context, orderID, userID, gw string, amount int64, currency string) (paymentsapi.Intent, error) {
	g, ok := s.gateways[gw]
	if !ok {
		return paymentsapi.Intent{}, paymentsapi.ErrUnknownGateway
	}
	intentID, secret, err := g.CreateIntent(ctx, amount, currency, orderID, "order-"+orderID)
	if err != nil {
		s.log.ErrorContext(ctx, "create payment intent", "gateway", gw, "err", err)
		return paymentsapi.Intent{}, paymentsapi.ErrGateway
	}
	// The provider call is idempotent per order (same key), so a repeat
	// gets the same intent; the row is stored once and the stored one wins.
	p := new(Payment)
	var owner any
	if _, perr := uuid.Parse(userID); perr == nil {
		owner = userID
	}
	err = s.db.NewRaw(`INSERT INTO payments.payments (id, order_id, user_id, gateway, provider_intent_id, client_secret, amount, currency, status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'requires_payment') ON CONFLICT (order_id) DO NOTHING RETURNING `+paymentCols,
		uuid.Must(uuid.NewV7()).String(), orderID, owner, gw, intentID, secret, amount, currency).Scan(ctx, p)
	if errors.Is(err, sql.ErrNoRows) {
		p, err = s.payment(ctx, s.db, "order_id = ?", orderID, false)
	}
	if err != nil {
		return paymentsapi.Intent{}, err
	}
	return toIntent(p), nil
}

// RequestCancel implements paymentsapi.Payments.
func (s *Service) RequestCancel(ctx context.Context, orderID string) error {
	return s.requestCancel(ctx, s.db, orderID)
}

func (s *Service) requestCancel(ctx context.Context, db bun.IDB, orderID string) error {
	_, err := db.ExecContext(ctx, `UPDATE payments.payments SET cancel_requested_at = coalesce(cancel_requested_at, now()), updated_at = now()
		WHERE order_id = ? AND status = 'requires_payment'`, orderID)
	return err
}

// ErrUnknownGateway is answered for webhooks of an unconfigured gateway.
var ErrUnknownGateway = errs.New(errs.NotFound, "not_found", "no such payment gateway")

// HandleWebhook verifies and applies one provider event. A replay of an
// event id is acknowledged with no second effect. State never moves
// backwards: a success after a failure wins, a failure after a success
// is ignored.
func (s *Service) HandleWebhook(ctx context.Context, gw string, body []byte, signature string) error {
	g, ok := s.gateways[gw]
	if !ok {
		return ErrUnknownGateway
	}
	ev, err := gateway.Verify(body, signature, g.WebhookSecrets(), s.now())
	if err != nil {
		return errs.New(errs.BadRequest, "invalid_signature", err.Error())
	}
	return s.apply(ctx, gw, ev)
}

// apply records and applies one verified provider event: the one path for
// webhooks and for test-card confirmations, so both dedupe and publish
// the same way.
func (s *Service) apply(ctx context.Context, gw string, ev gateway.Event) error {
	var outcome string // counted once committed
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, "INSERT INTO payments.webhook_events (gateway, event_id, type) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", gw, ev.ID, ev.Type)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil // already processed
		}
		var p *Payment
		if oid := ev.Data.Object.Metadata["order_id"]; oid != "" {
			if _, perr := uuid.Parse(oid); perr == nil {
				p, err = s.payment(ctx, tx, "order_id = ?", oid, true)
			}
		}
		if p == nil {
			p, err = s.payment(ctx, tx, "provider_intent_id = ?", ev.Data.Object.ID, true)
		}
		if errors.Is(err, paymentsapi.ErrNotFound) || p == nil || p.Gateway != gw || p.IntentID != ev.Data.Object.ID {
			// An event naming one order's id in its metadata but another
			// intent is not that order's payment.
			s.log.WarnContext(ctx, "webhook for an unknown intent ignored", "gateway", gw, "event_id", ev.ID)
			return s.recordEvent(ctx, tx, gw, ev, "", "unknown_intent")
		}
		if err != nil {
			return err
		}
		var typ, status string
		switch ev.Type {
		case "payment_intent.succeeded":
			if p.Status == paymentsapi.StatusSucceeded {
				return s.recordEvent(ctx, tx, gw, ev, p.ID, "already_succeeded")
			}
			if got, cur, ok := received(ev); !ok || got != p.Amount || !strings.EqualFold(cur, p.Currency) {
				outcome = paymentsapi.StatusAmountMismatch
				return s.amountMismatch(ctx, tx, gw, ev, p, got, cur)
			}
			typ, status = paymentsapi.EventPaymentSucceeded, paymentsapi.StatusSucceeded
		case "payment_intent.payment_failed":
			if p.Status != paymentsapi.StatusRequiresPayment {
				return s.recordEvent(ctx, tx, gw, ev, p.ID, "ignored")
			}
			typ, status = paymentsapi.EventPaymentFailed, paymentsapi.StatusFailed
		default:
			return s.recordEvent(ctx, tx, gw, ev, p.ID, "ignored")
		}
		// Only a success captures money, and only the intent's own amount
		// (checked above): refunds are bounded by amount_captured.
		if _, err := tx.ExecContext(ctx, `UPDATE payments.payments SET status = ?,
			amount_captured = CASE WHEN ? = 'succeeded' THEN amount ELSE amount_captured END, updated_at = now() WHERE id = ?`, status, status, p.ID); err != nil {
			return err
		}
		if err := s.recordEvent(ctx, tx, gw, ev, p.ID, status); err != nil {
			return err
		}
		out, err := events.New(typ, p.OrderID, paymentsapi.PaymentEvent{PaymentID: p.ID, OrderID: p.OrderID, Gateway: gw, IntentID: p.IntentID, Amount: p.Amount, Currency: p.Currency})
		if err != nil {
			return err
		}
		outcome = status
		return s.outbox.Publish(ctx, tx, out)
	})
	if err == nil {
		s.inst.payment(ctx, gw, outcome)
	}
	return err
}

// Test cards of the test gateway, as in Stripe's test mode.
const (
	CardSucceeds          = "4242424242424242"
	CardDeclined          = "4000000000000002"
	CardInsufficientFunds = "4000000000009995"
)

// Errors of test-card confirmations.
var (
	ErrCardDeclined      = errs.New(errs.Invalid, "card_declined", "the card was declined")
	ErrInsufficientFunds = errs.New(errs.Invalid, "insufficient_funds", "the card has insufficient funds")
	ErrPaymentClosed     = errs.New(errs.Conflict, "payment_closed", "this payment can no longer be confirmed")
	ErrNotTestPayment    = errs.New(errs.Conflict, "not_a_test_payment", "only payments of the test gateway can be confirmed with a test card")
	ErrTestCard          = errs.Validation(errs.Field("card_number", "use a test card: 4242 4242 4242 4242 (succeeds), 4000 0000 0000 0002 (declined), 4000 0000 0000 9995 (insufficient funds)"))
)

// ConfirmTest pays (or fails) a test-gateway intent with a test card, the
// way Stripe test mode does in a browser. The outcome becomes a provider
// event with an id derived from the intent and the outcome, applied
// through exactly the webhook path (same dedupe, same events). Only the
// order's owner may confirm; anyone else gets not found.
func (s *Service) ConfirmTest(ctx context.Context, userID, intentID, card string) (string, error) {
	if _, ok := s.gateways["test"]; !ok {
		return "", ErrUnknownGateway
	}
	card = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, card)
	var typ, outcome string
	var decline *errs.Error
	switch card {
	case CardSucceeds:
		typ, outcome = "payment_intent.succeeded", paymentsapi.StatusSucceeded
	case CardDeclined:
		typ, outcome, decline = "payment_intent.payment_failed", "card_declined", ErrCardDeclined
	case CardInsufficientFunds:
		typ, outcome, decline = "payment_intent.payment_failed", "insufficient_funds", ErrInsufficientFunds
	default:
		return "", ErrTestCard
	}
	p, err := s.payment(ctx, s.db, "provider_intent_id = ?", intentID, false)
	if errors.Is(err, paymentsapi.ErrNotFound) {
		return "", paymentsapi.ErrNotFound
	}
	if err != nil {
		return "", err
	}
	var owner sql.NullString
	if err := s.db.NewRaw("SELECT user_id::text FROM payments.payments WHERE id = ?", p.ID).Scan(ctx, &owner); err != nil {
		return "", fmt.Errorf("payment owner: %w", err)
	}
	if !owner.Valid || owner.String != userID {
		return "", paymentsapi.ErrNotFound
	}
	if p.Gateway != "test" {
		return "", ErrNotTestPayment
	}
	switch {
	case p.Status == paymentsapi.StatusSucceeded && outcome == paymentsapi.StatusSucceeded:
		return p.Status, nil // a repeated confirmation: already paid
	case p.Status == paymentsapi.StatusSucceeded || p.Status == paymentsapi.StatusCanceled:
		return "", ErrPaymentClosed.WithDetail("this payment is already " + p.Status)
	}
	var ev gateway.Event
	ev.ID = "evt_card_" + strings.ReplaceAll(uuid.NewSHA1(uuid.NameSpaceOID, []byte(p.IntentID+":"+outcome)).String(), "-", "")
	ev.Type = typ
	ev.Data.Object.ID = p.IntentID
	amount := p.Amount
	ev.Data.Object.Amount, ev.Data.Object.AmountReceived, ev.Data.Object.Currency = &amount, &amount, strings.ToLower(p.Currency)
	ev.Data.Object.Metadata = map[string]string{"order_id": p.OrderID}
	if err := s.apply(ctx, "test", ev); err != nil {
		return "", err
	}
	if decline != nil {
		return outcome, decline
	}
	after, err := s.payment(ctx, s.db, "id = ?", p.ID, false)
	if err != nil {
		return "", err
	}
	return after.Status, nil
}

// received is the money a success event reports: amount_received when the
// provider sent it (Stripe does), else amount. ok is false when the event
// names no amount or no currency, which can never pay an order.
func received(ev gateway.Event) (amount int64, currency string, ok bool) {
	o := ev.Data.Object
	switch {
	case o.AmountReceived != nil:
		amount = *o.AmountReceived
	case o.Amount != nil:
		amount = *o.Amount
	default:
		return -1, o.Currency, false
	}
	return amount, o.Currency, o.Currency != ""
}

// amountMismatch handles a signed success whose money differs from the
// intent's: the payment becomes reviewable, the order stays unpaid (its
// deadline still applies), admins are told through the event and the
// error log, and the provider gets a 2xx so it stops retrying.
func (s *Service) amountMismatch(ctx context.Context, tx bun.Tx, gw string, ev gateway.Event, p *Payment, got int64, cur string) error {
	s.log.ErrorContext(ctx, "payment succeeded with an amount or currency other than the intent's; order left unpaid for review",
		"payment_id", p.ID, "order_id", p.OrderID, "gateway", gw, "intent_id", p.IntentID, "event_id", ev.ID,
		"expected_amount", p.Amount, "expected_currency", p.Currency, "received_amount", got, "received_currency", cur)
	if _, err := tx.ExecContext(ctx, "UPDATE payments.payments SET status = ?, updated_at = now() WHERE id = ?", paymentsapi.StatusAmountMismatch, p.ID); err != nil {
		return fmt.Errorf("mark payment %s amount_mismatch: %w", p.ID, err)
	}
	if err := s.recordEvent(ctx, tx, gw, ev, p.ID, paymentsapi.StatusAmountMismatch); err != nil {
		return err
	}
	out, err := events.New(paymentsapi.EventPaymentAmountMismatch, p.OrderID, paymentsapi.AmountMismatchEvent{PaymentID: p.ID, OrderID: p.OrderID,
		Gateway: gw, IntentID: p.IntentID, ProviderEventID: ev.ID, ExpectedAmount: p.Amount, ExpectedCurrency: p.Currency,
		ReceivedAmount: got, ReceivedCurrency: strings.ToUpper(cur)})
	if err != nil {
		return err
	}
	return s.outbox.Publish(ctx, tx, out)
}

// recordEvent stores what a processed provider event said and what was
// done with it, for review.
func (s *Service) recordEvent(ctx context.Context, tx bun.Tx, gw string, ev gateway.Event, paymentID, outcome string) error {
	o := ev.Data.Object
	amount := o.AmountReceived
	if amount == nil {
		amount = o.Amount
	}
	var pid any
	if paymentID != "" {
		pid = paymentID
	}
	if _, err := tx.ExecContext(ctx, `UPDATE payments.webhook_events SET payment_id = ?, amount = ?, currency = nullif(?, ''), outcome = ?
		WHERE gateway = ? AND event_id = ?`, pid, amount, strings.ToUpper(o.Currency), outcome, gw, ev.ID); err != nil {
		return fmt.Errorf("record webhook event %s: %w", ev.ID, err)
	}
	return nil
}

// Gateways implements paymentsapi.Payments: the configured gateways.
func (s *Service) Gateways(context.Context) ([]paymentsapi.Gateway, error) {
	out := make([]paymentsapi.Gateway, 0, len(s.gateways))
	for _, name := range []string{"stripe", "test"} {
		if _, ok := s.gateways[name]; !ok {
			continue
		}
		g := paymentsapi.Gateway{Name: name, DisplayName: "Card (Stripe)"}
		if name == "test" {
			g.DisplayName, g.Test = "Test payment (no money moves)", true
		}
		out = append(out, g)
	}
	return out, nil
}

// Refund implements paymentsapi.Payments: reserve the amount as a pending
// refund under the payment row lock (so concurrent refunds cannot add up
// past the captured amount), call the provider outside the transaction
// with the refund id as idempotency key, then record the outcome.
func (s *Service) Refund(ctx context.Context, orderID string, amount int64, reason, key string) (paymentsapi.Refund, error) {
	if amount <= 0 {
		return paymentsapi.Refund{}, errs.Validation(errs.Field("amount", "must be a positive amount in minor units"))
	}
	refundID := uuid.Must(uuid.NewV7()).String()
	if key != "" {
		refundID = uuid.NewSHA1(uuid.NameSpaceOID, []byte("refund:"+orderID+":"+key)).String()
	}
	var p *Payment
	var existing *Refund
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if p, err = s.payment(ctx, tx, "order_id = ?", orderID, true); err != nil {
			return err
		}
		r := new(Refund)
		if err := tx.NewRaw("SELECT id::text, payment_id::text, amount, reason, status, created_at FROM payments.refunds WHERE id = ?", refundID).Scan(ctx, r); err == nil {
			existing = r
			return nil
		}
		if p.Status != paymentsapi.StatusSucceeded || p.AmountCaptured == 0 {
			return paymentsapi.ErrNotCaptured
		}
		var held int64
		if err := tx.NewRaw("SELECT coalesce(sum(amount), 0) FROM payments.refunds WHERE payment_id = ? AND status IN ('pending', 'succeeded')", p.ID).Scan(ctx, &held); err != nil {
			return err
		}
		if held+amount > p.AmountCaptured {
			return paymentsapi.ErrRefundTooLarge.WithDetail("refunds would total more than the captured amount")
		}
		_, err = tx.ExecContext(ctx, "INSERT INTO payments.refunds (id, payment_id, amount, reason, status) VALUES (?, ?, ?, ?, 'pending')", refundID, p.ID, amount, reason)
		return err
	})
	if err != nil {
		return paymentsapi.Refund{}, err
	}
	if existing != nil && existing.Status != "pending" {
		return s.refundResult(ctx, p.ID, existing)
	}
	if err := s.executeRefund(ctx, p, refundID, amount, reason); err != nil {
		return paymentsapi.Refund{}, err
	}
	r := new(Refund)
	if err := s.db.NewRaw("SELECT id::text, payment_id::text, amount, reason, status, created_at FROM payments.refunds WHERE id = ?", refundID).Scan(ctx, r); err != nil {
		return paymentsapi.Refund{}, err
	}
	return s.refundResult(ctx, p.ID, r)
}

func (s *Service) refundResult(ctx context.Context, paymentID string, r *Refund) (paymentsapi.Refund, error) {
	var total int64
	if err := s.db.NewRaw("SELECT amount_refunded FROM payments.payments WHERE id = ?", paymentID).Scan(ctx, &total); err != nil {
		return paymentsapi.Refund{}, err
	}
	return paymentsapi.Refund{ID: r.ID, Amount: r.Amount, Status: r.Status, TotalRefunded: total, CreatedAt: r.CreatedAt.UTC()}, nil
}

// executeRefund calls the provider for a pending refund and records the
// result with the refund_succeeded event.
func (s *Service) executeRefund(ctx context.Context, p *Payment, refundID string, amount int64, reason string) error {
	g, ok := s.gateways[p.Gateway]
	if !ok {
		return paymentsapi.ErrGateway
	}
	providerID, err := g.Refund(ctx, p.IntentID, amount, refundID)
	if err != nil {
		s.log.ErrorContext(ctx, "refund at provider failed", "payment_id", p.ID, "err", err)
		s.inst.payment(ctx, p.Gateway, "refund_failed")
		_, _ = s.db.ExecContext(context.WithoutCancel(ctx), "UPDATE payments.refunds SET status = 'failed', updated_at = now() WHERE id = ? AND status = 'pending'", refundID)
		return paymentsapi.ErrGateway
	}
	refunded := false // counted once committed
	err = s.db.InTx(context.WithoutCancel(ctx), func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.ExecContext(ctx, "UPDATE payments.refunds SET status = 'succeeded', provider_refund_id = ?, updated_at = now() WHERE id = ? AND status = 'pending'", providerID, refundID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		refunded = true
		var total int64
		if err := tx.NewRaw("UPDATE payments.payments SET amount_refunded = amount_refunded + ?, updated_at = now() WHERE id = ? RETURNING amount_refunded", amount, p.ID).Scan(ctx, &total); err != nil {
			return err
		}
		ev, err := events.New(paymentsapi.EventRefundSucceeded, p.OrderID, paymentsapi.RefundEvent{RefundID: refundID, PaymentID: p.ID, OrderID: p.OrderID,
			Amount: amount, TotalRefunded: total, Captured: p.AmountCaptured, Currency: p.Currency, Reason: reason})
		if err != nil {
			return err
		}
		return s.outbox.Publish(ctx, tx, ev)
	})
	if err == nil && refunded {
		s.inst.payment(ctx, p.Gateway, "refunded")
	}
	return err
}

// HandleOrderEvent: an order that expired or was canceled gets its unpaid
// intent canceled at the provider (by the worker, outside this tx).
func (s *Service) HandleOrderEvent(ctx context.Context, tx bun.Tx, e events.Envelope) error {
	var p orderingapi.OrderEvent
	if err := e.Decode(&p); err != nil {
		return err
	}
	return s.requestCancel(ctx, tx, p.OrderID)
}

// Work performs provider calls that must survive crashes: intent cancels
// that were requested, and refunds left pending by a crash (retried with
// the same idempotency key).
func (s *Service) Work(ctx context.Context) error {
	var cancels []Payment
	if err := s.db.NewRaw("SELECT "+paymentCols+` FROM payments.payments WHERE cancel_requested_at IS NOT NULL AND provider_canceled_at IS NULL
		AND status = 'requires_payment' LIMIT 20`).Scan(ctx, &cancels); err != nil {
		return err
	}
	for _, p := range cancels {
		if g, ok := s.gateways[p.Gateway]; ok {
			if err := g.CancelIntent(ctx, p.IntentID); err != nil {
				s.log.WarnContext(ctx, "cancel intent at provider", "payment_id", p.ID, "err", err)
				continue
			}
		}
		if _, err := s.db.ExecContext(ctx, `UPDATE payments.payments SET provider_canceled_at = now(), status = 'canceled', updated_at = now()
			WHERE id = ? AND status = 'requires_payment'`, p.ID); err != nil {
			return err
		}
	}
	var stuck []struct {
		ID      string `bun:"id"`
		OrderID string `bun:"order_id"`
		Amount  int64  `bun:"amount"`
		Reason  string `bun:"reason"`
	}
	if err := s.db.NewRaw(`SELECT r.id::text, p.order_id::text, r.amount, r.reason FROM payments.refunds r JOIN payments.payments p ON p.id = r.payment_id
		WHERE r.status = 'pending' AND r.created_at < now() - interval '1 minute' LIMIT 20`).Scan(ctx, &stuck); err != nil {
		return err
	}
	for _, r := range stuck {
		p, err := s.payment(ctx, s.db, "order_id = ?", r.OrderID, false)
		if err != nil {
			return err
		}
		_ = s.executeRefund(ctx, p, r.ID, r.Amount, r.Reason)
	}
	return nil
}
