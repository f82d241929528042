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
	// EventPaymentAmountMismatch says a provider reported success for an
	// amount or currency other than the intent's: the order stays unpaid
	// and an admin must review the payment.
	EventPaymentAmountMismatch = "payments.payment_amount_mismatch"
)

// Topics lists every topic payments publishes.
var Topics = []string{EventPaymentSucceeded, EventPaymentFailed, EventRefundSucceeded, EventPaymentAmountMismatch}

// Payment statuses. StatusAmountMismatch is reviewable: the provider
// reported money that does not match the intent, so nothing was paid.
const (
	StatusRequiresPayment = "requires_payment"
	StatusSucceeded       = "succeeded"
	StatusFailed          = "failed"
	StatusCanceled        = "canceled"
	StatusAmountMismatch  = "amount_mismatch"
)

// AmountMismatchEvent is the payload of payment_amount_mismatch: what the
// intent asked for and what the provider's signed event reported.
type AmountMismatchEvent struct {
	PaymentID        string `json:"payment_id"`
	OrderID          string `json:"order_id"`
	Gateway          string `json:"gateway"`
	IntentID         string `json:"intent_id"`
	ProviderEventID  string `json:"provider_event_id"`
	ExpectedAmount   int64  `json:"expected_amount"`
	ExpectedCurrency string `json:"expected_currency"`
	// ReceivedAmount is -1 when the event carried no amount at all.
	ReceivedAmount   int64  `json:"received_amount"`
	ReceivedCurrency string `json:"received_currency"`
}

// Gateway describes a payment gateway this shop accepts at checkout.
type Gateway struct {
	// Name is the payment_gateway value of checkout.
	Name string `json:"name" enum:"stripe,test"`
	// DisplayName is a label a storefront can show.
	DisplayName string `json:"display_name"`
	// Test is true when no real money moves (the built-in test gateway).
	Test bool `json:"test"`
}

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

// ReviewItem is a payment an admin should look at: the provider reported
// another amount than the intent's, or the payment failed.
type ReviewItem struct {
	ID        string    `json:"id"`
	OrderID   string    `json:"order_id"`
	Status    string    `json:"status" enum:"amount_mismatch,failed"`
	Amount    int64     `json:"amount"`
	Currency  string    `json:"currency"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ReviewSummary counts the payments needing review by status and lists
// the newest of them, so a dashboard hosted elsewhere shows them in one call.
type ReviewSummary struct {
	AmountMismatch int          `json:"amount_mismatch"`
	Failed         int          `json:"failed"`
	Items          []ReviewItem `json:"items"`
}

// Errors.
var (
	ErrNotFound       = errs.New(errs.NotFound, "not_found", "payment not found")
	ErrRefundTooLarge = errs.New(errs.Conflict, "refund_exceeds_captured", "refunds would add up to more than the captured amount")
	ErrNotCaptured    = errs.New(errs.Conflict, "payment_not_captured", "this payment has not been captured")
	ErrGateway        = errs.New(errs.Internal, "gateway_error", "the payment provider did not answer; try again")
	ErrUnknownGateway = errs.Validation(errs.Field("payment_gateway", "must be one of the configured gateways"))
	// ErrGatewayUnavailable is answered when a known gateway is not
	// configured in this shop (stripe without STRIPE_SECRET_KEY).
	ErrGatewayUnavailable = errs.New(errs.Invalid, "gateway_unavailable", "this shop does not accept that payment gateway; see GET /api/v1/payments/gateways")
)

// Payments is what other contexts may ask of payments.
type Payments interface {
	// CreateIntent opens a payment for an order; idempotent per order.
	// userID is the order's owner (only they may confirm a test payment).
	CreateIntent(ctx context.Context, orderID, userID, gateway string, amount int64, currency string) (Intent, error)
	// RequestCancel cancels the order's intent at the provider if unpaid
	// (asynchronously, with retries); idempotent.
	RequestCancel(ctx context.Context, orderID string) error
	// Refund returns money of a captured payment. The refund's total never
	// exceeds the captured amount; idempotencyKey makes retries safe.
	Refund(ctx context.Context, orderID string, amount int64, reason, idempotencyKey string) (Refund, error)
	// Gateways lists the gateways this shop accepts, so checkout can refuse
	// one that would only fail when the order is placed.
	Gateways(ctx context.Context) ([]Gateway, error)
	// ReviewSummary counts payments in amount_mismatch and failed and lists
	// at most limit (1 to 100) of them, newest first (admin dashboard).
	ReviewSummary(ctx context.Context, limit int) (ReviewSummary, error)
}
