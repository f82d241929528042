package app

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/platform/cursor"
	"github.com/opencommerce/commerce/internal/platform/errs"
)

// Statuses are the fulfillment statuses, in the order a shipment moves.
var Statuses = []string{"pending", "in_progress", "shipped", "delivered"}

// Queue pages fulfillments for the admin's work queue, oldest first (ids
// are UUIDv7: creation order), optionally in one status.
func (s *Service) Queue(ctx context.Context, status, cur string, limit int) ([]Fulfillment, *string, error) {
	after, err := cursor.Decode(cur)
	if err != nil {
		return nil, nil, err
	}
	if status != "" && !slices.Contains(Statuses, status) {
		return nil, nil, errs.Validation(errs.Field("status", "must be one of pending, in_progress, shipped, delivered"))
	}
	q := "SELECT " + fulfillmentCols + " FROM fulfillment.fulfillments WHERE true"
	var args []any
	if status != "" {
		q += " AND status = ?"
		args = append(args, status)
	}
	if after != "" {
		q += " AND id > ?"
		args = append(args, after)
	}
	q += " ORDER BY id LIMIT ?"
	args = append(args, limit+1)
	var rows []Fulfillment
	if err := s.db.NewRaw(q, args...).Scan(ctx, &rows); err != nil {
		return nil, nil, fmt.Errorf("fulfillment queue: %w", err)
	}
	rows, next := cursor.Page(rows, limit, func(f Fulfillment) string { return f.ID })
	if rows == nil {
		rows = []Fulfillment{}
	}
	return rows, next, nil
}

// Get returns any fulfillment (admin).
func (s *Service) Get(ctx context.Context, id string) (*Fulfillment, error) {
	u, err := uuid.Parse(id)
	if err != nil || len(id) != 36 {
		return nil, ErrNotFound
	}
	id = u.String()
	f := new(Fulfillment)
	err = s.db.NewRaw("SELECT "+fulfillmentCols+" FROM fulfillment.fulfillments WHERE id = ?", id).Scan(ctx, f)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("fulfillment: %w", err)
	}
	return f, nil
}
