package domain

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/money"
)

// Event is a domain event a change recorded: its topic, the aggregate it
// is keyed by (the order, as consumers of payments' events expect) and its
// payload, one of paymentsapi's event payloads. The repository writes it
// to the outbox in the transaction that saves the change.
type Event struct {
	Type        string
	AggregateID string
	Payload     any
}

// Payment is the aggregate: one order's payment at one gateway, with the
// refunds of its captured money. Its fields are unexported so that every
// change goes through a method that keeps the rules.
type Payment struct {
	id           string
	orderID      string
	ownerID      string // the order's owner; "" for payments stored before owners were
	gateway      string
	intentID     string
	clientSecret string
	amount       money.Money // what the intent asks for
	status       Status
	captured     money.Money // what a matching success captured
	refunded     money.Money // what succeeded refunds returned
	cancelAt     *time.Time  // when the cancel of the unpaid intent was requested
	canceledAt   *time.Time  // when the provider confirmed the cancel
	refunds      []*Refund
	events       []Event
}

// ErrInvalidPayment is returned by NewPayment for values no payment can have.
var ErrInvalidPayment = errs.New(errs.Invalid, "invalid_payment", "the payment is invalid")

// NewPayment opens a payment for an order's intent, unpaid. ownerID is
// kept only when it is a user id (UUID), as guests' orders have none; the
// amount may be zero (a free order) but never negative.
func NewPayment(id, orderID, ownerID, gateway, intentID, clientSecret string, amount money.Money) (*Payment, error) {
	var bad []string
	if id == "" {
		bad = append(bad, "no id")
	}
	if orderID == "" {
		bad = append(bad, "no order id")
	}
	if gateway == "" {
		bad = append(bad, "no gateway")
	}
	if intentID == "" {
		bad = append(bad, "no provider intent id")
	}
	if amount.Currency() == "" {
		bad = append(bad, "no currency")
	}
	if amount.IsNegative() {
		bad = append(bad, "a negative amount")
	}
	if len(bad) > 0 {
		return nil, ErrInvalidPayment.WithDetail("the payment has " + strings.Join(bad, ", "))
	}
	if _, err := uuid.Parse(ownerID); err != nil {
		ownerID = ""
	}
	zero := money.Zero(amount.Currency())
	return &Payment{id: id, orderID: orderID, ownerID: ownerID, gateway: gateway, intentID: intentID, clientSecret: clientSecret,
		amount: amount, status: StatusRequiresPayment, captured: zero, refunded: zero}, nil
}

// State is a payment's stored form: what the repository reads and writes.
// It carries no rules; Restore checks it.
type State struct {
	ID, OrderID, OwnerID, Gateway, IntentID, ClientSecret string
	Amount, Captured, Refunded                            int64
	Currency, Status                                      string
	CancelRequestedAt, ProviderCanceledAt                 *time.Time
	Refunds                                               []RefundState
}

// RefundState is a refund's stored form.
type RefundState struct {
	ID               string
	Amount           int64
	Reason           string
	Status           string
	ProviderRefundID string
	CreatedAt        time.Time
}

// Restore rebuilds a stored payment, refusing a state the rules could not
// have produced (an unknown status, a bad currency, refunds past capture),
// so that corrupt data stops a change instead of spreading.
func Restore(s State) (*Payment, error) {
	amount, err := money.New(s.Amount, s.Currency)
	if err != nil {
		return nil, fmt.Errorf("restore payment %s: %w", s.ID, err)
	}
	status, err := ParseStatus(s.Status)
	if err != nil {
		return nil, fmt.Errorf("restore payment %s: %w", s.ID, err)
	}
	if s.Captured < 0 || s.Refunded < 0 || s.Refunded > s.Captured {
		return nil, fmt.Errorf("restore payment %s: captured %d, refunded %d: %w", s.ID, s.Captured, s.Refunded, ErrInvalidPayment)
	}
	p := &Payment{id: s.ID, orderID: s.OrderID, ownerID: s.OwnerID, gateway: s.Gateway, intentID: s.IntentID, clientSecret: s.ClientSecret,
		amount: amount, status: status, captured: money.Must(s.Captured, s.Currency), refunded: money.Must(s.Refunded, s.Currency),
		cancelAt: s.CancelRequestedAt, canceledAt: s.ProviderCanceledAt}
	for _, r := range s.Refunds {
		rs, err := parseRefundStatus(r.Status)
		if err != nil {
			return nil, fmt.Errorf("restore refund %s of payment %s: %w", r.ID, s.ID, err)
		}
		a, err := money.New(r.Amount, s.Currency)
		if err != nil {
			return nil, fmt.Errorf("restore refund %s of payment %s: %w", r.ID, s.ID, err)
		}
		p.refunds = append(p.refunds, &Refund{id: r.ID, amount: a, reason: r.Reason, status: rs, providerID: r.ProviderRefundID, createdAt: r.CreatedAt})
	}
	return p, nil
}

// State returns the payment's stored form (a copy: changing it changes
// nothing).
func (p *Payment) State() State {
	s := State{ID: p.id, OrderID: p.orderID, OwnerID: p.ownerID, Gateway: p.gateway, IntentID: p.intentID, ClientSecret: p.clientSecret,
		Amount: p.amount.Amount(), Captured: p.captured.Amount(), Refunded: p.refunded.Amount(), Currency: p.amount.Currency(),
		Status: string(p.status), CancelRequestedAt: copyTime(p.cancelAt), ProviderCanceledAt: copyTime(p.canceledAt)}
	for _, r := range p.refunds {
		s.Refunds = append(s.Refunds, r.state())
	}
	return s
}

func copyTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := *t
	return &c
}

// ID is the payment's id.
func (p *Payment) ID() string { return p.id }

// OrderID is the order the payment pays.
func (p *Payment) OrderID() string { return p.orderID }

// Gateway is the provider the intent lives at ("stripe", "test").
func (p *Payment) Gateway() string { return p.gateway }

// IntentID is the provider's intent id.
func (p *Payment) IntentID() string { return p.intentID }

// ClientSecret lets the storefront confirm the intent at the provider.
func (p *Payment) ClientSecret() string { return p.clientSecret }

// Amount is what the intent asks for.
func (p *Payment) Amount() money.Money { return p.amount }

// Status is where the payment stands.
func (p *Payment) Status() Status { return p.status }

// Captured is what a matching success captured (zero until then).
func (p *Payment) Captured() money.Money { return p.captured }

// Refunded is what succeeded refunds returned.
func (p *Payment) Refunded() money.Money { return p.refunded }

// OwnedBy reports whether userID is the order's owner; a payment stored
// without an owner is nobody's.
func (p *Payment) OwnedBy(userID string) bool { return p.ownerID != "" && p.ownerID == userID }

// Events returns the events recorded since the payment was loaded and
// forgets them: the repository calls it once, when it saves.
func (p *Payment) Events() []Event {
	evs := p.events
	p.events = nil
	return evs
}

func (p *Payment) record(typ string, payload any) {
	p.events = append(p.events, Event{Type: typ, AggregateID: p.orderID, Payload: payload})
}

func (p *Payment) moveTo(to Status) error {
	if !p.status.CanBecome(to) {
		return fmt.Errorf("payment %s %s → %s: %w", p.id, p.status, to, ErrTransition)
	}
	p.status = to
	return nil
}

// Report is what a provider's success event says was received. Complete
// is false when it names no amount or no currency (Amount is then -1 if
// there was no amount): such a report can never pay.
type Report struct {
	EventID  string
	Amount   int64
	Currency string
	Complete bool
}

// Succeeded applies a provider's success. A repeat of a success changes
// nothing (already_succeeded). A report of the intent's own amount and
// currency (compared case-insensitively: providers send "usd") captures the
// amount and records payment_succeeded; any other report makes the payment
// amount_mismatch for review, captures nothing and records
// payment_amount_mismatch, so the order stays unpaid.
func (p *Payment) Succeeded(r Report) (Outcome, error) {
	if p.status == StatusSucceeded {
		return OutcomeAlreadySucceeded, nil
	}
	if !r.Complete || r.Amount != p.amount.Amount() || !strings.EqualFold(r.Currency, p.amount.Currency()) {
		if err := p.moveTo(StatusAmountMismatch); err != nil {
			return "", err
		}
		p.record(paymentsapi.EventPaymentAmountMismatch, paymentsapi.AmountMismatchEvent{PaymentID: p.id, OrderID: p.orderID,
			Gateway: p.gateway, IntentID: p.intentID, ProviderEventID: r.EventID, ExpectedAmount: p.amount.Amount(),
			ExpectedCurrency: p.amount.Currency(), ReceivedAmount: r.Amount, ReceivedCurrency: strings.ToUpper(r.Currency)})
		return OutcomeAmountMismatch, nil
	}
	if err := p.moveTo(StatusSucceeded); err != nil {
		return "", err
	}
	p.captured = p.amount
	p.record(paymentsapi.EventPaymentSucceeded, p.paymentEvent())
	return OutcomeSucceeded, nil
}

// Failed applies a provider's failure: only an unpaid intent fails (and
// records payment_failed); after a success, a cancel or a mismatch the
// report is ignored.
func (p *Payment) Failed() (Outcome, error) {
	if !p.status.CanBecome(StatusFailed) {
		return OutcomeIgnored, nil
	}
	if err := p.moveTo(StatusFailed); err != nil {
		return "", err
	}
	p.record(paymentsapi.EventPaymentFailed, p.paymentEvent())
	return OutcomeFailed, nil
}

func (p *Payment) paymentEvent() paymentsapi.PaymentEvent {
	return paymentsapi.PaymentEvent{PaymentID: p.id, OrderID: p.orderID, Gateway: p.gateway, IntentID: p.intentID,
		Amount: p.amount.Amount(), Currency: p.amount.Currency()}
}

// RequestCancel asks for the unpaid intent to be canceled at the provider
// (the order expired or was canceled); the first request's time is kept.
// A payment that can no longer be canceled ignores it. It reports whether
// the payment changed.
func (p *Payment) RequestCancel(at time.Time) bool {
	if !p.status.CanBecome(StatusCanceled) || p.cancelAt != nil {
		return false
	}
	p.cancelAt = &at
	return true
}

// CancelPending reports whether a requested cancel still waits for the
// provider.
func (p *Payment) CancelPending() bool {
	return p.cancelAt != nil && p.canceledAt == nil && p.status == StatusRequiresPayment
}

// CanceledAtProvider records that the provider canceled the intent: the
// payment is canceled, unless a success (or anything else) got there
// first, which it keeps. It reports whether the payment changed.
func (p *Payment) CanceledAtProvider(at time.Time) bool {
	if p.status != StatusRequiresPayment || p.moveTo(StatusCanceled) != nil {
		return false
	}
	p.canceledAt = &at
	return true
}

// Errors of test-card confirmations.
var (
	ErrPaymentClosed  = errs.New(errs.Conflict, "payment_closed", "this payment can no longer be confirmed")
	ErrNotTestPayment = errs.New(errs.Conflict, "not_a_test_payment", "only payments of the test gateway can be confirmed with a test card")
)

// TestGateway is the built-in gateway's name: only its payments are
// confirmed with test cards.
const TestGateway = "test"

// CheckCardConfirmation says whether a test card may pay (succeeds) or
// fail this payment, as Stripe test mode would: only the test gateway's
// payments; a repeated successful confirmation of a paid payment is
// answered as already paid; a paid or canceled payment is closed.
func (p *Payment) CheckCardConfirmation(succeeds bool) (alreadyPaid bool, err error) {
	if p.gateway != TestGateway {
		return false, ErrNotTestPayment
	}
	switch {
	case p.status == StatusSucceeded && succeeds:
		return true, nil
	case p.status == StatusSucceeded || p.status == StatusCanceled:
		return false, ErrPaymentClosed.WithDetail("this payment is already " + string(p.status))
	}
	return false, nil
}
