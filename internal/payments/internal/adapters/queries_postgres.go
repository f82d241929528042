package adapters

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/payments/internal/app"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/cursor"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Queries implements app.Reads: the admin's and the subgraph's views,
// read straight from the tables.
type Queries struct{ db *pg.DB }

// NewQueries builds the read side.
func NewQueries(db *pg.DB) *Queries { return &Queries{db: db} }

var _ app.Reads = (*Queries)(nil)

// viewRow is a payment as the views show it.
type viewRow struct {
	ID             string    `bun:"id"`
	OrderID        string    `bun:"order_id"`
	Gateway        string    `bun:"gateway"`
	IntentID       string    `bun:"provider_intent_id"`
	ClientSecret   string    `bun:"client_secret"`
	Amount         int64     `bun:"amount"`
	Currency       string    `bun:"currency"`
	Status         string    `bun:"status"`
	AmountCaptured int64     `bun:"amount_captured"`
	AmountRefunded int64     `bun:"amount_refunded"`
	CreatedAt      time.Time `bun:"created_at"`
	UpdatedAt      time.Time `bun:"updated_at"`
}

func (r viewRow) view() app.Payment {
	return app.Payment{ID: r.ID, OrderID: r.OrderID, Gateway: r.Gateway, IntentID: r.IntentID, ClientSecret: r.ClientSecret,
		Amount: r.Amount, Currency: r.Currency, Status: r.Status, AmountCaptured: r.AmountCaptured, AmountRefunded: r.AmountRefunded,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// viewRefundRow is a refund as the views show it.
type viewRefundRow struct {
	ID        string    `bun:"id"`
	PaymentID string    `bun:"payment_id"`
	Amount    int64     `bun:"amount"`
	Reason    string    `bun:"reason"`
	Status    string    `bun:"status"`
	CreatedAt time.Time `bun:"created_at"`
}

const viewCols = "id::text, order_id::text, gateway, provider_intent_id, client_secret, amount, currency, status, amount_captured, amount_refunded, created_at, updated_at"

// Payments implements app.Reads: a keyset page (limit+1 rows tell whether
// there is a next page), then the page's refunds in one query.
func (q *Queries) Payments(ctx context.Context, f app.PaymentQuery) ([]app.Payment, *string, error) {
	sql := "SELECT " + viewCols + " FROM payments.payments WHERE true"
	var args []any
	if f.Status != "" {
		sql += " AND status = ?"
		args = append(args, f.Status)
	}
	if f.OrderID != "" {
		sql += " AND order_id = ?"
		args = append(args, f.OrderID)
	}
	if f.After != "" {
		sql += " AND id < ?"
		args = append(args, f.After)
	}
	sql += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit+1)
	var rows []viewRow
	if err := q.db.NewRaw(sql, args...).Scan(ctx, &rows); err != nil {
		return nil, nil, fmt.Errorf("list payments: %w", err)
	}
	out := make([]app.Payment, len(rows))
	for i, r := range rows {
		out[i] = r.view()
	}
	out, next := cursor.Page(out, f.Limit, func(p app.Payment) string { return p.ID })
	if len(out) == 0 {
		return []app.Payment{}, nil, nil
	}
	ids := make([]string, len(out))
	idx := map[string]int{}
	for i := range out {
		ids[i], idx[out[i].ID] = out[i].ID, i
		out[i].Refunds = []app.Refund{}
	}
	var refunds []viewRefundRow
	if err := q.db.NewRaw("SELECT id::text, payment_id::text, amount, reason, status, created_at FROM payments.refunds WHERE payment_id::text IN (?) ORDER BY created_at",
		bun.In(ids)).Scan(ctx, &refunds); err != nil {
		return nil, nil, fmt.Errorf("list refunds: %w", err)
	}
	for _, r := range refunds {
		i := idx[r.PaymentID]
		out[i].Refunds = append(out[i].Refunds, app.Refund{ID: r.ID, PaymentID: r.PaymentID, Amount: r.Amount, Reason: r.Reason, Status: r.Status, CreatedAt: r.CreatedAt})
	}
	return out, next, nil
}

// ReviewSummary implements app.Reads: one aggregate for the counts and
// one query for the newest items, both on the payments_review partial index.
func (q *Queries) ReviewSummary(ctx context.Context, limit int) (paymentsapi.ReviewSummary, error) {
	var out paymentsapi.ReviewSummary
	if err := q.db.NewRaw(`SELECT count(*) FILTER (WHERE status = 'amount_mismatch'), count(*) FILTER (WHERE status = 'failed')
		FROM payments.payments WHERE status IN ('amount_mismatch', 'failed')`).Scan(ctx, &out.AmountMismatch, &out.Failed); err != nil {
		return out, fmt.Errorf("count payments needing review: %w", err)
	}
	items := []paymentsapi.ReviewItem{}
	if err := q.db.NewRaw(`SELECT id::text AS id, order_id::text AS order_id, status, amount, currency, updated_at
		FROM payments.payments WHERE status IN ('amount_mismatch', 'failed') ORDER BY updated_at DESC, id DESC LIMIT ?`, limit).Scan(ctx, &items); err != nil {
		return out, fmt.Errorf("list payments needing review: %w", err)
	}
	out.Items = items
	return out, nil
}

// OfOrders implements app.Reads in one query: the latest payment of each
// order (DISTINCT ON), only userID's unless admin.
func (q *Queries) OfOrders(ctx context.Context, userID string, admin bool, orderIDs []string) (map[string]*app.Payment, error) {
	sql := "SELECT DISTINCT ON (order_id) " + viewCols + " FROM payments.payments WHERE order_id IN (?)"
	args := []any{bun.In(orderIDs)}
	if !admin {
		sql += " AND user_id = ?"
		args = append(args, userID)
	}
	var rows []viewRow
	if err := q.db.NewRaw(sql+" ORDER BY order_id, created_at DESC", args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("payments of orders: %w", err)
	}
	out := make(map[string]*app.Payment, len(rows))
	for _, r := range rows {
		v := r.view()
		out[r.OrderID] = &v
	}
	return out, nil
}
