// Package catalogapi is the only package other contexts import from
// catalog: product DTOs, the stock reservation interface ordering relies
// on, sentinel errors and the events catalog publishes.
package catalogapi

import (
	"context"
	"time"

	"github.com/opencommerce/commerce/internal/platform/errs"
)

// Event types (topics) published by catalog through its outbox.
const (
	EventProductCreated  = "catalog.product_created"
	EventProductUpdated  = "catalog.product_updated"
	EventProductArchived = "catalog.product_archived"
	EventStockChanged    = "catalog.stock_changed"
)

// Topics lists every topic catalog publishes.
var Topics = []string{EventProductCreated, EventProductUpdated, EventProductArchived, EventStockChanged}

// Product statuses.
const (
	StatusActive   = "active"
	StatusArchived = "archived"
)

// Stock is the inventory position of a product.
type Stock struct {
	OnHand    int `json:"on_hand"`
	Reserved  int `json:"reserved"`
	Available int `json:"available"`
}

// Product is the public shape of a product (API.md).
type Product struct {
	ID          string         `json:"id"`
	SKU         string         `json:"sku"`
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Category    string         `json:"category"`
	Brand       string         `json:"brand"`
	Attributes  map[string]any `json:"attributes"`
	Price       int64          `json:"price"`
	Currency    string         `json:"currency"`
	Images      []string       `json:"images"`
	WeightGrams int            `json:"weight_grams"`
	Status      string         `json:"status" enum:"active,archived"`
	Stock       Stock          `json:"stock"`
	Version     int            `json:"version"`
	CreatedAt   time.Time      `json:"created_at"`
	UpdatedAt   time.Time      `json:"updated_at"`
}

// LowStockItem is an active product whose available stock is at or below
// an admin's threshold: what the dashboard lists so stock is reordered
// before customers see "out of stock".
type LowStockItem struct {
	ProductID string `json:"product_id"`
	SKU       string `json:"sku"`
	Name      string `json:"name"`
	Available int    `json:"available"`
}

// Line is one product and quantity of a reservation.
type Line struct {
	ProductID string `json:"product_id"`
	Quantity  int    `json:"quantity"`
}

// ProductEvent is the payload of product_created/updated/archived.
type ProductEvent struct {
	ProductID   string `json:"product_id"`
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	Category    string `json:"category"`
	Brand       string `json:"brand"`
	Price       int64  `json:"price"`
	Currency    string `json:"currency"`
	Status      string `json:"status"`
	Version     int    `json:"version"`
	WeightGrams int    `json:"weight_grams"`
	// Product is the whole product after the change, for read models
	// (search) that index more than the fields above.
	Product *Product `json:"product,omitempty"`
}

// StockChanged is the payload of catalog.stock_changed.
type StockChanged struct {
	ProductID     string `json:"product_id"`
	Kind          string `json:"kind"` // adjust | reserve | release | commit
	DeltaOnHand   int    `json:"delta_on_hand"`
	DeltaReserved int    `json:"delta_reserved"`
	OnHand        int    `json:"on_hand"`
	Reserved      int    `json:"reserved"`
	Available     int    `json:"available"`
	Reason        string `json:"reason"`
	Reference     string `json:"reference"`
}

// Errors. Compare with errors.Is; the transport keeps them intact.
var (
	ErrNotFound          = errs.New(errs.NotFound, "not_found", "product not found")
	ErrInsufficientStock = errs.New(errs.Conflict, "insufficient_stock", "not enough stock for one or more lines")
	ErrReservationClosed = errs.New(errs.Conflict, "reservation_closed", "the reservation of this order was already released or committed")
	ErrReservationDiffer = errs.New(errs.Conflict, "reservation_mismatch", "this order already holds a reservation with other lines")
	ErrNoReservation     = errs.New(errs.NotFound, "reservation_not_found", "this order holds no reservation")
)

// Catalog is what other contexts may ask of catalog, in-process or over gRPC.
type Catalog interface {
	// Product returns one product (any status).
	Product(ctx context.Context, id string) (Product, error)
	// Products returns the products found among ids, keyed by id.
	Products(ctx context.Context, ids []string) (map[string]Product, error)
	// DisplayProducts is Products as the storefront shows them: from the
	// product cache, as fresh as GET /products/{id} (a write invalidates
	// before it answers; another catalog replica's near cache may lag by
	// up to a second, a failed invalidation by the cache's TTL). For views
	// re-priced on every change (the cart); what freezes a price
	// (checkout) reads Products.
	DisplayProducts(ctx context.Context, ids []string) (map[string]Product, error)
	// Reserve holds stock for every line of the order, or for none
	// (ErrInsufficientStock). Repeating it for the same order and lines is a
	// no-op. expiresAt, when set, lets the sweeper release it automatically.
	Reserve(ctx context.Context, orderID string, lines []Line, expiresAt *time.Time) error
	// Release returns the order's reserved stock; idempotent.
	Release(ctx context.Context, orderID, reason string) error
	// Commit turns the order's reservation into a deduction of on-hand
	// stock; idempotent.
	Commit(ctx context.Context, orderID string) error
	// Page lists every product (any status) in id order after the given
	// id, for read models that rebuild from catalog (search reindex);
	// total, the number of products, is set on the first page only.
	Page(ctx context.Context, after string, limit int) (items []Product, total int, err error)
	// LowStock lists at most limit (1 to 100) active products whose
	// available stock is at most threshold (≥ 0), lowest first, for the
	// admin dashboard hosted by another context.
	LowStock(ctx context.Context, threshold, limit int) ([]LowStockItem, error)
}
