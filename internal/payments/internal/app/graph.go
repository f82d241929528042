package app

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// OfOrders returns the payment of each of the given orders that has one,
// by order id, in one query: what the GraphQL subgraph resolves a batch
// of Order entities with (no query per order). Only the caller's own
// orders' payments are returned unless admin is set; the latest payment
// of an order is its payment.
func (s *Service) OfOrders(ctx context.Context, userID string, admin bool, orderIDs []string) (map[string]*Payment, error) {
	ids := make([]string, 0, len(orderIDs))
	for _, id := range orderIDs {
		if _, err := uuid.Parse(id); err == nil {
			ids = append(ids, id)
		}
	}
	out := make(map[string]*Payment, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	q := "SELECT DISTINCT ON (order_id) " + paymentCols + " FROM payments.payments WHERE order_id IN (?)"
	args := []any{bun.In(ids)}
	if !admin {
		q += " AND user_id = ?"
		args = append(args, userID)
	}
	var rows []Payment
	if err := s.db.NewRaw(q+" ORDER BY order_id, created_at DESC", args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("payments of orders: %w", err)
	}
	for i := range rows {
		out[rows[i].OrderID] = &rows[i]
	}
	return out, nil
}
