package domain

import (
	"fmt"
	"time"

	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/money"
)

// RefundStatus is where a refund stands: pending while the provider is
// (or must again be) asked, then succeeded or failed.
type RefundStatus string

// Refund statuses, as stored in payments.refunds.status.
const (
	RefundPending   RefundStatus = "pending"
	RefundSucceeded RefundStatus = "succeeded"
	RefundFailed    RefundStatus = "failed"
)

func parseRefundStatus(s string) (RefundStatus, error) {
	switch RefundStatus(s) {
	case RefundPending, RefundSucceeded, RefundFailed:
		return RefundStatus(s), nil
	}
	return "", fmt.Errorf("refund status %q: %w", s, errs.New(errs.Internal, "unknown_refund_status", "unknown refund status"))
}

// Refund is money of a captured payment returned to the customer; it
// belongs to its Payment, which alone changes it.
type Refund struct {
	id         string
	amount     money.Money
	reason     string
	status     RefundStatus
	providerID string
	createdAt  time.Time
}

// ID is the refund's id, also the provider's idempotency key.
func (r *Refund) ID() string { return r.id }

// Amount is the money returned.
func (r *Refund) Amount() money.Money { return r.amount }

// Reason is why (free text from the admin).
func (r *Refund) Reason() string { return r.reason }

// Status is where the refund stands.
func (r *Refund) Status() RefundStatus { return r.status }

// CreatedAt is when the refund was stored (zero until it is).
func (r *Refund) CreatedAt() time.Time { return r.createdAt }

func (r *Refund) state() RefundState {
	return RefundState{ID: r.id, Amount: r.amount.Amount(), Reason: r.reason, Status: string(r.status), ProviderRefundID: r.providerID, CreatedAt: r.createdAt}
}

// ErrRefundAmount refuses a refund of no money or of another currency.
var ErrRefundAmount = errs.Validation(errs.Field("amount", "must be a positive amount in minor units"))

// RefundByID returns the payment's refund with that id.
func (p *Payment) RefundByID(id string) (*Refund, bool) {
	for _, r := range p.refunds {
		if r.id == id {
			return r, true
		}
	}
	return nil, false
}

// Refunds returns the payment's refunds, oldest first.
func (p *Payment) Refunds() []*Refund { return append([]*Refund(nil), p.refunds...) }

// Held is the money refunds hold: succeeded ones and pending ones (which
// may still succeed), so that concurrent refunds cannot add up past the
// captured amount.
func (p *Payment) Held() money.Money {
	held := money.Zero(p.amount.Currency())
	for _, r := range p.refunds {
		if r.status == RefundPending || r.status == RefundSucceeded {
			// Same currency by construction; an overflow needs more
			// money than exists and was refused when it was added.
			held, _ = held.Add(r.amount)
		}
	}
	return held
}

// Refund reserves amount of the captured money as a pending refund with
// the given id, before the provider is asked (the id is its idempotency
// key). A refund with that id already existing is returned as it is (a
// retry). A payment not captured refuses (payment_not_captured), and so
// does a refund that would take the refunds past the captured amount
// (captured minus what refunds already hold: refund_exceeds_captured).
func (p *Payment) Refund(id string, amount money.Money, reason string) (*Refund, error) {
	if r, ok := p.RefundByID(id); ok {
		return r, nil
	}
	if id == "" {
		return nil, ErrInvalidPayment.WithDetail("a refund needs an id")
	}
	if amount.Amount() <= 0 || amount.Currency() != p.amount.Currency() {
		return nil, ErrRefundAmount
	}
	if p.status != StatusSucceeded || p.captured.IsZero() {
		return nil, paymentsapi.ErrNotCaptured
	}
	left, err := p.captured.Sub(p.Held())
	if err != nil {
		return nil, fmt.Errorf("refund of payment %s: %w", p.id, err)
	}
	if c, err := amount.Cmp(left); err != nil || c > 0 {
		if err != nil {
			return nil, fmt.Errorf("refund of payment %s: %w", p.id, err)
		}
		return nil, paymentsapi.ErrRefundTooLarge.WithDetail("refunds would total more than the captured amount")
	}
	r := &Refund{id: id, amount: amount, reason: reason, status: RefundPending}
	p.refunds = append(p.refunds, r)
	return r, nil
}

// RefundSucceeded records the provider's refund of a pending refund: the
// money counts as refunded and refund_succeeded is recorded. A refund no
// longer pending (another worker finished it) changes nothing; the result
// says whether this call did.
func (p *Payment) RefundSucceeded(id, providerRefundID string) (bool, error) {
	r, ok := p.RefundByID(id)
	if !ok {
		return false, fmt.Errorf("refund %s of payment %s: %w", id, p.id, paymentsapi.ErrNotFound)
	}
	if r.status != RefundPending {
		return false, nil
	}
	total, err := p.refunded.Add(r.amount)
	if err != nil {
		return false, fmt.Errorf("refund %s of payment %s: %w", id, p.id, err)
	}
	if c, err := total.Cmp(p.captured); err != nil || c > 0 {
		return false, fmt.Errorf("refund %s of payment %s: refunded %v of %v captured: %w", id, p.id, total, p.captured, paymentsapi.ErrRefundTooLarge)
	}
	r.status, r.providerID = RefundSucceeded, providerRefundID
	p.refunded = total
	p.record(paymentsapi.EventRefundSucceeded, paymentsapi.RefundEvent{RefundID: r.id, PaymentID: p.id, OrderID: p.orderID,
		Amount: r.amount.Amount(), TotalRefunded: total.Amount(), Captured: p.captured.Amount(), Currency: p.amount.Currency(), Reason: r.reason})
	return true, nil
}

// RefundFailed records that the provider refused a pending refund: its
// money is no longer held. A refund no longer pending changes nothing.
func (p *Payment) RefundFailed(id string) bool {
	r, ok := p.RefundByID(id)
	if !ok || r.status != RefundPending {
		return false
	}
	r.status = RefundFailed
	return true
}
