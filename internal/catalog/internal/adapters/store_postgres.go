// Package adapters implements catalog's storage on PostgreSQL and its
// read cache on Redis.
package adapters

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/uptrace/bun/dialect/pgdialect"
)

// Storage errors.
var (
	ErrNotFound  = errors.New("not found")
	ErrDuplicate = errors.New("duplicate")
)

// ProductRow is a product joined with its stock.
type ProductRow struct {
	ID          string         `bun:"id"`
	SKU         string         `bun:"sku"`
	Name        string         `bun:"name"`
	Description string         `bun:"description"`
	Category    string         `bun:"category"`
	Brand       string         `bun:"brand"`
	Attributes  map[string]any `bun:"attributes,type:jsonb"`
	Price       int64          `bun:"price"`
	Currency    string         `bun:"currency"`
	Images      []string       `bun:"images,type:jsonb"`
	WeightGrams int            `bun:"weight_grams"`
	Status      string         `bun:"status"`
	Version     int            `bun:"version"`
	CreatedAt   time.Time      `bun:"created_at"`
	UpdatedAt   time.Time      `bun:"updated_at"`
	OnHand      int            `bun:"on_hand"`
	Reserved    int            `bun:"reserved"`
}

const productCols = `p.id::text, p.sku, p.name, p.description, p.category, p.brand, p.attributes, p.price, p.currency, p.images,
	p.weight_grams, p.status, p.version, p.created_at, p.updated_at, s.on_hand, s.reserved`

// Store is catalog's PostgreSQL repository; methods take the executor so
// use cases compose them with the outbox in one transaction.
type Store struct{}

// InsertProduct inserts the product and its stock row.
func (Store) InsertProduct(ctx context.Context, db bun.IDB, p *ProductRow) error {
	err := db.NewRaw(`INSERT INTO catalog.products (id, sku, name, description, category, brand, attributes, price, currency, images, weight_grams, status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING version, created_at, updated_at`,
		p.ID, p.SKU, p.Name, p.Description, p.Category, p.Brand, jsonb(p.Attributes), p.Price, p.Currency, jsonb(p.Images), p.WeightGrams, p.Status).
		Scan(ctx, &p.Version, &p.CreatedAt, &p.UpdatedAt)
	if pg.IsUniqueViolation(err) {
		return ErrDuplicate
	}
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, "INSERT INTO catalog.stock (product_id, on_hand) VALUES (?, ?)", p.ID, p.OnHand)
	return err
}

// Product loads one product with stock.
func (Store) Product(ctx context.Context, db bun.IDB, id string) (*ProductRow, error) {
	p := new(ProductRow)
	err := db.NewRaw("SELECT "+productCols+" FROM catalog.products p JOIN catalog.stock s ON s.product_id = p.id WHERE p.id = ?", id).Scan(ctx, p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return p, err
}

// Products loads the products among ids in one query.
func (Store) Products(ctx context.Context, db bun.IDB, ids []string) ([]ProductRow, error) {
	var out []ProductRow
	err := db.NewRaw("SELECT "+productCols+" FROM catalog.products p JOIN catalog.stock s ON s.product_id = p.id WHERE p.id = ANY(?::uuid[])",
		pgdialect.Array(ids)).Scan(ctx, &out)
	return out, err
}

// Filter selects a page of products.
type Filter struct {
	Status   string // "" = any
	Category string
	Brand    string
	After    string // keyset cursor: last id of the previous page
	Limit    int
}

// List pages products by id (UUIDv7: creation order), so rows inserted
// while a client pages through never shift or repeat items.
func (Store) List(ctx context.Context, db bun.IDB, f Filter) ([]ProductRow, error) {
	q := "SELECT " + productCols + " FROM catalog.products p JOIN catalog.stock s ON s.product_id = p.id WHERE true"
	var args []any
	if f.Status != "" {
		q += " AND p.status = ?"
		args = append(args, f.Status)
	}
	if f.Category != "" {
		q += " AND p.category = ?"
		args = append(args, f.Category)
	}
	if f.Brand != "" {
		q += " AND p.brand = ?"
		args = append(args, f.Brand)
	}
	if f.After != "" {
		q += " AND p.id > ?"
		args = append(args, f.After)
	}
	q += " ORDER BY p.id LIMIT ?"
	args = append(args, f.Limit)
	var out []ProductRow
	err := db.NewRaw(q, args...).Scan(ctx, &out)
	return out, err
}

// UpdateProduct writes all fields if the stored version is still
// expected, bumping it; it reports false on a stale version.
func (Store) UpdateProduct(ctx context.Context, db bun.IDB, p *ProductRow, expected int) (bool, error) {
	err := db.NewRaw(`UPDATE catalog.products SET sku = ?, name = ?, description = ?, category = ?, brand = ?, attributes = ?, price = ?,
			currency = ?, images = ?, weight_grams = ?, status = ?, version = version + 1, updated_at = now()
		WHERE id = ? AND version = ? RETURNING version, created_at, updated_at`,
		p.SKU, p.Name, p.Description, p.Category, p.Brand, jsonb(p.Attributes), p.Price, p.Currency, jsonb(p.Images), p.WeightGrams, p.Status,
		p.ID, expected).Scan(ctx, &p.Version, &p.CreatedAt, &p.UpdatedAt)
	if pg.IsUniqueViolation(err) {
		return false, ErrDuplicate
	}
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// Archive marks a product archived (bumping its version); false if it
// already was.
func (Store) Archive(ctx context.Context, db bun.IDB, id string) (bool, error) {
	res, err := db.ExecContext(ctx, "UPDATE catalog.products SET status = 'archived', version = version + 1, updated_at = now() WHERE id = ? AND status <> 'archived'", id)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// StockRow is the locked stock of one product.
type StockRow struct {
	ProductID string `bun:"product_id"`
	Status    string `bun:"status"`
	OnHand    int    `bun:"on_hand"`
	Reserved  int    `bun:"reserved"`
}

// LockStock locks the stock rows of ids in product-id order (the single
// lock order of the whole context) and returns them in that order.
func (Store) LockStock(ctx context.Context, db bun.IDB, ids []string) ([]StockRow, error) {
	var out []StockRow
	err := db.NewRaw(`SELECT s.product_id::text, p.status, s.on_hand, s.reserved
		FROM catalog.stock s JOIN catalog.products p ON p.id = s.product_id
		WHERE s.product_id = ANY(?::uuid[]) ORDER BY s.product_id FOR UPDATE OF s`, pgdialect.Array(ids)).Scan(ctx, &out)
	return out, err
}

// Movement is one stock change of one product.
type Movement struct {
	ProductID     string
	DeltaOnHand   int
	DeltaReserved int
}

// Move applies movements in one statement and records them in the ledger
// in another; it returns the new positions keyed by product id.
func (Store) Move(ctx context.Context, db bun.IDB, kind, reason, reference string, moves []Movement) (map[string]StockRow, error) {
	ids := make([]string, len(moves))
	dOn := make([]int, len(moves))
	dRes := make([]int, len(moves))
	for i, m := range moves {
		ids[i], dOn[i], dRes[i] = m.ProductID, m.DeltaOnHand, m.DeltaReserved
	}
	var rows []StockRow
	err := db.NewRaw(`UPDATE catalog.stock s SET on_hand = s.on_hand + m.d_on, reserved = s.reserved + m.d_res, updated_at = now()
		FROM unnest(?::uuid[], ?::int[], ?::int[]) AS m(product_id, d_on, d_res)
		WHERE s.product_id = m.product_id RETURNING s.product_id::text, s.on_hand, s.reserved`,
		pgdialect.Array(ids), pgdialect.Array(dOn), pgdialect.Array(dRes)).Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO catalog.stock_ledger (product_id, kind, delta_on_hand, delta_reserved, reason, reference)
		SELECT m.product_id, ?, m.d_on, m.d_res, ?, ? FROM unnest(?::uuid[], ?::int[], ?::int[]) AS m(product_id, d_on, d_res)`,
		kind, reason, reference, pgdialect.Array(ids), pgdialect.Array(dOn), pgdialect.Array(dRes)); err != nil {
		return nil, err
	}
	out := make(map[string]StockRow, len(rows))
	for _, r := range rows {
		out[r.ProductID] = r
	}
	return out, nil
}

// ReservationRow is one line of an order's reservation.
type ReservationRow struct {
	ProductID string `bun:"product_id"`
	Quantity  int    `bun:"quantity"`
	Status    string `bun:"status"`
}

// Reservation returns the order's reservation lines, product-id order.
func (Store) Reservation(ctx context.Context, db bun.IDB, orderID string) ([]ReservationRow, error) {
	var out []ReservationRow
	err := db.NewRaw("SELECT product_id::text, quantity, status FROM catalog.reservations WHERE order_id = ? ORDER BY product_id", orderID).Scan(ctx, &out)
	return out, err
}

// SetReservationStatus moves the order's reservation to status.
func (Store) SetReservationStatus(ctx context.Context, db bun.IDB, orderID, status string) error {
	_, err := db.ExecContext(ctx, "UPDATE catalog.reservations SET status = ?, updated_at = now() WHERE order_id = ? AND status = 'reserved'", status, orderID)
	return err
}

// LockOrder serialises reservation changes of one order (advisory lock
// released at commit), making idempotency checks race-free.
func (Store) LockOrder(ctx context.Context, db bun.IDB, orderID string) error {
	_, err := db.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('catalog.order:' || ?, 0))", orderID)
	return err
}

// ExpiredOrders lists orders whose reservation expired.
func (Store) ExpiredOrders(ctx context.Context, db bun.IDB, limit int) ([]string, error) {
	var out []string
	err := db.NewRaw(`SELECT DISTINCT order_id::text FROM catalog.reservations
		WHERE status = 'reserved' AND expires_at IS NOT NULL AND expires_at < now() LIMIT ?`, limit).Scan(ctx, &out)
	return out, err
}

// LedgerRow is one recorded stock movement.
type LedgerRow struct {
	ID            int64     `bun:"id" json:"id"`
	Kind          string    `bun:"kind" json:"kind" enum:"adjust,reserve,release,commit"`
	DeltaOnHand   int       `bun:"delta_on_hand" json:"delta_on_hand"`
	DeltaReserved int       `bun:"delta_reserved" json:"delta_reserved"`
	Reason        string    `bun:"reason" json:"reason"`
	Reference     string    `bun:"reference" json:"reference"`
	CreatedAt     time.Time `bun:"created_at" json:"created_at"`
}

// Ledger pages a product's stock movements, newest first.
func (Store) Ledger(ctx context.Context, db bun.IDB, productID string, before int64, limit int) ([]LedgerRow, error) {
	var out []LedgerRow
	q := "SELECT id, kind, delta_on_hand, delta_reserved, reason, reference, created_at FROM catalog.stock_ledger WHERE product_id = ?"
	args := []any{productID}
	if before > 0 {
		q += " AND id < ?"
		args = append(args, before)
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	err := db.NewRaw(q, args...).Scan(ctx, &out)
	return out, err
}

func jsonb(v any) any { return pgJSON{v} }

// InsertProducts inserts many products in one statement, skipping SKUs
// that exist, and creates their (empty) stock rows; it returns the rows it
// inserted.
func (Store) InsertProducts(ctx context.Context, db bun.IDB, rows []ProductRow) ([]ProductRow, error) {
	n := len(rows)
	ids, skus, names, descs, cats, brands, attrs, currs, imgs, statuses := make([]string, n), make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	prices := make([]int64, n)
	weights := make([]int, n)
	onHand := map[string]int{}
	for i, r := range rows {
		a, _ := pgJSON{r.Attributes}.Value()
		im, _ := pgJSON{r.Images}.Value()
		ids[i], skus[i], names[i], descs[i], cats[i], brands[i] = r.ID, r.SKU, r.Name, r.Description, r.Category, r.Brand
		attrs[i], imgs[i], currs[i], statuses[i], prices[i], weights[i] = a.(string), im.(string), r.Currency, r.Status, r.Price, r.WeightGrams
		onHand[r.ID] = r.OnHand
	}
	var out []ProductRow
	err := db.NewRaw(`INSERT INTO catalog.products (id, sku, name, description, category, brand, attributes, price, currency, images, weight_grams, status)
		SELECT * FROM unnest(?::uuid[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::jsonb[], ?::bigint[], ?::text[], ?::jsonb[], ?::int[], ?::text[])
		ON CONFLICT (sku) DO NOTHING
		RETURNING id::text, sku, name, description, category, brand, attributes, price, currency, images, weight_grams, status, version, created_at, updated_at`,
		pgdialect.Array(ids), pgdialect.Array(skus), pgdialect.Array(names), pgdialect.Array(descs), pgdialect.Array(cats), pgdialect.Array(brands),
		pgdialect.Array(attrs), pgdialect.Array(prices), pgdialect.Array(currs), pgdialect.Array(imgs), pgdialect.Array(weights), pgdialect.Array(statuses)).
		Scan(ctx, &out)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, nil
	}
	newIDs := make([]string, len(out))
	for i := range out {
		newIDs[i] = out[i].ID
		out[i].OnHand = onHand[out[i].ID]
	}
	_, err = db.ExecContext(ctx, "INSERT INTO catalog.stock (product_id) SELECT unnest(?::uuid[])", pgdialect.Array(newIDs))
	return out, err
}

// ReserveLines reserves every line in one statement: stock, ledger and
// reservation rows together (the stock rows must already be locked). A
// concurrent reservation of the same order fails on the reservations key.
func (Store) ReserveLines(ctx context.Context, db bun.IDB, orderID string, ids []string, qty []int, expires *time.Time) (map[string]StockRow, error) {
	var rows []StockRow
	err := db.NewRaw(`WITH m AS (SELECT * FROM unnest(?::uuid[], ?::int[]) AS m(product_id, q)),
		u AS (UPDATE catalog.stock s SET reserved = s.reserved + m.q, updated_at = now() FROM m WHERE s.product_id = m.product_id
		      RETURNING s.product_id, s.on_hand, s.reserved),
		l AS (INSERT INTO catalog.stock_ledger (product_id, kind, delta_on_hand, delta_reserved, reason, reference)
		      SELECT product_id, 'reserve', 0, q, 'order reservation', ? FROM m),
		r AS (INSERT INTO catalog.reservations (order_id, product_id, quantity, status, expires_at)
		      SELECT ?, product_id, q, 'reserved', ? FROM m)
		SELECT product_id::text, on_hand, reserved FROM u`,
		pgdialect.Array(ids), pgdialect.Array(qty), orderID, orderID, expires).Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	out := make(map[string]StockRow, len(rows))
	for _, r := range rows {
		out[r.ProductID] = r
	}
	return out, nil
}

// IsUniqueViolation reports a duplicate-key error.
func IsUniqueViolation(err error) bool { return pg.IsUniqueViolation(err) }

// Count is the number of products of any status.
func (Store) Count(ctx context.Context, db bun.IDB) (int, error) {
	var n int
	err := db.NewRaw("SELECT count(*) FROM catalog.products").Scan(ctx, &n)
	return n, err
}

// LowStockRow is an active product with little available stock.
type LowStockRow struct {
	ID        string `bun:"id"`
	SKU       string `bun:"sku"`
	Name      string `bun:"name"`
	Available int    `bun:"available"`
}

// LowStock lists active products whose available stock (on hand minus
// reserved) is at most threshold, lowest first, in one query (the
// stock_available index orders it).
func (Store) LowStock(ctx context.Context, db bun.IDB, threshold, limit int) ([]LowStockRow, error) {
	var out []LowStockRow
	err := db.NewRaw(`SELECT p.id::text, p.sku, p.name, s.on_hand - s.reserved AS available
		FROM catalog.stock s JOIN catalog.products p ON p.id = s.product_id
		WHERE s.on_hand - s.reserved <= ? AND p.status = 'active'
		ORDER BY s.on_hand - s.reserved, s.product_id LIMIT ?`, threshold, limit).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("low stock: %w", err)
	}
	return out, nil
}
