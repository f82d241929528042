package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/meilisearch/meilisearch-go"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/opencommerce/commerce/internal/platform/pg"
)

// IndexUID is the Meilisearch index of products.
const IndexUID = "products"

// Meili searches a Meilisearch index kept in sync with the read model.
// Meilisearch ranks, filters and counts facets; hits are then read from
// the read model by id, so both backends return the same documents with
// current stock.
type Meili struct {
	db    *pg.DB
	index meilisearch.IndexManager
	cli   meilisearch.ServiceManager
	log   *slog.Logger
}

// NewMeili connects to Meilisearch at url.
func NewMeili(db *pg.DB, url, key string, log *slog.Logger) *Meili {
	cli := meilisearch.New(url, meilisearch.WithAPIKey(key))
	return &Meili{db: db, cli: cli, index: cli.Index(IndexUID), log: log}
}

// Name implements Backend.
func (*Meili) Name() string { return "meilisearch" }

// meiliDoc is what Meilisearch stores of a product.
type meiliDoc struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Brand       string `json:"brand"`
	Category    string `json:"category"`
	Description string `json:"description"`
	Price       int64  `json:"price"`
	PriceBucket string `json:"price_bucket"`
	CreatedAt   int64  `json:"created_at"`
}

// Configure creates the index and applies its settings (idempotent), and
// waits until Meilisearch has applied them.
func (m *Meili) Configure(ctx context.Context) error {
	pk := "id"
	if t, err := m.cli.CreateIndexWithContext(ctx, &meilisearch.IndexConfig{Uid: IndexUID, PrimaryKey: pk}); err == nil {
		_ = m.wait(ctx, t) // "already exists" fails the task, which is fine
	} else {
		return fmt.Errorf("meilisearch: %w", err)
	}
	t, err := m.index.UpdateSettingsWithContext(ctx, &meilisearch.Settings{
		// Order is weight: name > brand, category > description.
		SearchableAttributes: []string{"name", "brand", "category", "description"},
		FilterableAttributes: []string{"category", "brand", "price", "price_bucket"},
		SortableAttributes:   []string{"price", "created_at"},
		TypoTolerance:        &meilisearch.TypoTolerance{Enabled: true, MinWordSizeForTypos: meilisearch.MinWordSizeForTypos{OneTypo: 4, TwoTypos: 8}},
		Faceting:             &meilisearch.Faceting{MaxValuesPerFacet: 200},
		Pagination:           &meilisearch.Pagination{MaxTotalHits: 100000},
	})
	if err != nil {
		return fmt.Errorf("meilisearch settings: %w", err)
	}
	return m.wait(ctx, t)
}

func (m *Meili) wait(ctx context.Context, t *meilisearch.TaskInfo) error {
	task, err := m.cli.WaitForTaskWithContext(ctx, t.TaskUID, 50*time.Millisecond)
	if err != nil {
		return err
	}
	if task.Status == meilisearch.TaskStatusFailed {
		return fmt.Errorf("meilisearch task %d failed: %s", task.TaskUID, task.Error.Message)
	}
	return nil
}

// Sync sends products changed since their last sync (active ones are
// added or replaced, others deleted), waits until Meilisearch applied
// them, and marks them synced at the version sent. It returns how many
// it sent.
func (m *Meili) Sync(ctx context.Context) (int, error) {
	var rows []struct {
		ID          string    `bun:"id"`
		Name        string    `bun:"name"`
		Brand       string    `bun:"brand"`
		Category    string    `bun:"category"`
		Description string    `bun:"description"`
		Price       int64     `bun:"price"`
		Status      string    `bun:"status"`
		Version     int       `bun:"version"`
		CreatedAt   time.Time `bun:"created_at"`
	}
	err := m.db.NewRaw(`SELECT id::text, name, brand, category, description, price, status, version, created_at
		FROM search.products WHERE synced_version <> version ORDER BY id LIMIT 1000`).Scan(ctx, &rows)
	if err != nil || len(rows) == 0 {
		return 0, err
	}
	var docs []meiliDoc
	var gone, ids []string
	var versions []int
	for _, r := range rows {
		ids, versions = append(ids, r.ID), append(versions, r.Version)
		if r.Status != "active" {
			gone = append(gone, r.ID)
			continue
		}
		docs = append(docs, meiliDoc{ID: r.ID, Name: r.Name, Brand: r.Brand, Category: r.Category, Description: r.Description,
			Price: r.Price, PriceBucket: Bucket(r.Price), CreatedAt: r.CreatedAt.UnixMicro()})
	}
	pk := "id"
	if len(docs) > 0 {
		t, err := m.index.AddDocumentsWithContext(ctx, docs, &meilisearch.DocumentOptions{PrimaryKey: &pk})
		if err != nil {
			return 0, err
		}
		if err := m.wait(ctx, t); err != nil {
			return 0, err
		}
	}
	if len(gone) > 0 {
		t, err := m.index.DeleteDocumentsWithContext(ctx, gone, nil)
		if err != nil {
			return 0, err
		}
		if err := m.wait(ctx, t); err != nil {
			return 0, err
		}
	}
	// Only rows still at the version sent: a newer change syncs next round.
	_, err = m.db.ExecContext(ctx, `UPDATE search.products p SET synced_version = v.version
		FROM unnest(?::uuid[], ?::int[]) AS v(id, version) WHERE p.id = v.id AND p.version = v.version`,
		pgdialect.Array(ids), pgdialect.Array(versions))
	return len(rows), err
}

// filterValue quotes a value for a Meilisearch filter expression.
func filterValue(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// Search implements Backend.
func (m *Meili) Search(ctx context.Context, q Query) (Result, error) {
	began := time.Now()
	words, sort, cur, done, err := plan(q)
	if done || err != nil {
		return emptyResult(), err
	}
	var filters []string
	if q.Category != "" {
		filters = append(filters, "category = "+filterValue(q.Category))
	}
	if q.Brand != "" {
		filters = append(filters, "brand = "+filterValue(q.Brand))
	}
	if q.MinPrice != nil {
		filters = append(filters, fmt.Sprintf("price >= %d", *q.MinPrice))
	}
	if q.MaxPrice != nil {
		filters = append(filters, fmt.Sprintf("price <= %d", *q.MaxPrice))
	}
	req := &meilisearch.SearchRequest{
		Offset: int64(cur.Offset), Limit: int64(q.Limit + 1), AttributesToRetrieve: []string{"id"},
		Facets: []string{"category", "brand", "price_bucket"},
	}
	if len(filters) > 0 {
		req.Filter = strings.Join(filters, " AND ")
	}
	switch sort {
	case SortPriceAsc:
		req.Sort = []string{"price:asc"}
	case SortPriceDesc:
		req.Sort = []string{"price:desc"}
	case SortNewest:
		req.Sort = []string{"created_at:desc"}
	}
	resp, err := m.index.SearchWithContext(ctx, strings.Join(words, " "), req)
	if err != nil {
		return Result{}, err
	}
	res := emptyResult()
	res.Total = int(resp.EstimatedTotalHits)
	var dist map[string]map[string]int
	_ = json.Unmarshal(resp.FacetDistribution, &dist)
	for k, v := range dist["category"] {
		res.Facets.Category[k] = v
	}
	for k, v := range dist["brand"] {
		if k != "" {
			res.Facets.Brand[k] = v
		}
	}
	for k, v := range dist["price_bucket"] {
		res.Facets.Price[k] = v
	}
	ids := make([]string, 0, len(resp.Hits))
	for _, h := range resp.Hits {
		var id string
		if err := json.Unmarshal(h["id"], &id); err == nil {
			ids = append(ids, id)
		}
	}
	if len(ids) > q.Limit {
		ids = ids[:q.Limit]
		res.NextCursor = encodeCursor(cursorState{Sort: sort, Offset: cur.Offset + q.Limit, ID: ids[len(ids)-1]})
	}
	if res.Hits, err = docs(ctx, m.db, ids); err != nil {
		return Result{}, err
	}
	res.TookMS = ms(time.Since(began))
	return res, nil
}

// docs reads the documents of ids from the read model, in that order.
func docs(ctx context.Context, db *pg.DB, ids []string) ([]json.RawMessage, error) {
	out := []json.RawMessage{}
	if len(ids) == 0 {
		return out, nil
	}
	err := db.NewRaw(`SELECT d.doc || jsonb_build_object('stock', jsonb_build_object('on_hand', coalesce(s.on_hand, 0),
			'reserved', coalesce(s.reserved, 0), 'available', coalesce(s.on_hand - s.reserved, 0)))
		FROM unnest(?::uuid[]) WITH ORDINALITY AS i(id, n) JOIN search.products d ON d.id = i.id
		LEFT JOIN search.stock s ON s.product_id = i.id WHERE d.status = 'active' ORDER BY i.n`, pgdialect.Array(ids)).Scan(ctx, &out)
	return out, err
}

// Suggest implements Backend: Meilisearch's prefix and typo matching on
// names.
func (m *Meili) Suggest(ctx context.Context, prefix string, limit int) ([]string, error) {
	words := Words(prefix)
	if len(words) == 0 {
		return []string{}, nil
	}
	resp, err := m.index.SearchWithContext(ctx, strings.Join(words, " "), &meilisearch.SearchRequest{Limit: int64(limit), AttributesToRetrieve: []string{"name"}})
	if err != nil {
		return nil, err
	}
	out := []string{}
	seen := map[string]bool{}
	for _, h := range resp.Hits {
		var name string
		if json.Unmarshal(h["name"], &name) == nil && !seen[name] {
			seen[name] = true
			out = append(out, name)
		}
	}
	return out, nil
}
