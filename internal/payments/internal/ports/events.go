package ports

import (
	"context"

	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/payments/internal/app"
	"github.com/opencommerce/commerce/internal/platform/events"
)

// OrderClosed is the handler of order_canceled and order_expired: the
// order's unpaid intent is to be canceled at the provider (by the worker,
// outside this transaction). The request is written through the
// repository bound to the consumer's inbox transaction (inTx), so it
// commits exactly once with the inbox row.
func OrderClosed(svc *app.Service, inTx func(bun.Tx) app.Repository) func(context.Context, bun.Tx, events.Envelope) error {
	return func(ctx context.Context, tx bun.Tx, e events.Envelope) error {
		var p orderingapi.OrderEvent
		if err := e.Decode(&p); err != nil {
			return err
		}
		return svc.CancelForOrder(ctx, inTx(tx), p.OrderID)
	}
}
