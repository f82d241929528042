package app

import (
	"context"
	"fmt"

	"github.com/google/uuid"
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
	owner := userID
	if admin {
		owner = ""
	}
	got, err := s.reads.Timelines(ctx, ids, owner)
	if err != nil {
		return nil, fmt.Errorf("timelines: %w", err)
	}
	for id, entries := range got {
		out[id] = entries
	}
	return out, nil
}
