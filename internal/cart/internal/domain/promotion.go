package domain

import (
	"strings"
	"time"

	"github.com/opencommerce/commerce/internal/platform/errs"
)

// NewPromotion validates and normalises a promotion as an administrator
// submits it: the code upper-cased and limited to letters, digits, '-' and
// '_'; a percentage of at most 100; a currency for fixed discounts; a
// window that ends after it starts. Every bad field is reported at once.
// Counters start at zero.
func NewPromotion(code, kind string, value int64, currency string, minSubtotal int64, maxUses *int, oncePerCustomer bool,
	startsAt, endsAt *time.Time, active bool) (Promotion, error) {
	code = strings.ToUpper(strings.TrimSpace(code))
	var f []errs.FieldError
	for _, r := range code {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			f = append(f, errs.Field("code", "may contain only letters, digits, '-' and '_'"))
			break
		}
	}
	if kind == KindPercent && value > 100 {
		f = append(f, errs.Field("value", "a percentage must be 1 to 100"))
	}
	currency = strings.ToUpper(strings.TrimSpace(currency))
	if kind == KindFixed && len(currency) != 3 {
		f = append(f, errs.Field("currency", "is required for fixed discounts (ISO 4217)"))
	}
	if startsAt != nil && endsAt != nil && !startsAt.Before(*endsAt) {
		f = append(f, errs.Field("ends_at", "must be after starts_at"))
	}
	if len(f) > 0 {
		return Promotion{}, errs.Validation(f...)
	}
	return Promotion{Code: code, Kind: kind, Value: value, Currency: currency, MinSubtotal: minSubtotal, MaxUses: maxUses,
		OncePerCustomer: oncePerCustomer, StartsAt: startsAt, EndsAt: endsAt, Active: active}, nil
}
