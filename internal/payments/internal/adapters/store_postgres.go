// Package adapters stores payments in PostgreSQL (schema payments): the
// Payment aggregate's repository, the provider-event log, and the read
// side's queries. bun lives here and nowhere else in payments.
package adapters

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/payments/internal/app"
	"github.com/opencommerce/commerce/internal/payments/internal/domain"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Store implements app.Repository over PostgreSQL. A Store made by WithTx
// (or handed to an InTx function) runs every call in that transaction.
type Store struct {
	db     *pg.DB
	outbox *events.Outbox
	tx     *bun.Tx // set: bound to this transaction
}

// NewStore builds the repository; events go through outbox.
func NewStore(db *pg.DB, outbox *events.Outbox) *Store {
	return &Store{db: db, outbox: outbox}
}

var _ app.Repository = (*Store)(nil)

// WithTx is the repository bound to tx: what an event consumer passes to
// the app layer so that its change commits with the inbox row.
func (s *Store) WithTx(tx bun.Tx) app.Repository {
	return &Store{db: s.db, outbox: s.outbox, tx: &tx}
}

func (s *Store) idb() bun.IDB {
	if s.tx != nil {
		return *s.tx
	}
	return s.db
}

// InTx implements app.Repository; inside a bound store it joins the
// transaction instead of nesting one.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, r app.Repository) error) error {
	return s.run(ctx, func(ctx context.Context, tx bun.Tx) error {
		return fn(ctx, &Store{db: s.db, outbox: s.outbox, tx: &tx})
	})
}

func (s *Store) run(ctx context.Context, fn func(ctx context.Context, tx bun.Tx) error) error {
	if s.tx != nil {
		return fn(ctx, *s.tx)
	}
	return s.db.InTx(ctx, fn)
}

// paymentRow is a row of payments.payments.
type paymentRow struct {
	ID                 string     `bun:"id"`
	OrderID            string     `bun:"order_id"`
	OwnerID            string     `bun:"owner_id"`
	Gateway            string     `bun:"gateway"`
	IntentID           string     `bun:"provider_intent_id"`
	ClientSecret       string     `bun:"client_secret"`
	Amount             int64      `bun:"amount"`
	Currency           string     `bun:"currency"`
	Status             string     `bun:"status"`
	AmountCaptured     int64      `bun:"amount_captured"`
	AmountRefunded     int64      `bun:"amount_refunded"`
	CancelRequestedAt  *time.Time `bun:"cancel_requested_at"`
	ProviderCanceledAt *time.Time `bun:"provider_canceled_at"`
}

const aggregateCols = `id::text, order_id::text, coalesce(user_id::text, '') AS owner_id, gateway, provider_intent_id, client_secret,
	amount, currency, status, amount_captured, amount_refunded, cancel_requested_at, provider_canceled_at`

// refundRow is a row of payments.refunds.
type refundRow struct {
	ID               string    `bun:"id"`
	Amount           int64     `bun:"amount"`
	Reason           string    `bun:"reason"`
	Status           string    `bun:"status"`
	ProviderRefundID string    `bun:"provider_refund_id"`
	CreatedAt        time.Time `bun:"created_at"`
}

// load reads one payment and its refunds; lock takes the payment's row
// lock first. The refunds are read by a second statement, after the lock
// is held, so that they include every refund committed by the
// transaction that held it before (a subquery of the locking statement
// would see its older snapshot).
func (s *Store) load(ctx context.Context, db bun.IDB, by app.Lookup, lock bool) (*domain.Payment, error) {
	row, err := s.row(ctx, db, by, lock)
	if err != nil {
		return nil, err
	}
	var refunds []refundRow
	if err := db.NewRaw(`SELECT id::text, amount, reason, status, coalesce(provider_refund_id, '') AS provider_refund_id, created_at
		FROM payments.refunds WHERE payment_id = ? ORDER BY created_at, id`, row.ID).Scan(ctx, &refunds); err != nil {
		return nil, fmt.Errorf("refunds of payment %s: %w", row.ID, err)
	}
	st := domain.State{ID: row.ID, OrderID: row.OrderID, OwnerID: row.OwnerID, Gateway: row.Gateway, IntentID: row.IntentID,
		ClientSecret: row.ClientSecret, Amount: row.Amount, Captured: row.AmountCaptured, Refunded: row.AmountRefunded,
		Currency: row.Currency, Status: row.Status, CancelRequestedAt: row.CancelRequestedAt, ProviderCanceledAt: row.ProviderCanceledAt}
	for _, r := range refunds {
		st.Refunds = append(st.Refunds, domain.RefundState{ID: r.ID, Amount: r.Amount, Reason: r.Reason, Status: r.Status,
			ProviderRefundID: r.ProviderRefundID, CreatedAt: r.CreatedAt})
	}
	return domain.Restore(st)
}

// row finds the payment's row: by id, else by order and then by intent
// (see app.Lookup). Only sql.ErrNoRows is "not found".
func (s *Store) row(ctx context.Context, db bun.IDB, by app.Lookup, lock bool) (*paymentRow, error) {
	find := func(where, arg string) (*paymentRow, error) {
		q := "SELECT " + aggregateCols + " FROM payments.payments WHERE " + where
		if lock {
			q += " FOR UPDATE"
		}
		r := new(paymentRow)
		if err := db.NewRaw(q, arg).Scan(ctx, r); err != nil {
			return nil, err
		}
		return r, nil
	}
	var tries []func() (*paymentRow, error)
	switch {
	case by.ID != "":
		tries = append(tries, func() (*paymentRow, error) { return find("id = ?", by.ID) })
	default:
		if by.OrderID != "" {
			tries = append(tries, func() (*paymentRow, error) { return find("order_id = ?", by.OrderID) })
		}
		if by.IntentID != "" {
			tries = append(tries, func() (*paymentRow, error) { return find("provider_intent_id = ?", by.IntentID) })
		}
	}
	for _, try := range tries {
		r, err := try()
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("payment %+v: %w", by, err)
		}
		return r, nil
	}
	return nil, fmt.Errorf("payment %+v: %w", by, paymentsapi.ErrNotFound)
}

// Create implements app.Payments: one INSERT … ON CONFLICT (order_id) DO
// NOTHING; a conflict reads the order's stored payment.
func (s *Store) Create(ctx context.Context, p *domain.Payment) (*domain.Payment, error) {
	st := p.State()
	var owner any
	if st.OwnerID != "" {
		owner = st.OwnerID
	}
	row := new(paymentRow)
	err := s.idb().NewRaw(`INSERT INTO payments.payments (id, order_id, user_id, gateway, provider_intent_id, client_secret, amount, currency, status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING RETURNING `+aggregateCols,
		st.ID, st.OrderID, owner, st.Gateway, st.IntentID, st.ClientSecret, st.Amount, st.Currency, st.Status).Scan(ctx, row)
	if errors.Is(err, sql.ErrNoRows) {
		return s.load(ctx, s.idb(), app.Lookup{OrderID: st.OrderID}, false)
	}
	if err != nil {
		return nil, fmt.Errorf("insert payment of order %s: %w", st.OrderID, err)
	}
	return domain.Restore(domain.State{ID: row.ID, OrderID: row.OrderID, OwnerID: row.OwnerID, Gateway: row.Gateway, IntentID: row.IntentID,
		ClientSecret: row.ClientSecret, Amount: row.Amount, Captured: row.AmountCaptured, Refunded: row.AmountRefunded,
		Currency: row.Currency, Status: row.Status, CancelRequestedAt: row.CancelRequestedAt, ProviderCanceledAt: row.ProviderCanceledAt})
}

// Get implements app.Payments.
func (s *Store) Get(ctx context.Context, by app.Lookup) (*domain.Payment, error) {
	return s.load(ctx, s.idb(), by, false)
}

// Update implements app.Payments.
func (s *Store) Update(ctx context.Context, id string, fn func(*domain.Payment) error) error {
	return s.UpdateBy(ctx, app.Lookup{ID: id}, fn)
}

// UpdateBy implements app.Payments: lock, apply, save the difference,
// publish the recorded events — one transaction (the bound one, if any).
func (s *Store) UpdateBy(ctx context.Context, by app.Lookup, fn func(*domain.Payment) error) error {
	return s.run(ctx, func(ctx context.Context, tx bun.Tx) error {
		p, err := s.load(ctx, tx, by, true)
		if err != nil {
			return err
		}
		before := p.State()
		if err := fn(p); err != nil {
			return err
		}
		if err := save(ctx, tx, before, p.State()); err != nil {
			return err
		}
		return s.publish(ctx, tx, p.Events())
	})
}

// save writes what changed between two states of a payment: the
// payment's row when one of its mutable columns did, new refunds, and
// refunds whose status changed.
func save(ctx context.Context, tx bun.Tx, before, after domain.State) error {
	if after.Status != before.Status || after.Captured != before.Captured || after.Refunded != before.Refunded ||
		!sameTime(after.CancelRequestedAt, before.CancelRequestedAt) || !sameTime(after.ProviderCanceledAt, before.ProviderCanceledAt) {
		if _, err := tx.ExecContext(ctx, `UPDATE payments.payments SET status = ?, amount_captured = ?, amount_refunded = ?,
			cancel_requested_at = ?, provider_canceled_at = ?, updated_at = now() WHERE id = ?`,
			after.Status, after.Captured, after.Refunded, after.CancelRequestedAt, after.ProviderCanceledAt, after.ID); err != nil {
			return fmt.Errorf("save payment %s: %w", after.ID, err)
		}
	}
	old := make(map[string]domain.RefundState, len(before.Refunds))
	for _, r := range before.Refunds {
		old[r.ID] = r
	}
	for _, r := range after.Refunds {
		prev, ok := old[r.ID]
		switch {
		case !ok:
			if _, err := tx.ExecContext(ctx, "INSERT INTO payments.refunds (id, payment_id, amount, reason, status) VALUES (?, ?, ?, ?, ?)",
				r.ID, after.ID, r.Amount, r.Reason, r.Status); err != nil {
				return fmt.Errorf("save refund %s of payment %s: %w", r.ID, after.ID, err)
			}
		case prev.Status != r.Status || prev.ProviderRefundID != r.ProviderRefundID:
			if _, err := tx.ExecContext(ctx, "UPDATE payments.refunds SET status = ?, provider_refund_id = nullif(?, ''), updated_at = now() WHERE id = ?",
				r.Status, r.ProviderRefundID, r.ID); err != nil {
				return fmt.Errorf("save refund %s of payment %s: %w", r.ID, after.ID, err)
			}
		}
	}
	return nil
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

// publish writes the recorded domain events to the outbox as payments'
// public events (paymentsapi payloads, keyed by order).
func (s *Store) publish(ctx context.Context, tx bun.Tx, evs []domain.Event) error {
	if len(evs) == 0 {
		return nil
	}
	out := make([]events.Envelope, len(evs))
	for i, e := range evs {
		env, err := events.New(e.Type, e.AggregateID, e.Payload)
		if err != nil {
			return fmt.Errorf("event %s: %w", e.Type, err)
		}
		out[i] = env
	}
	return s.outbox.Publish(ctx, tx, out...)
}

// PendingCancels implements app.Payments (index payments_cancel_pending).
func (s *Store) PendingCancels(ctx context.Context, limit int) ([]app.CancelJob, error) {
	var rows []struct {
		ID       string `bun:"id"`
		Gateway  string `bun:"gateway"`
		IntentID string `bun:"provider_intent_id"`
	}
	if err := s.idb().NewRaw(`SELECT id::text, gateway, provider_intent_id FROM payments.payments
		WHERE cancel_requested_at IS NOT NULL AND provider_canceled_at IS NULL AND status = 'requires_payment' LIMIT ?`, limit).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("select pending cancels: %w", err)
	}
	out := make([]app.CancelJob, len(rows))
	for i, r := range rows {
		out[i] = app.CancelJob{PaymentID: r.ID, Gateway: r.Gateway, IntentID: r.IntentID}
	}
	return out, nil
}

// StuckRefunds implements app.Payments (index refunds_pending).
func (s *Store) StuckRefunds(ctx context.Context, createdBefore time.Time, limit int) ([]app.StuckRefund, error) {
	var rows []struct {
		ID        string `bun:"id"`
		PaymentID string `bun:"payment_id"`
	}
	if err := s.idb().NewRaw(`SELECT id::text, payment_id::text FROM payments.refunds WHERE status = 'pending' AND created_at < ? LIMIT ?`,
		createdBefore, limit).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("select stuck refunds: %w", err)
	}
	out := make([]app.StuckRefund, len(rows))
	for i, r := range rows {
		out[i] = app.StuckRefund{PaymentID: r.PaymentID, RefundID: r.ID}
	}
	return out, nil
}

// Receive implements app.ProviderEvents: the (gateway, event id) primary
// key makes the second delivery a no-op.
func (s *Store) Receive(ctx context.Context, gw, eventID, typ string) (bool, error) {
	res, err := s.idb().ExecContext(ctx, "INSERT INTO payments.webhook_events (gateway, event_id, type) VALUES (?, ?, ?) ON CONFLICT DO NOTHING", gw, eventID, typ)
	if err != nil {
		return false, fmt.Errorf("insert webhook event %s: %w", eventID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("insert webhook event %s: %w", eventID, err)
	}
	return n > 0, nil
}

// Settle implements app.ProviderEvents.
func (s *Store) Settle(ctx context.Context, o app.ProviderOutcome) error {
	var pid any
	if o.PaymentID != "" {
		pid = o.PaymentID
	}
	if _, err := s.idb().ExecContext(ctx, `UPDATE payments.webhook_events SET payment_id = ?, amount = ?, currency = nullif(?, ''), outcome = ?
		WHERE gateway = ? AND event_id = ?`, pid, o.Amount, o.Currency, o.Outcome, o.Gateway, o.EventID); err != nil {
		return fmt.Errorf("record webhook event %s: %w", o.EventID, err)
	}
	return nil
}
