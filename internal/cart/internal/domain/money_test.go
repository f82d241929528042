package domain

import (
	"errors"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/money"
)

func usd(n int64) money.Money { return money.Must(n, "USD") }

func TestDiscountRounding(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		p        Promotion
		subtotal int64
		want     int64
	}{
		{"percent exact", Promotion{Kind: KindPercent, Value: 10}, 10000, 1000},
		{"percent rounds down", Promotion{Kind: KindPercent, Value: 15}, 999, 149}, // 149.85
		{"percent rounds down .5", Promotion{Kind: KindPercent, Value: 50}, 1, 0},  // 0.5
		{"percent of 1999", Promotion{Kind: KindPercent, Value: 33}, 1999, 659},    // 659.67
		{"100 percent", Promotion{Kind: KindPercent, Value: 100}, 4321, 4321},
		{"fixed", Promotion{Kind: KindFixed, Value: 500, Currency: "USD"}, 2000, 500},
		{"fixed larger than subtotal", Promotion{Kind: KindFixed, Value: 5000, Currency: "USD"}, 1999, 1999},
		{"empty cart", Promotion{Kind: KindFixed, Value: 500, Currency: "USD"}, 0, 0},
	}
	for _, c := range cases {
		got, err := c.p.Discount(usd(c.subtotal))
		if err != nil || got != usd(c.want) {
			t.Errorf("%s: %v %v, want %d USD", c.name, got, err, c.want)
		}
	}
}

// A discount is money of the subtotal's currency: a fixed discount in
// another currency is an error, and a percentage that overflows is too.
func TestDiscountNeverMixesCurrencies(t *testing.T) {
	t.Parallel()
	if _, err := (Promotion{Kind: KindFixed, Value: 500, Currency: "EUR"}).Discount(usd(2000)); !errors.Is(err, money.ErrCurrencyMismatch) {
		t.Fatalf("EUR off USD: %v", err)
	}
	if _, err := (Promotion{Kind: KindPercent, Value: 50}).Discount(usd(1 << 62)); !errors.Is(err, money.ErrOverflow) {
		t.Fatalf("overflow: %v", err)
	}
}

func TestLineTotal(t *testing.T) {
	t.Parallel()
	if got, err := LineTotal(usd(1250), 3); err != nil || got != usd(3750) {
		t.Fatalf("3 × 12.50: %v %v", got, err)
	}
	if _, err := LineTotal(usd(1<<62), 99); !errors.Is(err, money.ErrOverflow) {
		t.Fatalf("overflow: %v", err)
	}
}

func TestTotals(t *testing.T) {
	t.Parallel()
	if got, err := ComputeTotals(usd(10000), usd(1500), usd(899)); err != nil || got.Total != usd(9399) {
		t.Fatal(got, err)
	}
	if got, err := ComputeTotals(usd(1000), usd(5000), usd(500)); err != nil || got.Discount != usd(1000) || got.Total != usd(500) {
		t.Fatalf("discount beyond subtotal: %+v %v", got, err)
	}
	if got, err := ComputeTotals(usd(1000), usd(-5), usd(0)); err != nil || !got.Discount.IsZero() || got.Total != usd(1000) {
		t.Fatalf("negative discount: %+v %v", got, err)
	}
	if _, err := ComputeTotals(usd(1000), usd(0), money.Must(500, "EUR")); !errors.Is(err, money.ErrCurrencyMismatch) {
		t.Fatalf("shipping in EUR on a USD cart: %v", err)
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	two := 2
	base := Promotion{Kind: KindPercent, Value: 10, MinSubtotal: 5000, Active: true, OncePerCustomer: true, MaxUses: &two}
	cases := []struct {
		name     string
		mut      func(*Promotion)
		subtotal int64
		used     bool
		want     error
	}{
		{"ok", nil, 5000, false, nil},
		{"min subtotal boundary below", nil, 4999, false, ErrPromoMinSubtotal},
		{"expired", func(p *Promotion) { p.EndsAt = &past }, 9000, false, ErrPromoExpired},
		{"ends exactly now", func(p *Promotion) { p.EndsAt = &now }, 9000, false, ErrPromoExpired},
		{"not started", func(p *Promotion) { p.StartsAt = &future }, 9000, false, ErrPromoNotStarted},
		{"starts exactly now", func(p *Promotion) { p.StartsAt = &now }, 9000, false, nil},
		{"exhausted", func(p *Promotion) { p.Uses = 2 }, 9000, false, ErrPromoExhausted},
		{"already used", nil, 9000, true, ErrPromoUsed},
		{"inactive", func(p *Promotion) { p.Active = false }, 9000, false, ErrPromoNotFound},
		{"fixed other currency", func(p *Promotion) { p.Kind, p.Currency = KindFixed, "EUR" }, 9000, false, ErrPromoCurrency},
	}
	for _, c := range cases {
		p := base
		if c.mut != nil {
			c.mut(&p)
		}
		if err := p.Check(now, usd(c.subtotal), c.used); !errors.Is(err, c.want) && !(err == nil && c.want == nil) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestNewPromotionValidatesEveryField(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	p, err := NewPromotion(" winter-10 ", KindFixed, 500, " usd", 0, nil, true, &start, nil, true)
	if err != nil || p.Code != "WINTER-10" || p.Currency != "USD" || p.Uses != 0 || !p.Active {
		t.Fatalf("valid: %+v %v", p, err)
	}
	_, err = NewPromotion("bad code!", KindPercent, 150, "", 0, nil, true, &start, &start, true)
	e, ok := errs.As(err)
	if !ok || len(e.Fields) != 3 {
		t.Fatalf("want code, value and ends_at refused: %v", err)
	}
	if _, err := NewPromotion("FIXED", KindFixed, 500, "", 0, nil, true, nil, nil, true); err == nil {
		t.Fatal("fixed without a currency")
	}
}
