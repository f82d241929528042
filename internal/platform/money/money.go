// Package money is an amount of one currency in integer minor units: the
// value ordering, payments and cart compute with, so that an amount never
// travels without its currency and two currencies are never added.
package money

import (
	"fmt"
	"math"

	"github.com/opencommerce/commerce/internal/platform/errs"
)

// Money is an amount in minor units (cents) of an ISO 4217 currency. The
// zero value is no money of no currency; build values with New.
type Money struct {
	amount   int64
	currency string
}

// Errors of money arithmetic, categorised so that an API answers them as
// 422 (they are caused by the input, never by the shop's state).
var (
	ErrCurrency         = errs.New(errs.Invalid, "invalid_currency", "the currency must be a three-letter ISO 4217 code in upper case")
	ErrCurrencyMismatch = errs.New(errs.Invalid, "currency_mismatch", "the amounts are in different currencies")
	ErrOverflow         = errs.New(errs.Invalid, "amount_out_of_range", "the amount is out of range")
)

// New returns amount minor units of currency, refusing a currency that is
// not three upper-case letters.
func New(amount int64, currency string) (Money, error) {
	if !validCurrency(currency) {
		return Money{}, fmt.Errorf("money %d %q: %w", amount, currency, ErrCurrency)
	}
	return Money{amount: amount, currency: currency}, nil
}

// Must is New for values known to be valid (constants, rows the database
// constrained); it panics otherwise.
func Must(amount int64, currency string) Money {
	m, err := New(amount, currency)
	if err != nil {
		panic(err)
	}
	return m
}

// Zero is no money of currency (currency unchecked: it comes from a valid
// value, as in m.Zero()).
func Zero(currency string) Money { return Money{currency: currency} }

func validCurrency(c string) bool {
	if len(c) != 3 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c[i] < 'A' || c[i] > 'Z' {
			return false
		}
	}
	return true
}

// Amount is the amount in minor units.
func (m Money) Amount() int64 { return m.amount }

// Currency is the ISO 4217 code.
func (m Money) Currency() string { return m.currency }

// IsZero reports a zero amount (of any currency).
func (m Money) IsZero() bool { return m.amount == 0 }

// IsNegative reports an amount below zero.
func (m Money) IsNegative() bool { return m.amount < 0 }

// Add returns m + o; both must be of one currency.
func (m Money) Add(o Money) (Money, error) {
	if m.currency != o.currency {
		return Money{}, fmt.Errorf("%v + %v: %w", m, o, ErrCurrencyMismatch)
	}
	s := m.amount + o.amount
	if (o.amount > 0 && s < m.amount) || (o.amount < 0 && s > m.amount) {
		return Money{}, fmt.Errorf("%v + %v: %w", m, o, ErrOverflow)
	}
	return Money{amount: s, currency: m.currency}, nil
}

// Sub returns m - o; both must be of one currency.
func (m Money) Sub(o Money) (Money, error) {
	if o.amount == math.MinInt64 {
		return Money{}, fmt.Errorf("%v - %v: %w", m, o, ErrOverflow)
	}
	return m.Add(Money{amount: -o.amount, currency: o.currency})
}

// Times returns m × n (a line's price times its quantity).
func (m Money) Times(n int64) (Money, error) {
	if n != 0 && m.amount != 0 {
		p := m.amount * n
		if p/n != m.amount || (m.amount == -1 && n == math.MinInt64) || (n == -1 && m.amount == math.MinInt64) {
			return Money{}, fmt.Errorf("%v × %d: %w", m, n, ErrOverflow)
		}
		return Money{amount: p, currency: m.currency}, nil
	}
	return Money{currency: m.currency}, nil
}

// Cmp compares m with o of the same currency: -1, 0 or +1.
func (m Money) Cmp(o Money) (int, error) {
	if m.currency != o.currency {
		return 0, fmt.Errorf("compare %v with %v: %w", m, o, ErrCurrencyMismatch)
	}
	switch {
	case m.amount < o.amount:
		return -1, nil
	case m.amount > o.amount:
		return 1, nil
	}
	return 0, nil
}

// Equal reports the same amount of the same currency.
func (m Money) Equal(o Money) bool { return m == o }

// String is "1234 USD" (minor units): for logs and error details.
func (m Money) String() string { return fmt.Sprintf("%d %s", m.amount, m.currency) }
