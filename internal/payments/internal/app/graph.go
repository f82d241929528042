package app

import (
	"context"
	"fmt"

	"github.com/google/uuid"
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
	if len(ids) == 0 {
		return map[string]*Payment{}, nil
	}
	out, err := s.reads.OfOrders(ctx, userID, admin, ids)
	if err != nil {
		return nil, fmt.Errorf("payments of orders: %w", err)
	}
	return out, nil
}
