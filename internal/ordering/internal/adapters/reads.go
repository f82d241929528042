package adapters

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/ordering/internal/app"
	"github.com/opencommerce/commerce/internal/ordering/internal/domain"
	"github.com/opencommerce/commerce/internal/platform/events"
)

// Reads is app.Reads on PostgreSQL: the queries of the API, the admin
// console and the GraphQL loaders, each one statement.
type Reads struct{ db bun.IDB }

// NewReads returns the read side.
func NewReads(db bun.IDB) *Reads { return &Reads{db: db} }

var _ app.Reads = (*Reads)(nil)

// Order is one order's view (failed orders are not found).
func (r *Reads) Order(ctx context.Context, id string) (*app.Order, error) {
	var row orderRow
	err := r.db.NewRaw("SELECT "+orderCols+" FROM ordering.orders WHERE id = ? AND status <> 'failed'", id).Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, domain.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("order %s: %w", id, err)
	}
	v := row.view()
	return &v, nil
}

// List is one page of orders, newest first (Limit+1 rows: the extra one
// says there is a next page).
func (r *Reads) List(ctx context.Context, f app.ListQuery) ([]app.Order, error) {
	q := "SELECT " + orderCols + " FROM ordering.orders WHERE status NOT IN ('failed', 'placing')"
	var args []any
	if f.UserID != "" {
		q += " AND user_id = ?"
		args = append(args, f.UserID)
	}
	if f.Status != "" {
		q += " AND status = ?"
		args = append(args, f.Status)
	}
	if f.From != nil {
		q += " AND created_at >= ?"
		args = append(args, *f.From)
	}
	if f.To != nil {
		q += " AND created_at < ?"
		args = append(args, *f.To)
	}
	if f.IDLow != "" {
		q += " AND id BETWEEN ? AND ?"
		args = append(args, f.IDLow, f.IDHigh)
	}
	if f.Before != "" {
		q += " AND id < ?"
		args = append(args, f.Before)
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit+1)
	var rows []orderRow
	if err := r.db.NewRaw(q, args...).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	out := make([]app.Order, len(rows))
	for i, row := range rows {
		out[i] = row.view()
	}
	return out, nil
}

type timelineRow struct {
	OrderID   string          `bun:"order_id"`
	ID        int64           `bun:"id"`
	Type      string          `bun:"type"`
	Detail    json.RawMessage `bun:"detail"`
	CreatedAt time.Time       `bun:"created_at"`
}

func (t timelineRow) entry() app.TimelineEntry {
	return app.TimelineEntry{ID: t.ID, Type: t.Type, Detail: t.Detail, CreatedAt: t.CreatedAt}
}

// Timeline is an order's timeline, oldest first.
func (r *Reads) Timeline(ctx context.Context, id string) ([]app.TimelineEntry, error) {
	var rows []timelineRow
	if err := r.db.NewRaw("SELECT id, type, detail, created_at FROM ordering.timeline WHERE order_id = ? ORDER BY id", id).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("timeline of order %s: %w", id, err)
	}
	out := make([]app.TimelineEntry, len(rows))
	for i, t := range rows {
		out[i] = t.entry()
	}
	return out, nil
}

// Timelines is the timeline of several orders (of userID unless empty).
func (r *Reads) Timelines(ctx context.Context, ids []string, userID string) (map[string][]app.TimelineEntry, error) {
	q := `SELECT t.order_id::text AS order_id, t.id, t.type, t.detail, t.created_at FROM ordering.timeline t
		JOIN ordering.orders o ON o.id = t.order_id WHERE t.order_id IN (?) AND o.status <> 'failed'`
	args := []any{bun.In(ids)}
	if userID != "" {
		q += " AND o.user_id = ?"
		args = append(args, userID)
	}
	var rows []timelineRow
	if err := r.db.NewRaw(q+" ORDER BY t.id", args...).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	out := make(map[string][]app.TimelineEntry, len(ids))
	for _, t := range rows {
		out[t.OrderID] = append(out[t.OrderID], t.entry())
	}
	return out, nil
}

// OrdersByStatus counts the orders created since week (and since today).
func (r *Reads) OrdersByStatus(ctx context.Context, today, week time.Time) ([]app.StatusCount, error) {
	var rows []struct {
		Status string `bun:"status"`
		Today  int    `bun:"today"`
		Week   int    `bun:"week"`
	}
	if err := r.db.NewRaw(`SELECT status, count(*) FILTER (WHERE created_at >= ?) AS today, count(*) AS week
			FROM ordering.orders WHERE created_at >= ? AND status NOT IN ('placing', 'failed') GROUP BY status`, today, week).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	out := make([]app.StatusCount, len(rows))
	for i, row := range rows {
		out[i] = app.StatusCount{Status: row.Status, Today: row.Today, Week: row.Week}
	}
	return out, nil
}

// Revenue sums total minus refunds of the orders paid since week (and
// today) per currency.
func (r *Reads) Revenue(ctx context.Context, today, week time.Time) ([]app.CurrencyRevenue, error) {
	var rows []struct {
		Currency  string `bun:"currency"`
		PaidToday int    `bun:"paid_today"`
		Today     int64  `bun:"today"`
		Week      int64  `bun:"week"`
	}
	if err := r.db.NewRaw(`SELECT currency, count(*) FILTER (WHERE paid_at >= ?) AS paid_today,
				coalesce(sum(total - refunded_amount) FILTER (WHERE paid_at >= ?), 0)::bigint AS today,
				sum(total - refunded_amount)::bigint AS week
			FROM ordering.orders WHERE paid_at >= ? GROUP BY currency ORDER BY currency`, today, today, week).Scan(ctx, &rows); err != nil {
		return nil, err
	}
	out := make([]app.CurrencyRevenue, len(rows))
	for i, row := range rows {
		out[i] = app.CurrencyRevenue{Currency: row.Currency, PaidToday: row.PaidToday, Today: row.Today, Week: row.Week}
	}
	return out, nil
}

// DeadLetters counts events that failed every delivery and were not
// successfully retried (as the gauge does).
func (r *Reads) DeadLetters(ctx context.Context) (int, error) {
	pending, err := events.PendingDeadLetters(ctx, r.db)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range pending {
		n += int(c)
	}
	return n, nil
}

// DeadlinesDue counts deadlines due at now and not fired.
func (r *Reads) DeadlinesDue(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := r.db.NewRaw("SELECT count(*) FROM ordering.deadlines WHERE fired_at IS NULL AND due_at <= ?", now).Scan(ctx, &n)
	return n, err
}
