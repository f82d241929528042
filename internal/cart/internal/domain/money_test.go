package domain

import (
	"errors"
	"testing"
	"time"
)

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
		{"fixed", Promotion{Kind: KindFixed, Value: 500}, 2000, 500},
		{"fixed larger than subtotal", Promotion{Kind: KindFixed, Value: 5000}, 1999, 1999},
		{"empty cart", Promotion{Kind: KindFixed, Value: 500}, 0, 0},
	}
	for _, c := range cases {
		if got := c.p.Discount(c.subtotal); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
}

func TestTotals(t *testing.T) {
	t.Parallel()
	if got := ComputeTotals(10000, 1500, 899); got.Total != 9399 {
		t.Fatal(got)
	}
	if got := ComputeTotals(1000, 5000, 500); got.Discount != 1000 || got.Total != 500 {
		t.Fatalf("discount beyond subtotal: %+v", got)
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
		if err := p.Check(now, c.subtotal, "USD", c.used); !errors.Is(err, c.want) && !(err == nil && c.want == nil) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}
