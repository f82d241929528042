// Package cartapi is the only package other contexts import from cart:
// frozen checkout sessions, which ordering turns into orders.
package cartapi

import (
	"context"
	"time"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/platform/errs"
)

// Session statuses.
const (
	SessionPending     = "pending"
	SessionOrderPlaced = "order_placed"
	SessionExpired     = "expired"
	SessionCanceled    = "canceled"
)

// Item is a frozen line of a checkout session.
type Item struct {
	ProductID   string `json:"product_id"`
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	UnitPrice   int64  `json:"unit_price"`
	Quantity    int    `json:"quantity"`
	LineTotal   int64  `json:"line_total"`
	WeightGrams int    `json:"weight_grams"`
}

// Session is a checkout session: prices, discount and shipping frozen at
// creation, valid until ExpiresAt.
type Session struct {
	ID             string          `json:"checkout_session_id"`
	UserID         string          `json:"-"`
	Status         string          `json:"status" enum:"pending,order_placed,expired,canceled"`
	Items          []Item          `json:"items"`
	Subtotal       int64           `json:"subtotal"`
	Discount       int64           `json:"discount"`
	ShippingCost   int64           `json:"shipping_cost"`
	Total          int64           `json:"total"`
	Currency       string          `json:"currency"`
	PromoCode      *string         `json:"promo_code"`
	Address        authapi.Address `json:"address"`
	Courier        string          `json:"courier" enum:"standard,express"`
	PaymentGateway string          `json:"payment_gateway" enum:"stripe,test"`
	ETADays        int             `json:"eta_days"`
	OrderID        *string         `json:"order_id"`
	ExpiresAt      time.Time       `json:"expires_at"`
	CreatedAt      time.Time       `json:"created_at"`
}

// Errors.
var (
	ErrSessionNotFound = errs.New(errs.NotFound, "not_found", "checkout session not found")
	ErrSessionExpired  = errs.New(errs.Conflict, "checkout_expired", "this checkout session has expired or was canceled; start a new checkout")
	ErrSessionUsed     = errs.New(errs.Conflict, "checkout_used", "an order was already placed from this checkout session")
)

// Cart is what other contexts may ask of cart, in-process or over gRPC.
type Cart interface {
	// CheckoutSession returns a session (any status; an expired pending
	// session reports status expired).
	CheckoutSession(ctx context.Context, id string) (Session, error)
	// PlaceOrder marks a pending, unexpired session of userID as turned
	// into orderID and counts its promo code use atomically (errors with
	// the promo's refusal code when it is used up meanwhile). Idempotent
	// per order id.
	PlaceOrder(ctx context.Context, sessionID, orderID, userID string) error
	// ReleaseOrder gives back the promo code use of an order that expired
	// or was canceled. Idempotent.
	ReleaseOrder(ctx context.Context, orderID string) error
	// AbortOrder undoes PlaceOrder for an order that could not be placed:
	// the promo use is given back and the session is pending again (if
	// still unexpired), so the shopper can retry. Idempotent.
	AbortOrder(ctx context.Context, orderID string) error
}

// EventCartAbandoned is published when a customer's cart with items has
// been left alone for CART_ABANDONED_AFTER: notify sends the recovery email.
const EventCartAbandoned = "cart.abandoned"

// Topics lists every topic cart publishes.
var Topics = []string{EventCartAbandoned}

// CartAbandoned is the payload of EventCartAbandoned.
type CartAbandoned struct {
	CartID string `json:"cart_id"`
	UserID string `json:"user_id"`
	// Items is the number of lines in the cart.
	Items int `json:"items"`
	// PromoCode is CART_RECOVERY_PROMO ("" when none).
	PromoCode string `json:"promo_code,omitempty"`
}
