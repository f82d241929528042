package app

import (
	"context"
	"encoding/json"
	"time"

	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/notify/internal/push"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/events"
)

// AdminEvent is the data of one event of the administrators' live stream
// (GET /api/v1/admin/stream): what happened, to which order, payment or
// shipment, and when. The SSE event name is Type.
type AdminEvent struct {
	Type          string    `json:"type" enum:"order_placed,order_paid,order_canceled,order_expired,payment_amount_mismatch,fulfillment_shipped,fulfillment_delivered"`
	OrderID       string    `json:"order_id,omitempty"`
	PaymentID     string    `json:"payment_id,omitempty"`
	FulfillmentID string    `json:"fulfillment_id,omitempty"`
	Total         int64     `json:"total,omitempty"`
	Currency      string    `json:"currency,omitempty"`
	At            time.Time `json:"at"`
}

// adminTypes maps the topics the admin stream shows to their event type.
var adminTypes = map[string]string{
	orderingapi.EventOrderPlaced:           "order_placed",
	orderingapi.EventOrderPaid:             "order_paid",
	orderingapi.EventOrderCanceled:         "order_canceled",
	orderingapi.EventOrderExpired:          "order_expired",
	paymentsapi.EventPaymentAmountMismatch: "payment_amount_mismatch",
	fulfillmentapi.EventShipped:            "fulfillment_shipped",
	fulfillmentapi.EventDelivered:          "fulfillment_delivered",
}

// adminEventOf is what the admin stream shows of e (false: nothing).
func adminEventOf(e events.Envelope) (AdminEvent, bool) {
	typ, ok := adminTypes[e.Type]
	if !ok {
		return AdminEvent{}, false
	}
	ev := AdminEvent{Type: typ, At: e.OccurredAt.UTC()}
	switch e.Type {
	case paymentsapi.EventPaymentAmountMismatch:
		var p paymentsapi.AmountMismatchEvent
		if e.Decode(&p) != nil {
			return AdminEvent{}, false
		}
		ev.PaymentID, ev.OrderID = p.PaymentID, p.OrderID
	case fulfillmentapi.EventShipped, fulfillmentapi.EventDelivered:
		var p fulfillmentapi.FulfillmentEvent
		if e.Decode(&p) != nil {
			return AdminEvent{}, false
		}
		ev.FulfillmentID, ev.OrderID = p.FulfillmentID, p.OrderID
	default:
		var p orderingapi.OrderEvent
		if e.Decode(&p) != nil {
			return AdminEvent{}, false
		}
		ev.OrderID, ev.Total, ev.Currency = p.OrderID, p.Total, p.Currency
	}
	return ev, true
}

// pushAdmin publishes e to the administrators' live stream, once the
// consumer's transaction committed (from AfterEvent). Best effort: a
// stream that misses an event live shows it when the console refetches.
func (s *Service) pushAdmin(ctx context.Context, e events.Envelope) {
	if s.rdb == nil {
		return
	}
	ev, ok := adminEventOf(e)
	if !ok {
		return
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return
	}
	if err := push.PublishAdmin(ctx, s.rdb, data); err != nil {
		s.log.WarnContext(ctx, "push: admin event", "type", ev.Type, "err", err)
	}
}
