package app

import (
	"context"
	"encoding/json"
	"time"

	"github.com/opencommerce/commerce/internal/ordering/internal/domain"
)

// Orders is the write side of ordering's storage, declared here so the use
// cases depend on what they need and adapters implement it (PostgreSQL).
// A transaction-scoped Orders (what the event consumers get: their inbox
// transaction) runs every method inside that transaction.
type Orders interface {
	// Create stores a new order in placing; a second order from one
	// checkout session answers domain.ErrOrderExists.
	Create(ctx context.Context, o *domain.Order) error
	// CommitPlaced stores the placing → pending_payment move MarkPlaced
	// made, the deadlines, the timeline and the recorded events in one
	// transaction, only if the order is still placing.
	CommitPlaced(ctx context.Context, o *domain.Order, deadlines []domain.Deadline) error
	// Get loads an order (failed orders are not found: domain.ErrNotFound).
	Get(ctx context.Context, id string) (*domain.Order, error)
	// Update loads the order FOR UPDATE, applies fn and, when fn returns
	// nil, saves it with its timeline entries and outbox events in one
	// transaction.
	Update(ctx context.Context, id string, fn func(*domain.Order) error) error
	// Note appends timeline entries of an order that does not change.
	Note(ctx context.Context, id string, notes ...domain.Note) error
	// Placing lists orders still placing created before before.
	Placing(ctx context.Context, before time.Time, limit int) ([]string, error)
	// LateRefundsDue lists orders whose late payment awaits its refund.
	LateRefundsDue(ctx context.Context, limit int) ([]string, error)
	// FireDue claims the deadlines due at now (skipping those another
	// worker holds), marks each fired and applies fn to it with a
	// repository bound to the same transaction; it returns how many fn
	// applied.
	FireDue(ctx context.Context, now time.Time, limit int, fn func(ctx context.Context, tx Orders, d DueDeadline) error) (int, error)
}

// DueDeadline is a deadline of one order that is due.
type DueDeadline struct {
	OrderID string
	domain.Deadline
}

// Reads is the read side: the queries of the API, the admin console and
// the GraphQL loaders (views, not aggregates).
type Reads interface {
	// Order is one order's view (failed orders are not found).
	Order(ctx context.Context, id string) (*Order, error)
	// List is one page (Limit+1 rows, newest first) of a validated query.
	List(ctx context.Context, q ListQuery) ([]Order, error)
	// Timeline is an order's timeline, oldest first.
	Timeline(ctx context.Context, id string) ([]TimelineEntry, error)
	// Timelines is the timeline of several orders by id (the user's own
	// unless userID is empty).
	Timelines(ctx context.Context, ids []string, userID string) (map[string][]TimelineEntry, error)
	// OrdersByStatus counts the orders created since week (and since
	// today) by status.
	OrdersByStatus(ctx context.Context, today, week time.Time) ([]StatusCount, error)
	// Revenue sums total minus refunds of the orders paid since week (and
	// today) per currency.
	Revenue(ctx context.Context, today, week time.Time) ([]CurrencyRevenue, error)
	// DeadLetters counts events that failed every delivery and were not
	// successfully retried.
	DeadLetters(ctx context.Context) (int, error)
	// DeadlinesDue counts deadlines due at now and not fired.
	DeadlinesDue(ctx context.Context, now time.Time) (int64, error)
}

// ListQuery is a validated ListFilter as the read side runs it.
type ListQuery struct {
	UserID, Status string
	From, To       *time.Time
	// IDLow and IDHigh bound the id (an id prefix), when set.
	IDLow, IDHigh string
	// Before pages: ids lower than it.
	Before string
	Limit  int
}

// StatusCount is one row of the dashboard's orders by status.
type StatusCount struct {
	Status      string
	Today, Week int
}

// CurrencyRevenue is one row of the dashboard's revenue.
type CurrencyRevenue struct {
	Currency    string
	PaidToday   int
	Today, Week int64
}

// Order is an order as its owner (and admins) see it: the view the API
// serves (items and address are the stored JSON of the session's lines
// and address).
type Order struct {
	ID             string          `json:"id"`
	UserID         string          `json:"user_id"`
	Email          string          `json:"-"`
	SessionID      string          `json:"checkout_session_id"`
	Status         string          `json:"status" enum:"placing,pending_payment,paid,fulfilling,shipped,delivered,expired,canceled,refunded"`
	Items          json.RawMessage `json:"items"`
	Subtotal       int64           `json:"subtotal"`
	Discount       int64           `json:"discount"`
	ShippingCost   int64           `json:"shipping_cost"`
	Total          int64           `json:"total"`
	Currency       string          `json:"currency"`
	PromoCode      *string         `json:"promo_code"`
	Address        json.RawMessage `json:"address"`
	Courier        string          `json:"courier" enum:"standard,express"`
	Payment        Payment         `json:"payment"`
	RefundedAmount int64           `json:"refunded_amount"`
	ExpiresAt      *time.Time      `json:"expires_at"`
	PaidAt         *time.Time      `json:"paid_at"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
}

// Payment is the order's payment handle for the storefront.
type Payment struct {
	Gateway      string  `json:"gateway" enum:"stripe,test"`
	PaymentID    *string `json:"payment_id"`
	IntentID     *string `json:"intent_id"`
	ClientSecret *string `json:"client_secret"`
}

// TimelineEntry is one step of an order's saga/timeline.
type TimelineEntry struct {
	ID        int64           `json:"id"`
	Type      string          `json:"type"`
	Detail    json.RawMessage `json:"detail"`
	CreatedAt time.Time       `json:"created_at"`
}

// OpenAPIRawTypes tells the OpenAPI document that a timeline entry's
// detail is an object whose fields depend on its type.
func (TimelineEntry) OpenAPIRawTypes() map[string]any {
	return map[string]any{"detail": map[string]any{}}
}
