package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/otelx"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Config holds ordering's deadlines.
type Config struct {
	PaymentTimeout time.Duration
	Reminders      []time.Duration
}

// Service implements ordering's use cases.
type Service struct {
	db       *pg.DB
	outbox   *events.Outbox
	catalog  catalogapi.Catalog
	cart     cartapi.Cart
	payments paymentsapi.Payments
	cfg      Config
	log      *slog.Logger
	inst     instruments // metrics.go
}

// New builds the service.
func New(db *pg.DB, outbox *events.Outbox, catalog catalogapi.Catalog, cart cartapi.Cart, payments paymentsapi.Payments, cfg Config, log *slog.Logger) *Service {
	return &Service{db: db, outbox: outbox, catalog: catalog, cart: cart, payments: payments, cfg: cfg, log: log}
}

// Errors of ordering.
var (
	ErrNotCancelable = errs.New(errs.Conflict, "order_not_cancelable", "only orders awaiting payment can be canceled")
	ErrNotRefundable = errs.New(errs.Conflict, "order_not_refundable", "only paid orders can be refunded")
	ErrOrderExists   = errs.New(errs.Conflict, "checkout_used", "an order was already placed from this checkout session")
)

func (s *Service) event(typ string, o *Order, reason string) (events.Envelope, error) {
	p := orderingapi.OrderEvent{OrderID: o.ID, UserID: o.UserID, CheckoutSessionID: o.SessionID, Status: o.Status, Total: o.Total,
		Currency: o.Currency, Email: o.Email, RefundedAmount: o.RefundedAmount, Reason: reason}
	if o.ExpiresAt != nil {
		p.ExpiresAt = o.ExpiresAt.UTC().Format(time.RFC3339)
	}
	var addr struct {
		Country string `json:"country"`
		Phone   string `json:"phone"`
	}
	_ = json.Unmarshal(o.Address, &addr)
	p.Phone = addr.Phone
	if typ == orderingapi.EventOrderPaid {
		var items []struct {
			Quantity    int `json:"quantity"`
			WeightGrams int `json:"weight_grams"`
		}
		_ = json.Unmarshal(o.Items, &items)
		p.Courier, p.Country = o.Courier, addr.Country
		for _, it := range items {
			p.WeightGrams += it.Quantity * it.WeightGrams
		}
	}
	return events.New(typ, o.ID, p)
}

// PlaceOrder runs the place-order saga. Its state lives in the order row
// (status placing → pending_payment, or failed with compensations); every
// remote step is idempotent per order id and runs outside transactions.
// A crash mid-saga leaves a placing order that Recover compensates.
func (s *Service) PlaceOrder(ctx context.Context, who authn.Principal, sessionID string) (*Order, error) {
	sess, err := s.cart.CheckoutSession(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	if sess.UserID != who.UserID {
		return nil, cartapi.ErrSessionNotFound
	}
	switch sess.Status {
	case cartapi.SessionPending:
	case cartapi.SessionOrderPlaced:
		return nil, ErrOrderExists
	default:
		return nil, cartapi.ErrSessionExpired
	}
	items, _ := json.Marshal(sess.Items)
	addr, _ := json.Marshal(sess.Address)
	o := &Order{ID: uuid.Must(uuid.NewV7()).String(), UserID: who.UserID, Email: who.Email, SessionID: sess.ID, Status: "placing", Items: items,
		Subtotal: sess.Subtotal, Discount: sess.Discount, ShippingCost: sess.ShippingCost, Total: sess.Total, Currency: sess.Currency,
		PromoCode: sess.PromoCode, Address: addr, Courier: sess.Courier, Payment: Payment{Gateway: sess.PaymentGateway}}
	// Step 1: the order row claims the session (unique per session).
	_, err = s.db.ExecContext(ctx, `INSERT INTO ordering.orders (id, user_id, email, checkout_session_id, status, items, subtotal, discount, shipping_cost,
			total, currency, promo_code, address, courier, payment_gateway)
		VALUES (?, ?, ?, ?, 'placing', ?::jsonb, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)`,
		o.ID, o.UserID, o.Email, o.SessionID, string(items), o.Subtotal, o.Discount, o.ShippingCost, o.Total, o.Currency, o.PromoCode, string(addr),
		o.Courier, o.Payment.Gateway)
	if pg.IsUniqueViolation(err) {
		return nil, ErrOrderExists
	}
	if err != nil {
		return nil, err
	}
	// Step 2: stock, all or nothing.
	lines := make([]catalogapi.Line, len(sess.Items))
	for i, it := range sess.Items {
		lines[i] = catalogapi.Line{ProductID: it.ProductID, Quantity: it.Quantity}
	}
	expires := time.Now().Add(s.cfg.PaymentTimeout).UTC().Truncate(time.Millisecond)
	safety := expires.Add(time.Hour) // the reservation outlives the order deadline, never the other way round
	if err := sagaStep(ctx, "reserve", o.ID, func(ctx context.Context) error { return s.catalog.Reserve(ctx, o.ID, lines, &safety) }); err != nil {
		return nil, s.fail(ctx, o, "reserve", err, false, false)
	}
	// Step 3: the session is consumed and the promo use counted.
	if err := sagaStep(ctx, "place", o.ID, func(ctx context.Context) error { return s.cart.PlaceOrder(ctx, sess.ID, o.ID, who.UserID) }); err != nil {
		return nil, s.fail(ctx, o, "checkout", err, true, false)
	}
	// Step 4: the payment intent.
	var intent paymentsapi.Intent
	err = sagaStep(ctx, "create intent", o.ID, func(ctx context.Context) (err error) {
		intent, err = s.payments.CreateIntent(ctx, o.ID, o.UserID, o.Payment.Gateway, o.Total, o.Currency)
		return err
	})
	if err != nil {
		return nil, s.fail(ctx, o, "payment_intent", err, true, true)
	}
	// Step 5: pending_payment, deadlines, timeline and order_placed in one transaction.
	o.Status, o.ExpiresAt = "pending_payment", &expires
	o.Payment.PaymentID, o.Payment.IntentID, o.Payment.ClientSecret = &intent.PaymentID, &intent.IntentID, &intent.ClientSecret
	kinds, seqs, dues := s.deadlines(expires)
	steps := []step{{"stock_reserved", map[string]any{"lines": len(lines)}}, {"checkout_consumed", map[string]any{"promo_code": o.PromoCode}},
		{"payment_intent_created", map[string]any{"gateway": intent.Gateway, "intent_id": intent.IntentID}},
		{"placed", map[string]any{"status": o.Status, "expires_at": expires}}}
	types, details := make([]string, len(steps)), make([]string, len(steps))
	for i, st := range steps {
		b, _ := json.Marshal(st.detail)
		types[i], details[i] = st.typ, string(b)
	}
	err = sagaStep(ctx, "commit", o.ID, func(ctx context.Context) error {
		return s.commitPlaced(ctx, o, &intent, expires, kinds, seqs, dues, types, details)
	})
	if err != nil {
		return nil, err // the order stays placing; Recover compensates it
	}
	s.inst.reached(ctx, "placed")
	// The business record of the sale, in the request's trace.
	s.log.LogAttrs(ctx, slog.LevelInfo, "order placed", slog.String("order_id", o.ID), slog.Int64("total", o.Total), slog.String("currency", o.Currency),
		slog.Int("lines", len(lines)))
	return o, nil
}

// commitPlaced is the saga's last step: pending_payment, deadlines,
// timeline and order_placed in one transaction.
func (s *Service) commitPlaced(ctx context.Context, o *Order, intent *paymentsapi.Intent, expires time.Time, kinds []string, seqs []int, dues []time.Time,
	types, details []string) error {
	return s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		// One statement: status, payment handle, deadlines and timeline.
		if err := tx.NewRaw(`WITH u AS (
				UPDATE ordering.orders SET status = 'pending_payment', payment_id = ?, intent_id = ?, client_secret = ?, expires_at = ?, updated_at = now()
				WHERE id = ? AND status = 'placing' RETURNING id, created_at, updated_at),
			d AS (INSERT INTO ordering.deadlines (order_id, kind, seq, due_at)
				SELECT u.id, k, q, due FROM u, unnest(?::text[], ?::int[], ?::timestamptz[]) AS x(k, q, due) ON CONFLICT DO NOTHING),
			t AS (INSERT INTO ordering.timeline (order_id, type, detail)
				SELECT u.id, ty, de::jsonb FROM u, unnest(?::text[], ?::text[]) WITH ORDINALITY AS y(ty, de, n) ORDER BY n)
			SELECT created_at, updated_at FROM u`,
			intent.PaymentID, intent.IntentID, intent.ClientSecret, expires, o.ID,
			pgdialect.Array(kinds), pgdialect.Array(seqs), pgdialect.Array(dues), pgdialect.Array(types), pgdialect.Array(details)).
			Scan(ctx, &o.CreatedAt, &o.UpdatedAt); err != nil {
			return err
		}
		ev, err := s.event(orderingapi.EventOrderPlaced, o, "")
		if err != nil {
			return err
		}
		return s.outbox.Publish(ctx, tx, ev)
	})
}

// sagaStep runs one step (or compensation) of the place-order saga in an
// internal span "saga <step>" with the order id, when tracing is on.
func sagaStep(ctx context.Context, step, orderID string, fn func(ctx context.Context) error) error {
	if !otelx.Tracing() {
		return fn(ctx)
	}
	ctx, span := otelx.Tracer().Start(ctx, "saga "+step, trace.WithAttributes(attribute.String("commerce.order.id", orderID)))
	defer span.End()
	err := fn(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return err
}

// deadlines lists the reminders and the payment timeout of an order.
func (s *Service) deadlines(expires time.Time) ([]string, []int, []time.Time) {
	created := expires.Add(-s.cfg.PaymentTimeout)
	kinds, seqs, dues := []string{"expire"}, []int{0}, []time.Time{expires}
	for i, r := range s.cfg.Reminders {
		kinds, seqs, dues = append(kinds, "reminder"), append(seqs, i+1), append(dues, created.Add(r))
	}
	return kinds, seqs, dues
}

// fail compensates the steps done so far, marks the order failed (freeing
// its checkout session) and returns the cause for the client.
func (s *Service) fail(ctx context.Context, o *Order, at string, cause error, reserved, checkedOut bool) error {
	bg := context.WithoutCancel(ctx)
	if err := s.compensate(bg, o.ID, reserved, checkedOut, false); err != nil {
		s.log.ErrorContext(ctx, "compensation failed; recovery will retry", "order_id", o.ID, "err", err)
		return cause
	}
	if _, err := s.db.ExecContext(bg, "UPDATE ordering.orders SET status = 'failed', failure = ?, updated_at = now() WHERE id = ? AND status = 'placing'",
		at+": "+cause.Error(), o.ID); err != nil {
		s.log.ErrorContext(ctx, "mark order failed", "order_id", o.ID, "err", err)
	} else {
		s.inst.reached(ctx, "failed")
	}
	_ = note(bg, s.db, o.ID, step{"failed", map[string]any{"step": at, "error": cause.Error()}})
	return cause
}

func (s *Service) compensate(ctx context.Context, orderID string, reserved, checkedOut, intent bool) error {
	if reserved {
		if err := sagaStep(ctx, "release", orderID, func(ctx context.Context) error { return s.catalog.Release(ctx, orderID, "order not placed") }); err != nil {
			return err
		}
	}
	if checkedOut {
		if err := sagaStep(ctx, "abort checkout", orderID, func(ctx context.Context) error { return s.cart.AbortOrder(ctx, orderID) }); err != nil {
			return err
		}
	}
	if intent {
		return sagaStep(ctx, "cancel intent", orderID, func(ctx context.Context) error { return s.payments.RequestCancel(ctx, orderID) })
	}
	return nil
}

// Recover compensates orders whose saga stopped half-way (a crash between
// steps): every step is undone idempotently and the order marked failed.
func (s *Service) Recover(ctx context.Context, olderThan time.Duration) (int, error) {
	var ids []string
	if err := s.db.NewRaw("SELECT id::text FROM ordering.orders WHERE status = 'placing' AND created_at < now() - make_interval(secs => ?) LIMIT 50",
		olderThan.Seconds()).Scan(ctx, &ids); err != nil {
		return 0, err
	}
	for _, id := range ids {
		if err := s.compensate(ctx, id, true, true, true); err != nil {
			return 0, err
		}
		if _, err := s.db.ExecContext(ctx, "UPDATE ordering.orders SET status = 'failed', failure = 'interrupted; compensated', updated_at = now() WHERE id = ? AND status = 'placing'", id); err != nil {
			return 0, err
		}
		s.inst.reached(ctx, "failed")
		_ = note(ctx, s.db, id, step{"failed", map[string]any{"step": "recovery"}})
	}
	return len(ids), nil
}

// transition locks the order and, if its status is one of from, applies fn
// (which sets the new status) and records the timeline and event.
func (s *Service) transition(ctx context.Context, tx bun.Tx, orderID string, from []string, to, eventType, reason string, detail any) (*Order, bool, error) {
	o, err := s.order(ctx, tx, orderID, true)
	if err != nil {
		return nil, false, err
	}
	ok := false
	for _, f := range from {
		ok = ok || o.Status == f
	}
	if !ok {
		return o, false, nil
	}
	o.Status = to
	if _, err := tx.ExecContext(ctx, "UPDATE ordering.orders SET status = ?, paid_at = CASE WHEN ? = 'paid' THEN now() ELSE paid_at END, updated_at = now() WHERE id = ?",
		to, to, orderID); err != nil {
		return nil, false, err
	}
	if to != "pending_payment" {
		if _, err := tx.ExecContext(ctx, "UPDATE ordering.deadlines SET fired_at = now() WHERE order_id = ? AND fired_at IS NULL", orderID); err != nil {
			return nil, false, err
		}
	}
	if err := note(ctx, tx, orderID, step{to, detail}); err != nil {
		return nil, false, err
	}
	if eventType != "" {
		ev, err := s.event(eventType, o, reason)
		if err != nil {
			return nil, false, err
		}
		if err := s.outbox.Publish(ctx, tx, ev); err != nil {
			return nil, false, err
		}
	}
	s.inst.reached(ctx, to)
	return o, true, nil
}

// Cancel cancels the caller's order while it awaits payment. Stock and the
// promo use are released by catalog and cart on order_canceled; payments
// cancels the intent. A cancel racing a payment: the order row lock
// decides, and the loser sees the winner's status.
func (s *Service) Cancel(ctx context.Context, userID, orderID string) (*Order, error) {
	return s.cancel(ctx, orderID, userID, map[string]any{"by": "customer"}, "canceled by customer")
}

// cancel cancels an order awaiting payment; owner, when not empty, must
// be the order's user (others' orders are not found).
func (s *Service) cancel(ctx context.Context, orderID, owner string, detail map[string]any, reason string) (*Order, error) {
	if _, err := uuid.Parse(orderID); err != nil {
		return nil, ErrNotFound
	}
	var out *Order
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		o, err := s.order(ctx, tx, orderID, false)
		if err != nil {
			return err
		}
		if owner != "" && o.UserID != owner {
			return ErrNotFound
		}
		o, ok, err := s.transition(ctx, tx, orderID, []string{"pending_payment"}, "canceled", orderingapi.EventOrderCanceled, reason, detail)
		if err != nil {
			return err
		}
		if !ok {
			return ErrNotCancelable.WithDetail("the order is " + o.Status)
		}
		out = o
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.order(ctx, s.db, out.ID, false)
}

// HandlePaymentEvent applies payments' events (inbox, same transaction).
func (s *Service) HandlePaymentEvent(ctx context.Context, tx bun.Tx, e events.Envelope) error {
	switch e.Type {
	case paymentsapi.EventPaymentSucceeded, paymentsapi.EventPaymentFailed:
		var p paymentsapi.PaymentEvent
		if err := e.Decode(&p); err != nil {
			return err
		}
		if e.Type == paymentsapi.EventPaymentFailed {
			return note(ctx, tx, p.OrderID, step{"payment_failed", map[string]any{"intent_id": p.IntentID}})
		}
		o, ok, err := s.transition(ctx, tx, p.OrderID, []string{"pending_payment"}, "paid", orderingapi.EventOrderPaid, "",
			map[string]any{"amount": p.Amount, "intent_id": p.IntentID})
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil || ok {
			return err
		}
		if o.Status == "placing" {
			return errors.New("order still being placed; retry") // redelivered with backoff
		}
		if o.Status == "expired" || o.Status == "canceled" {
			// Money arrived for an order that no longer exists: refund it
			// (the worker calls the provider outside this transaction).
			if _, err := tx.ExecContext(ctx, "UPDATE ordering.orders SET late_refund_due = true WHERE id = ?", o.ID); err != nil {
				return err
			}
			return note(ctx, tx, o.ID, step{"late_payment", map[string]any{"amount": p.Amount, "status": o.Status}})
		}
		return nil
	case paymentsapi.EventPaymentAmountMismatch:
		// The order stays pending_payment (its deadline still applies); the
		// timeline shows admins why it was not paid.
		var m paymentsapi.AmountMismatchEvent
		if err := e.Decode(&m); err != nil {
			return err
		}
		return note(ctx, tx, m.OrderID, step{"payment_amount_mismatch", map[string]any{"intent_id": m.IntentID, "payment_id": m.PaymentID,
			"expected_amount": m.ExpectedAmount, "expected_currency": m.ExpectedCurrency, "received_amount": m.ReceivedAmount, "received_currency": m.ReceivedCurrency}})
	case paymentsapi.EventRefundSucceeded:
		var r paymentsapi.RefundEvent
		if err := e.Decode(&r); err != nil {
			return err
		}
		return s.applyRefund(ctx, tx, r.OrderID, r.RefundID, r.Amount, r.Reason)
	}
	return nil
}

// HandleFulfillmentEvent makes the order follow its fulfillment. Events of
// different topics may arrive in any order, so each transition accepts
// every earlier status and nothing moves backwards.
func (s *Service) HandleFulfillmentEvent(ctx context.Context, tx bun.Tx, e events.Envelope) error {
	var p fulfillmentapi.FulfillmentEvent
	if err := e.Decode(&p); err != nil {
		return err
	}
	var from []string
	var to string
	switch e.Type {
	case fulfillmentapi.EventFulfillmentCreated:
		from, to = []string{"paid"}, "fulfilling"
	case fulfillmentapi.EventShipped:
		from, to = []string{"paid", "fulfilling"}, "shipped"
	case fulfillmentapi.EventDelivered:
		from, to = []string{"paid", "fulfilling", "shipped"}, "delivered"
	default:
		return nil
	}
	_, _, err := s.transition(ctx, tx, p.OrderID, from, to, "", "", map[string]any{"fulfillment_id": p.FulfillmentID, "tracking_id": p.TrackingID})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// applyRefund adds a refund to the order once (by refund id); a full
// refund of a paid order makes it refunded.
func (s *Service) applyRefund(ctx context.Context, tx bun.Tx, orderID, refundID string, amount int64, reason string) error {
	res, err := tx.ExecContext(ctx, "INSERT INTO ordering.refunds (refund_id, order_id, amount) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", refundID, orderID, amount)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	o, err := s.order(ctx, tx, orderID, true)
	if err != nil {
		return err
	}
	o.RefundedAmount += amount
	if _, err := tx.ExecContext(ctx, "UPDATE ordering.orders SET refunded_amount = ?, updated_at = now() WHERE id = ?", o.RefundedAmount, orderID); err != nil {
		return err
	}
	if err := note(ctx, tx, orderID, step{"refund", map[string]any{"refund_id": refundID, "amount": amount, "reason": reason, "refunded_amount": o.RefundedAmount}}); err != nil {
		return err
	}
	full := o.RefundedAmount >= o.Total
	switch {
	case full && (o.Status == "paid" || o.Status == "fulfilling" || o.Status == "shipped" || o.Status == "delivered"):
		_, _, err = s.transition(ctx, tx, orderID, []string{o.Status}, "refunded", orderingapi.EventOrderRefunded, reason, map[string]any{"refunded_amount": o.RefundedAmount})
		return err
	default:
		ev, err := s.event(orderingapi.EventOrderRefunded, o, reason)
		if err != nil {
			return err
		}
		return s.outbox.Publish(ctx, tx, ev)
	}
}

// RefundInput is the body of POST /admin/orders/{id}/refund.
type RefundInput struct {
	Amount int64  `json:"amount" validate:"required,gt=0,max=100000000000"`
	Reason string `json:"reason" validate:"required,max=500"`
}

// Refund refunds part or all of a paid order through its gateway; the sum
// of refunds never exceeds the captured amount (payments enforces it under
// a row lock).
func (s *Service) Refund(ctx context.Context, orderID string, in RefundInput, key string) (*Order, error) {
	if _, err := uuid.Parse(orderID); err != nil {
		return nil, ErrNotFound
	}
	o, err := s.order(ctx, s.db, orderID, false)
	if err != nil {
		return nil, err
	}
	switch o.Status {
	case "paid", "fulfilling", "shipped", "delivered":
	case "refunded":
		return nil, paymentsapi.ErrRefundTooLarge.WithDetail("the order is fully refunded")
	default:
		return nil, ErrNotRefundable.WithDetail("the order is " + o.Status)
	}
	r, err := s.payments.Refund(ctx, orderID, in.Amount, in.Reason, key)
	if err != nil {
		return nil, err
	}
	if err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return s.applyRefund(ctx, tx, orderID, r.ID, r.Amount, in.Reason)
	}); err != nil {
		return nil, err
	}
	return s.order(ctx, s.db, orderID, false)
}

// FireDeadlines applies due reminders and payment timeouts, each in the
// transaction that marks it fired.
func (s *Service) FireDeadlines(ctx context.Context) (int, error) {
	n := 0
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var due []struct {
			OrderID string `bun:"order_id"`
			Kind    string `bun:"kind"`
			Seq     int    `bun:"seq"`
		}
		if err := tx.NewRaw(`SELECT order_id::text, kind, seq FROM ordering.deadlines WHERE fired_at IS NULL AND due_at <= now()
			ORDER BY due_at LIMIT 50 FOR UPDATE SKIP LOCKED`).Scan(ctx, &due); err != nil {
			return err
		}
		for _, d := range due {
			if _, err := tx.ExecContext(ctx, "UPDATE ordering.deadlines SET fired_at = now() WHERE order_id = ? AND kind = ? AND seq = ?", d.OrderID, d.Kind, d.Seq); err != nil {
				return err
			}
			switch d.Kind {
			case "expire":
				if _, _, err := s.transition(ctx, tx, d.OrderID, []string{"pending_payment"}, "expired", orderingapi.EventOrderExpired, "payment timeout", nil); err != nil && !errors.Is(err, ErrNotFound) {
					return err
				}
			case "reminder":
				o, err := s.order(ctx, tx, d.OrderID, true)
				if errors.Is(err, ErrNotFound) {
					continue
				}
				if err != nil {
					return err
				}
				if o.Status != "pending_payment" {
					continue
				}
				if err := note(ctx, tx, o.ID, step{"payment_reminder", map[string]any{"seq": d.Seq}}); err != nil {
					return err
				}
				ev, err := s.event(orderingapi.EventPaymentReminder, o, fmt.Sprintf("reminder %d", d.Seq))
				if err != nil {
					return err
				}
				if err := s.outbox.Publish(ctx, tx, ev); err != nil {
					return err
				}
			}
			n++
		}
		return nil
	})
	return n, err
}

// RefundLatePayments refunds payments that arrived after their order
// expired or was canceled (one refund per order: the key is fixed).
func (s *Service) RefundLatePayments(ctx context.Context) error {
	var ids []string
	if err := s.db.NewRaw("SELECT id::text FROM ordering.orders WHERE late_refund_due LIMIT 20").Scan(ctx, &ids); err != nil {
		return err
	}
	for _, id := range ids {
		o, err := s.order(ctx, s.db, id, false)
		if err != nil {
			return err
		}
		r, err := s.payments.Refund(ctx, id, o.Total, "payment arrived after the order "+o.Status, "late-payment")
		if err != nil && !errors.Is(err, paymentsapi.ErrRefundTooLarge) {
			s.log.WarnContext(ctx, "refund late payment", "order_id", id, "err", err)
			continue
		}
		if err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
			if _, err := tx.ExecContext(ctx, "UPDATE ordering.orders SET late_refund_due = false WHERE id = ?", id); err != nil {
				return err
			}
			if r.ID == "" {
				return nil
			}
			return s.applyRefund(ctx, tx, id, r.ID, r.Amount, "late payment")
		}); err != nil {
			return err
		}
	}
	return nil
}

// Get returns one of the caller's orders (others' are 404).
func (s *Service) Get(ctx context.Context, userID, id string, admin bool) (*Order, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, ErrNotFound
	}
	o, err := s.order(ctx, s.db, id, false)
	if err != nil {
		return nil, err
	}
	if o.UserID != userID && !admin {
		return nil, ErrNotFound
	}
	return o, nil
}

// Timeline returns an order's saga/timeline entries.
func (s *Service) Timeline(ctx context.Context, userID, id string, admin bool) ([]TimelineEntry, error) {
	if _, err := s.Get(ctx, userID, id, admin); err != nil {
		return nil, err
	}
	var out []TimelineEntry
	err := s.db.NewRaw("SELECT id, type, detail, created_at FROM ordering.timeline WHERE order_id = ? ORDER BY id", id).Scan(ctx, &out)
	if out == nil {
		out = []TimelineEntry{}
	}
	return out, err
}
