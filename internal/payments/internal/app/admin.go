package app

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/cursor"
	"github.com/opencommerce/commerce/internal/platform/errs"
)

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
	q := "SELECT " + paymentCols + " FROM payments.payments WHERE true"
	var args []any
	if f.Status != "" {
		q += " AND status = ?"
		args = append(args, f.Status)
	}
	if f.OrderID != "" {
		q += " AND order_id = ?"
		args = append(args, f.OrderID)
	}
	if after != "" {
		q += " AND id < ?"
		args = append(args, after)
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit+1)
	var out []Payment
	if err := s.db.NewRaw(q, args...).Scan(ctx, &out); err != nil {
		return nil, nil, fmt.Errorf("list payments: %w", err)
	}
	out, next := cursor.Page(out, f.Limit, func(p Payment) string { return p.ID })
	if len(out) == 0 {
		return []Payment{}, nil, nil
	}
	ids := make([]string, len(out))
	idx := map[string]int{}
	for i := range out {
		ids[i], idx[out[i].ID] = out[i].ID, i
		out[i].Refunds = []Refund{}
	}
	var refunds []Refund
	if err := s.db.NewRaw("SELECT id::text, payment_id::text, amount, reason, status, created_at FROM payments.refunds WHERE payment_id::text IN (?) ORDER BY created_at",
		bun.In(ids)).Scan(ctx, &refunds); err != nil {
		return nil, nil, fmt.Errorf("list refunds: %w", err)
	}
	for _, r := range refunds {
		out[idx[r.PaymentID]].Refunds = append(out[idx[r.PaymentID]].Refunds, r)
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
	var out paymentsapi.ReviewSummary
	if err := s.db.NewRaw(`SELECT count(*) FILTER (WHERE status = 'amount_mismatch'), count(*) FILTER (WHERE status = 'failed')
		FROM payments.payments WHERE status IN ('amount_mismatch', 'failed')`).Scan(ctx, &out.AmountMismatch, &out.Failed); err != nil {
		return out, fmt.Errorf("count payments needing review: %w", err)
	}
	items := []paymentsapi.ReviewItem{}
	if err := s.db.NewRaw(`SELECT id::text AS id, order_id::text AS order_id, status, amount, currency, updated_at
		FROM payments.payments WHERE status IN ('amount_mismatch', 'failed') ORDER BY updated_at DESC, id DESC LIMIT ?`, limit).Scan(ctx, &items); err != nil {
		return out, fmt.Errorf("list payments needing review: %w", err)
	}
	out.Items = items
	return out, nil
}
