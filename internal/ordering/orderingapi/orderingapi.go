// Package orderingapi is the only package other contexts import from
// ordering: the events ordering publishes.
package orderingapi

// Event types (topics) published by ordering through its outbox.
const (
	EventOrderPlaced   = "ordering.order_placed"
	EventOrderPaid     = "ordering.order_paid"
	EventOrderExpired  = "ordering.order_expired"
	EventOrderCanceled = "ordering.order_canceled"
	EventOrderRefunded = "ordering.order_refunded"
	// EventPaymentReminder asks notify to remind the customer to pay.
	EventPaymentReminder = "ordering.payment_reminder"
)

// Topics lists every topic ordering publishes.
var Topics = []string{EventOrderPlaced, EventOrderPaid, EventOrderExpired, EventOrderCanceled, EventOrderRefunded, EventPaymentReminder}

// OrderEvent is the payload common to ordering's events.
type OrderEvent struct {
	OrderID           string `json:"order_id"`
	UserID            string `json:"user_id"`
	CheckoutSessionID string `json:"checkout_session_id"`
	Status            string `json:"status"`
	Total             int64  `json:"total"`
	Currency          string `json:"currency"`
	Email             string `json:"email,omitempty"`
	// Phone is the shipping address's phone, for text messages.
	Phone          string `json:"phone,omitempty"`
	ExpiresAt      string `json:"expires_at,omitempty"` // pay-by time, RFC 3339
	RefundedAmount int64  `json:"refunded_amount,omitempty"`
	Reason         string `json:"reason,omitempty"`
	// Shipping facts for fulfillment (set on order_paid).
	Courier     string `json:"courier,omitempty"`
	Country     string `json:"country,omitempty"`
	WeightGrams int    `json:"weight_grams,omitempty"`
}
