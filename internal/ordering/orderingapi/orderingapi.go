// Package orderingapi is the only package other contexts import from
// ordering: the events ordering publishes. (The ordering context itself
// arrives with its own issue; cart already reacts to these events.)
package orderingapi

// Event types (topics) published by ordering through its outbox.
const (
	EventOrderPlaced   = "ordering.order_placed"
	EventOrderPaid     = "ordering.order_paid"
	EventOrderExpired  = "ordering.order_expired"
	EventOrderCanceled = "ordering.order_canceled"
	EventOrderRefunded = "ordering.order_refunded"
)

// Topics lists every topic ordering publishes.
var Topics = []string{EventOrderPlaced, EventOrderPaid, EventOrderExpired, EventOrderCanceled, EventOrderRefunded}

// OrderEvent is the payload common to ordering's events.
type OrderEvent struct {
	OrderID           string `json:"order_id"`
	UserID            string `json:"user_id"`
	CheckoutSessionID string `json:"checkout_session_id"`
	Status            string `json:"status"`
	Total             int64  `json:"total"`
	Currency          string `json:"currency"`
}
