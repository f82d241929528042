// Package adapters stores carts, promotions and checkout sessions in
// PostgreSQL.
package adapters

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Storage errors.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("duplicate")
)

// Store is cart's repository; methods take the executor (db or tx).
type Store struct{}

// CartRow is a customer's cart.
type CartRow struct {
	ID        string  `bun:"id"`
	UserID    string  `bun:"user_id"`
	Currency  *string `bun:"currency"`
	PromoCode *string `bun:"promo_code"`
}

// ItemRow is a cart line.
type ItemRow struct {
	ProductID string `bun:"product_id"`
	Quantity  int    `bun:"quantity"`
}

// LockCart returns the user's cart locked for update, creating it first.
func (Store) LockCart(ctx context.Context, db bun.IDB, newID, userID string) (*CartRow, error) {
	if _, err := db.ExecContext(ctx, "INSERT INTO cart.carts (id, user_id) VALUES (?, ?) ON CONFLICT (user_id) DO NOTHING", newID, userID); err != nil {
		return nil, err
	}
	c := new(CartRow)
	err := db.NewRaw("SELECT id::text, user_id::text, currency, promo_code FROM cart.carts WHERE user_id = ? FOR UPDATE", userID).Scan(ctx, c)
	return c, err
}

// Cart returns the user's cart without locking (nil if none).
func (Store) Cart(ctx context.Context, db bun.IDB, userID string) (*CartRow, error) {
	c := new(CartRow)
	err := db.NewRaw("SELECT id::text, user_id::text, currency, promo_code FROM cart.carts WHERE user_id = ?", userID).Scan(ctx, c)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return c, err
}

// Items lists a cart's lines in the order they were added.
func (Store) Items(ctx context.Context, db bun.IDB, cartID string) ([]ItemRow, error) {
	var out []ItemRow
	err := db.NewRaw("SELECT product_id::text, quantity FROM cart.items WHERE cart_id = ? ORDER BY added_at, product_id", cartID).Scan(ctx, &out)
	return out, err
}

// SetItem upserts a line to quantity.
func (Store) SetItem(ctx context.Context, db bun.IDB, cartID, productID string, qty int) error {
	_, err := db.ExecContext(ctx, `INSERT INTO cart.items (cart_id, product_id, quantity) VALUES (?, ?, ?)
		ON CONFLICT (cart_id, product_id) DO UPDATE SET quantity = EXCLUDED.quantity`, cartID, productID, qty)
	return err
}

// DeleteItems removes lines (all when productIDs is nil).
func (Store) DeleteItems(ctx context.Context, db bun.IDB, cartID string, productIDs []string) (int64, error) {
	q, args := "DELETE FROM cart.items WHERE cart_id = ?", []any{cartID}
	if productIDs != nil {
		q += " AND product_id = ANY(?::uuid[])"
		args = append(args, pgdialect.Array(productIDs))
	}
	res, err := db.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// UpdateCart saves currency and promo code.
func (Store) UpdateCart(ctx context.Context, db bun.IDB, c *CartRow) error {
	_, err := db.ExecContext(ctx, "UPDATE cart.carts SET currency = ?, promo_code = ?, updated_at = now() WHERE id = ?", c.Currency, c.PromoCode, c.ID)
	return err
}

// PromotionRow is a promotion.
type PromotionRow struct {
	ID              string     `bun:"id" json:"id"`
	Code            string     `bun:"code" json:"code"`
	Kind            string     `bun:"kind" json:"kind" enum:"percent,fixed"`
	Value           int64      `bun:"value" json:"value"`
	Currency        *string    `bun:"currency" json:"currency"`
	MinSubtotal     int64      `bun:"min_subtotal" json:"min_subtotal"`
	MaxUses         *int       `bun:"max_uses" json:"max_uses"`
	Uses            int        `bun:"uses" json:"uses"`
	OncePerCustomer bool       `bun:"once_per_customer" json:"once_per_customer"`
	StartsAt        *time.Time `bun:"starts_at" json:"starts_at"`
	EndsAt          *time.Time `bun:"ends_at" json:"ends_at"`
	Active          bool       `bun:"active" json:"active"`
	CreatedAt       time.Time  `bun:"created_at" json:"created_at"`
}

const promoCols = "id::text, code, kind, value, currency, min_subtotal, max_uses, uses, once_per_customer, starts_at, ends_at, active, created_at"

// InsertPromotion stores a promotion; a taken code is ErrDuplicate.
func (Store) InsertPromotion(ctx context.Context, db bun.IDB, p *PromotionRow) error {
	err := db.NewRaw(`INSERT INTO cart.promotions (id, code, kind, value, currency, min_subtotal, max_uses, once_per_customer, starts_at, ends_at, active)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING created_at`, p.ID, p.Code, p.Kind, p.Value, p.Currency, p.MinSubtotal, p.MaxUses,
		p.OncePerCustomer, p.StartsAt, p.EndsAt, p.Active).Scan(ctx, &p.CreatedAt)
	if pg.IsUniqueViolation(err) {
		return ErrDuplicate
	}
	return err
}

// PromotionByCode loads a promotion by its (upper-case) code.
func (Store) PromotionByCode(ctx context.Context, db bun.IDB, code string) (*PromotionRow, error) {
	p := new(PromotionRow)
	err := db.NewRaw("SELECT "+promoCols+" FROM cart.promotions WHERE code = ?", code).Scan(ctx, p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return p, err
}

// Promotions lists promotions, newest first.
func (Store) Promotions(ctx context.Context, db bun.IDB) ([]PromotionRow, error) {
	var out []PromotionRow
	err := db.NewRaw("SELECT "+promoCols+" FROM cart.promotions ORDER BY created_at DESC LIMIT 500").Scan(ctx, &out)
	return out, err
}

// SetPromotionActive switches a promotion on or off.
func (Store) SetPromotionActive(ctx context.Context, db bun.IDB, id string, active bool) (*PromotionRow, error) {
	p := new(PromotionRow)
	err := db.NewRaw("UPDATE cart.promotions SET active = ? WHERE id = ? RETURNING "+promoCols, active, id).Scan(ctx, p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return p, err
}

// UsedBy reports whether the user has a counted use of the promotion.
func (Store) UsedBy(ctx context.Context, db bun.IDB, promotionID, userID string) (bool, error) {
	var used bool
	err := db.NewRaw("SELECT EXISTS (SELECT 1 FROM cart.promotion_uses WHERE promotion_id = ? AND user_id = ? AND status = 'used')", promotionID, userID).Scan(ctx, &used)
	return used, err
}

// CountUse increments uses if the promotion still has one left (the row
// lock serialises concurrent orders), reporting whether it did.
func (Store) CountUse(ctx context.Context, db bun.IDB, promotionID string) (bool, error) {
	res, err := db.ExecContext(ctx, "UPDATE cart.promotions SET uses = uses + 1 WHERE id = ? AND (max_uses IS NULL OR uses < max_uses)", promotionID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// RecordUse stores the use of a promotion by an order.
func (Store) RecordUse(ctx context.Context, db bun.IDB, promotionID, orderID, userID string) error {
	_, err := db.ExecContext(ctx, "INSERT INTO cart.promotion_uses (promotion_id, order_id, user_id, status) VALUES (?, ?, ?, 'used')", promotionID, orderID, userID)
	return err
}

// ReleaseUses gives back the counted uses of an order.
func (Store) ReleaseUses(ctx context.Context, db bun.IDB, orderID string) error {
	var ids []string
	err := db.NewRaw("UPDATE cart.promotion_uses SET status = 'released' WHERE order_id = ? AND status = 'used' RETURNING promotion_id::text", orderID).Scan(ctx, &ids)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	for _, id := range ids {
		if _, err := db.ExecContext(ctx, "UPDATE cart.promotions SET uses = uses - 1 WHERE id = ? AND uses > 0", id); err != nil {
			return err
		}
	}
	return nil
}

// SessionRow is a checkout session.
type SessionRow struct {
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

// InsertSession stores a new session.
func (Store) InsertSession(ctx context.Context, db bun.IDB, s *SessionRow) error {
	return db.NewRaw(`INSERT INTO cart.checkout_sessions (id, user_id, status, items, subtotal, discount, shipping_cost, total, currency, promo_code,
			promotion_id, address, courier, payment_gateway, eta_days, expires_at)
		VALUES (?, ?, ?, ?::jsonb, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?, ?, ?, ?) RETURNING created_at`,
		s.ID, s.UserID, s.Status, string(s.Items), s.Subtotal, s.Discount, s.ShippingCost, s.Total, s.Currency, s.PromoCode, s.PromotionID,
		string(s.Address), s.Courier, s.PaymentGateway, s.ETADays, s.ExpiresAt).Scan(ctx, &s.CreatedAt)
}

// Session loads a session, optionally locking it.
func (Store) Session(ctx context.Context, db bun.IDB, id string, lock bool) (*SessionRow, error) {
	q := "SELECT " + sessionCols + " FROM cart.checkout_sessions WHERE id = ?"
	if lock {
		q += " FOR UPDATE"
	}
	s := new(SessionRow)
	err := db.NewRaw(q, id).Scan(ctx, s)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return s, err
}

// SetSessionStatus moves a session to status (and records the order).
func (Store) SetSessionStatus(ctx context.Context, db bun.IDB, id, status string, orderID *string) error {
	_, err := db.ExecContext(ctx, "UPDATE cart.checkout_sessions SET status = ?, order_id = coalesce(?, order_id), updated_at = now() WHERE id = ?", status, orderID, id)
	return err
}

// ExpireSessions marks pending sessions past their expiry as expired.
func (Store) ExpireSessions(ctx context.Context, db bun.IDB) (int64, error) {
	res, err := db.ExecContext(ctx, "UPDATE cart.checkout_sessions SET status = 'expired', updated_at = now() WHERE status = 'pending' AND expires_at <= now()")
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
