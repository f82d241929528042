// Package app holds cart's use cases: the cart with live prices, promo
// codes, and frozen checkout sessions.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/cart/internal/adapters"
	"github.com/opencommerce/commerce/internal/cart/internal/domain"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// MaxQuantity is the largest quantity of one line.
const MaxQuantity = 99

// Service implements cart's use cases and cartapi.Cart.
type Service struct {
	db          *pg.DB
	store       adapters.Store
	catalog     catalogapi.Catalog
	auth        authapi.Auth
	fulfillment fulfillmentapi.Fulfillment
	payments    paymentsapi.Payments
	sessionTTL  time.Duration
	log         *slog.Logger
	now         func() time.Time
}

// New builds the service.
func New(db *pg.DB, catalog catalogapi.Catalog, auth authapi.Auth, fulfillment fulfillmentapi.Fulfillment, payments paymentsapi.Payments,
	sessionTTL time.Duration, log *slog.Logger) *Service {
	return &Service{db: db, catalog: catalog, auth: auth, fulfillment: fulfillment, payments: payments, sessionTTL: sessionTTL, log: log, now: time.Now}
}

// Errors of cart operations.
var (
	ErrCurrencyMismatch   = errs.New(errs.Invalid, "currency_mismatch", "a cart holds products of one currency only")
	ErrProductUnavailable = errs.New(errs.Invalid, "product_unavailable", "this product cannot be bought")
	ErrNotInCart          = errs.New(errs.NotFound, "not_found", "this product is not in the cart")
	ErrQuantity           = errs.Validation(errs.Field("quantity", fmt.Sprintf("must be 1 to %d", MaxQuantity)))
)

// Line is a cart line with live data.
type Line struct {
	ProductID   string   `json:"product_id"`
	Name        string   `json:"name"`
	UnitPrice   int64    `json:"unit_price"`
	Quantity    int      `json:"quantity"`
	LineTotal   int64    `json:"line_total"`
	Available   int      `json:"available"`
	Flags       []string `json:"flags" enum:"archived,insufficient_stock,unknown_product"`
	SKU         string   `json:"-"`
	WeightGrams int      `json:"-"`
}

// Cart is the cart as shown to its owner.
type Cart struct {
	ID         string  `json:"id"`
	Items      []Line  `json:"items"`
	Subtotal   int64   `json:"subtotal"`
	Discount   int64   `json:"discount"`
	Total      int64   `json:"total"`
	PromoCode  *string `json:"promo_code"`
	PromoError *string `json:"promo_error"` // why an applied code gives no discount now
	Currency   *string `json:"currency"`
	promotion  *adapters.PromotionRow
}

// View returns the caller's cart with live prices and flags.
func (s *Service) View(ctx context.Context, userID string) (Cart, error) {
	c, err := s.store.Cart(ctx, s.db, userID)
	if err != nil {
		return Cart{}, err
	}
	if c == nil {
		return Cart{Items: []Line{}}, nil
	}
	return s.render(ctx, s.db, c)
}

func (s *Service) render(ctx context.Context, db bun.IDB, c *adapters.CartRow) (Cart, error) {
	items, err := s.store.Items(ctx, db, c.ID)
	if err != nil {
		return Cart{}, err
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ProductID
	}
	products, err := s.catalog.Products(ctx, ids)
	if err != nil {
		return Cart{}, err
	}
	out := Cart{ID: c.ID, Items: make([]Line, 0, len(items)), PromoCode: c.PromoCode, Currency: c.Currency}
	for _, it := range items {
		l := Line{ProductID: it.ProductID, Quantity: it.Quantity, Flags: []string{}}
		p, ok := products[it.ProductID]
		if !ok {
			l.Flags = append(l.Flags, "unknown_product")
		} else {
			l.Name, l.UnitPrice, l.SKU, l.WeightGrams, l.Available = p.Name, p.Price, p.SKU, p.WeightGrams, p.Stock.Available
			l.LineTotal = p.Price * int64(it.Quantity)
			if p.Status != catalogapi.StatusActive {
				l.Flags = append(l.Flags, "archived")
			} else if p.Stock.Available < it.Quantity {
				l.Flags = append(l.Flags, "insufficient_stock")
			}
		}
		out.Subtotal += l.LineTotal
		out.Items = append(out.Items, l)
	}
	if c.PromoCode != nil {
		p, err := s.store.PromotionByCode(ctx, db, *c.PromoCode)
		switch {
		case errors.Is(err, adapters.ErrNotFound):
			code := domain.ErrPromoNotFound.Code
			out.PromoError = &code
		case err != nil:
			return Cart{}, err
		default:
			if err := s.checkPromo(ctx, db, p, c.UserID, out.Subtotal, deref(c.Currency)); err != nil {
				code := err.(*errs.Error).Code
				out.PromoError = &code
			} else {
				out.Discount = toDomain(p).Discount(out.Subtotal)
				out.promotion = p
			}
		}
	}
	out.Total = out.Subtotal - out.Discount
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func toDomain(p *adapters.PromotionRow) domain.Promotion {
	return domain.Promotion{Code: p.Code, Kind: p.Kind, Value: p.Value, Currency: deref(p.Currency), MinSubtotal: p.MinSubtotal, MaxUses: p.MaxUses,
		Uses: p.Uses, OncePerCustomer: p.OncePerCustomer, StartsAt: p.StartsAt, EndsAt: p.EndsAt, Active: p.Active}
}

func (s *Service) checkPromo(ctx context.Context, db bun.IDB, p *adapters.PromotionRow, userID string, subtotal int64, currency string) error {
	used := false
	if p.OncePerCustomer {
		var err error
		if used, err = s.store.UsedBy(ctx, db, p.ID, userID); err != nil {
			return err
		}
	}
	return toDomain(p).Check(s.now(), subtotal, currency, used)
}

// mutate runs fn on the caller's locked cart, commits, and returns the new
// view. Rendering (which asks catalog for live prices, possibly over the
// network) happens after the commit: no transaction spans a remote call.
func (s *Service) mutate(ctx context.Context, userID string, fn func(ctx context.Context, tx bun.Tx, c *adapters.CartRow) error) (Cart, error) {
	var c *adapters.CartRow
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if c, err = s.store.LockCart(ctx, tx, uuid.Must(uuid.NewV7()).String(), userID); err != nil {
			return err
		}
		return fn(ctx, tx, c)
	})
	if err != nil {
		return Cart{}, err
	}
	return s.render(ctx, s.db, c)
}

// AddItem adds quantity of a product, merging with an existing line.
func (s *Service) AddItem(ctx context.Context, userID, productID string, qty int) (Cart, error) {
	if qty < 1 || qty > MaxQuantity {
		return Cart{}, ErrQuantity
	}
	p, err := s.catalog.Product(ctx, productID)
	if errors.Is(err, catalogapi.ErrNotFound) {
		return Cart{}, errs.Validation(errs.Field("product_id", "no such product"))
	}
	if err != nil {
		return Cart{}, err
	}
	if p.Status != catalogapi.StatusActive {
		return Cart{}, ErrProductUnavailable.WithDetail("this product is no longer sold")
	}
	return s.mutate(ctx, userID, func(ctx context.Context, tx bun.Tx, c *adapters.CartRow) error {
		items, err := s.store.Items(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		if len(items) > 0 && c.Currency != nil && *c.Currency != p.Currency {
			return ErrCurrencyMismatch.WithDetail(fmt.Sprintf("this cart is in %s; the product is priced in %s", *c.Currency, p.Currency))
		}
		total := qty
		for _, it := range items {
			if it.ProductID == p.ID {
				total += it.Quantity
			}
		}
		if total > MaxQuantity {
			return ErrQuantity
		}
		if len(items) >= 100 && total == qty {
			return errs.Validation(errs.Field("product_id", "a cart holds at most 100 different products"))
		}
		cur := p.Currency
		c.Currency = &cur
		if err := s.store.UpdateCart(ctx, tx, c); err != nil {
			return err
		}
		return s.store.SetItem(ctx, tx, c.ID, p.ID, total)
	})
}

// SetQuantity sets a line's quantity; 0 removes it.
func (s *Service) SetQuantity(ctx context.Context, userID, productID string, qty int) (Cart, error) {
	if qty < 0 || qty > MaxQuantity {
		return Cart{}, errs.Validation(errs.Field("quantity", fmt.Sprintf("must be 0 to %d", MaxQuantity)))
	}
	if qty == 0 {
		return s.RemoveItem(ctx, userID, productID)
	}
	return s.mutate(ctx, userID, func(ctx context.Context, tx bun.Tx, c *adapters.CartRow) error {
		if !s.inCart(ctx, tx, c.ID, productID) {
			return ErrNotInCart
		}
		return s.store.SetItem(ctx, tx, c.ID, productID, qty)
	})
}

// RemoveItem deletes a line.
func (s *Service) RemoveItem(ctx context.Context, userID, productID string) (Cart, error) {
	return s.mutate(ctx, userID, func(ctx context.Context, tx bun.Tx, c *adapters.CartRow) error {
		if _, err := uuid.Parse(productID); err != nil {
			return ErrNotInCart
		}
		n, err := s.store.DeleteItems(ctx, tx, c.ID, []string{productID})
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNotInCart
		}
		return s.resetIfEmpty(ctx, tx, c)
	})
}

func (s *Service) inCart(ctx context.Context, tx bun.Tx, cartID, productID string) bool {
	items, err := s.store.Items(ctx, tx, cartID)
	if err != nil {
		return false
	}
	for _, it := range items {
		if it.ProductID == productID {
			return true
		}
	}
	return false
}

// resetIfEmpty frees the currency of an empty cart.
func (s *Service) resetIfEmpty(ctx context.Context, tx bun.Tx, c *adapters.CartRow) error {
	items, err := s.store.Items(ctx, tx, c.ID)
	if err != nil || len(items) > 0 {
		return err
	}
	c.Currency = nil
	return s.store.UpdateCart(ctx, tx, c)
}

// ApplyPromo validates a code against the cart and keeps it; a refusal
// explains itself with a stable code.
func (s *Service) ApplyPromo(ctx context.Context, userID, code string) (Cart, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" || len(code) > 64 {
		return Cart{}, domain.ErrPromoNotFound
	}
	p, err := s.store.PromotionByCode(ctx, s.db, code)
	if errors.Is(err, adapters.ErrNotFound) {
		return Cart{}, domain.ErrPromoNotFound
	}
	if err != nil {
		return Cart{}, err
	}
	view, err := s.View(ctx, userID)
	if err != nil {
		return Cart{}, err
	}
	if len(view.Items) == 0 {
		return Cart{}, errs.New(errs.Invalid, "cart_empty", "add products before applying a promo code")
	}
	if err := s.checkPromo(ctx, s.db, p, userID, view.Subtotal, deref(view.Currency)); err != nil {
		return Cart{}, err
	}
	return s.mutate(ctx, userID, func(ctx context.Context, tx bun.Tx, c *adapters.CartRow) error {
		c.PromoCode = &p.Code
		return s.store.UpdateCart(ctx, tx, c)
	})
}

// RemovePromo drops the cart's promo code.
func (s *Service) RemovePromo(ctx context.Context, userID string) (Cart, error) {
	return s.mutate(ctx, userID, func(ctx context.Context, tx bun.Tx, c *adapters.CartRow) error {
		c.PromoCode = nil
		return s.store.UpdateCart(ctx, tx, c)
	})
}
