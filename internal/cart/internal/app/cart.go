// Package app holds cart's use cases: the cart with live prices, promo
// codes, and frozen checkout sessions. It declares the Store it needs
// (store.go); the adapters implement it, the module wires them in.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/cart/internal/domain"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/clock"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/money"
)

// MaxQuantity is the largest quantity of one line.
const MaxQuantity = 99

// Service implements cart's use cases and cartapi.Cart.
type Service struct {
	store       Store
	catalog     catalogapi.Catalog
	auth        authapi.Auth
	fulfillment fulfillmentapi.Fulfillment
	payments    paymentsapi.Payments
	sessionTTL  time.Duration
	log         *slog.Logger
	clock       clock.Clock
}

// New builds the service on store; clk decides session expiry and
// promotion windows (nil: the system clock).
func New(store Store, catalog catalogapi.Catalog, auth authapi.Auth, fulfillment fulfillmentapi.Fulfillment, payments paymentsapi.Payments,
	sessionTTL time.Duration, clk clock.Clock, log *slog.Logger) *Service {
	return &Service{store: store, catalog: catalog, auth: auth, fulfillment: fulfillment, payments: payments, sessionTTL: sessionTTL, log: log,
		clock: clock.Or(clk)}
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
	promotion  *PromotionRow
	totals     cartTotals
}

// cartTotals are the cart's amounts as money, kept beside the JSON's
// minor units for checkout.
type cartTotals struct {
	subtotal, discount money.Money
}

// View returns the caller's cart with live prices and flags (the
// storefront's: from catalog's product cache).
func (s *Service) View(ctx context.Context, userID string) (Cart, error) {
	return s.view(ctx, userID, false)
}

// view is View priced with catalog's database when fresh (what checkout
// freezes), with its product cache otherwise.
func (s *Service) view(ctx context.Context, userID string, fresh bool) (Cart, error) {
	c, err := s.store.Cart(ctx, userID)
	if err != nil {
		return Cart{}, fmt.Errorf("view cart: %w", err)
	}
	if c == nil {
		return Cart{Items: []Line{}}, nil
	}
	return s.render(ctx, s.store, c, fresh)
}

// render prices the cart's lines with catalog's live data and applies its
// promo code. Amounts are money in the cart's currency (the currency of
// its first product). The products come from catalog's database when
// fresh (checkout freezes these prices), from its product cache
// otherwise (the views re-priced on every change; reading full rows for
// each was most of an add-to-cart's cost).
func (s *Service) render(ctx context.Context, r Repos, c *CartRecord, fresh bool) (Cart, error) {
	return s.renderItems(ctx, r, c, fresh, nil)
}

// renderItems is render of the lines given (nil: read them).
func (s *Service) renderItems(ctx context.Context, r Repos, c *CartRecord, fresh bool, items []ItemRecord) (Cart, error) {
	if items == nil {
		var err error
		if items, err = r.Items(ctx, c.ID); err != nil {
			return Cart{}, fmt.Errorf("view cart %s: %w", c.ID, err)
		}
	}
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ProductID
	}
	read := s.catalog.DisplayProducts
	if fresh {
		read = s.catalog.Products
	}
	products, err := read(ctx, ids)
	if err != nil {
		return Cart{}, fmt.Errorf("price cart %s: %w", c.ID, err)
	}
	cur := deref(c.Currency)
	if cur == "" { // a cart stored without its currency: its products' one
		for _, it := range items {
			if p, ok := products[it.ProductID]; ok {
				cur = p.Currency
				break
			}
		}
	}
	subtotal := money.Zero(cur)
	out := Cart{ID: c.ID, Items: make([]Line, 0, len(items)), PromoCode: c.PromoCode, Currency: c.Currency}
	for _, it := range items {
		l := Line{ProductID: it.ProductID, Quantity: it.Quantity, Flags: []string{}}
		p, ok := products[it.ProductID]
		if !ok {
			l.Flags = append(l.Flags, "unknown_product")
		} else {
			l.Name, l.UnitPrice, l.SKU, l.WeightGrams, l.Available = p.Name, p.Price, p.SKU, p.WeightGrams, p.Stock.Available
			// The cart's lines are priced in the cart's currency (AddItem
			// refuses another one).
			unit, err := money.New(p.Price, cur)
			if err != nil {
				return Cart{}, fmt.Errorf("price line %s of cart %s: %w", it.ProductID, c.ID, err)
			}
			total, err := domain.LineTotal(unit, it.Quantity)
			if err != nil {
				return Cart{}, fmt.Errorf("price line %s of cart %s: %w", it.ProductID, c.ID, err)
			}
			if subtotal, err = subtotal.Add(total); err != nil {
				return Cart{}, fmt.Errorf("subtotal of cart %s: %w", c.ID, err)
			}
			l.LineTotal = total.Amount()
			if p.Status != catalogapi.StatusActive {
				l.Flags = append(l.Flags, "archived")
			} else if p.Stock.Available < it.Quantity {
				l.Flags = append(l.Flags, "insufficient_stock")
			}
		}
		out.Items = append(out.Items, l)
	}
	discount := money.Zero(cur)
	if c.PromoCode != nil {
		p, err := r.PromotionByCode(ctx, *c.PromoCode)
		switch {
		case errors.Is(err, ErrNotFound):
			code := domain.ErrPromoNotFound.Code
			out.PromoError = &code
		case err != nil:
			return Cart{}, fmt.Errorf("view cart %s: %w", c.ID, err)
		default:
			if err := s.checkPromo(ctx, r, p, c.UserID, subtotal); err != nil {
				refusal, ok := errs.As(err)
				if !ok {
					return Cart{}, fmt.Errorf("view cart %s: %w", c.ID, err)
				}
				code := refusal.Code
				out.PromoError = &code
			} else {
				if discount, err = toDomain(p).Discount(subtotal); err != nil {
					return Cart{}, fmt.Errorf("discount of cart %s: %w", c.ID, err)
				}
				out.promotion = p
			}
		}
	}
	total, err := subtotal.Sub(discount)
	if err != nil {
		return Cart{}, fmt.Errorf("total of cart %s: %w", c.ID, err)
	}
	out.Subtotal, out.Discount, out.Total = subtotal.Amount(), discount.Amount(), total.Amount()
	out.totals = cartTotals{subtotal: subtotal, discount: discount}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func toDomain(p *PromotionRow) domain.Promotion {
	return domain.Promotion{Code: p.Code, Kind: p.Kind, Value: p.Value, Currency: deref(p.Currency), MinSubtotal: p.MinSubtotal, MaxUses: p.MaxUses,
		Uses: p.Uses, OncePerCustomer: p.OncePerCustomer, StartsAt: p.StartsAt, EndsAt: p.EndsAt, Active: p.Active}
}

// checkPromo applies the promotion's rules at the clock's time; a refusal
// is an *errs.Error with the promo's code, anything else a failure.
func (s *Service) checkPromo(ctx context.Context, r Repos, p *PromotionRow, userID string, subtotal money.Money) error {
	used := false
	if p.OncePerCustomer {
		var err error
		if used, err = r.UsedBy(ctx, p.ID, userID); err != nil {
			return fmt.Errorf("check promo %s: %w", p.Code, err)
		}
	}
	return toDomain(p).Check(s.clock.Now(), subtotal, used)
}

// mutate runs fn on the caller's locked cart, commits, and returns the new
// view. Rendering (which asks catalog for live prices, possibly over the
// network) happens after the commit: no transaction spans a remote call.
func (s *Service) mutate(ctx context.Context, userID string, fn func(ctx context.Context, r Repos, c *CartRecord) error) (Cart, error) {
	return s.mutateItems(ctx, userID, func(ctx context.Context, r Repos, c *CartRecord) ([]ItemRecord, error) {
		return nil, fn(ctx, r, c)
	})
}

// mutateItems is mutate for a change that knows the cart's lines after it
// (in their stored order): the view is rendered from them instead of
// reading them again. Nil lines are read.
func (s *Service) mutateItems(ctx context.Context, userID string, fn func(ctx context.Context, r Repos, c *CartRecord) ([]ItemRecord, error)) (Cart, error) {
	var c *CartRecord
	var items []ItemRecord
	err := s.store.InTx(ctx, func(ctx context.Context, r Repos) error {
		var err error
		if c, err = r.LockCart(ctx, uuid.Must(uuid.NewV7()).String(), userID); err != nil {
			return err
		}
		items, err = fn(ctx, r, c)
		return err
	})
	if err != nil {
		return Cart{}, err
	}
	return s.renderItems(ctx, s.store, c, false, items)
}

// AddItem adds quantity of a product, merging with an existing line.
func (s *Service) AddItem(ctx context.Context, userID, productID string, qty int) (Cart, error) {
	if qty < 1 || qty > MaxQuantity {
		return Cart{}, ErrQuantity
	}
	// The product as the storefront shows it (cached): the line is priced
	// again on every view, and checkout reads the database.
	found, err := s.catalog.DisplayProducts(ctx, []string{productID})
	if err != nil {
		return Cart{}, err
	}
	p, ok := found[productID]
	if !ok {
		return Cart{}, errs.Validation(errs.Field("product_id", "no such product"))
	}
	if p.Status != catalogapi.StatusActive {
		return Cart{}, ErrProductUnavailable.WithDetail("this product is no longer sold")
	}
	return s.mutateItems(ctx, userID, func(ctx context.Context, r Repos, c *CartRecord) ([]ItemRecord, error) {
		items, err := r.Items(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		if len(items) > 0 && c.Currency != nil && *c.Currency != p.Currency {
			return nil, ErrCurrencyMismatch.WithDetail(fmt.Sprintf("this cart is in %s; the product is priced in %s", *c.Currency, p.Currency))
		}
		total := qty
		merged := -1
		for i, it := range items {
			if it.ProductID == p.ID {
				total += it.Quantity
				merged = i
			}
		}
		if total > MaxQuantity {
			return nil, ErrQuantity
		}
		if len(items) >= 100 && merged < 0 {
			return nil, errs.Validation(errs.Field("product_id", "a cart holds at most 100 different products"))
		}
		cur := p.Currency
		c.Currency = &cur
		if err := r.SaveWithItem(ctx, c, p.ID, total); err != nil {
			return nil, err
		}
		// The lines after the change, in stored order (added_at, then
		// product id): a merged line keeps its place; a new one is added
		// last, its added_at being this transaction's start, after every
		// line committed before the cart's lock was taken.
		if merged >= 0 {
			items[merged].Quantity = total
		} else {
			items = append(items, ItemRecord{ProductID: p.ID, Quantity: total})
		}
		return items, nil
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
	return s.mutate(ctx, userID, func(ctx context.Context, r Repos, c *CartRecord) error {
		if in, err := s.inCart(ctx, r, c.ID, productID); err != nil {
			return err
		} else if !in {
			return ErrNotInCart
		}
		return r.SetItem(ctx, c.ID, productID, qty)
	})
}

// RemoveItem deletes a line.
func (s *Service) RemoveItem(ctx context.Context, userID, productID string) (Cart, error) {
	return s.mutate(ctx, userID, func(ctx context.Context, r Repos, c *CartRecord) error {
		if _, err := uuid.Parse(productID); err != nil {
			return ErrNotInCart
		}
		n, err := r.DeleteItems(ctx, c.ID, []string{productID})
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNotInCart
		}
		return s.resetIfEmpty(ctx, r, c)
	})
}

func (s *Service) inCart(ctx context.Context, r Repos, cartID, productID string) (bool, error) {
	items, err := r.Items(ctx, cartID)
	if err != nil {
		return false, err
	}
	for _, it := range items {
		if it.ProductID == productID {
			return true, nil
		}
	}
	return false, nil
}

// resetIfEmpty frees the currency of an empty cart.
func (s *Service) resetIfEmpty(ctx context.Context, r Repos, c *CartRecord) error {
	items, err := r.Items(ctx, c.ID)
	if err != nil || len(items) > 0 {
		return err
	}
	c.Currency = nil
	return r.UpdateCart(ctx, c)
}

// ApplyPromo validates a code against the cart and keeps it; a refusal
// explains itself with a stable code.
func (s *Service) ApplyPromo(ctx context.Context, userID, code string) (Cart, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" || len(code) > 64 {
		return Cart{}, domain.ErrPromoNotFound
	}
	p, err := s.store.PromotionByCode(ctx, code)
	if errors.Is(err, ErrNotFound) {
		return Cart{}, domain.ErrPromoNotFound
	}
	if err != nil {
		return Cart{}, fmt.Errorf("apply promo: %w", err)
	}
	view, err := s.View(ctx, userID)
	if err != nil {
		return Cart{}, err
	}
	if len(view.Items) == 0 {
		return Cart{}, errs.New(errs.Invalid, "cart_empty", "add products before applying a promo code")
	}
	if err := s.checkPromo(ctx, s.store, p, userID, view.totals.subtotal); err != nil {
		return Cart{}, err
	}
	return s.mutate(ctx, userID, func(ctx context.Context, r Repos, c *CartRecord) error {
		c.PromoCode = &p.Code
		return r.UpdateCart(ctx, c)
	})
}

// RemovePromo drops the cart's promo code.
func (s *Service) RemovePromo(ctx context.Context, userID string) (Cart, error) {
	return s.mutate(ctx, userID, func(ctx context.Context, r Repos, c *CartRecord) error {
		c.PromoCode = nil
		return r.UpdateCart(ctx, c)
	})
}
