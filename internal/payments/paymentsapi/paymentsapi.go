// Package paymentsapi is the only package other contexts import from
// payments: intents, refunds and the events payments publishes.
package paymentsapi

import (
	"context"
	"time"

	"github.com/opencommerce/commerce/internal/platform/errs"
)

// Event types (topics) published by payments through its outbox.
const (
	EventPaymentSucceeded = "payments.payment_succeeded"
	EventPaymentFailed    = "payments.payment_failed"
	EventRefundSucceeded  = "payments.refund_succeeded"
)

// Topics lists every topic payments publishes.
var Topics = []string{EventPaymentSucceeded, EventPaymentFailed, EventRefundSucceeded}

// PaymentEvent is the payload of payment_succeeded and payment_failed.
type PaymentEvent struct {
	PaymentID string `json:"payment_id"`
	OrderID   string `json:"order_id"`
	Gateway   string `json:"gateway"`
	IntentID  string `json:"intent_id"`
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
}

// RefundEvent is the payload of refund_succeeded.
type RefundEvent struct {
	RefundID      string `json:"refund_id"`
	PaymentID     string `json:"payment_id"`
	OrderID       string `json:"order_id"`
	Amount        int64  `json:"amount"`
	TotalRefunded int64  `json:"total_refunded"`
	Captured      int64  `json:"captured"`
	Currency      string `json:"currency"`
	Reason        string `json:"reason"`
}

// Intent is a payment intent as the storefront needs it.
type Intent struct {
	PaymentID    string `json:"payment_id"`
	Gateway      string `json:"gateway"`
	IntentID     string `json:"intent_id"`
	ClientSecret string `json:"client_secret"`
	Status       string `json:"status"`
}

// Refund is the outcome of a refund.
type Refund struct {
	ID            string    `json:"id"`
	Amount        int64     `json:"amount"`
	Status        string    `json:"status"`
	TotalRefunded int64     `json:"total_refunded"`
	CreatedAt     time.Time `json:"created_at"`
}

// Errors.
var (
	ErrNotFound       = errs.New(errs.NotFound, "not_found", "payment not found")
	ErrRefundTooLarge = errs.New(errs.Conflict, "refund_exceeds_captured", "refunds would add up to more than the captured amount")
	ErrNotCaptured    = errs.New(errs.Conflict, "payment_not_captured", "this payment has not been captured")
	ErrGateway        = errs.New(errs.Internal, "gateway_error", "the payment provider did not answer; try again")
	ErrUnknownGateway = errs.Validation(errs.Field("payment_gateway", "must be one of the configured gateways"))
)

// Payments is what other contexts may ask of payments.
type Payments interface {
	// CreateIntent opens a payment for an order; idempotent per order.
	CreateIntent(ctx context.Context, orderID, gateway string, amount int64, currency string) (Intent, error)
	// RequestCancel cancels the order's intent at the provider if unpaid
	// (asynchronously, with retries); idempotent.
	RequestCancel(ctx context.Context, orderID string) error
	// Refund returns money of a captured payment. The refund's total never
	// exceeds the captured amount; idempotencyKey makes retries safe.
	Refund(ctx context.Context, orderID string, amount int64, reason, idempotencyKey string) (Refund, error)
}
