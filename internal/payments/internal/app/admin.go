package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/cursor"
	"github.com/opencommerce/commerce/internal/platform/errs"
)

// Payment is a stored payment as the admin sees it (GET /admin/payments)
// and the GraphQL subgraph resolves it: a read-side view, not the
// aggregate.
type Payment struct {
	ID             string    `json:"id"`
	OrderID        string    `json:"order_id"`
	Gateway        string    `json:"gateway"`
	IntentID       string    `json:"intent_id"`
	ClientSecret   string    `json:"-"`
	Amount         int64     `json:"amount"`
	Currency       string    `json:"currency"`
	Status         string    `json:"status" enum:"requires_payment,succeeded,failed,canceled,amount_mismatch"`
	AmountCaptured int64     `json:"amount_captured"`
	AmountRefunded int64     `json:"amount_refunded"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
	Refunds        []Refund  `json:"refunds"`
}

// Refund is a stored refund as the admin sees it.
type Refund struct {
	ID        string    `json:"id"`
	PaymentID string    `json:"-"`
	Amount    int64     `json:"amount"`
	Reason    string    `json:"reason"`
	Status    string    `json:"status"`
	CreatedAt time.Time `json:"created_at"`
}

// Statuses are the payment statuses an admin may filter by.
var Statuses = []string{paymentsapi.StatusRequiresPayment, paymentsapi.StatusSucceeded, paymentsapi.StatusFailed,
	paymentsapi.StatusCanceled, paymentsapi.StatusAmountMismatch}

// ListFilter selects the admin's page of payments.
type ListFilter struct {
	Status  string // "" = any
	OrderID string // "" = any
	Cursor  string // next_cursor of the previous page
	Limit   int
}

// Payments lists payments with their refunds (admin), newest first, by
// status and order, in keyset pages (ids are UUIDv7: creation order).
func (s *Service) Payments(ctx context.Context, f ListFilter) ([]Payment, *string, error) {
	after, err := cursor.Decode(f.Cursor)
	if err != nil {
		return nil, nil, err
	}
	var bad []errs.FieldError
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		bad = append(bad, errs.Field("status", "is not a payment status"))
	}
	if f.OrderID != "" {
		if u, err := uuid.Parse(f.OrderID); err != nil || len(f.OrderID) != 36 {
			bad = append(bad, errs.Field("order_id", "must be an order id (UUID)"))
		} else {
			f.OrderID = u.String()
		}
	}
	if len(bad) > 0 {
		return nil, nil, errs.Validation(bad...)
	}
	out, next, err := s.reads.Payments(ctx, PaymentQuery{Status: f.Status, OrderID: f.OrderID, After: after, Limit: f.Limit})
	if err != nil {
		return nil, nil, fmt.Errorf("admin payments: %w", err)
	}
	return out, next, nil
}

// ReviewSummary implements paymentsapi.Payments: one aggregate for the
// counts and one query for the newest items, both on the payments_review
// partial index.
func (s *Service) ReviewSummary(ctx context.Context, limit int) (paymentsapi.ReviewSummary, error) {
	if limit < 1 || limit > 100 {
		return paymentsapi.ReviewSummary{}, errs.Validation(errs.Field("limit", "must be an integer from 1 to 100"))
	}
	out, err := s.reads.ReviewSummary(ctx, limit)
	if err != nil {
		return out, fmt.Errorf("payments review summary: %w", err)
	}
	return out, nil
}
