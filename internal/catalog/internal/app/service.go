// Package app holds catalog's use cases: product administration, cached
// reads and stock reservations.
package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"

	"github.com/google/uuid"
	"golang.org/x/sync/singleflight"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/platform/clock"
	"github.com/opencommerce/commerce/internal/platform/events"
)

// Service implements catalog's use cases and catalogapi.Catalog.
type Service struct {
	store Store
	cache Cache
	clock clock.Clock
	log   *slog.Logger
	loads singleflight.Group
	// DBReads counts database loads of single products (tests assert
	// that single-flight collapses bursts).
	DBReads func()
	// cacheMissed is called when a product read missed the cache and is
	// about to join (or start) the single flight: tests wait on it
	// instead of sleeping.
	cacheMissed func()
	inst        instruments // metrics.go
	// pages are the storefront list's recent pages (pages.go).
	pages *pageCache
	// reservations batches concurrent Reserve calls (reservebatch.go).
	reservations reserver
}

// New builds the service on store (which also writes the outbox) and
// cache; clk decides reservation expiry (nil: the system clock).
func New(store Store, cache Cache, clk clock.Clock, log *slog.Logger) *Service {
	return &Service{store: store, cache: cache, clock: clock.Or(clk), log: log, DBReads: func() {}, cacheMissed: func() {}, pages: newPageCache()}
}

var _ catalogapi.Catalog = (*Service)(nil)

func validID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}

func toProduct(r *ProductRecord) catalogapi.Product {
	attrs := r.Attributes
	if attrs == nil {
		attrs = map[string]any{}
	}
	imgs := r.Images
	if imgs == nil {
		imgs = []string{}
	}
	return catalogapi.Product{
		ID: r.ID, SKU: r.SKU, Name: r.Name, Description: r.Description, Category: r.Category, Brand: r.Brand,
		Attributes: attrs, Price: r.Price, Currency: r.Currency, Images: imgs, WeightGrams: r.WeightGrams,
		Status: r.Status, Version: r.Version, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
		Stock: catalogapi.Stock{OnHand: r.OnHand, Reserved: r.Reserved, Available: r.OnHand - r.Reserved},
	}
}

func productEvent(typ string, r *ProductRecord) (events.Envelope, error) {
	return events.New(typ, r.ID, catalogapi.ProductEvent{ProductID: r.ID, SKU: r.SKU, Name: r.Name, Category: r.Category, Brand: r.Brand,
		Price: r.Price, Currency: r.Currency, Status: r.Status, Version: r.Version, WeightGrams: r.WeightGrams, Product: ptr(toProduct(r))})
}

func stockEvents(kind, reason, ref string, moves []Movement, after map[string]StockRecord) ([]events.Envelope, error) {
	out := make([]events.Envelope, 0, len(moves))
	for _, m := range moves {
		s := after[m.ProductID]
		ev, err := events.New(catalogapi.EventStockChanged, m.ProductID, catalogapi.StockChanged{
			ProductID: m.ProductID, Kind: kind, DeltaOnHand: m.DeltaOnHand, DeltaReserved: m.DeltaReserved,
			OnHand: s.OnHand, Reserved: s.Reserved, Available: s.OnHand - s.Reserved, Reason: reason, Reference: ref})
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

// entry renders a product once into its cached JSON form and ETag.
func entry(p catalogapi.Product) (Entry, error) {
	body, err := json.Marshal(p)
	if err != nil {
		return Entry{}, fmt.Errorf("encode product %s: %w", p.ID, err)
	}
	sum := sha256.Sum256(body)
	return Entry{ETag: `"` + hex.EncodeToString(sum[:12]) + `"`, Body: body}, nil
}

// invalidate drops cached products after a committed write. A failure is
// logged, not returned: the write is durable, and the generation check
// plus the entry TTL bound any staleness.
func (s *Service) invalidate(ctx context.Context, ids ...string) {
	if err := s.cache.Invalidate(context.WithoutCancel(ctx), ids...); err != nil {
		s.log.WarnContext(ctx, "cache invalidation failed", "err", err, "products", len(ids))
	}
}

// forgetPages drops the storefront list's cached pages after a product
// write that can change which products a page holds.
func (s *Service) forgetPages() { s.pages.bump() }

func ptr[T any](v T) *T { return &v }
