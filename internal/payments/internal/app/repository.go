package app

import (
	"context"
	"time"

	"github.com/opencommerce/commerce/internal/payments/internal/domain"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
)

// Lookup names the payment a use case is about. ID wins when set;
// otherwise OrderID is tried first and, when no payment has that order,
// IntentID (a provider event names its intent, and the order in its
// metadata when it was created by this shop).
type Lookup struct {
	ID       string
	OrderID  string
	IntentID string
}

// Payments stores the Payment aggregate. Declared here, where it is used;
// implemented in adapters (PostgreSQL). A payment that does not exist is
// paymentsapi.ErrNotFound (wrapped with context); any other failure is
// returned as it is, never read as "not found".
type Payments interface {
	// Create stores a new payment once per order: when the order already
	// has one (a concurrent or repeated intent), that stored one is
	// returned instead.
	Create(ctx context.Context, p *domain.Payment) (*domain.Payment, error)
	// Get reads a payment with its refunds, without locking it.
	Get(ctx context.Context, by Lookup) (*domain.Payment, error)
	// Update locks the payment (FOR UPDATE), applies fn, saves what
	// changed and writes the events it recorded to the outbox, all in one
	// transaction; when fn fails nothing is written.
	Update(ctx context.Context, id string, fn func(*domain.Payment) error) error
	// UpdateBy is Update for a payment named by its order or intent.
	UpdateBy(ctx context.Context, by Lookup, fn func(*domain.Payment) error) error
	// PendingCancels lists up to limit unpaid payments whose cancel was
	// requested and not yet done at the provider.
	PendingCancels(ctx context.Context, limit int) ([]CancelJob, error)
	// StuckRefunds lists up to limit refunds still pending that were
	// created before the given time (their provider call was interrupted).
	StuckRefunds(ctx context.Context, createdBefore time.Time, limit int) ([]StuckRefund, error)
}

// ProviderEvents is the log of provider (webhook) events, which makes each
// apply once. Its methods are meant for the transaction of Repository.InTx
// that applies the event.
type ProviderEvents interface {
	// Receive records the event id; fresh is false when it was recorded
	// before (a replay: nothing more must be done).
	Receive(ctx context.Context, gateway, eventID, typ string) (fresh bool, err error)
	// Settle records what the event said and what was done with it.
	Settle(ctx context.Context, o ProviderOutcome) error
}

// Repository is payments' whole write side. InTx runs fn with a
// repository bound to one transaction (its Update joins it), so that a
// provider event's dedupe, the payment's change, its events and the
// event's outcome commit together.
type Repository interface {
	Payments
	ProviderEvents
	InTx(ctx context.Context, fn func(ctx context.Context, r Repository) error) error
}

// CancelJob is an intent to cancel at its provider.
type CancelJob struct {
	PaymentID, Gateway, IntentID string
}

// StuckRefund is a pending refund whose provider call must be retried.
type StuckRefund struct {
	PaymentID, RefundID string
}

// ProviderOutcome is what a provider event said (the money it reported,
// Amount nil when none) and what was done (Outcome), for review.
type ProviderOutcome struct {
	Gateway, EventID string
	PaymentID        string // "" when the event matched no payment
	Amount           *int64
	Currency         string // upper case; "" when none
	Outcome          string
}

// PaymentQuery selects the admin's page of payments (validated).
type PaymentQuery struct {
	Status  string // "" = any
	OrderID string // "" = any; canonical UUID
	After   string // id of the last payment of the previous page; "" = first page
	Limit   int
}

// Reads is the read side: views for the admin and the GraphQL subgraph,
// queried directly (no aggregate is loaded to be looked at).
type Reads interface {
	// Payments is one keyset page of payments with their refunds, newest
	// first, and the cursor of the next page (nil on the last).
	Payments(ctx context.Context, q PaymentQuery) ([]Payment, *string, error)
	// ReviewSummary counts the payments in amount_mismatch and failed and
	// lists the newest limit of them.
	ReviewSummary(ctx context.Context, limit int) (paymentsapi.ReviewSummary, error)
	// OfOrders is the latest payment of each order (by order id), only
	// userID's own orders' unless admin.
	OfOrders(ctx context.Context, userID string, admin bool, orderIDs []string) (map[string]*Payment, error)
}
