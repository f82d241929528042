// Package domain holds cart's rules: line totals, promotion discounts and
// checkout totals as money (amount and currency together, so currencies
// never mix silently), promotion windows and the checkout session's
// lifecycle. It knows no storage and no transport.
package domain

import (
	"fmt"
	"time"

	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/money"
)

// Promotion kinds.
const (
	KindPercent = "percent"
	KindFixed   = "fixed"
)

// Promotion is a promo code's rules.
type Promotion struct {
	Code            string
	Kind            string
	Value           int64 // percent: 1..100; fixed: minor units of Currency
	Currency        string
	MinSubtotal     int64 // minor units of the cart's currency
	MaxUses         *int
	Uses            int
	OncePerCustomer bool
	StartsAt        *time.Time
	EndsAt          *time.Time
	Active          bool
}

// Refusals, each with a stable code.
var (
	ErrPromoNotFound    = errs.New(errs.Invalid, "promo_not_found", "no such promo code")
	ErrPromoNotStarted  = errs.New(errs.Invalid, "promo_not_started", "this promo code is not valid yet")
	ErrPromoExpired     = errs.New(errs.Invalid, "promo_expired", "this promo code has expired")
	ErrPromoExhausted   = errs.New(errs.Invalid, "promo_exhausted", "this promo code has been used up")
	ErrPromoMinSubtotal = errs.New(errs.Invalid, "promo_min_subtotal", "the cart subtotal is below this promo code's minimum")
	ErrPromoUsed        = errs.New(errs.Invalid, "promo_already_used", "you have already used this promo code")
	ErrPromoCurrency    = errs.New(errs.Invalid, "promo_currency_mismatch", "this promo code is for another currency")
)

// Check explains why the promotion cannot apply, at time now, to a cart
// whose subtotal is subtotal, for a customer who has (or has not) used it;
// nil when it applies. The window is [StartsAt, EndsAt): a code ending at
// noon is expired at noon.
func (p Promotion) Check(now time.Time, subtotal money.Money, usedByCustomer bool) error {
	switch {
	case !p.Active:
		return ErrPromoNotFound
	case p.StartsAt != nil && now.Before(*p.StartsAt):
		return ErrPromoNotStarted
	case p.EndsAt != nil && !now.Before(*p.EndsAt):
		return ErrPromoExpired
	case p.MaxUses != nil && p.Uses >= *p.MaxUses:
		return ErrPromoExhausted
	case p.OncePerCustomer && usedByCustomer:
		return ErrPromoUsed
	case p.Kind == KindFixed && p.Currency != subtotal.Currency():
		return ErrPromoCurrency
	case subtotal.Amount() < p.MinSubtotal:
		return ErrPromoMinSubtotal
	}
	return nil
}

// Discount is what the promotion takes off subtotal, in subtotal's
// currency. Percent discounts are rounded down to the minor unit (the shop
// never gives more than the stated percentage); fixed discounts never
// exceed the subtotal. Shipping is never discounted.
func (p Promotion) Discount(subtotal money.Money) (money.Money, error) {
	zero := money.Zero(subtotal.Currency())
	if subtotal.Amount() <= 0 {
		return zero, nil
	}
	switch p.Kind {
	case KindPercent:
		scaled, err := subtotal.Times(p.Value)
		if err != nil {
			return zero, fmt.Errorf("discount %d%% of %v: %w", p.Value, subtotal, err)
		}
		return money.New(scaled.Amount()/100, subtotal.Currency())
	case KindFixed:
		if p.Currency != subtotal.Currency() {
			return zero, fmt.Errorf("discount %d %s off %v: %w", p.Value, p.Currency, subtotal, money.ErrCurrencyMismatch)
		}
		return money.New(min(p.Value, subtotal.Amount()), subtotal.Currency())
	}
	return zero, nil
}

// LineTotal is unit × quantity, refusing an amount out of range.
func LineTotal(unit money.Money, quantity int) (money.Money, error) {
	t, err := unit.Times(int64(quantity))
	if err != nil {
		return money.Money{}, fmt.Errorf("line total %v × %d: %w", unit, quantity, err)
	}
	return t, nil
}

// Totals are the frozen amounts of a checkout, all in one currency.
type Totals struct {
	Subtotal, Discount, Shipping, Total money.Money
}

// ComputeTotals applies total = subtotal - discount + shipping, the
// discount clamped to [0, subtotal]. Amounts in different currencies are
// an error, never a sum.
func ComputeTotals(subtotal, discount, shipping money.Money) (Totals, error) {
	if c, err := discount.Cmp(subtotal); err != nil {
		return Totals{}, fmt.Errorf("checkout totals: %w", err)
	} else if c > 0 {
		discount = subtotal
	}
	if discount.IsNegative() {
		discount = money.Zero(subtotal.Currency())
	}
	net, err := subtotal.Sub(discount)
	if err != nil {
		return Totals{}, fmt.Errorf("checkout totals: %w", err)
	}
	total, err := net.Add(shipping)
	if err != nil {
		return Totals{}, fmt.Errorf("checkout totals: shipping %v: %w", shipping, err)
	}
	return Totals{Subtotal: subtotal, Discount: discount, Shipping: shipping, Total: total}, nil
}
