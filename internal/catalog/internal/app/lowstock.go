package app

import (
	"context"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/platform/errs"
)

// MaxLowStockThreshold bounds the threshold of LowStock: beyond it every
// product would be "low" and the list would say nothing.
const MaxLowStockThreshold = 1_000_000

// LowStock implements catalogapi.Catalog: active products at or below
// threshold available, lowest first, for the admin dashboard.
func (s *Service) LowStock(ctx context.Context, threshold, limit int) ([]catalogapi.LowStockItem, error) {
	if threshold < 0 || threshold > MaxLowStockThreshold {
		return nil, errs.Validation(errs.Field("low_stock", "must be an integer from 0 to 1000000"))
	}
	if limit < 1 || limit > 100 {
		return nil, errs.Validation(errs.Field("limit", "must be an integer from 1 to 100"))
	}
	rows, err := s.store.LowStock(ctx, threshold, limit)
	if err != nil {
		return nil, err
	}
	out := make([]catalogapi.LowStockItem, len(rows))
	for i, r := range rows {
		out[i] = catalogapi.LowStockItem{ProductID: r.ID, SKU: r.SKU, Name: r.Name, Available: r.Available}
	}
	return out, nil
}
