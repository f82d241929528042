package domain

import (
	"fmt"
	"time"

	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/money"
)

// Errors of the order aggregate, categorised so the API answers them
// without translation.
var (
	// ErrNotFound is answered for unknown orders and other users' orders.
	ErrNotFound = errs.New(errs.NotFound, "not_found", "order not found")
	// ErrNotCancelable refuses a cancel outside pending_payment.
	ErrNotCancelable = errs.New(errs.Conflict, "order_not_cancelable", "only orders awaiting payment can be canceled")
	// ErrNotRefundable refuses a refund of an order that was never paid.
	ErrNotRefundable = errs.New(errs.Conflict, "order_not_refundable", "only paid orders can be refunded")
	// ErrFullyRefunded refuses a refund of an order already refunded in full.
	ErrFullyRefunded = errs.New(errs.Conflict, "order_fully_refunded", "the order is fully refunded")
	// ErrOrderExists refuses a second order from one checkout session.
	ErrOrderExists = errs.New(errs.Conflict, "checkout_used", "an order was already placed from this checkout session")
	// ErrInvalidTransition is any move the transition table does not allow.
	ErrInvalidTransition = errs.New(errs.Conflict, "invalid_transition", "the order cannot move to that status")
	// ErrStillPlacing says the order's saga has not finished: an event
	// about it must be retried later.
	ErrStillPlacing = errs.New(errs.Unavailable, "order_placing", "order still being placed; retry")
	// ErrInvalidOrder refuses an order built from inconsistent data.
	ErrInvalidOrder = errs.New(errs.Invalid, "invalid_order", "the order is not valid")
)

// Line is one product line of an order, frozen from the checkout session.
type Line struct {
	ProductID   string
	SKU         string
	Name        string
	UnitPrice   int64 // minor units of the order's currency
	Quantity    int
	LineTotal   int64
	WeightGrams int
}

// Address is the shipping address, frozen from the checkout session.
type Address struct {
	ID, Label, Line1, Line2, City, Region, PostalCode, Country, Phone string
	IsDefault                                                         bool
}

// Payment is the order's payment handle: the gateway chosen at checkout
// and, once placed, the payment and intent the storefront confirms.
type Payment struct {
	Gateway      string
	PaymentID    *string
	IntentID     *string
	ClientSecret *string
}

// Event is a domain event recorded by a method: its type (the topic) and
// the payload as consumers receive it.
type Event struct {
	Type    string
	Payload orderingapi.OrderEvent
}

// Note is a timeline entry recorded by a method.
type Note struct {
	Type   string
	Detail map[string]any
}

// Refund is a refund applied to the order (once per refund id).
type Refund struct {
	ID     string
	Amount int64
}

// Checkout is what a new order is made of: the caller and the checkout
// session's frozen lines, amounts and choices.
type Checkout struct {
	ID, UserID, Email, SessionID string
	Lines                        []Line
	Subtotal, Discount           int64
	ShippingCost, Total          int64
	Currency                     string
	PromoCode                    *string
	Address                      Address
	Courier, Gateway             string
}

// Order is the aggregate: an order from placement to its last status.
// Its fields change only through its methods.
type Order struct {
	id, userID, email, sessionID string
	status                       Status
	lines                        []Line
	subtotal, discount           money.Money
	shipping, total, refunded    money.Money
	promoCode                    *string
	address                      Address
	courier                      string
	payment                      Payment
	lateRefundDue                bool
	failure                      string
	expiresAt, paidAt            *time.Time
	createdAt, updatedAt         time.Time
	refundIDs                    map[string]bool

	loaded     Status // the status when loaded (or created)
	changed    bool
	events     []Event
	notes      []Note
	newRefunds []Refund
}

// NewOrder validates a checkout and returns the order in placing.
func NewOrder(c Checkout) (*Order, error) {
	invalid := func(why string) error { return ErrInvalidOrder.WithDetail(why) }
	if c.ID == "" || c.UserID == "" || c.SessionID == "" {
		return nil, invalid("the order, its user and its checkout session need ids")
	}
	if len(c.Lines) == 0 {
		return nil, invalid("an order needs at least one line")
	}
	for _, l := range c.Lines {
		if l.ProductID == "" || l.Quantity <= 0 || l.UnitPrice < 0 || l.LineTotal < 0 || l.WeightGrams < 0 {
			return nil, invalid(fmt.Sprintf("line %q is not valid", l.ProductID))
		}
	}
	if c.Courier == "" || c.Gateway == "" {
		return nil, invalid("an order needs a courier and a payment gateway")
	}
	amounts := make([]money.Money, 4)
	for i, a := range []int64{c.Subtotal, c.Discount, c.ShippingCost, c.Total} {
		if a < 0 {
			return nil, invalid("amounts cannot be negative")
		}
		m, err := money.New(a, c.Currency)
		if err != nil {
			return nil, fmt.Errorf("new order %s: %w", c.ID, err)
		}
		amounts[i] = m
	}
	return &Order{id: c.ID, userID: c.UserID, email: c.Email, sessionID: c.SessionID, status: Placing, loaded: Placing,
		lines: append([]Line(nil), c.Lines...), subtotal: amounts[0], discount: amounts[1], shipping: amounts[2], total: amounts[3],
		refunded: money.Zero(c.Currency), promoCode: c.PromoCode, address: c.Address, courier: c.Courier, payment: Payment{Gateway: c.Gateway},
		refundIDs: map[string]bool{}}, nil
}

// Snapshot is every field of an order, for repositories to store and
// load it (Rehydrate); it carries no behaviour.
type Snapshot struct {
	ID, UserID, Email, SessionID string
	Status                       Status
	Lines                        []Line
	Subtotal, Discount           int64
	ShippingCost, Total          int64
	RefundedAmount               int64
	Currency                     string
	PromoCode                    *string
	Address                      Address
	Courier                      string
	Payment                      Payment
	LateRefundDue                bool
	Failure                      string
	ExpiresAt, PaidAt            *time.Time
	CreatedAt, UpdatedAt         time.Time
	RefundIDs                    []string
}

// Rehydrate rebuilds a stored order, refusing one whose stored values are
// inconsistent (an unknown status, a bad currency).
func Rehydrate(s Snapshot) (*Order, error) {
	if !s.Status.Valid() {
		return nil, ErrInvalidOrder.WithDetail(fmt.Sprintf("order %s has unknown status %q", s.ID, s.Status))
	}
	amounts := make([]money.Money, 5)
	for i, a := range []int64{s.Subtotal, s.Discount, s.ShippingCost, s.Total, s.RefundedAmount} {
		m, err := money.New(a, s.Currency)
		if err != nil {
			return nil, fmt.Errorf("order %s: %w", s.ID, err)
		}
		amounts[i] = m
	}
	ids := make(map[string]bool, len(s.RefundIDs))
	for _, id := range s.RefundIDs {
		ids[id] = true
	}
	return &Order{id: s.ID, userID: s.UserID, email: s.Email, sessionID: s.SessionID, status: s.Status, loaded: s.Status, lines: s.Lines,
		subtotal: amounts[0], discount: amounts[1], shipping: amounts[2], total: amounts[3], refunded: amounts[4], promoCode: s.PromoCode,
		address: s.Address, courier: s.Courier, payment: s.Payment, lateRefundDue: s.LateRefundDue, failure: s.Failure,
		expiresAt: s.ExpiresAt, paidAt: s.PaidAt, createdAt: s.CreatedAt, updatedAt: s.UpdatedAt, refundIDs: ids}, nil
}

// Snapshot returns the order's fields for storage.
func (o *Order) Snapshot() Snapshot {
	ids := make([]string, 0, len(o.refundIDs))
	for id := range o.refundIDs {
		ids = append(ids, id)
	}
	return Snapshot{ID: o.id, UserID: o.userID, Email: o.email, SessionID: o.sessionID, Status: o.status, Lines: append([]Line(nil), o.lines...),
		Subtotal: o.subtotal.Amount(), Discount: o.discount.Amount(), ShippingCost: o.shipping.Amount(), Total: o.total.Amount(),
		RefundedAmount: o.refunded.Amount(), Currency: o.total.Currency(), PromoCode: o.promoCode, Address: o.address, Courier: o.courier,
		Payment: o.payment, LateRefundDue: o.lateRefundDue, Failure: o.failure, ExpiresAt: o.expiresAt, PaidAt: o.paidAt,
		CreatedAt: o.createdAt, UpdatedAt: o.updatedAt, RefundIDs: ids}
}

// ID is the order id.
func (o *Order) ID() string { return o.id }

// UserID is the customer's id.
func (o *Order) UserID() string { return o.userID }

// Status is the current status.
func (o *Order) Status() Status { return o.status }

// LoadedStatus is the status the order had when loaded or created, so a
// repository knows whether it moved.
func (o *Order) LoadedStatus() Status { return o.loaded }

// Total is what the customer pays.
func (o *Order) Total() money.Money { return o.total }

// Refunded is the sum of the refunds applied.
func (o *Order) Refunded() money.Money { return o.refunded }

// Gateway is the payment gateway chosen at checkout.
func (o *Order) Gateway() string { return o.payment.Gateway }

// Lines returns a copy of the order lines.
func (o *Order) Lines() []Line { return append([]Line(nil), o.lines...) }

// ExpiresAt is the pay-by time (nil until placed).
func (o *Order) ExpiresAt() *time.Time { return o.expiresAt }

// LateRefundDue says money arrived after the order expired or was canceled
// and must be refunded.
func (o *Order) LateRefundDue() bool { return o.lateRefundDue }

// Changed reports whether a method changed a stored field.
func (o *Order) Changed() bool { return o.changed }

// SetTimestamps records the times the store assigned on save.
func (o *Order) SetTimestamps(created, updated time.Time) {
	o.createdAt, o.updatedAt = created, updated
}

// PullEvents returns the recorded events and forgets them.
func (o *Order) PullEvents() []Event {
	e := o.events
	o.events = nil
	return e
}

// PullNotes returns the recorded timeline entries and forgets them.
func (o *Order) PullNotes() []Note {
	n := o.notes
	o.notes = nil
	return n
}

// PullRefunds returns the refunds applied since load and forgets them.
func (o *Order) PullRefunds() []Refund {
	r := o.newRefunds
	o.newRefunds = nil
	return r
}

// note records a timeline entry (a nil detail is an empty object).
func (o *Order) note(typ string, detail map[string]any) {
	if detail == nil {
		detail = map[string]any{}
	}
	o.notes = append(o.notes, Note{Type: typ, Detail: detail})
}

// record records an event whose payload is the order as it is now.
func (o *Order) record(typ, reason string) {
	p := orderingapi.OrderEvent{OrderID: o.id, UserID: o.userID, CheckoutSessionID: o.sessionID, Status: string(o.status),
		Total: o.total.Amount(), Currency: o.total.Currency(), Email: o.email, RefundedAmount: o.refunded.Amount(), Reason: reason,
		Phone: o.address.Phone}
	if o.expiresAt != nil {
		p.ExpiresAt = o.expiresAt.UTC().Format(time.RFC3339)
	}
	if typ == orderingapi.EventOrderPaid {
		p.Courier, p.Country = o.courier, o.address.Country
		for _, l := range o.lines {
			p.WeightGrams += l.Quantity * l.WeightGrams
		}
	}
	o.events = append(o.events, Event{Type: typ, Payload: p})
}

// moveTo applies a move the transition table allows: the new status, its
// timeline entry (noteType, detail) and its event (with reason).
func (o *Order) moveTo(to Status, noteType string, detail map[string]any, reason string) error {
	event, ok := CanMove(o.status, to)
	if !ok {
		return ErrInvalidTransition.WithDetail(fmt.Sprintf("the order is %s and cannot become %s", o.status, to))
	}
	o.status, o.changed = to, true
	o.note(noteType, detail)
	if event != "" {
		o.record(event, reason)
	}
	return nil
}

// PaymentHandle is what the payment intent gave the order.
type PaymentHandle struct {
	Gateway, PaymentID, IntentID, ClientSecret string
}

// Deadline is a timed step of an order awaiting payment: a reminder (seq
// 1…) or the expiry (seq 0).
type Deadline struct {
	Kind string // "reminder" or "expire"
	Seq  int
	Due  time.Time
}

// Deadline kinds.
const (
	DeadlineExpire   = "expire"
	DeadlineReminder = "reminder"
)

// PaymentDeadlines lists the expiry and the reminders of an order that
// must be paid by expires (placed timeout earlier).
func PaymentDeadlines(expires time.Time, timeout time.Duration, reminders []time.Duration) []Deadline {
	created := expires.Add(-timeout)
	out := []Deadline{{Kind: DeadlineExpire, Seq: 0, Due: expires}}
	for i, r := range reminders {
		out = append(out, Deadline{Kind: DeadlineReminder, Seq: i + 1, Due: created.Add(r)})
	}
	return out
}

// MarkPlaced ends the saga: the order awaits payment until expires with
// the intent's handle; the timeline tells the saga's steps.
func (o *Order) MarkPlaced(h PaymentHandle, expires time.Time, stockLines int) error {
	if _, ok := CanMove(o.status, PendingPayment); !ok {
		return ErrInvalidTransition.WithDetail(fmt.Sprintf("the order is %s and cannot be placed", o.status))
	}
	o.expiresAt = &expires
	o.payment.PaymentID, o.payment.IntentID, o.payment.ClientSecret = &h.PaymentID, &h.IntentID, &h.ClientSecret
	o.note("stock_reserved", map[string]any{"lines": stockLines})
	o.note("checkout_consumed", map[string]any{"promo_code": o.promoCode})
	o.note("payment_intent_created", map[string]any{"gateway": h.Gateway, "intent_id": h.IntentID})
	return o.moveTo(PendingPayment, "placed", map[string]any{"status": PendingPayment, "expires_at": expires}, "")
}

// Fail marks a placement failed at step (its compensations done).
func (o *Order) Fail(step string, cause error) error {
	if err := o.moveTo(Failed, "failed", map[string]any{"step": step, "error": cause.Error()}, ""); err != nil {
		return err
	}
	o.failure = step + ": " + cause.Error()
	return nil
}

// Abandon marks failed an order whose saga was interrupted and that
// recovery compensated.
func (o *Order) Abandon() error {
	if err := o.moveTo(Failed, "failed", map[string]any{"step": "recovery"}, ""); err != nil {
		return err
	}
	o.failure = "interrupted; compensated"
	return nil
}

// Pay records the payment of an order awaiting it. An order still placing
// answers ErrStillPlacing (the event is retried); any other status answers
// ErrInvalidTransition (see MarkLatePayment).
func (o *Order) Pay(amount int64, intentID string, at time.Time) error {
	if o.status == Placing {
		return ErrStillPlacing
	}
	if _, ok := CanMove(o.status, Paid); !ok {
		return ErrInvalidTransition.WithDetail(fmt.Sprintf("the order is %s and cannot be paid", o.status))
	}
	at = at.UTC()
	o.paidAt = &at
	return o.moveTo(Paid, string(Paid), map[string]any{"amount": amount, "intent_id": intentID}, "")
}

// MarkLatePayment records money that arrived after the order expired or
// was canceled: it is due back to the customer.
func (o *Order) MarkLatePayment(amount int64) error {
	if o.status != Expired && o.status != Canceled {
		return ErrInvalidTransition.WithDetail(fmt.Sprintf("the order is %s: a payment is not late", o.status))
	}
	o.lateRefundDue, o.changed = true, true
	o.note("late_payment", map[string]any{"amount": amount, "status": o.status})
	return nil
}

// LateRefundDone records that the late payment was refunded (or needs no
// refund).
func (o *Order) LateRefundDone() {
	if o.lateRefundDue {
		o.lateRefundDue, o.changed = false, true
	}
}

// Canceller says who cancels: the customer (AdminID empty) or the shop.
type Canceller struct{ AdminID string }

// Cancel cancels an order awaiting payment; any other status answers
// ErrNotCancelable naming it.
func (o *Order) Cancel(by Canceller) error {
	detail, reason := map[string]any{"by": "customer"}, "canceled by customer"
	if by.AdminID != "" {
		detail, reason = map[string]any{"by": "admin", "admin_id": by.AdminID}, "canceled by the shop"
	}
	if err := o.moveTo(Canceled, string(Canceled), detail, reason); err != nil {
		return ErrNotCancelable.WithDetail("the order is " + string(o.status))
	}
	return nil
}

// Expire ends an order whose payment did not arrive in time.
func (o *Order) Expire() error {
	return o.moveTo(Expired, string(Expired), nil, "payment timeout")
}

// RemindPayment records reminder seq of an order still awaiting payment.
func (o *Order) RemindPayment(seq int) error {
	if o.status != PendingPayment {
		return ErrInvalidTransition.WithDetail(fmt.Sprintf("the order is %s: no reminder", o.status))
	}
	o.note("payment_reminder", map[string]any{"seq": seq})
	o.record(orderingapi.EventPaymentReminder, fmt.Sprintf("reminder %d", seq))
	return nil
}

// Shipment identifies the fulfillment an event is about.
type Shipment struct{ FulfillmentID, TrackingID string }

func (s Shipment) detail() map[string]any {
	return map[string]any{"fulfillment_id": s.FulfillmentID, "tracking_id": s.TrackingID}
}

// StartFulfillment follows fulfillment_created (from paid only).
func (o *Order) StartFulfillment(s Shipment) error {
	return o.moveTo(Fulfilling, string(Fulfilling), s.detail(), "")
}

// Ship follows shipped (from paid or fulfilling: events may arrive out of
// order).
func (o *Order) Ship(s Shipment) error { return o.moveTo(Shipped, string(Shipped), s.detail(), "") }

// Deliver follows delivered (from paid, fulfilling or shipped).
func (o *Order) Deliver(s Shipment) error {
	return o.moveTo(Delivered, string(Delivered), s.detail(), "")
}

// CheckRefundable says whether the shop may refund the order now.
func (o *Order) CheckRefundable() error {
	switch {
	case o.status.Refundable():
		return nil
	case o.status == Refunded:
		return ErrFullyRefunded
	default:
		return ErrNotRefundable.WithDetail("the order is " + string(o.status))
	}
}

// ApplyRefund adds a refund once (by refund id; a repeated id changes
// nothing). A full refund of a paid order makes it refunded; any other
// refund records order_refunded without a move.
func (o *Order) ApplyRefund(refundID string, amount int64, reason string) error {
	if o.refundIDs[refundID] {
		return nil
	}
	add, err := money.New(amount, o.total.Currency())
	if err != nil {
		return fmt.Errorf("refund %s of order %s: %w", refundID, o.id, err)
	}
	sum, err := o.refunded.Add(add)
	if err != nil {
		return fmt.Errorf("refund %s of order %s: %w", refundID, o.id, err)
	}
	if o.refundIDs == nil {
		o.refundIDs = map[string]bool{}
	}
	o.refundIDs[refundID] = true
	o.refunded, o.changed = sum, true
	o.newRefunds = append(o.newRefunds, Refund{ID: refundID, Amount: amount})
	o.note("refund", map[string]any{"refund_id": refundID, "amount": amount, "reason": reason, "refunded_amount": sum.Amount()})
	full, err := sum.Cmp(o.total)
	if err != nil {
		return err
	}
	if full >= 0 && o.status.Refundable() {
		return o.moveTo(Refunded, string(Refunded), map[string]any{"refunded_amount": sum.Amount()}, reason)
	}
	o.record(orderingapi.EventOrderRefunded, reason)
	return nil
}
