// Package domain holds cart's money rules: line totals, promotion
// discounts and checkout totals, all in integer minor units.
package domain

import (
	"time"

	"github.com/opencommerce/commerce/internal/platform/errs"
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
	MinSubtotal     int64
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

// Check explains why the promotion cannot apply to a cart of subtotal in
// currency for a customer who has (or has not) used it, or returns nil.
func (p Promotion) Check(now time.Time, subtotal int64, currency string, usedByCustomer bool) error {
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
	case p.Kind == KindFixed && p.Currency != currency:
		return ErrPromoCurrency
	case subtotal < p.MinSubtotal:
		return ErrPromoMinSubtotal
	}
	return nil
}

// Discount is what the promotion takes off subtotal. Percent discounts are
// rounded down to the minor unit (the shop never gives more than the
// stated percentage); fixed discounts never exceed the subtotal. Shipping
// is never discounted.
func (p Promotion) Discount(subtotal int64) int64 {
	if subtotal <= 0 {
		return 0
	}
	switch p.Kind {
	case KindPercent:
		return subtotal * p.Value / 100
	case KindFixed:
		return min(p.Value, subtotal)
	}
	return 0
}

// Totals are the frozen amounts of a checkout.
type Totals struct {
	Subtotal, Discount, Shipping, Total int64
}

// ComputeTotals applies total = subtotal - discount + shipping.
func ComputeTotals(subtotal, discount, shipping int64) Totals {
	discount = max(0, min(discount, subtotal))
	return Totals{Subtotal: subtotal, Discount: discount, Shipping: shipping, Total: subtotal - discount + shipping}
}
