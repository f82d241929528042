package domain

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
)

func checkout() Checkout {
	promo := "SAVE"
	return Checkout{ID: "o1", UserID: "u1", Email: "u@shop.test", SessionID: "s1",
		Lines:    []Line{{ProductID: "p1", SKU: "A", Name: "A", UnitPrice: 1000, Quantity: 2, LineTotal: 2000, WeightGrams: 150}, {ProductID: "p2", Quantity: 1, UnitPrice: 500, LineTotal: 500, WeightGrams: 100}},
		Subtotal: 2500, Discount: 100, ShippingCost: 500, Total: 2900, Currency: "USD", PromoCode: &promo,
		Address: Address{Line1: "1 St", City: "T", Country: "US", Phone: "+15550100"}, Courier: "standard", Gateway: "test"}
}

// at returns an order in status s (built from a snapshot).
func at(t *testing.T, s Status) *Order {
	t.Helper()
	o, err := NewOrder(checkout())
	if err != nil {
		t.Fatal(err)
	}
	snap := o.Snapshot()
	snap.Status = s
	exp := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	snap.ExpiresAt = &exp
	o, err = Rehydrate(snap)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// Every (from, to) pair is either allowed or refused exactly as the table
// says, and a move applied through the order records the table's event.
func TestTransitionTable(t *testing.T) {
	allowed := map[[2]Status]string{
		{Placing, PendingPayment}: orderingapi.EventOrderPlaced, {Placing, Failed}: "",
		{PendingPayment, Paid}: orderingapi.EventOrderPaid, {PendingPayment, Canceled}: orderingapi.EventOrderCanceled,
		{PendingPayment, Expired}: orderingapi.EventOrderExpired,
		{Paid, Fulfilling}:        "", {Paid, Shipped}: "", {Paid, Delivered}: "", {Paid, Refunded}: orderingapi.EventOrderRefunded,
		{Fulfilling, Shipped}: "", {Fulfilling, Delivered}: "", {Fulfilling, Refunded}: orderingapi.EventOrderRefunded,
		{Shipped, Delivered}: "", {Shipped, Refunded}: orderingapi.EventOrderRefunded,
		{Delivered, Refunded}: orderingapi.EventOrderRefunded,
	}
	for _, from := range AllStatuses {
		for _, to := range AllStatuses {
			t.Run(fmt.Sprintf("%s→%s", from, to), func(t *testing.T) {
				want, ok := allowed[[2]Status{from, to}]
				ev, got := CanMove(from, to)
				if got != ok || ev != want {
					t.Fatalf("CanMove = %q %v, want %q %v", ev, got, want, ok)
				}
				o := at(t, from)
				err := o.moveTo(to, string(to), nil, "why")
				if ok != (err == nil) {
					t.Fatalf("moveTo: %v (allowed %v)", err, ok)
				}
				if !ok {
					if !errors.Is(err, ErrInvalidTransition) || o.Status() != from || o.Changed() || len(o.PullEvents()) != 0 || len(o.PullNotes()) != 0 {
						t.Fatalf("a refused move changed the order: %v %s", err, o.Status())
					}
					return
				}
				evs := o.PullEvents()
				if o.Status() != to || (want == "") != (len(evs) == 0) || (want != "" && (evs[0].Type != want || evs[0].Payload.Status != string(to))) {
					t.Fatalf("status %s events %+v", o.Status(), evs)
				}
			})
		}
	}
	for s := range Transitions {
		if !s.Valid() {
			t.Fatalf("%s", s)
		}
	}
	if len(Transitions) != len(AllStatuses) || Status("lost").Valid() {
		t.Fatal("the table does not cover exactly the statuses")
	}
}

func TestNewOrderValidates(t *testing.T) {
	for name, mod := range map[string]func(*Checkout){
		"no id": func(c *Checkout) { c.ID = "" }, "no lines": func(c *Checkout) { c.Lines = nil },
		"zero quantity": func(c *Checkout) { c.Lines[0].Quantity = 0 }, "negative total": func(c *Checkout) { c.Total = -1 },
		"bad currency": func(c *Checkout) { c.Currency = "usd" }, "no courier": func(c *Checkout) { c.Courier = "" },
	} {
		c := checkout()
		mod(&c)
		if _, err := NewOrder(c); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	o, err := NewOrder(checkout())
	if err != nil || o.Status() != Placing || o.Total().Amount() != 2900 || o.Refunded().Amount() != 0 || o.Gateway() != "test" || len(o.Lines()) != 2 {
		t.Fatalf("%+v %v", o, err)
	}
	if _, err := Rehydrate(Snapshot{ID: "x", Status: "lost", Currency: "USD"}); err == nil {
		t.Fatal("unknown status rehydrated")
	}
}

func TestMarkPlaced(t *testing.T) {
	o := at(t, Placing)
	exp := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	if err := o.MarkPlaced(PaymentHandle{Gateway: "test", PaymentID: "pay", IntentID: "pi", ClientSecret: "sec"}, exp, 2); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, n := range o.PullNotes() {
		types = append(types, n.Type)
	}
	evs := o.PullEvents()
	if fmt.Sprint(types) != "[stock_reserved checkout_consumed payment_intent_created placed]" || len(evs) != 1 || evs[0].Type != orderingapi.EventOrderPlaced ||
		evs[0].Payload.ExpiresAt != "2026-05-01T12:00:00Z" || evs[0].Payload.Phone != "+15550100" || evs[0].Payload.Status != "pending_payment" {
		t.Fatalf("%v %+v", types, evs)
	}
	if s := o.Snapshot(); *s.Payment.IntentID != "pi" || *s.ExpiresAt != exp {
		t.Fatalf("%+v", s)
	}
	if err := o.MarkPlaced(PaymentHandle{}, exp, 1); !errors.Is(err, ErrInvalidTransition) {
		t.Fatalf("placed twice: %v", err)
	}
	d := PaymentDeadlines(exp, time.Hour, []time.Duration{10 * time.Minute, 50 * time.Minute})
	if len(d) != 3 || d[0] != (Deadline{DeadlineExpire, 0, exp}) || d[1].Due != exp.Add(-50*time.Minute) || d[2].Seq != 2 {
		t.Fatalf("%+v", d)
	}
}

func TestPay(t *testing.T) {
	o := at(t, PendingPayment)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := o.Pay(2900, "pi", now); err != nil {
		t.Fatal(err)
	}
	evs := o.PullEvents()
	if o.Status() != Paid || *o.Snapshot().PaidAt != now || len(evs) != 1 || evs[0].Type != orderingapi.EventOrderPaid {
		t.Fatalf("%s %+v", o.Status(), evs)
	}
	if p := evs[0].Payload; p.Courier != "standard" || p.Country != "US" || p.WeightGrams != 2*150+100 || p.Total != 2900 {
		t.Fatalf("paid payload %+v", p)
	}
	if err := at(t, Placing).Pay(1, "pi", now); !errors.Is(err, ErrStillPlacing) {
		t.Fatalf("placing: %v", err)
	}
	for _, s := range []Status{Paid, Expired, Canceled, Refunded} {
		if err := at(t, s).Pay(1, "pi", now); !errors.Is(err, ErrInvalidTransition) {
			t.Fatalf("%s: %v", s, err)
		}
	}
	for _, s := range []Status{Expired, Canceled} {
		o := at(t, s)
		if err := o.MarkLatePayment(2900); err != nil || !o.LateRefundDue() || o.Status() != s || len(o.PullNotes()) != 1 || len(o.PullEvents()) != 0 {
			t.Fatalf("%s: %v", s, err)
		}
		o.LateRefundDone()
		if o.LateRefundDue() {
			t.Fatal("still due")
		}
	}
	if err := at(t, Paid).MarkLatePayment(1); !errors.Is(err, ErrInvalidTransition) {
		t.Fatalf("late payment of a paid order: %v", err)
	}
}

func TestCancel(t *testing.T) {
	o := at(t, PendingPayment)
	if err := o.Cancel(Canceller{AdminID: "a1"}); err != nil {
		t.Fatal(err)
	}
	n, evs := o.PullNotes(), o.PullEvents()
	if o.Status() != Canceled || n[0].Detail["by"] != "admin" || n[0].Detail["admin_id"] != "a1" || evs[0].Type != orderingapi.EventOrderCanceled ||
		evs[0].Payload.Reason != "canceled by the shop" {
		t.Fatalf("%+v %+v", n, evs)
	}
	o = at(t, PendingPayment)
	_ = o.Cancel(Canceller{})
	if evs := o.PullEvents(); evs[0].Payload.Reason != "canceled by customer" {
		t.Fatalf("%+v", evs)
	}
	for _, s := range []Status{Placing, Paid, Fulfilling, Expired, Canceled, Refunded} {
		err := at(t, s).Cancel(Canceller{})
		if !errors.Is(err, ErrNotCancelable) {
			t.Fatalf("%s: %v", s, err)
		}
		if want := "the order is " + string(s); !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: %v lacks %q", s, err, want)
		}
	}
}

func TestExpireAndRemind(t *testing.T) {
	o := at(t, PendingPayment)
	if err := o.RemindPayment(2); err != nil {
		t.Fatal(err)
	}
	if evs := o.PullEvents(); len(evs) != 1 || evs[0].Type != orderingapi.EventPaymentReminder || evs[0].Payload.Reason != "reminder 2" || o.Changed() {
		t.Fatalf("%+v", evs)
	}
	if err := o.Expire(); err != nil {
		t.Fatal(err)
	}
	if evs := o.PullEvents(); o.Status() != Expired || evs[0].Type != orderingapi.EventOrderExpired || evs[0].Payload.Reason != "payment timeout" {
		t.Fatalf("%+v", evs)
	}
	if err := o.RemindPayment(3); !errors.Is(err, ErrInvalidTransition) {
		t.Fatalf("reminder of an expired order: %v", err)
	}
	if err := at(t, Paid).Expire(); !errors.Is(err, ErrInvalidTransition) {
		t.Fatalf("expire of a paid order: %v", err)
	}
}

// Fulfillment events may arrive in any order: each move accepts every
// earlier status, none moves back.
func TestFulfillmentOutOfOrder(t *testing.T) {
	sh := Shipment{FulfillmentID: "f1", TrackingID: "T"}
	type move func(*Order, Shipment) error
	cases := []struct {
		name string
		m    move
		from []Status
		to   Status
	}{
		{"start", (*Order).StartFulfillment, []Status{Paid}, Fulfilling},
		{"ship", (*Order).Ship, []Status{Paid, Fulfilling}, Shipped},
		{"deliver", (*Order).Deliver, []Status{Paid, Fulfilling, Shipped}, Delivered},
	}
	for _, c := range cases {
		for _, s := range AllStatuses {
			o := at(t, s)
			err := c.m(o, sh)
			ok := false
			for _, f := range c.from {
				ok = ok || f == s
			}
			if ok != (err == nil) || (ok && o.Status() != c.to) || (!ok && o.Status() != s) {
				t.Fatalf("%s from %s: %v → %s", c.name, s, err, o.Status())
			}
			if ok {
				if n := o.PullNotes(); n[0].Detail["tracking_id"] != "T" || len(o.PullEvents()) != 0 {
					t.Fatalf("%+v", n)
				}
			}
		}
	}
}

func TestApplyRefund(t *testing.T) {
	o := at(t, Shipped)
	if err := o.ApplyRefund("r1", 900, "dent"); err != nil {
		t.Fatal(err)
	}
	evs := o.PullEvents()
	if o.Status() != Shipped || len(evs) != 1 || evs[0].Type != orderingapi.EventOrderRefunded || evs[0].Payload.RefundedAmount != 900 || evs[0].Payload.Reason != "dent" {
		t.Fatalf("partial: %s %+v", o.Status(), evs)
	}
	if err := o.ApplyRefund("r1", 900, "dent"); err != nil || o.Refunded().Amount() != 900 || len(o.PullEvents()) != 0 {
		t.Fatalf("a repeated refund id applied twice: %v %v", err, o.Refunded())
	}
	if err := o.ApplyRefund("r2", 2000, "rest"); err != nil {
		t.Fatal(err)
	}
	evs = o.PullEvents()
	if o.Status() != Refunded || len(evs) != 1 || evs[0].Payload.Status != "refunded" || evs[0].Payload.RefundedAmount != 2900 {
		t.Fatalf("full: %s %+v", o.Status(), evs)
	}
	if r := o.PullRefunds(); len(r) != 2 || r[1] != (Refund{"r2", 2000}) {
		t.Fatalf("%+v", r)
	}
	if err := o.CheckRefundable(); !errors.Is(err, ErrFullyRefunded) {
		t.Fatal(err)
	}
	// A late payment's refund of an expired order records the event only.
	o = at(t, Expired)
	if err := o.ApplyRefund("r3", 2900, "late payment"); err != nil || o.Status() != Expired || len(o.PullEvents()) != 1 {
		t.Fatalf("%v %s", err, o.Status())
	}
	if err := at(t, PendingPayment).CheckRefundable(); !errors.Is(err, ErrNotRefundable) {
		t.Fatal(err)
	}
	if err := at(t, Delivered).CheckRefundable(); err != nil {
		t.Fatal(err)
	}
}

func TestFailAndAbandon(t *testing.T) {
	o := at(t, Placing)
	if err := o.Fail("reserve", errors.New("out of stock")); err != nil || o.Status() != Failed || o.Snapshot().Failure != "reserve: out of stock" {
		t.Fatalf("%v %+v", err, o.Snapshot())
	}
	if n := o.PullNotes(); n[0].Type != "failed" || n[0].Detail["step"] != "reserve" || len(o.PullEvents()) != 0 {
		t.Fatalf("%+v", n)
	}
	o = at(t, Placing)
	if err := o.Abandon(); err != nil || o.Snapshot().Failure != "interrupted; compensated" {
		t.Fatal(err)
	}
	if err := at(t, PendingPayment).Abandon(); !errors.Is(err, ErrInvalidTransition) {
		t.Fatal(err)
	}
}
