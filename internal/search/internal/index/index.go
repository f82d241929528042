// Package index keeps search's read model of the catalog: products (with
// their search document and full-text vector), stock, and the dictionary
// of product words typos are corrected against. Catalog events feed it
// inside the consumer's transaction; reindex rebuilds it from catalogapi.
package index

import (
	"context"
	"encoding/json"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/search/internal/engine"
)

// Store writes the read model.
type Store struct {
	// External marks rows as still to be sent to an external engine
	// (Meilisearch); without one they are born synced.
	External bool
}

// Upsert writes products in one statement. A product older than the
// stored one (lower version) is ignored, so redelivered or reordered
// events never roll a product back.
func (s Store) Upsert(ctx context.Context, db bun.IDB, ps []catalogapi.Product) error {
	if len(ps) == 0 {
		return nil
	}
	docs, err := json.Marshal(ps)
	if err != nil {
		return err
	}
	synced, resynced := "(d->>'version')::int", "excluded.version"
	if s.External {
		synced, resynced = "0", "0"
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO search.products AS t (id, name, description, category, brand, price, status, version, created_at, doc, synced_version)
		SELECT (d->>'id')::uuid, d->>'name', coalesce(d->>'description', ''), coalesce(d->>'category', ''), coalesce(d->>'brand', ''),
		       (d->>'price')::bigint, d->>'status', (d->>'version')::int, (d->>'created_at')::timestamptz, d - 'stock', `+synced+`
		FROM jsonb_array_elements(?::jsonb) d
		ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, category = excluded.category,
			brand = excluded.brand, price = excluded.price, status = excluded.status, version = excluded.version,
			created_at = excluded.created_at, doc = excluded.doc, synced_version = `+resynced+`
		WHERE t.version <= excluded.version`, string(docs)); err != nil {
		return err
	}
	var words []string
	for _, p := range ps {
		if p.Status != catalogapi.StatusActive {
			continue
		}
		words = append(words, engine.Words(p.Name+" "+p.Brand+" "+p.Category)...)
	}
	if len(words) == 0 {
		return nil
	}
	_, err = db.ExecContext(ctx, "INSERT INTO search.terms (term) SELECT DISTINCT unnest(?::text[]) ON CONFLICT DO NOTHING", pgdialect.Array(words))
	return err
}

// SetStock records a product's stock position.
func (Store) SetStock(ctx context.Context, db bun.IDB, ids []string, onHand, reserved []int) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := db.ExecContext(ctx, `INSERT INTO search.stock (product_id, on_hand, reserved)
		SELECT * FROM unnest(?::uuid[], ?::int[], ?::int[])
		ON CONFLICT (product_id) DO UPDATE SET on_hand = excluded.on_hand, reserved = excluded.reserved`,
		pgdialect.Array(ids), pgdialect.Array(onHand), pgdialect.Array(reserved))
	return err
}

// HandleProduct applies product_created/updated/archived.
func (s Store) HandleProduct(ctx context.Context, tx bun.Tx, e events.Envelope) error {
	var p catalogapi.ProductEvent
	if err := e.Decode(&p); err != nil {
		return err
	}
	prod := p.Product
	if prod == nil { // events from before snapshots were published
		prod = &catalogapi.Product{ID: p.ProductID, SKU: p.SKU, Name: p.Name, Category: p.Category, Brand: p.Brand, Price: p.Price,
			Currency: p.Currency, Status: p.Status, Version: p.Version, WeightGrams: p.WeightGrams, CreatedAt: e.OccurredAt, UpdatedAt: e.OccurredAt,
			Attributes: map[string]any{}, Images: []string{}}
	}
	if e.Type == catalogapi.EventProductArchived {
		prod.Status = catalogapi.StatusArchived
	}
	if prod.CreatedAt.IsZero() {
		prod.CreatedAt = time.Now()
	}
	return s.Upsert(ctx, tx, []catalogapi.Product{*prod})
}

// HandleStock applies stock_changed.
func (s Store) HandleStock(ctx context.Context, tx bun.Tx, e events.Envelope) error {
	var st catalogapi.StockChanged
	if err := e.Decode(&st); err != nil {
		return err
	}
	return s.SetStock(ctx, tx, []string{st.ProductID}, []int{st.OnHand}, []int{st.Reserved})
}
