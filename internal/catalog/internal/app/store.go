package app

import (
	"context"
	"errors"
	"time"

	"github.com/opencommerce/commerce/internal/platform/events"
)

// Storage outcomes a Store reports by wrapping these sentinels, so use
// cases tell "absent" and "taken" from every other failure with errors.Is.
var (
	// ErrNotFound: the record does not exist (and nothing else went wrong).
	ErrNotFound = errors.New("not found")
	// ErrDuplicate: a unique key is taken (a product's SKU; an order's
	// reservation written by a concurrent call).
	ErrDuplicate = errors.New("duplicate")
)

// ProductRecord is a stored product joined with its stock.
type ProductRecord struct {
	ID          string
	SKU         string
	Name        string
	Description string
	Category    string
	Brand       string
	Attributes  map[string]any
	Price       int64
	Currency    string
	Images      []string
	WeightGrams int
	Status      string
	Version     int
	CreatedAt   time.Time
	UpdatedAt   time.Time
	OnHand      int
	Reserved    int
}

// Filter selects a page of products.
type Filter struct {
	Status   string // "" = any
	Category string
	Brand    string
	After    string // keyset cursor: last id of the previous page
	Limit    int
}

// StockRecord is the stock of one product (with its status when locked).
type StockRecord struct {
	ProductID string
	Status    string
	OnHand    int
	Reserved  int
}

// Movement is one stock change of one product.
type Movement struct {
	ProductID     string
	DeltaOnHand   int
	DeltaReserved int
}

// OrderReservation is one order's lines to reserve (ReserveOrders):
// distinct products with positive quantities, product-id order.
type OrderReservation struct {
	OrderID    string
	ProductIDs []string
	Quantities []int
	ExpiresAt  *time.Time
}

// ReservationRecord is one line of an order's reservation.
type ReservationRecord struct {
	ProductID string
	Quantity  int
	Status    string
}

// LedgerRow is one recorded stock movement, also the admin API's view of
// it (its name is the OpenAPI component catalog.LedgerRow).
type LedgerRow struct {
	ID            int64     `json:"id"`
	Kind          string    `json:"kind" enum:"adjust,reserve,release,commit"`
	DeltaOnHand   int       `json:"delta_on_hand"`
	DeltaReserved int       `json:"delta_reserved"`
	Reason        string    `json:"reason"`
	Reference     string    `json:"reference"`
	CreatedAt     time.Time `json:"created_at"`
}

// LowStockRecord is an active product with little available stock.
type LowStockRecord struct {
	ID        string
	SKU       string
	Name      string
	Available int
}

// Repos are the records catalog's use cases read and write, all through
// one executor: the pool, the transaction of Store.InTx, or the inbox
// transaction of an event delivery (the module passes a transaction-scoped
// Repos to the consumer). The SQL of each method is fixed in the adapter;
// the order path (Reservations, LockStock, ReserveOrders, Publish) is one
// statement per call, for one order or a batch of them.
type Repos interface {
	// InsertProduct inserts the product and its stock row (OnHand), filling
	// Version, CreatedAt and UpdatedAt; a taken SKU is ErrDuplicate.
	InsertProduct(ctx context.Context, p *ProductRecord) error
	// InsertProducts inserts many products in one statement, skipping SKUs
	// that exist, creates their empty stock rows, and returns those it
	// inserted (with OnHand carried over from the input).
	InsertProducts(ctx context.Context, rows []ProductRecord) ([]ProductRecord, error)
	// Product loads one product with stock (ErrNotFound).
	Product(ctx context.Context, id string) (*ProductRecord, error)
	// Products loads the products among ids in one query.
	Products(ctx context.Context, ids []string) ([]ProductRecord, error)
	// List pages products by id.
	List(ctx context.Context, f Filter) ([]ProductRecord, error)
	// ListIDs is the ids of List's page, without the rows.
	ListIDs(ctx context.Context, f Filter) ([]string, error)
	// Count is the number of products of any status.
	Count(ctx context.Context) (int, error)
	// UpdateProduct writes all fields if the stored version is expected,
	// bumping it; false on a stale version or unknown id; a taken SKU is
	// ErrDuplicate.
	UpdateProduct(ctx context.Context, p *ProductRecord, expected int) (bool, error)
	// Archive marks a product archived; false if it already was (or is
	// unknown).
	Archive(ctx context.Context, id string) (bool, error)

	// LockStock locks the stock rows of ids in product-id order (the one
	// lock order of the context) and returns them in that order.
	LockStock(ctx context.Context, ids []string) ([]StockRecord, error)
	// Move applies movements and records them in the ledger; it returns
	// the new positions by product id.
	Move(ctx context.Context, kind, reason, reference string, moves []Movement) (map[string]StockRecord, error)
	// ReserveOrders reserves every line of the orders in one statement:
	// each product's stock row once (the orders' quantities summed), a
	// ledger row and a reservation row per line. The stock rows must be
	// locked and the orders checked against them (reserveAll). A
	// reservation of one of the orders made meanwhile is ErrDuplicate.
	ReserveOrders(ctx context.Context, orders []OrderReservation) error
	// Reservations returns the reservation lines of each of the orders
	// that has one, product-id order, in one query.
	Reservations(ctx context.Context, orderIDs []string) (map[string][]ReservationRecord, error)
	// Reservation returns the order's reservation lines, product-id order.
	Reservation(ctx context.Context, orderID string) ([]ReservationRecord, error)
	// SetReservationStatus moves the order's reserved lines to status.
	SetReservationStatus(ctx context.Context, orderID, status string) error
	// LockOrder serialises reservation changes of one order until the
	// transaction ends.
	LockOrder(ctx context.Context, orderID string) error
	// ExpiredOrders lists up to limit orders whose reservation expired
	// before now.
	ExpiredOrders(ctx context.Context, now time.Time, limit int) ([]string, error)
	// Ledger pages a product's stock movements, newest first.
	Ledger(ctx context.Context, productID string, before int64, limit int) ([]LedgerRow, error)
	// LowStock lists active products with at most threshold available.
	LowStock(ctx context.Context, threshold, limit int) ([]LowStockRecord, error)
	// Analyze refreshes the planner's statistics of the catalog tables.
	Analyze(ctx context.Context) error

	// Publish writes events to the outbox in the Repos' transaction, so
	// they commit (or roll back) with the change they describe; outside a
	// transaction it is an error.
	Publish(ctx context.Context, evs ...events.Envelope) error
}

// Store is catalog's persistence: Repos on the pool, and InTx for the
// use cases whose statements and events must commit together.
type Store interface {
	Repos
	// InTx runs fn with Repos bound to one transaction, committed when fn
	// returns nil and rolled back otherwise.
	InTx(ctx context.Context, fn func(ctx context.Context, r Repos) error) error
}

// Entry is a cached, ready-to-send product representation.
type Entry struct {
	ETag string
	Body []byte
}

// Cache is the cache-aside store of products' JSON. Each product has a
// generation bumped on every write; a reader remembers the generation it
// saw before loading from the database and may fill the cache only if it
// is still current, so a slow reader never puts back a value older than a
// write.
type Cache interface {
	// Get returns the entry if cached for the current generation, and
	// that generation (for a later Fill).
	Get(ctx context.Context, id string) (Entry, string, bool, error)
	// GetMany is Get of each id in one round trip: the entries (hit[i]
	// says which were cached) and the generations for a later Fill.
	GetMany(ctx context.Context, ids []string) (entries []Entry, gens []string, hit []bool, err error)
	// Fill stores e if gen is still the product's generation.
	Fill(ctx context.Context, id, gen string, e Entry) error
	// Invalidate bumps the generation of each product and drops its entry.
	Invalidate(ctx context.Context, ids ...string) error
}
