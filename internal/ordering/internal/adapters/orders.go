// Package adapters implements ordering's repositories (app.Orders,
// app.Reads) on PostgreSQL: the only ordering package that speaks SQL.
package adapters

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/ordering/internal/app"
	"github.com/opencommerce/commerce/internal/ordering/internal/domain"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Orders is app.Orders on PostgreSQL. Built with NewOrders it opens its
// own transactions; WithTx binds it to a caller's (the inbox's).
type Orders struct {
	db     *pg.DB
	tx     *bun.Tx
	outbox *events.Outbox
}

// NewOrders returns the write repository.
func NewOrders(db *pg.DB, outbox *events.Outbox) *Orders { return &Orders{db: db, outbox: outbox} }

// WithTx returns the repository bound to tx: every method runs in it and
// none commits (the consumers' exactly-once inbox transaction).
func (r *Orders) WithTx(tx bun.Tx) app.Orders { return &Orders{db: r.db, tx: &tx, outbox: r.outbox} }

var _ app.Orders = (*Orders)(nil)

func (r *Orders) idb() bun.IDB {
	if r.tx != nil {
		return *r.tx
	}
	return r.db
}

// inTx runs fn in the bound transaction or a new one.
func (r *Orders) inTx(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	if r.tx != nil {
		return fn(ctx, *r.tx)
	}
	return r.db.InTx(ctx, fn)
}

const orderCols = `id::text, user_id::text, email, checkout_session_id::text, status, items, subtotal, discount, shipping_cost, total, currency,
	promo_code, address, courier, payment_gateway, payment_id, intent_id, client_secret, refunded_amount, expires_at, paid_at, created_at, updated_at`

// orderRow is a row of ordering.orders.
type orderRow struct {
	ID             string          `bun:"id"`
	UserID         string          `bun:"user_id"`
	Email          string          `bun:"email"`
	SessionID      string          `bun:"checkout_session_id"`
	Status         string          `bun:"status"`
	Items          json.RawMessage `bun:"items"`
	Subtotal       int64           `bun:"subtotal"`
	Discount       int64           `bun:"discount"`
	ShippingCost   int64           `bun:"shipping_cost"`
	Total          int64           `bun:"total"`
	Currency       string          `bun:"currency"`
	PromoCode      *string         `bun:"promo_code"`
	Address        json.RawMessage `bun:"address"`
	Courier        string          `bun:"courier"`
	Gateway        string          `bun:"payment_gateway"`
	PaymentID      *string         `bun:"payment_id"`
	IntentID       *string         `bun:"intent_id"`
	ClientSecret   *string         `bun:"client_secret"`
	RefundedAmount int64           `bun:"refunded_amount"`
	ExpiresAt      *time.Time      `bun:"expires_at"`
	PaidAt         *time.Time      `bun:"paid_at"`
	CreatedAt      time.Time       `bun:"created_at"`
	UpdatedAt      time.Time       `bun:"updated_at"`
	// Only the write side's load reads these.
	LateRefundDue bool     `bun:"late_refund_due"`
	Failure       *string  `bun:"failure"`
	RefundIDs     []string `bun:"refund_ids,array"`
}

func (o orderRow) view() app.Order {
	return app.Order{ID: o.ID, UserID: o.UserID, Email: o.Email, SessionID: o.SessionID, Status: o.Status, Items: o.Items, Subtotal: o.Subtotal,
		Discount: o.Discount, ShippingCost: o.ShippingCost, Total: o.Total, Currency: o.Currency, PromoCode: o.PromoCode, Address: o.Address,
		Courier: o.Courier, Payment: app.Payment{Gateway: o.Gateway, PaymentID: o.PaymentID, IntentID: o.IntentID, ClientSecret: o.ClientSecret},
		RefundedAmount: o.RefundedAmount, ExpiresAt: o.ExpiresAt, PaidAt: o.PaidAt, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

func (o orderRow) aggregate() (*domain.Order, error) {
	var items []cartapi.Item
	if err := json.Unmarshal(o.Items, &items); err != nil {
		return nil, fmt.Errorf("order %s items: %w", o.ID, err)
	}
	var addr authapi.Address
	if err := json.Unmarshal(o.Address, &addr); err != nil {
		return nil, fmt.Errorf("order %s address: %w", o.ID, err)
	}
	failure := ""
	if o.Failure != nil {
		failure = *o.Failure
	}
	return domain.Rehydrate(domain.Snapshot{ID: o.ID, UserID: o.UserID, Email: o.Email, SessionID: o.SessionID, Status: domain.Status(o.Status),
		Lines: app.LinesOf(items), Subtotal: o.Subtotal, Discount: o.Discount, ShippingCost: o.ShippingCost, Total: o.Total,
		RefundedAmount: o.RefundedAmount, Currency: o.Currency, PromoCode: o.PromoCode, Address: app.AddressOf(addr), Courier: o.Courier,
		Payment:       domain.Payment{Gateway: o.Gateway, PaymentID: o.PaymentID, IntentID: o.IntentID, ClientSecret: o.ClientSecret},
		LateRefundDue: o.LateRefundDue, Failure: failure, ExpiresAt: o.ExpiresAt, PaidAt: o.PaidAt, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
		RefundIDs: o.RefundIDs})
}

// Create inserts the order in placing; the unique index on the session
// refuses a second order (domain.ErrOrderExists).
func (r *Orders) Create(ctx context.Context, o *domain.Order) error {
	s := o.Snapshot()
	items, err := json.Marshal(app.ItemsOf(s.Lines))
	if err != nil {
		return fmt.Errorf("order %s items: %w", s.ID, err)
	}
	addr, err := json.Marshal(app.AddressJSON(s.Address))
	if err != nil {
		return fmt.Errorf("order %s address: %w", s.ID, err)
	}
	_, err = r.idb().ExecContext(ctx, `INSERT INTO ordering.orders (id, user_id, email, checkout_session_id, status, items, subtotal, discount, shipping_cost,
			total, currency, promo_code, address, courier, payment_gateway)
		VALUES (?, ?, ?, ?, 'placing', ?::jsonb, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?)`,
		s.ID, s.UserID, s.Email, s.SessionID, string(items), s.Subtotal, s.Discount, s.ShippingCost, s.Total, s.Currency, s.PromoCode, string(addr),
		s.Courier, s.Payment.Gateway)
	if pg.IsUniqueViolation(err) {
		return domain.ErrOrderExists
	}
	if err != nil {
		return fmt.Errorf("insert order %s: %w", s.ID, err)
	}
	return nil
}

// CommitPlaced is the saga's last step in one statement (status, payment
// handle, deadlines, timeline) plus the outbox rows, in one transaction.
func (r *Orders) CommitPlaced(ctx context.Context, o *domain.Order, deadlines []domain.Deadline) error {
	s := o.Snapshot()
	kinds, seqs, dues := make([]string, len(deadlines)), make([]int, len(deadlines)), make([]time.Time, len(deadlines))
	for i, d := range deadlines {
		kinds[i], seqs[i], dues[i] = d.Kind, d.Seq, d.Due
	}
	notes := o.PullNotes()
	types, details := make([]string, len(notes)), make([]string, len(notes))
	for i, n := range notes {
		b, err := json.Marshal(n.Detail)
		if err != nil {
			return fmt.Errorf("timeline of order %s: %w", s.ID, err)
		}
		types[i], details[i] = n.Type, string(b)
	}
	evs, err := envelopes(s.ID, o.PullEvents())
	if err != nil {
		return err
	}
	var paymentID, intentID, secret string
	if s.Payment.PaymentID != nil {
		paymentID, intentID, secret = *s.Payment.PaymentID, *s.Payment.IntentID, *s.Payment.ClientSecret
	}
	return r.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var created, updated time.Time
		if err := tx.NewRaw(`WITH u AS (
				UPDATE ordering.orders SET status = 'pending_payment', payment_id = ?, intent_id = ?, client_secret = ?, expires_at = ?, updated_at = now()
				WHERE id = ? AND status = 'placing' RETURNING id, created_at, updated_at),
			d AS (INSERT INTO ordering.deadlines (order_id, kind, seq, due_at)
				SELECT u.id, k, q, due FROM u, unnest(?::text[], ?::int[], ?::timestamptz[]) AS x(k, q, due) ON CONFLICT DO NOTHING),
			t AS (INSERT INTO ordering.timeline (order_id, type, detail)
				SELECT u.id, ty, de::jsonb FROM u, unnest(?::text[], ?::text[]) WITH ORDINALITY AS y(ty, de, n) ORDER BY n)
			SELECT created_at, updated_at FROM u`,
			paymentID, intentID, secret, s.ExpiresAt, s.ID,
			pgdialect.Array(kinds), pgdialect.Array(seqs), pgdialect.Array(dues), pgdialect.Array(types), pgdialect.Array(details)).
			Scan(ctx, &created, &updated); err != nil {
			return fmt.Errorf("commit order %s placed: %w", s.ID, err)
		}
		o.SetTimestamps(created, updated)
		if err := r.outbox.Publish(ctx, tx, evs...); err != nil {
			return fmt.Errorf("publish order %s placed: %w", s.ID, err)
		}
		return nil
	})
}

// envelopes turns recorded events into outbox envelopes.
func envelopes(orderID string, evs []domain.Event) ([]events.Envelope, error) {
	out := make([]events.Envelope, len(evs))
	for i, ev := range evs {
		e, err := events.New(ev.Type, orderID, ev.Payload)
		if err != nil {
			return nil, fmt.Errorf("event %s of order %s: %w", ev.Type, orderID, err)
		}
		out[i] = e
	}
	return out, nil
}

// load reads an order (not failed) with its refund ids. Locked (FOR
// UPDATE), the refund ids are read by a second statement once the lock is
// held: under READ COMMITTED a statement that waited for the lock keeps its
// snapshot for a subquery, and would miss a refund the lock holder just
// committed.
func (r *Orders) load(ctx context.Context, db bun.IDB, id string, lock bool) (*domain.Order, error) {
	q := "SELECT " + orderCols + ", late_refund_due, failure"
	if !lock {
		q += ", ARRAY(SELECT refund_id::text FROM ordering.refunds WHERE order_id = o.id) AS refund_ids"
	}
	q += " FROM ordering.orders o WHERE id = ? AND status <> 'failed'"
	if lock {
		q += " FOR UPDATE"
	}
	var row orderRow
	err := db.NewRaw(q, id).Scan(ctx, &row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, domain.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("load order %s: %w", id, err)
	}
	if lock {
		if err := db.NewRaw("SELECT refund_id::text FROM ordering.refunds WHERE order_id = ?", id).Scan(ctx, &row.RefundIDs); err != nil {
			return nil, fmt.Errorf("refunds of order %s: %w", id, err)
		}
	}
	return row.aggregate()
}

// Get loads an order without locking it.
func (r *Orders) Get(ctx context.Context, id string) (*domain.Order, error) {
	return r.load(ctx, r.idb(), id, false)
}

// Update loads the order FOR UPDATE, applies fn and saves the changes,
// the refunds, the timeline and the events in one transaction.
func (r *Orders) Update(ctx context.Context, id string, fn func(*domain.Order) error) error {
	return r.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		o, err := r.load(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if err := fn(o); err != nil {
			return err
		}
		return r.save(ctx, tx, o)
	})
}

// save writes what the methods changed and recorded.
func (r *Orders) save(ctx context.Context, tx bun.Tx, o *domain.Order) error {
	s := o.Snapshot()
	if o.Changed() {
		if _, err := tx.ExecContext(ctx, `UPDATE ordering.orders SET status = ?, paid_at = ?, refunded_amount = ?, late_refund_due = ?, failure = NULLIF(?, ''),
				updated_at = now() WHERE id = ?`, string(s.Status), s.PaidAt, s.RefundedAmount, s.LateRefundDue, s.Failure, s.ID); err != nil {
			return fmt.Errorf("update order %s: %w", s.ID, err)
		}
	}
	if s.Status != o.LoadedStatus() && s.Status != domain.PendingPayment {
		if _, err := tx.ExecContext(ctx, "UPDATE ordering.deadlines SET fired_at = now() WHERE order_id = ? AND fired_at IS NULL", s.ID); err != nil {
			return fmt.Errorf("clear deadlines of order %s: %w", s.ID, err)
		}
	}
	for _, rf := range o.PullRefunds() {
		if _, err := tx.ExecContext(ctx, "INSERT INTO ordering.refunds (refund_id, order_id, amount) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
			rf.ID, s.ID, rf.Amount); err != nil {
			return fmt.Errorf("record refund %s of order %s: %w", rf.ID, s.ID, err)
		}
	}
	if err := note(ctx, tx, s.ID, o.PullNotes()...); err != nil {
		return err
	}
	evs, err := envelopes(s.ID, o.PullEvents())
	if err != nil || len(evs) == 0 {
		return err
	}
	if err := r.outbox.Publish(ctx, tx, evs...); err != nil {
		return fmt.Errorf("publish events of order %s: %w", s.ID, err)
	}
	return nil
}

// Note appends timeline entries.
func (r *Orders) Note(ctx context.Context, id string, notes ...domain.Note) error {
	return note(ctx, r.idb(), id, notes...)
}

// note appends timeline entries in one statement.
func note(ctx context.Context, db bun.IDB, orderID string, notes ...domain.Note) error {
	if len(notes) == 0 {
		return nil
	}
	q := "INSERT INTO ordering.timeline (order_id, type, detail) VALUES "
	args := make([]any, 0, 3*len(notes))
	for i, n := range notes {
		if i > 0 {
			q += ", "
		}
		q += "(?, ?, ?::jsonb)"
		d := n.Detail
		if d == nil {
			d = map[string]any{}
		}
		b, err := json.Marshal(d)
		if err != nil {
			return fmt.Errorf("timeline %s of order %s: %w", n.Type, orderID, err)
		}
		args = append(args, orderID, n.Type, string(b))
	}
	if _, err := db.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("timeline of order %s: %w", orderID, err)
	}
	return nil
}

// Placing lists orders still placing created before before.
func (r *Orders) Placing(ctx context.Context, before time.Time, limit int) ([]string, error) {
	var ids []string
	if err := r.idb().NewRaw("SELECT id::text FROM ordering.orders WHERE status = 'placing' AND created_at < ? LIMIT ?", before, limit).
		Scan(ctx, &ids); err != nil {
		return nil, err
	}
	return ids, nil
}

// LateRefundsDue lists orders whose late payment awaits its refund.
func (r *Orders) LateRefundsDue(ctx context.Context, limit int) ([]string, error) {
	var ids []string
	if err := r.idb().NewRaw("SELECT id::text FROM ordering.orders WHERE late_refund_due LIMIT ?", limit).Scan(ctx, &ids); err != nil {
		return nil, err
	}
	return ids, nil
}

// FireDue claims up to limit deadlines due at now (SKIP LOCKED), marks
// each fired and applies fn, all in one transaction.
func (r *Orders) FireDue(ctx context.Context, now time.Time, limit int, fn func(ctx context.Context, tx app.Orders, d app.DueDeadline) error) (int, error) {
	n := 0
	err := r.inTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var due []struct {
			OrderID string    `bun:"order_id"`
			Kind    string    `bun:"kind"`
			Seq     int       `bun:"seq"`
			DueAt   time.Time `bun:"due_at"`
		}
		if err := tx.NewRaw(`SELECT order_id::text, kind, seq, due_at FROM ordering.deadlines WHERE fired_at IS NULL AND due_at <= ?
			ORDER BY due_at LIMIT ? FOR UPDATE SKIP LOCKED`, now, limit).Scan(ctx, &due); err != nil {
			return fmt.Errorf("due deadlines: %w", err)
		}
		bound := r.WithTx(tx)
		for _, d := range due {
			if _, err := tx.ExecContext(ctx, "UPDATE ordering.deadlines SET fired_at = now() WHERE order_id = ? AND kind = ? AND seq = ?",
				d.OrderID, d.Kind, d.Seq); err != nil {
				return fmt.Errorf("fire deadline %s %d of order %s: %w", d.Kind, d.Seq, d.OrderID, err)
			}
			if err := fn(ctx, bound, app.DueDeadline{OrderID: d.OrderID, Deadline: domain.Deadline{Kind: d.Kind, Seq: d.Seq, Due: d.DueAt}}); err != nil {
				return fmt.Errorf("deadline %s %d of order %s: %w", d.Kind, d.Seq, d.OrderID, err)
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
