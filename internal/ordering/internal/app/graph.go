package app

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"
)

// Timelines returns the timeline entries of several orders in one query,
// by order id, oldest first: what the GraphQL subgraph's per-request
// dataloader resolves Order.timeline of a page of orders with. Only the
// caller's own orders' entries are returned unless admin is set, like
// Timeline.
func (s *Service) Timelines(ctx context.Context, userID string, admin bool, orderIDs []string) (map[string][]TimelineEntry, error) {
	ids := make([]string, 0, len(orderIDs))
	for _, id := range orderIDs {
		if _, err := uuid.Parse(id); err == nil {
			ids = append(ids, id)
		}
	}
	out := make(map[string][]TimelineEntry, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	q := `SELECT t.order_id::text AS order_id, t.id, t.type, t.detail, t.created_at FROM ordering.timeline t
		JOIN ordering.orders o ON o.id = t.order_id WHERE t.order_id IN (?) AND o.status <> 'failed'`
	args := []any{bun.In(ids)}
	if !admin {
		q += " AND o.user_id = ?"
		args = append(args, userID)
	}
	var rows []struct {
		OrderID   string          `bun:"order_id"`
		ID        int64           `bun:"id"`
		Type      string          `bun:"type"`
		Detail    json.RawMessage `bun:"detail"`
		CreatedAt time.Time       `bun:"created_at"`
	}
	if err := s.db.NewRaw(q+" ORDER BY t.id", args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("timelines: %w", err)
	}
	for _, r := range rows {
		out[r.OrderID] = append(out[r.OrderID], TimelineEntry{ID: r.ID, Type: r.Type, Detail: r.Detail, CreatedAt: r.CreatedAt})
	}
	return out, nil
}
