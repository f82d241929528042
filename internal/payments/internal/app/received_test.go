package app

import (
	"testing"

	"github.com/opencommerce/commerce/internal/payments/internal/gateway"
)

// received prefers amount_received, falls back to amount, and never
// invents money: an event without an amount or a currency cannot pay.
func TestReceived(t *testing.T) {
	i := func(v int64) *int64 { return &v }
	ev := func(amount, received *int64, cur string) gateway.Event {
		var e gateway.Event
		e.Data.Object.Amount, e.Data.Object.AmountReceived, e.Data.Object.Currency = amount, received, cur
		return e
	}
	for _, c := range []struct {
		name string
		ev   gateway.Event
		amt  int64
		ok   bool
	}{
		{"both", ev(i(500), i(400), "usd"), 400, true},
		{"amount only", ev(i(500), nil, "usd"), 500, true},
		{"zero received", ev(i(500), i(0), "usd"), 0, true},
		{"no amount", ev(nil, nil, "usd"), -1, false},
		{"no currency", ev(i(500), nil, ""), 500, false},
	} {
		got, _, ok := received(c.ev)
		if got != c.amt || ok != c.ok {
			t.Errorf("%s: %d %v, want %d %v", c.name, got, ok, c.amt, c.ok)
		}
	}
}
