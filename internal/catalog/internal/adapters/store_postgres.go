// Package adapters implements catalog's storage on PostgreSQL and its
// read cache on Redis, behind the app layer's Store and Cache: bun and
// Redis are used here only.
package adapters

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/opencommerce/commerce/internal/catalog/internal/app"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pg"
)

// Store is catalog's PostgreSQL repository. The value made by NewStore
// runs on the pool; InTx and WithTx give one bound to a transaction,
// whose Publish writes to the outbox in that transaction.
type Store struct {
	db     bun.IDB
	tx     *bun.Tx // set when bound to a transaction
	pool   *pg.DB
	outbox *events.Outbox
}

var _ app.Store = (*Store)(nil)

// NewStore is the repository on db's pool, writing events with outbox.
func NewStore(db *pg.DB, outbox *events.Outbox) *Store {
	return &Store{db: db, pool: db, outbox: outbox}
}

// InTx implements app.Store: fn's statements and events commit together.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context, r app.Repos) error) error {
	return s.pool.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return fn(ctx, s.WithTx(tx))
	})
}

// WithTx is the repository bound to tx, for a consumer whose effect must
// commit with the inbox row the events package holds in tx.
func (s *Store) WithTx(tx bun.Tx) app.Repos {
	return &Store{db: tx, tx: &tx, pool: s.pool, outbox: s.outbox}
}

// Publish implements app.Repos.
func (s *Store) Publish(ctx context.Context, evs ...events.Envelope) error {
	if s.tx == nil {
		return errors.New("catalog: events are published in a transaction only")
	}
	if err := s.outbox.Publish(ctx, *s.tx, evs...); err != nil {
		return fmt.Errorf("publish %d events: %w", len(evs), err)
	}
	return nil
}

// productRow is a product joined with its stock.
type productRow struct {
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

func products(rows []productRow) []app.ProductRecord {
	out := make([]app.ProductRecord, len(rows))
	for i := range rows {
		out[i] = app.ProductRecord(rows[i])
	}
	return out
}

const productCols = `p.id::text, p.sku, p.name, p.description, p.category, p.brand, p.attributes, p.price, p.currency, p.images,
	p.weight_grams, p.status, p.version, p.created_at, p.updated_at, s.on_hand, s.reserved`

// InsertProduct implements app.Repos.
func (s *Store) InsertProduct(ctx context.Context, p *app.ProductRecord) error {
	err := s.db.NewRaw(`INSERT INTO catalog.products (id, sku, name, description, category, brand, attributes, price, currency, images, weight_grams, status)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING version, created_at, updated_at`,
		p.ID, p.SKU, p.Name, p.Description, p.Category, p.Brand, jsonb(p.Attributes), p.Price, p.Currency, jsonb(p.Images), p.WeightGrams, p.Status).
		Scan(ctx, &p.Version, &p.CreatedAt, &p.UpdatedAt)
	if pg.IsUniqueViolation(err) {
		return fmt.Errorf("insert product %s: %w", p.SKU, app.ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("insert product %s: %w", p.SKU, err)
	}
	if _, err = s.db.ExecContext(ctx, "INSERT INTO catalog.stock (product_id, on_hand) VALUES (?, ?)", p.ID, p.OnHand); err != nil {
		return fmt.Errorf("insert the stock of product %s: %w", p.ID, err)
	}
	return nil
}

// Product implements app.Repos.
func (s *Store) Product(ctx context.Context, id string) (*app.ProductRecord, error) {
	p := new(productRow)
	err := s.db.NewRaw("SELECT "+productCols+" FROM catalog.products p JOIN catalog.stock s ON s.product_id = p.id WHERE p.id = ?", id).Scan(ctx, p)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("product %s: %w", id, app.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("load product %s: %w", id, err)
	}
	r := app.ProductRecord(*p)
	return &r, nil
}

// Products implements app.Repos.
func (s *Store) Products(ctx context.Context, ids []string) ([]app.ProductRecord, error) {
	var rows []productRow
	err := s.db.NewRaw("SELECT "+productCols+" FROM catalog.products p JOIN catalog.stock s ON s.product_id = p.id WHERE p.id = ANY(?::uuid[])",
		pgdialect.Array(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("load %d products: %w", len(ids), err)
	}
	return products(rows), nil
}

// List implements app.Repos: products by id (UUIDv7: creation order), so
// rows inserted while a client pages through never shift or repeat items.
func (s *Store) List(ctx context.Context, f app.Filter) ([]app.ProductRecord, error) {
	where, args := listWhere(f)
	var rows []productRow
	if err := s.db.NewRaw("SELECT "+productCols+" FROM catalog.products p JOIN catalog.stock s ON s.product_id = p.id"+where, args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	return products(rows), nil
}

// ListIDs implements app.Repos: the ids List would return, in its order,
// from the products' index alone (no stock join, no row decoding).
func (s *Store) ListIDs(ctx context.Context, f app.Filter) ([]string, error) {
	where, args := listWhere(f)
	var ids []string
	if err := s.db.NewRaw("SELECT p.id::text FROM catalog.products p"+where, args...).Scan(ctx, &ids); err != nil {
		return nil, fmt.Errorf("list product ids: %w", err)
	}
	return ids, nil
}

// listWhere is the filter, order and limit of List and ListIDs.
func listWhere(f app.Filter) (string, []any) {
	q := " WHERE true"
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
	return q, append(args, f.Limit)
}

// UpdateProduct implements app.Repos.
func (s *Store) UpdateProduct(ctx context.Context, p *app.ProductRecord, expected int) (bool, error) {
	err := s.db.NewRaw(`UPDATE catalog.products SET sku = ?, name = ?, description = ?, category = ?, brand = ?, attributes = ?, price = ?,
			currency = ?, images = ?, weight_grams = ?, status = ?, version = version + 1, updated_at = now()
		WHERE id = ? AND version = ? RETURNING version, created_at, updated_at`,
		p.SKU, p.Name, p.Description, p.Category, p.Brand, jsonb(p.Attributes), p.Price, p.Currency, jsonb(p.Images), p.WeightGrams, p.Status,
		p.ID, expected).Scan(ctx, &p.Version, &p.CreatedAt, &p.UpdatedAt)
	if pg.IsUniqueViolation(err) {
		return false, fmt.Errorf("update product %s: %w", p.ID, app.ErrDuplicate)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("update product %s: %w", p.ID, err)
	}
	return true, nil
}

// Archive implements app.Repos.
func (s *Store) Archive(ctx context.Context, id string) (bool, error) {
	res, err := s.db.ExecContext(ctx, "UPDATE catalog.products SET status = 'archived', version = version + 1, updated_at = now() WHERE id = ? AND status <> 'archived'", id)
	if err != nil {
		return false, fmt.Errorf("archive product %s: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("archive product %s: %w", id, err)
	}
	return n == 1, nil
}

// stockRow is the stock of one product.
type stockRow struct {
	ProductID string `bun:"product_id"`
	Status    string `bun:"status"`
	OnHand    int    `bun:"on_hand"`
	Reserved  int    `bun:"reserved"`
}

func positions(rows []stockRow) map[string]app.StockRecord {
	out := make(map[string]app.StockRecord, len(rows))
	for _, r := range rows {
		out[r.ProductID] = app.StockRecord(r)
	}
	return out
}

// LockStock implements app.Repos.
func (s *Store) LockStock(ctx context.Context, ids []string) ([]app.StockRecord, error) {
	var rows []stockRow
	err := s.db.NewRaw(`SELECT s.product_id::text, p.status, s.on_hand, s.reserved
		FROM catalog.stock s JOIN catalog.products p ON p.id = s.product_id
		WHERE s.product_id = ANY(?::uuid[]) ORDER BY s.product_id FOR UPDATE OF s`, pgdialect.Array(ids)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("lock the stock of %d products: %w", len(ids), err)
	}
	out := make([]app.StockRecord, len(rows))
	for i, r := range rows {
		out[i] = app.StockRecord(r)
	}
	return out, nil
}

// Move implements app.Repos: the movements in one statement, their
// ledger rows in another.
func (s *Store) Move(ctx context.Context, kind, reason, reference string, moves []app.Movement) (map[string]app.StockRecord, error) {
	ids := make([]string, len(moves))
	dOn := make([]int, len(moves))
	dRes := make([]int, len(moves))
	for i, m := range moves {
		ids[i], dOn[i], dRes[i] = m.ProductID, m.DeltaOnHand, m.DeltaReserved
	}
	var rows []stockRow
	err := s.db.NewRaw(`UPDATE catalog.stock s SET on_hand = s.on_hand + m.d_on, reserved = s.reserved + m.d_res, updated_at = now()
		FROM unnest(?::uuid[], ?::int[], ?::int[]) AS m(product_id, d_on, d_res)
		WHERE s.product_id = m.product_id RETURNING s.product_id::text, s.on_hand, s.reserved`,
		pgdialect.Array(ids), pgdialect.Array(dOn), pgdialect.Array(dRes)).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("move stock (%s): %w", kind, err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO catalog.stock_ledger (product_id, kind, delta_on_hand, delta_reserved, reason, reference)
		SELECT m.product_id, ?, m.d_on, m.d_res, ?, ? FROM unnest(?::uuid[], ?::int[], ?::int[]) AS m(product_id, d_on, d_res)`,
		kind, reason, reference, pgdialect.Array(ids), pgdialect.Array(dOn), pgdialect.Array(dRes)); err != nil {
		return nil, fmt.Errorf("record stock movements (%s): %w", kind, err)
	}
	return positions(rows), nil
}

// reservationRow is one line of an order's reservation.
type reservationRow struct {
	ProductID string `bun:"product_id"`
	Quantity  int    `bun:"quantity"`
	Status    string `bun:"status"`
}

// Reservation implements app.Repos.
func (s *Store) Reservation(ctx context.Context, orderID string) ([]app.ReservationRecord, error) {
	var rows []reservationRow
	if err := s.db.NewRaw("SELECT product_id::text, quantity, status FROM catalog.reservations WHERE order_id = ? ORDER BY product_id", orderID).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("load the reservation of order %s: %w", orderID, err)
	}
	out := make([]app.ReservationRecord, len(rows))
	for i, r := range rows {
		out[i] = app.ReservationRecord(r)
	}
	return out, nil
}

// SetReservationStatus implements app.Repos.
func (s *Store) SetReservationStatus(ctx context.Context, orderID, status string) error {
	if _, err := s.db.ExecContext(ctx, "UPDATE catalog.reservations SET status = ?, updated_at = now() WHERE order_id = ? AND status = 'reserved'", status, orderID); err != nil {
		return fmt.Errorf("set the reservation of order %s %s: %w", orderID, status, err)
	}
	return nil
}

// LockOrder implements app.Repos with a transaction-scoped advisory lock.
func (s *Store) LockOrder(ctx context.Context, orderID string) error {
	if _, err := s.db.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('catalog.order:' || ?, 0))", orderID); err != nil {
		return fmt.Errorf("lock order %s: %w", orderID, err)
	}
	return nil
}

// ExpiredOrders implements app.Repos; now is the caller's clock, not the
// database's.
func (s *Store) ExpiredOrders(ctx context.Context, now time.Time, limit int) ([]string, error) {
	var out []string
	err := s.db.NewRaw(`SELECT DISTINCT order_id::text FROM catalog.reservations
		WHERE status = 'reserved' AND expires_at IS NOT NULL AND expires_at < ? LIMIT ?`, now, limit).Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("find expired reservations: %w", err)
	}
	return out, nil
}

// ledgerRow is one recorded stock movement.
type ledgerRow struct {
	ID            int64     `bun:"id"`
	Kind          string    `bun:"kind"`
	DeltaOnHand   int       `bun:"delta_on_hand"`
	DeltaReserved int       `bun:"delta_reserved"`
	Reason        string    `bun:"reason"`
	Reference     string    `bun:"reference"`
	CreatedAt     time.Time `bun:"created_at"`
}

// Ledger implements app.Repos.
func (s *Store) Ledger(ctx context.Context, productID string, before int64, limit int) ([]app.LedgerRow, error) {
	var rows []ledgerRow
	q := "SELECT id, kind, delta_on_hand, delta_reserved, reason, reference, created_at FROM catalog.stock_ledger WHERE product_id = ?"
	args := []any{productID}
	if before > 0 {
		q += " AND id < ?"
		args = append(args, before)
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, limit)
	if err := s.db.NewRaw(q, args...).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("ledger of product %s: %w", productID, err)
	}
	if rows == nil {
		return nil, nil
	}
	out := make([]app.LedgerRow, len(rows))
	for i, r := range rows {
		out[i] = app.LedgerRow(r)
	}
	return out, nil
}

func jsonb(v any) any { return pgJSON{v} }

// InsertProducts implements app.Repos.
func (s *Store) InsertProducts(ctx context.Context, rows []app.ProductRecord) ([]app.ProductRecord, error) {
	n := len(rows)
	ids, skus, names, descs, cats, brands, attrs, currs, imgs, statuses := make([]string, n), make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	prices := make([]int64, n)
	weights := make([]int, n)
	onHand := map[string]int{}
	for i, r := range rows {
		a, err := pgJSON{r.Attributes}.Value()
		if err != nil {
			return nil, fmt.Errorf("product %s: attributes: %w", r.SKU, err)
		}
		im, err := pgJSON{r.Images}.Value()
		if err != nil {
			return nil, fmt.Errorf("product %s: images: %w", r.SKU, err)
		}
		ids[i], skus[i], names[i], descs[i], cats[i], brands[i] = r.ID, r.SKU, r.Name, r.Description, r.Category, r.Brand
		attrs[i], imgs[i], currs[i], statuses[i], prices[i], weights[i] = a.(string), im.(string), r.Currency, r.Status, r.Price, r.WeightGrams
		onHand[r.ID] = r.OnHand
	}
	var out []productRow
	err := s.db.NewRaw(`INSERT INTO catalog.products (id, sku, name, description, category, brand, attributes, price, currency, images, weight_grams, status)
		SELECT * FROM unnest(?::uuid[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::jsonb[], ?::bigint[], ?::text[], ?::jsonb[], ?::int[], ?::text[])
		ON CONFLICT (sku) DO NOTHING
		RETURNING id::text, sku, name, description, category, brand, attributes, price, currency, images, weight_grams, status, version, created_at, updated_at`,
		pgdialect.Array(ids), pgdialect.Array(skus), pgdialect.Array(names), pgdialect.Array(descs), pgdialect.Array(cats), pgdialect.Array(brands),
		pgdialect.Array(attrs), pgdialect.Array(prices), pgdialect.Array(currs), pgdialect.Array(imgs), pgdialect.Array(weights), pgdialect.Array(statuses)).
		Scan(ctx, &out)
	if err != nil {
		return nil, fmt.Errorf("insert %d products: %w", n, err)
	}
	if len(out) == 0 {
		return nil, nil
	}
	newIDs := make([]string, len(out))
	for i := range out {
		newIDs[i] = out[i].ID
		out[i].OnHand = onHand[out[i].ID]
	}
	if _, err = s.db.ExecContext(ctx, "INSERT INTO catalog.stock (product_id) SELECT unnest(?::uuid[])", pgdialect.Array(newIDs)); err != nil {
		return nil, fmt.Errorf("insert the stock of %d products: %w", len(newIDs), err)
	}
	return products(out), nil
}

// ReserveOrders implements app.Repos in one statement (the anti-oversell
// core: the stock rows are locked by LockStock, and the orders checked
// against them, before it runs). Each product's stock row is written once
// for the whole batch (one row version, where an update per order made
// one each); the ledger rows keep the orders' and lines' order.
func (s *Store) ReserveOrders(ctx context.Context, orders []app.OrderReservation) error {
	var orderIDs, productIDs, expires []string
	var qty []int
	total := map[string]int{}
	for _, o := range orders {
		exp := ""
		if o.ExpiresAt != nil {
			exp = o.ExpiresAt.UTC().Format(time.RFC3339Nano)
		}
		for i, id := range o.ProductIDs {
			orderIDs, productIDs, qty, expires = append(orderIDs, o.OrderID), append(productIDs, id), append(qty, o.Quantities[i]), append(expires, exp)
			total[id] += o.Quantities[i]
		}
	}
	if len(orderIDs) == 0 {
		return nil
	}
	stockIDs := make([]string, 0, len(total))
	for id := range total {
		stockIDs = append(stockIDs, id)
	}
	slices.Sort(stockIDs)
	stockQty := make([]int, len(stockIDs))
	for i, id := range stockIDs {
		stockQty[i] = total[id]
	}
	_, err := s.db.ExecContext(ctx, `WITH m AS (SELECT * FROM unnest(?::uuid[], ?::uuid[], ?::int[], ?::text[]) WITH ORDINALITY AS m(order_id, product_id, q, expires_at, n)),
		u AS (UPDATE catalog.stock s SET reserved = s.reserved + t.q, updated_at = now()
		      FROM unnest(?::uuid[], ?::int[]) AS t(product_id, q) WHERE s.product_id = t.product_id),
		l AS (INSERT INTO catalog.stock_ledger (product_id, kind, delta_on_hand, delta_reserved, reason, reference)
		      SELECT product_id, 'reserve', 0, q, 'order reservation', order_id::text FROM m ORDER BY n)
		INSERT INTO catalog.reservations (order_id, product_id, quantity, status, expires_at)
		SELECT order_id, product_id, q, 'reserved', NULLIF(expires_at, '')::timestamptz FROM m ORDER BY n`,
		pgdialect.Array(orderIDs), pgdialect.Array(productIDs), pgdialect.Array(qty), pgdialect.Array(expires),
		pgdialect.Array(stockIDs), pgdialect.Array(stockQty))
	if pg.IsUniqueViolation(err) {
		return fmt.Errorf("reserve %d orders: %w (%w)", len(orders), app.ErrDuplicate, err)
	}
	if err != nil {
		return fmt.Errorf("reserve %d orders: %w", len(orders), err)
	}
	return nil
}

// Reservations implements app.Repos.
func (s *Store) Reservations(ctx context.Context, orderIDs []string) (map[string][]app.ReservationRecord, error) {
	var rows []struct {
		OrderID   string `bun:"order_id"`
		ProductID string `bun:"product_id"`
		Quantity  int    `bun:"quantity"`
		Status    string `bun:"status"`
	}
	if err := s.db.NewRaw("SELECT order_id::text, product_id::text, quantity, status FROM catalog.reservations WHERE order_id = ANY(?::uuid[]) ORDER BY order_id, product_id",
		pgdialect.Array(orderIDs)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("load the reservations of %d orders: %w", len(orderIDs), err)
	}
	out := make(map[string][]app.ReservationRecord, len(rows))
	for _, r := range rows {
		out[r.OrderID] = append(out[r.OrderID], app.ReservationRecord{ProductID: r.ProductID, Quantity: r.Quantity, Status: r.Status})
	}
	return out, nil
}

// Count implements app.Repos.
func (s *Store) Count(ctx context.Context) (int, error) {
	var n int
	if err := s.db.NewRaw("SELECT count(*) FROM catalog.products").Scan(ctx, &n); err != nil {
		return 0, fmt.Errorf("count products: %w", err)
	}
	return n, nil
}

// lowStockRow is an active product with little available stock.
type lowStockRow struct {
	ID        string `bun:"id"`
	SKU       string `bun:"sku"`
	Name      string `bun:"name"`
	Available int    `bun:"available"`
}

// LowStock implements app.Repos in one query (the stock_available index
// orders it).
func (s *Store) LowStock(ctx context.Context, threshold, limit int) ([]app.LowStockRecord, error) {
	var rows []lowStockRow
	err := s.db.NewRaw(`SELECT p.id::text, p.sku, p.name, s.on_hand - s.reserved AS available
		FROM catalog.stock s JOIN catalog.products p ON p.id = s.product_id
		WHERE s.on_hand - s.reserved <= ? AND p.status = 'active'
		ORDER BY s.on_hand - s.reserved, s.product_id LIMIT ?`, threshold, limit).Scan(ctx, &rows)
	if err != nil {
		return nil, fmt.Errorf("low stock: %w", err)
	}
	out := make([]app.LowStockRecord, len(rows))
	for i, r := range rows {
		out[i] = app.LowStockRecord(r)
	}
	return out, nil
}

// Analyze implements app.Repos: until autovacuum gets to it, a freshly
// loaded table looks empty to the planner.
func (s *Store) Analyze(ctx context.Context) error {
	if _, err := s.db.ExecContext(ctx, "ANALYZE catalog.products, catalog.stock, catalog.stock_ledger"); err != nil {
		return fmt.Errorf("analyze the catalog tables: %w", err)
	}
	return nil
}
