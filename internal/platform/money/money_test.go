package money_test

import (
	"errors"
	"math"
	"testing"

	"github.com/opencommerce/commerce/internal/platform/money"
)

func TestNewRefusesBadCurrencies(t *testing.T) {
	for _, c := range []string{"", "usd", "US", "USDX", "U$D"} {
		if _, err := money.New(1, c); !errors.Is(err, money.ErrCurrency) {
			t.Errorf("New(1, %q) = %v, want ErrCurrency", c, err)
		}
	}
	if m, err := money.New(1250, "EUR"); err != nil || m.Amount() != 1250 || m.Currency() != "EUR" || m.String() != "1250 EUR" {
		t.Fatalf("New(1250, EUR) = %v, %v", m, err)
	}
}

func TestArithmetic(t *testing.T) {
	a, b := money.Must(700, "USD"), money.Must(300, "USD")
	if s, err := a.Add(b); err != nil || s != money.Must(1000, "USD") {
		t.Errorf("add: %v %v", s, err)
	}
	if d, err := b.Sub(a); err != nil || d.Amount() != -400 || !d.IsNegative() {
		t.Errorf("sub: %v %v", d, err)
	}
	if p, err := a.Times(3); err != nil || p.Amount() != 2100 {
		t.Errorf("times: %v %v", p, err)
	}
	if c, err := a.Cmp(b); err != nil || c != 1 {
		t.Errorf("cmp: %v %v", c, err)
	}
	if !money.Zero("USD").IsZero() || !a.Equal(money.Must(700, "USD")) || a.Equal(money.Must(700, "EUR")) {
		t.Error("zero/equal")
	}
}

func TestCurrenciesNeverMix(t *testing.T) {
	usd, eur := money.Must(1, "USD"), money.Must(1, "EUR")
	if _, err := usd.Add(eur); !errors.Is(err, money.ErrCurrencyMismatch) {
		t.Errorf("add: %v", err)
	}
	if _, err := usd.Sub(eur); !errors.Is(err, money.ErrCurrencyMismatch) {
		t.Errorf("sub: %v", err)
	}
	if _, err := usd.Cmp(eur); !errors.Is(err, money.ErrCurrencyMismatch) {
		t.Errorf("cmp: %v", err)
	}
}

func TestOverflowIsAnError(t *testing.T) {
	big := money.Must(math.MaxInt64, "USD")
	if _, err := big.Add(money.Must(1, "USD")); !errors.Is(err, money.ErrOverflow) {
		t.Errorf("add: %v", err)
	}
	if _, err := money.Must(math.MinInt64, "USD").Sub(money.Must(1, "USD")); !errors.Is(err, money.ErrOverflow) {
		t.Errorf("sub: %v", err)
	}
	if _, err := big.Times(2); !errors.Is(err, money.ErrOverflow) {
		t.Errorf("times: %v", err)
	}
	if _, err := money.Must(1, "USD").Sub(money.Must(math.MinInt64, "USD")); !errors.Is(err, money.ErrOverflow) {
		t.Errorf("sub min: %v", err)
	}
}
