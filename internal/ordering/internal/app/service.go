// Package app holds ordering's use cases: the place-order saga, payment
// outcomes, deadlines, cancel, refunds and queries. It declares the
// repositories it needs (repos.go); adapters implement them.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/ordering/internal/domain"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/clock"
	"github.com/opencommerce/commerce/internal/platform/events"
)

// Config holds ordering's deadlines.
type Config struct {
	PaymentTimeout time.Duration
	Reminders      []time.Duration
}

// Deps are what the use cases need: the repositories, the neighbours'
// APIs and the clock that decides deadlines (nil: the system clock).
type Deps struct {
	Orders   Orders
	Reads    Reads
	Catalog  catalogapi.Catalog
	Cart     cartapi.Cart
	Payments paymentsapi.Payments
	Config   Config
	Log      *slog.Logger
	Clock    clock.Clock
}

// Service implements ordering's use cases.
type Service struct {
	orders   Orders
	reads    Reads
	catalog  catalogapi.Catalog
	cart     cartapi.Cart
	payments paymentsapi.Payments
	cfg      Config
	log      *slog.Logger
	clock    clock.Clock
	inst     *instruments // metrics.go
	saga     *PostgresSagaEngine
	// temporal, when set (UseTemporal), places orders instead of saga.
	temporal *TemporalSagaEngine
}

// New builds the service.
func New(d Deps) *Service {
	s := &Service{orders: d.Orders, reads: d.Reads, catalog: d.Catalog, cart: d.Cart, payments: d.Payments, cfg: d.Config, log: d.Log,
		clock: clock.Or(d.Clock), inst: &instruments{}}
	s.saga = &PostgresSagaEngine{orders: d.Orders, ops: remoteOps{catalog: d.Catalog, cart: d.Cart, payments: d.Payments, orders: d.Orders},
		log: d.Log, inst: s.inst}
	return s
}

// Errors of ordering (the domain's, under the names the API knows).
var (
	ErrNotFound      = domain.ErrNotFound
	ErrNotCancelable = domain.ErrNotCancelable
	ErrNotRefundable = domain.ErrNotRefundable
	ErrOrderExists   = domain.ErrOrderExists
)

// PlaceOrder runs the place-order saga (PlaceOrderSaga on the PostgreSQL
// engine). Its state lives in the order row (status placing →
// pending_payment, or failed with compensations); every remote step is
// idempotent per order id and runs outside transactions. A crash mid-saga
// leaves a placing order that Recover compensates.
func (s *Service) PlaceOrder(ctx context.Context, who authn.Principal, sessionID string) (*Order, error) {
	p, err := s.Placement(ctx, who, sessionID)
	if err != nil {
		return nil, err
	}
	if s.temporal != nil {
		return s.placeOnTemporal(ctx, p, len(p.Order.Lines()))
	}
	if err := s.saga.Run(ctx, PlaceOrderSaga, p); err != nil {
		return nil, err
	}
	o := p.Order
	s.inst.reached(ctx, "placed")
	total := o.Total()
	// The business record of the sale, in the request's trace.
	s.log.LogAttrs(ctx, slog.LevelInfo, "order placed", slog.String("order_id", o.ID()), slog.Int64("total", total.Amount()),
		slog.String("currency", total.Currency()), slog.Int("lines", len(o.Lines())))
	return viewOf(o)
}

// Placement checks the caller's checkout session and builds the new order
// (in placing) with its pay-by time and deadlines: the input of either
// saga engine.
func (s *Service) Placement(ctx context.Context, who authn.Principal, sessionID string) (*Placement, error) {
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
	o, err := domain.NewOrder(domain.Checkout{ID: uuid.Must(uuid.NewV7()).String(), UserID: who.UserID, Email: who.Email, SessionID: sess.ID,
		Lines: LinesOf(sess.Items), Subtotal: sess.Subtotal, Discount: sess.Discount, ShippingCost: sess.ShippingCost, Total: sess.Total,
		Currency: sess.Currency, PromoCode: sess.PromoCode, Address: AddressOf(sess.Address), Courier: sess.Courier, Gateway: sess.PaymentGateway})
	if err != nil {
		return nil, fmt.Errorf("order from checkout %s: %w", sess.ID, err)
	}
	expires := s.clock.Now().Add(s.cfg.PaymentTimeout).UTC().Truncate(time.Millisecond)
	return &Placement{Order: o, SessionID: sess.ID, Expires: expires, Deadlines: domain.PaymentDeadlines(expires, s.cfg.PaymentTimeout, s.cfg.Reminders)}, nil
}

// placeOnTemporal runs the saga as the order's Temporal workflow and
// answers the order as stored.
func (s *Service) placeOnTemporal(ctx context.Context, p *Placement, lines int) (*Order, error) {
	if err := s.temporal.Place(ctx, p); err != nil {
		return nil, err
	}
	s.inst.reached(ctx, "placed")
	total := p.Order.Total()
	s.log.LogAttrs(ctx, slog.LevelInfo, "order placed", slog.String("order_id", p.Order.ID()), slog.Int64("total", total.Amount()),
		slog.String("currency", total.Currency()), slog.Int("lines", lines), slog.String("saga_engine", "temporal"))
	return s.reads.Order(ctx, p.Order.ID())
}

// Recover compensates orders whose saga stopped half-way (a crash between
// steps) for longer than olderThan: every step is undone idempotently and
// the order marked failed. Under Temporal the workflows finish their own
// orders, so there is nothing to recover.
func (s *Service) Recover(ctx context.Context, olderThan time.Duration) (int, error) {
	if s.temporal != nil {
		return 0, nil
	}
	return s.saga.Recover(ctx, PlaceOrderSaga, s.clock.Now().Add(-olderThan))
}

// update applies fn to an order through repo and counts the status it
// reaches.
func (s *Service) update(ctx context.Context, repo Orders, id string, fn func(*domain.Order) error) error {
	var reached domain.Status
	err := repo.Update(ctx, id, func(o *domain.Order) error {
		before := o.Status()
		if err := fn(o); err != nil {
			return err
		}
		if o.Status() != before {
			reached = o.Status()
		}
		return nil
	})
	if err == nil && reached != "" {
		s.inst.reached(ctx, string(reached))
	}
	return err
}

// Cancel cancels the caller's order while it awaits payment. Stock and the
// promo use are released by catalog and cart on order_canceled; payments
// cancels the intent. A cancel racing a payment: the order row lock
// decides, and the loser sees the winner's status.
func (s *Service) Cancel(ctx context.Context, userID, orderID string) (*Order, error) {
	return s.cancel(ctx, orderID, userID, domain.Canceller{})
}

// AdminCancel cancels any order awaiting payment, with the same effects as
// the customer's cancel (stock and promo use released, intent canceled);
// the timeline names the admin.
func (s *Service) AdminCancel(ctx context.Context, adminID, orderID string) (*Order, error) {
	return s.cancel(ctx, orderID, "", domain.Canceller{AdminID: adminID})
}

// cancel cancels an order awaiting payment; owner, when not empty, must
// be the order's user (others' orders are not found).
func (s *Service) cancel(ctx context.Context, orderID, owner string, by domain.Canceller) (*Order, error) {
	if _, err := uuid.Parse(orderID); err != nil {
		return nil, ErrNotFound
	}
	err := s.update(ctx, s.orders, orderID, func(o *domain.Order) error {
		if owner != "" && o.UserID() != owner {
			return ErrNotFound
		}
		return o.Cancel(by)
	})
	if err != nil {
		return nil, err
	}
	s.signal(ctx, orderID, SignalCancel)
	return s.reads.Order(ctx, orderID)
}

// HandlePaymentEvent applies payments' events through orders, the
// repository bound to the consumer's inbox transaction.
func (s *Service) HandlePaymentEvent(ctx context.Context, orders Orders, e events.Envelope) error {
	switch e.Type {
	case paymentsapi.EventPaymentSucceeded, paymentsapi.EventPaymentFailed:
		var p paymentsapi.PaymentEvent
		if err := e.Decode(&p); err != nil {
			return fmt.Errorf("decode %s %s: %w", e.Type, e.ID, err)
		}
		if e.Type == paymentsapi.EventPaymentFailed {
			return orders.Note(ctx, p.OrderID, domain.Note{Type: "payment_failed", Detail: map[string]any{"intent_id": p.IntentID}})
		}
		err := s.update(ctx, orders, p.OrderID, func(o *domain.Order) error {
			err := o.Pay(p.Amount, p.IntentID, s.clock.Now())
			if errors.Is(err, domain.ErrInvalidTransition) {
				// Money for an order that no longer exists is refunded (the
				// worker calls the provider outside this transaction); any
				// other status already has its payment.
				if err := o.MarkLatePayment(p.Amount); !errors.Is(err, domain.ErrInvalidTransition) {
					return err
				}
				return nil
			}
			return err
		})
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err // ErrStillPlacing: redelivered with backoff
	case paymentsapi.EventPaymentAmountMismatch:
		// The order stays pending_payment (its deadline still applies); the
		// timeline shows admins why it was not paid.
		var m paymentsapi.AmountMismatchEvent
		if err := e.Decode(&m); err != nil {
			return fmt.Errorf("decode %s %s: %w", e.Type, e.ID, err)
		}
		return orders.Note(ctx, m.OrderID, domain.Note{Type: "payment_amount_mismatch", Detail: map[string]any{"intent_id": m.IntentID,
			"payment_id": m.PaymentID, "expected_amount": m.ExpectedAmount, "expected_currency": m.ExpectedCurrency,
			"received_amount": m.ReceivedAmount, "received_currency": m.ReceivedCurrency}})
	case paymentsapi.EventRefundSucceeded:
		var r paymentsapi.RefundEvent
		if err := e.Decode(&r); err != nil {
			return fmt.Errorf("decode %s %s: %w", e.Type, e.ID, err)
		}
		return s.update(ctx, orders, r.OrderID, func(o *domain.Order) error { return o.ApplyRefund(r.RefundID, r.Amount, r.Reason) })
	}
	return nil
}

// SignalPaymentEvent tells the order's workflow (under Temporal) of a
// payment event once the transaction that applied it committed.
func (s *Service) SignalPaymentEvent(ctx context.Context, e events.Envelope) {
	if s.temporal == nil {
		return
	}
	var signal string
	switch e.Type {
	case paymentsapi.EventPaymentSucceeded:
		signal = SignalPaid
	case paymentsapi.EventPaymentFailed:
		signal = SignalPaymentFailed
	case paymentsapi.EventRefundSucceeded:
		signal = SignalRefund
	default:
		return
	}
	var p struct {
		OrderID string `json:"order_id"`
	}
	if err := e.Decode(&p); err != nil || p.OrderID == "" {
		return
	}
	s.temporal.Signal(ctx, p.OrderID, signal)
}

// HandleFulfillmentEvent makes the order follow its fulfillment through
// orders, the repository bound to the consumer's inbox transaction.
// Events of different topics may arrive in any order: each move accepts
// every earlier status and nothing moves backwards (a refused move is no
// change).
func (s *Service) HandleFulfillmentEvent(ctx context.Context, orders Orders, e events.Envelope) error {
	var p fulfillmentapi.FulfillmentEvent
	if err := e.Decode(&p); err != nil {
		return fmt.Errorf("decode %s %s: %w", e.Type, e.ID, err)
	}
	var move func(*domain.Order, domain.Shipment) error
	switch e.Type {
	case fulfillmentapi.EventFulfillmentCreated:
		move = (*domain.Order).StartFulfillment
	case fulfillmentapi.EventShipped:
		move = (*domain.Order).Ship
	case fulfillmentapi.EventDelivered:
		move = (*domain.Order).Deliver
	default:
		return nil
	}
	err := s.update(ctx, orders, p.OrderID, func(o *domain.Order) error {
		if err := move(o, domain.Shipment{FulfillmentID: p.FulfillmentID, TrackingID: p.TrackingID}); !errors.Is(err, domain.ErrInvalidTransition) {
			return err
		}
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
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
	o, err := s.orders.Get(ctx, orderID)
	if err != nil {
		return nil, err
	}
	if err := o.CheckRefundable(); err != nil {
		if errors.Is(err, domain.ErrFullyRefunded) {
			return nil, paymentsapi.ErrRefundTooLarge.WithDetail("the order is fully refunded")
		}
		return nil, err
	}
	r, err := s.payments.Refund(ctx, orderID, in.Amount, in.Reason, key)
	if err != nil {
		return nil, err
	}
	if err := s.update(ctx, s.orders, orderID, func(o *domain.Order) error { return o.ApplyRefund(r.ID, r.Amount, in.Reason) }); err != nil {
		return nil, fmt.Errorf("apply refund %s to order %s: %w", r.ID, orderID, err)
	}
	s.signal(ctx, orderID, SignalRefund)
	return s.reads.Order(ctx, orderID)
}

// FireDeadlines applies due reminders and payment timeouts (due by the
// clock's now), each in the transaction that marks it fired.
func (s *Service) FireDeadlines(ctx context.Context) (int, error) {
	return s.orders.FireDue(ctx, s.clock.Now(), 50, func(ctx context.Context, tx Orders, d DueDeadline) error {
		err := s.update(ctx, tx, d.OrderID, func(o *domain.Order) error {
			var err error
			switch d.Kind {
			case domain.DeadlineExpire:
				err = o.Expire()
			case domain.DeadlineReminder:
				err = o.RemindPayment(d.Seq)
			}
			if errors.Is(err, domain.ErrInvalidTransition) {
				return nil // paid, canceled or gone meanwhile
			}
			return err
		})
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	})
}

// RefundLatePayments refunds payments that arrived after their order
// expired or was canceled (one refund per order: the key is fixed).
func (s *Service) RefundLatePayments(ctx context.Context) error {
	ids, err := s.orders.LateRefundsDue(ctx, 20)
	if err != nil {
		return fmt.Errorf("late refunds due: %w", err)
	}
	for _, id := range ids {
		if err := s.refundLate(ctx, id); err != nil {
			if errors.Is(err, errRefundCall) {
				s.log.WarnContext(ctx, "refund late payment", "order_id", id, "err", err)
				continue
			}
			return err
		}
	}
	return nil
}

// errRefundCall marks a failed call to payments' refund (retried later).
var errRefundCall = errors.New("refund call failed")

// refundLate refunds one order's late payment, if it is due (one refund
// per order: the key is fixed, so the poller and the order's workflow may
// both ask).
func (s *Service) refundLate(ctx context.Context, id string) error {
	o, err := s.orders.Get(ctx, id)
	if err != nil {
		return err
	}
	if !o.LateRefundDue() {
		return nil
	}
	r, err := s.payments.Refund(ctx, id, o.Total().Amount(), "payment arrived after the order "+string(o.Status()), "late-payment")
	if err != nil && !errors.Is(err, paymentsapi.ErrRefundTooLarge) {
		return fmt.Errorf("%w: order %s: %w", errRefundCall, id, err)
	}
	if err := s.update(ctx, s.orders, id, func(o *domain.Order) error {
		if !o.LateRefundDue() {
			return nil // refunded meanwhile by another caller
		}
		o.LateRefundDone()
		if r.ID == "" {
			return nil
		}
		return o.ApplyRefund(r.ID, r.Amount, "late payment")
	}); err != nil {
		return fmt.Errorf("late refund of order %s: %w", id, err)
	}
	return nil
}

// Get returns one of the caller's orders (others' are 404).
func (s *Service) Get(ctx context.Context, userID, id string, admin bool) (*Order, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, ErrNotFound
	}
	o, err := s.reads.Order(ctx, id)
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
	out, err := s.reads.Timeline(ctx, id)
	if out == nil {
		out = []TimelineEntry{}
	}
	return out, err
}
