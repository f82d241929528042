package app

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// Storage outcomes a Store reports by wrapping these sentinels, so use
// cases tell "absent" and "taken" from every other failure with errors.Is.
var (
	// ErrNotFound: the record does not exist (and nothing else went wrong).
	ErrNotFound = errors.New("not found")
	// ErrDuplicate: a unique key (a promotion's code) is taken.
	ErrDuplicate = errors.New("duplicate")
)

// CartRecord is a customer's stored cart: what is kept between requests
// (lines are ItemRecords; prices are always live from catalog).
type CartRecord struct {
	ID        string
	UserID    string
	Currency  *string
	PromoCode *string
}

// ItemRecord is a stored cart line.
type ItemRecord struct {
	ProductID string
	Quantity  int
}

// PromotionRow is a stored promotion, also the admin API's view of it
// (its name is the OpenAPI component cart.PromotionRow).
type PromotionRow struct {
	ID              string     `json:"id"`
	Code            string     `json:"code"`
	Kind            string     `json:"kind" enum:"percent,fixed"`
	Value           int64      `json:"value"`
	Currency        *string    `json:"currency"`
	MinSubtotal     int64      `json:"min_subtotal"`
	MaxUses         *int       `json:"max_uses"`
	Uses            int        `json:"uses"`
	OncePerCustomer bool       `json:"once_per_customer"`
	StartsAt        *time.Time `json:"starts_at"`
	EndsAt          *time.Time `json:"ends_at"`
	Active          bool       `json:"active"`
	CreatedAt       time.Time  `json:"created_at"`
}

// SessionRecord is a stored checkout session: its frozen lines, amounts
// and address, and its lifecycle.
type SessionRecord struct {
	ID             string
	UserID         string
	Status         string
	Items          json.RawMessage
	Subtotal       int64
	Discount       int64
	ShippingCost   int64
	Total          int64
	Currency       string
	PromoCode      *string
	PromotionID    *string
	Address        json.RawMessage
	Courier        string
	PaymentGateway string
	ETADays        int
	OrderID        *string
	ExpiresAt      time.Time
	CreatedAt      time.Time
}

// Repos are the records cart's use cases read and write, all through one
// executor: the pool, the transaction of Store.InTx, or the inbox
// transaction of an event delivery (the module passes a transaction-scoped
// Repos to the consumer). Every method is one statement unless it says
// otherwise, so a use case composes them into a transaction it controls.
type Repos interface {
	// LockCart returns the user's cart locked for update, creating it
	// (with newID) first.
	LockCart(ctx context.Context, newID, userID string) (*CartRecord, error)
	// Cart returns the user's cart without locking; nil, nil when the
	// user has none.
	Cart(ctx context.Context, userID string) (*CartRecord, error)
	// Items lists a cart's lines in the order they were added.
	Items(ctx context.Context, cartID string) ([]ItemRecord, error)
	// SetItem upserts a line to qty.
	SetItem(ctx context.Context, cartID, productID string, qty int) error
	// SaveWithItem is UpdateCart and SetItem of c's line in one statement
	// (add-to-cart's write).
	SaveWithItem(ctx context.Context, c *CartRecord, productID string, qty int) error
	// DeleteItems removes lines (all when productIDs is nil) and says how
	// many it removed.
	DeleteItems(ctx context.Context, cartID string, productIDs []string) (int64, error)
	// UpdateCart saves currency and promo code.
	UpdateCart(ctx context.Context, c *CartRecord) error

	// InsertPromotion stores p and fills CreatedAt; a taken code is
	// ErrDuplicate.
	InsertPromotion(ctx context.Context, p *PromotionRow) error
	// PromotionByCode loads a promotion by its upper-case code
	// (ErrNotFound).
	PromotionByCode(ctx context.Context, code string) (*PromotionRow, error)
	// Promotions lists promotions, newest first.
	Promotions(ctx context.Context) ([]PromotionRow, error)
	// SetPromotionActive switches a promotion on or off (ErrNotFound).
	SetPromotionActive(ctx context.Context, id string, active bool) (*PromotionRow, error)
	// UsedBy reports whether the user has a counted use of the promotion.
	UsedBy(ctx context.Context, promotionID, userID string) (bool, error)
	// CountUse takes one use of the promotion if it has one left; the
	// row lock it takes serialises concurrent orders.
	CountUse(ctx context.Context, promotionID string) (bool, error)
	// RecordUse stores the use of a promotion by an order.
	RecordUse(ctx context.Context, promotionID, orderID, userID string) error
	// ReleaseUses gives back the counted uses of an order (one statement
	// plus one per promotion given back).
	ReleaseUses(ctx context.Context, orderID string) error

	// InsertSession stores a new session and fills CreatedAt.
	InsertSession(ctx context.Context, s *SessionRecord) error
	// Session loads a session (ErrNotFound), locked for update if lock.
	Session(ctx context.Context, id string, lock bool) (*SessionRecord, error)
	// SetSessionStatus moves a session to status, recording orderID when
	// not nil.
	SetSessionStatus(ctx context.Context, id, status string, orderID *string) error
	// PlaceWithoutPromotion is the order path's single statement: it marks
	// a pending session of userID without a promotion, unexpired at now,
	// as turned into orderID, and says whether it did.
	PlaceWithoutPromotion(ctx context.Context, sessionID, orderID, userID string, now time.Time) (bool, error)
	// ReopenSessions makes the sessions of an aborted order pending again.
	ReopenSessions(ctx context.Context, orderID string) error
	// ExpireSessions marks the pending sessions expired at now.
	ExpireSessions(ctx context.Context, now time.Time) (int64, error)
}

// Store is cart's persistence: Repos on the pool, and InTx for the use
// cases whose statements must commit together (a cart change, a session's
// placement with its promo use).
type Store interface {
	Repos
	// InTx runs fn with Repos bound to one transaction, committed when fn
	// returns nil and rolled back otherwise.
	InTx(ctx context.Context, fn func(ctx context.Context, r Repos) error) error
}
