// Package adapters stores carts, promotions and checkout sessions in
// PostgreSQL, implementing the app layer's Store: bun is used here only.
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

	"github.com/opencommerce/commerce/internal/cart/internal/app"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Store is cart's PostgreSQL repository. The value made by NewStore runs
// on the pool; InTx and WithTx give one bound to a transaction.
type Store struct {
	db   bun.IDB
	pool *pg.DB
}

var _ app.Store = (*Store)(nil)

// NewStore is the repository on db's pool.
func NewStore(db *pg.DB) *Store { return &Store{db: db, pool: db} }

// InTx implements app.Store: fn's statements commit together.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, r app.Repos) error) error {
	return s.pool.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return fn(ctx, &Store{db: tx, pool: s.pool})
	})
}

// WithTx is the repository bound to tx, for a consumer whose effect must
// commit with the inbox row the events package holds in tx.
func (s *Store) WithTx(tx bun.Tx) app.Repos { return &Store{db: tx, pool: s.pool} }

// cartRow is a customer's cart.
type cartRow struct {
	ID        string  `bun:"id"`
	UserID    string  `bun:"user_id"`
	Currency  *string `bun:"currency"`
	PromoCode *string `bun:"promo_code"`
}

func (r *cartRow) record() *app.CartRecord {
	return &app.CartRecord{ID: r.ID, UserID: r.UserID, Currency: r.Currency, PromoCode: r.PromoCode}
}

// itemRow is a cart line.
type itemRow struct {
	ProductID string `bun:"product_id"`
	Quantity  int    `bun:"quantity"`
}

// LockCart implements app.Repos.
func (s *Store) LockCart(ctx context.Context, newID, userID string) (*app.CartRecord, error) {
	// One round trip: the upsert creates the cart or, on the conflict,
	// locks the existing row (a no-op update of an unchanged value takes
	// the same row lock as SELECT ... FOR NO KEY UPDATE, which excludes
	// every other mutation of the cart) and returns it either way.
	c := new(cartRow)
	if err := s.db.NewRaw(`INSERT INTO cart.carts (id, user_id) VALUES (?, ?)
		ON CONFLICT (user_id) DO UPDATE SET user_id = EXCLUDED.user_id
		RETURNING id::text, user_id::text, currency, promo_code`, newID, userID).Scan(ctx, c); err != nil {
		return nil, fmt.Errorf("lock the cart of user %s: %w", userID, err)
	}
	return c.record(), nil
}

// Cart implements app.Repos.
func (s *Store) Cart(ctx context.Context, userID string) (*app.CartRecord, error) {
	c := new(cartRow)
	err := s.db.NewRaw("SELECT id::text, user_id::text, currency, promo_code FROM cart.carts WHERE user_id = ?", userID).Scan(ctx, c)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load the cart of user %s: %w", userID, err)
	}
	return c.record(), nil
}

// Items implements app.Repos.
func (s *Store) Items(ctx context.Context, cartID string) ([]app.ItemRecord, error) {
	var rows []itemRow
	if err := s.db.NewRaw("SELECT product_id::text, quantity FROM cart.items WHERE cart_id = ? ORDER BY added_at, product_id", cartID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("load the lines of cart %s: %w", cartID, err)
	}
	out := make([]app.ItemRecord, len(rows))
	for i, r := range rows {
		out[i] = app.ItemRecord{ProductID: r.ProductID, Quantity: r.Quantity}
	}
	return out, nil
}

// SetItem implements app.Repos.
func (s *Store) SetItem(ctx context.Context, cartID, productID string, qty int) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO cart.items (cart_id, product_id, quantity) VALUES (?, ?, ?)
		ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = EXCLUDED.quantity`, cartID, productID, qty)
	if err != nil {
		return fmt.Errorf("set line %s of cart %s: %w", productID, cartID, err)
	}
	return nil
}

// SaveWithItem implements app.Repos: one round trip for the cart row and
// the line.
func (s *Store) SaveWithItem(ctx context.Context, c *app.CartRecord, productID string, qty int) error {
	_, err := s.db.ExecContext(ctx, `WITH cart AS (UPDATE cart.carts SET currency = ?, promo_code = ?, updated_at = now() WHERE id = ?)
		INSERT INTO cart.items (cart_id, product_id, quantity) VALUES (?, ?, ?)
		ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = EXCLUDED.quantity`, c.Currency, c.PromoCode, c.ID, c.ID, productID, qty)
	if err != nil {
		return fmt.Errorf("save cart %s with line %s: %w", c.ID, productID, err)
	}
	return nil
}

// DeleteItems implements app.Repos.
func (s *Store) DeleteItems(ctx context.Context, cartID string, productIDs []string) (int64, error) {
	q, args := "DELETE FROM cart.items WHERE cart_id = ?", []any{cartID}
	if productIDs != nil {
		q += " AND product_id = ANY(?::uuid[])"
		args = append(args, pgdialect.Array(productIDs))
	}
	res, err := s.db.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("delete lines of cart %s: %w", cartID, err)
	}
	return res.RowsAffected()
}

// UpdateCart implements app.Repos.
func (s *Store) UpdateCart(ctx context.Context, c *app.CartRecord) error {
	if _, err := s.db.ExecContext(ctx, "UPDATE cart.carts SET currency = ?, promo_code = ?, updated_at = now() WHERE id = ?", c.Currency, c.PromoCode, c.ID); err != nil {
		return fmt.Errorf("save cart %s: %w", c.ID, err)
	}
	return nil
}

// promotionRow is a promotion.
type promotionRow struct {
	ID              string     `bun:"id"`
	Code            string     `bun:"code"`
	Kind            string     `bun:"kind"`
	Value           int64      `bun:"value"`
	Currency        *string    `bun:"currency"`
	MinSubtotal     int64      `bun:"min_subtotal"`
	MaxUses         *int       `bun:"max_uses"`
	Uses            int        `bun:"uses"`
	OncePerCustomer bool       `bun:"once_per_customer"`
	StartsAt        *time.Time `bun:"starts_at"`
	EndsAt          *time.Time `bun:"ends_at"`
	Active          bool       `bun:"active"`
	CreatedAt       time.Time  `bun:"created_at"`
}

func (r *promotionRow) record() app.PromotionRow { return app.PromotionRow(*r) }

const promoCols = "id::text, code, kind, value, currency, min_subtotal, max_uses, uses, once_per_customer, starts_at, ends_at, active, created_at"

// InsertPromotion implements app.Repos.
func (s *Store) InsertPromotion(ctx context.Context, p *app.PromotionRow) error {
	err := s.db.NewRaw(`INSERT INTO cart.promotions (id, code, kind, value, currency, min_subtotal, max_uses, once_per_customer, starts_at, ends_at, active)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING created_at`, p.ID, p.Code, p.Kind, p.Value, p.Currency, p.MinSubtotal, p.MaxUses,
		p.OncePerCustomer, p.StartsAt, p.EndsAt, p.Active).Scan(ctx, &p.CreatedAt)
	if pg.IsUniqueViolation(err) {
		return fmt.Errorf("insert promotion %s: %w", p.Code, app.ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("insert promotion %s: %w", p.Code, err)
	}
	return nil
}

// PromotionByCode implements app.Repos.
func (s *Store) PromotionByCode(ctx context.Context, code string) (*app.PromotionRow, error) {
	p := new(promotionRow)
	err := s.db.NewRaw("SELECT "+promoCols+" FROM cart.promotions WHERE code = ?", code).Scan(ctx, p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("promotion %s: %w", code, app.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load promotion %s: %w", code, err)
	}
	r := p.record()
	return &r, nil
}

// Promotions implements app.Repos.
func (s *Store) Promotions(ctx context.Context) ([]app.PromotionRow, error) {
	var rows []promotionRow
	if err := s.db.NewRaw("SELECT "+promoCols+" FROM cart.promotions ORDER BY created_at DESC LIMIT 500").Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("list promotions: %w", err)
	}
	out := make([]app.PromotionRow, len(rows))
	for i := range rows {
		out[i] = rows[i].record()
	}
	return out, nil
}

// SetPromotionActive implements app.Repos.
func (s *Store) SetPromotionActive(ctx context.Context, id string, active bool) (*app.PromotionRow, error) {
	p := new(promotionRow)
	err := s.db.NewRaw("UPDATE cart.promotions SET active = ? WHERE id = ? RETURNING "+promoCols, active, id).Scan(ctx, p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("promotion %s: %w", id, app.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("set promotion %s active=%t: %w", id, active, err)
	}
	r := p.record()
	return &r, nil
}

// UsedBy implements app.Repos.
func (s *Store) UsedBy(ctx context.Context, promotionID, userID string) (bool, error) {
	var used bool
	err := s.db.NewRaw("SELECT EXISTS (SELECT 1 FROM cart.promotion_uses WHERE promotion_id = ? AND user_id = ? AND status = 'used')", promotionID, userID).Scan(ctx, &used)
	if err != nil {
		return false, fmt.Errorf("uses of promotion %s by user %s: %w", promotionID, userID, err)
	}
	return used, nil
}

// CountUse implements app.Repos.
func (s *Store) CountUse(ctx context.Context, promotionID string) (bool, error) {
	res, err := s.db.ExecContext(ctx, "UPDATE cart.promotions SET uses = uses + 1 WHERE id = ? AND (max_uses IS NULL OR uses < max_uses)", promotionID)
	if err != nil {
		return false, fmt.Errorf("count a use of promotion %s: %w", promotionID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("count a use of promotion %s: %w", promotionID, err)
	}
	return n == 1, nil
}

// RecordUse implements app.Repos.
func (s *Store) RecordUse(ctx context.Context, promotionID, orderID, userID string) error {
	_, err := s.db.ExecContext(ctx, "INSERT INTO cart.promotion_uses (promotion_id, order_id, user_id, status) VALUES (?, ?, ?, 'used')", promotionID, orderID, userID)
	if err != nil {
		return fmt.Errorf("record the use of promotion %s by order %s: %w", promotionID, orderID, err)
	}
	return nil
}

// ReleaseUses implements app.Repos.
func (s *Store) ReleaseUses(ctx context.Context, orderID string) error {
	var ids []string
	err := s.db.NewRaw("UPDATE cart.promotion_uses SET status = 'released' WHERE order_id = ? AND status = 'used' RETURNING promotion_id::text", orderID).Scan(ctx, &ids)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("release the promo uses of order %s: %w", orderID, err)
	}
	for _, id := range ids {
		if _, err := s.db.ExecContext(ctx, "UPDATE cart.promotions SET uses = uses - 1 WHERE id = ? AND uses > 0", id); err != nil {
			return fmt.Errorf("give back a use of promotion %s: %w", id, err)
		}
	}
	return nil
}

// sessionRow is a checkout session.
type sessionRow struct {
	ID             string          `bun:"id"`
	UserID         string          `bun:"user_id"`
	Status         string          `bun:"status"`
	Items          json.RawMessage `bun:"items"`
	Subtotal       int64           `bun:"subtotal"`
	Discount       int64           `bun:"discount"`
	ShippingCost   int64           `bun:"shipping_cost"`
	Total          int64           `bun:"total"`
	Currency       string          `bun:"currency"`
	PromoCode      *string         `bun:"promo_code"`
	PromotionID    *string         `bun:"promotion_id"`
	Address        json.RawMessage `bun:"address"`
	Courier        string          `bun:"courier"`
	PaymentGateway string          `bun:"payment_gateway"`
	ETADays        int             `bun:"eta_days"`
	OrderID        *string         `bun:"order_id"`
	ExpiresAt      time.Time       `bun:"expires_at"`
	CreatedAt      time.Time       `bun:"created_at"`
}

const sessionCols = `id::text, user_id::text, status, items, subtotal, discount, shipping_cost, total, currency, promo_code, promotion_id::text,
	address, courier, payment_gateway, eta_days, order_id::text, expires_at, created_at`

// InsertSession implements app.Repos.
func (s *Store) InsertSession(ctx context.Context, r *app.SessionRecord) error {
	err := s.db.NewRaw(`INSERT INTO cart.checkout_sessions (id, user_id, status, items, subtotal, discount, shipping_cost, total, currency, promo_code,
			promotion_id, address, courier, payment_gateway, eta_days, expires_at)
		VALUES (?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?) RETURNING created_at`,
		r.ID, r.UserID, r.Status, string(r.Items), r.Subtotal, r.Discount, r.ShippingCost, r.Total, r.Currency, r.PromoCode, r.PromotionID,
		string(r.Address), r.Courier, r.PaymentGateway, r.ETADays, r.ExpiresAt).Scan(ctx, &r.CreatedAt)
	if err != nil {
		return fmt.Errorf("insert checkout session %s: %w", r.ID, err)
	}
	return nil
}

// Session implements app.Repos.
func (s *Store) Session(ctx context.Context, id string, lock bool) (*app.SessionRecord, error) {
	q := "SELECT " + sessionCols + " FROM cart.checkout_sessions WHERE id = ?"
	if lock {
		q += " FOR UPDATE"
	}
	r := new(sessionRow)
	err := s.db.NewRaw(q, id).Scan(ctx, r)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("checkout session %s: %w", id, app.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load checkout session %s: %w", id, err)
	}
	rec := app.SessionRecord(*r)
	return &rec, nil
}

// SetSessionStatus implements app.Repos.
func (s *Store) SetSessionStatus(ctx context.Context, id, status string, orderID *string) error {
	_, err := s.db.ExecContext(ctx, "UPDATE cart.checkout_sessions SET status = ?, order_id = coalesce(?, order_id), updated_at = now() WHERE id = ?", status, orderID, id)
	if err != nil {
		return fmt.Errorf("set checkout session %s %s: %w", id, status, err)
	}
	return nil
}

// PlaceWithoutPromotion implements app.Repos.
func (s *Store) PlaceWithoutPromotion(ctx context.Context, sessionID, orderID, userID string, now time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE cart.checkout_sessions SET status = 'order_placed', order_id = ?, updated_at = now()
		WHERE id = ? AND user_id = ? AND status = 'pending' AND expires_at > ? AND promotion_id IS NULL`, orderID, sessionID, userID, now)
	if err != nil {
		return false, fmt.Errorf("place order %s from checkout session %s: %w", orderID, sessionID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("place order %s from checkout session %s: %w", orderID, sessionID, err)
	}
	return n == 1, nil
}

// ReopenSessions implements app.Repos.
func (s *Store) ReopenSessions(ctx context.Context, orderID string) error {
	_, err := s.db.ExecContext(ctx, `UPDATE cart.checkout_sessions SET status = 'pending', order_id = NULL, updated_at = now()
			WHERE order_id = ? AND status = 'order_placed'`, orderID)
	if err != nil {
		return fmt.Errorf("reopen the checkout session of order %s: %w", orderID, err)
	}
	return nil
}

// ExpireSessions implements app.Repos.
func (s *Store) ExpireSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, "UPDATE cart.checkout_sessions SET status = 'expired', updated_at = now() WHERE status = 'pending' AND expires_at <= ?", now)
	if err != nil {
		return 0, fmt.Errorf("expire checkout sessions: %w", err)
	}
	return res.RowsAffected()
}
