// Package app holds ordering's use cases: the place-order saga, payment
// outcomes, deadlines, cancel, refunds and queries.
package app

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/platform/errs"
)

// Order is an order as its owner (and admins) see it.
type Order struct {
	ID             string          `json:"id" bun:"id"`
	UserID         string          `json:"user_id" bun:"user_id"`
	Email          string          `json:"-" bun:"email"`
	SessionID      string          `json:"checkout_session_id" bun:"checkout_session_id"`
	Status         string          `json:"status" bun:"status" enum:"placing,pending_payment,paid,fulfilling,shipped,delivered,expired,canceled,refunded"`
	Items          json.RawMessage `json:"items" bun:"items"`
	Subtotal       int64           `json:"subtotal" bun:"subtotal"`
	Discount       int64           `json:"discount" bun:"discount"`
	ShippingCost   int64           `json:"shipping_cost" bun:"shipping_cost"`
	Total          int64           `json:"total" bun:"total"`
	Currency       string          `json:"currency" bun:"currency"`
	PromoCode      *string         `json:"promo_code" bun:"promo_code"`
	Address        json.RawMessage `json:"address" bun:"address"`
	Courier        string          `json:"courier" bun:"courier" enum:"standard,express"`
	Payment        Payment         `json:"payment" bun:"embed:"`
	RefundedAmount int64           `json:"refunded_amount" bun:"refunded_amount"`
	ExpiresAt      *time.Time      `json:"expires_at" bun:"expires_at"`
	PaidAt         *time.Time      `json:"paid_at" bun:"paid_at"`
	CreatedAt      time.Time       `json:"created_at" bun:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at" bun:"updated_at"`
}

// OpenAPIRawTypes tells the OpenAPI document what the raw JSON columns
// hold: the checkout session's frozen lines and shipping address.
func (Order) OpenAPIRawTypes() map[string]any {
	return map[string]any{"items": []cartapi.Item{}, "address": authapi.Address{}}
}

// Payment is the order's payment handle for the storefront.
type Payment struct {
	Gateway      string  `json:"gateway" bun:"payment_gateway" enum:"stripe,test"`
	PaymentID    *string `json:"payment_id" bun:"payment_id"`
	IntentID     *string `json:"intent_id" bun:"intent_id"`
	ClientSecret *string `json:"client_secret" bun:"client_secret"`
}

const orderCols = `id::text, user_id::text, email, checkout_session_id::text, status, items, subtotal, discount, shipping_cost, total, currency,
	promo_code, address, courier, payment_gateway, payment_id, intent_id, client_secret, refunded_amount, expires_at, paid_at, created_at, updated_at`

// ErrNotFound is answered for unknown orders and other users' orders.
var ErrNotFound = errs.New(errs.NotFound, "not_found", "order not found")

func (s *Service) order(ctx context.Context, db bun.IDB, id string, lock bool) (*Order, error) {
	q := "SELECT " + orderCols + " FROM ordering.orders WHERE id = ? AND status <> 'failed'"
	if lock {
		q += " FOR UPDATE"
	}
	o := new(Order)
	err := db.NewRaw(q, id).Scan(ctx, o)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return o, err
}

// TimelineEntry is one step of an order's saga/timeline.
type TimelineEntry struct {
	ID        int64           `json:"id" bun:"id"`
	Type      string          `json:"type" bun:"type"`
	Detail    json.RawMessage `json:"detail" bun:"detail"`
	CreatedAt time.Time       `json:"created_at" bun:"created_at"`
}

// OpenAPIRawTypes tells the OpenAPI document that a timeline entry's
// detail is an object whose fields depend on its type.
func (TimelineEntry) OpenAPIRawTypes() map[string]any {
	return map[string]any{"detail": map[string]any{}}
}

type step struct {
	typ    string
	detail any
}

// note appends timeline entries in one statement.
func note(ctx context.Context, db bun.IDB, orderID string, steps ...step) error {
	if len(steps) == 0 {
		return nil
	}
	q := "INSERT INTO ordering.timeline (order_id, type, detail) VALUES "
	args := make([]any, 0, 3*len(steps))
	for i, st := range steps {
		if i > 0 {
			q += ", "
		}
		q += "(?, ?, ?::jsonb)"
		d := st.detail
		if d == nil {
			d = map[string]any{}
		}
		b, _ := json.Marshal(d)
		args = append(args, orderID, st.typ, string(b))
	}
	_, err := db.ExecContext(ctx, q, args...)
	return err
}
