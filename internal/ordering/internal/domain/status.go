// Package domain is ordering's core: the Order aggregate, its statuses and
// the one table of the transitions between them, with no infrastructure.
// Every state change goes through a method of Order that consults the
// table and records the domain events and timeline entries it causes; the
// repository persists them in the transaction that saves the order.
package domain

import (
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
)

// Status is where an order is in its life.
type Status string

// The statuses of an order. Placing and failed are internal to the
// place-order saga; clients never see them.
const (
	Placing        Status = "placing"
	PendingPayment Status = "pending_payment"
	Paid           Status = "paid"
	Fulfilling     Status = "fulfilling"
	Shipped        Status = "shipped"
	Delivered      Status = "delivered"
	Expired        Status = "expired"
	Canceled       Status = "canceled"
	Refunded       Status = "refunded"
	Failed         Status = "failed"
)

// AllStatuses lists every status, so that tests and validation walk the
// whole set.
var AllStatuses = []Status{Placing, PendingPayment, Paid, Fulfilling, Shipped, Delivered, Expired, Canceled, Refunded, Failed}

// Transitions is THE transition table: for each status, the statuses an
// order may move to and the event type each move publishes ("" for none).
// Every method of Order consults it; nothing else decides whether a move
// is allowed. Fulfillment moves skip intermediate statuses because its
// events may arrive out of order; no entry moves backwards.
var Transitions = map[Status]map[Status]string{
	Placing:        {PendingPayment: orderingapi.EventOrderPlaced, Failed: ""},
	PendingPayment: {Paid: orderingapi.EventOrderPaid, Canceled: orderingapi.EventOrderCanceled, Expired: orderingapi.EventOrderExpired},
	Paid:           {Fulfilling: "", Shipped: "", Delivered: "", Refunded: orderingapi.EventOrderRefunded},
	Fulfilling:     {Shipped: "", Delivered: "", Refunded: orderingapi.EventOrderRefunded},
	Shipped:        {Delivered: "", Refunded: orderingapi.EventOrderRefunded},
	Delivered:      {Refunded: orderingapi.EventOrderRefunded},
	Expired:        {},
	Canceled:       {},
	Refunded:       {},
	Failed:         {},
}

// CanMove reports whether the table allows from → to, and the event type
// the move publishes.
func CanMove(from, to Status) (event string, ok bool) {
	event, ok = Transitions[from][to]
	return event, ok
}

// Valid reports whether s is one of the statuses.
func (s Status) Valid() bool {
	_, ok := Transitions[s]
	return ok
}

// Refundable reports whether money was captured and goods may still be
// refunded: the statuses from which a full refund moves to refunded.
func (s Status) Refundable() bool {
	_, ok := CanMove(s, Refunded)
	return ok
}
