package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/cursor"
	"github.com/opencommerce/commerce/internal/platform/errs"
)

// Statuses are the order statuses clients see (placing and failed are
// internal to the place-order saga).
var Statuses = []string{"pending_payment", "paid", "fulfilling", "shipped", "delivered", "expired", "canceled", "refunded"}

// ListFilter selects a page of orders. Empty fields do not filter.
type ListFilter struct {
	UserID string
	Status string
	// From and To bound created_at: From ≤ created_at < To.
	From, To *time.Time
	// IDPrefix is the beginning of an order id (hex digits, dashes allowed).
	IDPrefix string
	Cursor   string
	Limit    int
}

// List pages orders newest first: a user's own, or (admin) every order by
// status, creation time, user and id prefix, in one query per page.
func (s *Service) List(ctx context.Context, f ListFilter) ([]Order, *string, error) {
	after, err := cursor.Decode(f.Cursor)
	if err != nil {
		return nil, nil, err
	}
	var bad []errs.FieldError
	if f.Status != "" && !slices.Contains(Statuses, f.Status) {
		bad = append(bad, errs.Field("status", "is not an order status"))
	}
	if f.UserID != "" {
		if u, err := uuid.Parse(f.UserID); err != nil || len(f.UserID) != 36 {
			bad = append(bad, errs.Field("user_id", "must be a user id (UUID)"))
		} else {
			f.UserID = u.String()
		}
	}
	var lo, hi string
	if f.IDPrefix != "" {
		var ok bool
		if lo, hi, ok = idRange(f.IDPrefix); !ok {
			bad = append(bad, errs.Field("q", "must be the beginning of an order id (hex digits and dashes)"))
		}
	}
	if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
		bad = append(bad, errs.Field("to", "must be later than from"))
	}
	if len(bad) > 0 {
		return nil, nil, errs.Validation(bad...)
	}
	rows, err := s.reads.List(ctx, ListQuery{UserID: f.UserID, Status: f.Status, From: f.From, To: f.To, IDLow: lo, IDHigh: hi, Before: after, Limit: f.Limit})
	if err != nil {
		return nil, nil, fmt.Errorf("list orders: %w", err)
	}
	rows, next := cursor.Page(rows, f.Limit, func(o Order) string { return o.ID })
	if rows == nil {
		rows = []Order{}
	}
	return rows, next, nil
}

// idRange turns an id prefix into the smallest and largest UUIDs that
// start with it, so the search is a range on the primary key.
func idRange(prefix string) (string, string, bool) {
	hex := strings.ToLower(strings.ReplaceAll(prefix, "-", ""))
	if hex == "" || len(hex) > 32 {
		return "", "", false
	}
	for _, c := range hex {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return "", "", false
		}
	}
	format := func(h string) string { return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:] }
	pad := 32 - len(hex)
	return format(hex + strings.Repeat("0", pad)), format(hex + strings.Repeat("f", pad)), true
}

// Money is an amount in minor units of one currency.
type Money struct {
	Currency string `json:"currency"`
	Amount   int64  `json:"amount"`
}

// Window is the dashboard's figures for one period.
type Window struct {
	// OrdersByStatus counts the orders created in the period by their
	// current status (every status is present, 0 when none).
	OrdersByStatus map[string]int `json:"orders_by_status"`
	// Orders is the number of orders created in the period.
	Orders int `json:"orders"`
	// Revenue sums, per currency, total minus refunds of the orders paid
	// in the period.
	Revenue []Money `json:"revenue"`
}

// ReviewPayments is the payments needing an admin's review.
type ReviewPayments = paymentsapi.ReviewSummary

// Summary is the admin dashboard in one answer.
type Summary struct {
	Today                 Window                    `json:"today"`
	Last7Days             Window                    `json:"last_7_days"`
	LowStock              []catalogapi.LowStockItem `json:"low_stock"`
	PaymentsNeedingReview ReviewPayments            `json:"payments_needing_review"`
	// DeadLetters counts events that failed every delivery attempt and
	// were not successfully retried since.
	DeadLetters int       `json:"dead_letters"`
	GeneratedAt time.Time `json:"generated_at"`
}

// SummaryItems is how many low-stock products and payments to review the
// summary lists.
const SummaryItems = 20

// Summary gathers the dashboard: order figures from ordering's own tables
// (one aggregate query each), low stock from catalog and payments needing
// review from payments through their APIs (network calls, run side by
// side and outside any transaction).
func (s *Service) Summary(ctx context.Context, lowStock int) (*Summary, error) {
	now := s.clock.Now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	week := today.AddDate(0, 0, -6)
	out := &Summary{GeneratedAt: now.Truncate(time.Millisecond),
		Today: Window{OrdersByStatus: map[string]int{}, Revenue: []Money{}}, Last7Days: Window{OrdersByStatus: map[string]int{}, Revenue: []Money{}}}
	for _, st := range Statuses {
		out.Today.OrdersByStatus[st], out.Last7Days.OrdersByStatus[st] = 0, 0
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		items, err := s.catalog.LowStock(gctx, lowStock, SummaryItems)
		if err != nil {
			return fmt.Errorf("low stock: %w", err)
		}
		out.LowStock = items
		return nil
	})
	g.Go(func() error {
		r, err := s.payments.ReviewSummary(gctx, SummaryItems)
		if err != nil {
			return fmt.Errorf("payments needing review: %w", err)
		}
		if r.Items == nil {
			r.Items = []paymentsapi.ReviewItem{}
		}
		out.PaymentsNeedingReview = r
		return nil
	})
	// ordering's own figures: one aggregate query each, on one connection
	// at a time, while the remote calls run.
	figures := []func() error{func() error {
		rows, err := s.reads.OrdersByStatus(gctx, today, week)
		if err != nil {
			return fmt.Errorf("orders by status: %w", err)
		}
		for _, r := range rows {
			out.Today.OrdersByStatus[r.Status], out.Last7Days.OrdersByStatus[r.Status] = r.Today, r.Week
			out.Today.Orders += r.Today
			out.Last7Days.Orders += r.Week
		}
		return nil
	}, func() error {
		rows, err := s.reads.Revenue(gctx, today, week)
		if err != nil {
			return fmt.Errorf("revenue: %w", err)
		}
		for _, r := range rows {
			if r.PaidToday > 0 {
				out.Today.Revenue = append(out.Today.Revenue, Money{Currency: r.Currency, Amount: r.Today})
			}
			out.Last7Days.Revenue = append(out.Last7Days.Revenue, Money{Currency: r.Currency, Amount: r.Week})
		}
		return nil
	}, func() error {
		// A letter counts until a retry delivered it, as the gauge does.
		n, err := s.reads.DeadLetters(ctx)
		if err != nil {
			return fmt.Errorf("dead letters: %w", err)
		}
		out.DeadLetters = n
		return nil
	}}
	for _, fig := range figures {
		if err := fig(); err != nil {
			_ = g.Wait()
			return nil, err
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}
