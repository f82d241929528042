package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/cart/internal/domain"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/address"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

// Hand-written fakes of the neighbours' APIs.
type fakeCatalog struct{ products map[string]catalogapi.Product }

func (f fakeCatalog) Product(_ context.Context, id string) (catalogapi.Product, error) {
	p, ok := f.products[id]
	if !ok {
		return p, catalogapi.ErrNotFound
	}
	return p, nil
}
func (f fakeCatalog) Products(_ context.Context, ids []string) (map[string]catalogapi.Product, error) {
	out := map[string]catalogapi.Product{}
	for _, id := range ids {
		if p, ok := f.products[id]; ok {
			out[id] = p
		}
	}
	return out, nil
}
func (fakeCatalog) Reserve(context.Context, string, []catalogapi.Line, *time.Time) error { return nil }
func (fakeCatalog) Release(context.Context, string, string) error                        { return nil }
func (fakeCatalog) Commit(context.Context, string) error                                 { return nil }
func (fakeCatalog) LowStock(context.Context, int, int) ([]catalogapi.LowStockItem, error) {
	return nil, nil
}
func (fakeCatalog) Page(context.Context, string, int) ([]catalogapi.Product, int, error) {
	return nil, 0, nil
}

type fakeAuth struct{}

func (fakeAuth) User(context.Context, string) (authapi.User, error) { return authapi.User{}, nil }
func (fakeAuth) Address(context.Context, string, string) (authapi.Address, error) {
	return authapi.Address{}, authapi.ErrNotFound
}

type fakeShipping struct{}

func (fakeShipping) Quote(_ context.Context, r fulfillmentapi.QuoteRequest) (fulfillmentapi.Quote, error) {
	return fulfillmentapi.Quote{Courier: r.Courier, Cost: 499, Currency: r.Currency, ETADays: 3}, nil
}

// fakePayments accepts the named gateways.
type fakePayments struct {
	paymentsapi.Payments
	names []string
}

func (f fakePayments) Gateways(context.Context) ([]paymentsapi.Gateway, error) {
	out := make([]paymentsapi.Gateway, len(f.names))
	for i, n := range f.names {
		out[i] = paymentsapi.Gateway{Name: n}
	}
	return out, nil
}

func newCart(t *testing.T, ttl time.Duration) (*Service, string) {
	db := pgtest.New(t)
	pid := uuid.Must(uuid.NewV7()).String()
	cat := fakeCatalog{products: map[string]catalogapi.Product{pid: {ID: pid, Name: "Mug", Price: 1250, Currency: "USD", Status: "active",
		WeightGrams: 300, Stock: catalogapi.Stock{OnHand: 1000, Available: 1000}}}}
	return New(db, cat, fakeAuth{}, fakeShipping{}, fakePayments{names: []string{"stripe", "test"}}, ttl, slog.New(slog.NewTextHandler(io.Discard, nil))), pid
}

var addr = &address.Address{Line1: "1 Main St", City: "Springfield", PostalCode: "12345", Country: "US"}

func TestPromoMaxUsesHoldsUnderConcurrentOrders(t *testing.T) {
	s, pid := newCart(t, time.Hour)
	ctx := context.Background()
	ten := 10
	if _, err := s.CreatePromotion(ctx, PromotionInput{Code: "TEN", Kind: "percent", Value: 10, MaxUses: &ten}); err != nil {
		t.Fatal(err)
	}
	type order struct{ user, session string }
	orders := make([]order, 50)
	for i := range orders {
		u := uuid.Must(uuid.NewV7()).String()
		if _, err := s.AddItem(ctx, u, pid, 2); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ApplyPromo(ctx, u, "ten"); err != nil {
			t.Fatal(err)
		}
		sess, err := s.Checkout(ctx, u, CheckoutInput{Address: addr, Courier: "standard", PaymentGateway: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if sess.Subtotal != 2500 || sess.Discount != 250 || sess.ShippingCost != 499 || sess.Total != 2749 {
			t.Fatalf("totals: %+v", sess)
		}
		orders[i] = order{u, sess.ID}
	}
	var wg sync.WaitGroup
	results := make([]error, len(orders))
	for i, o := range orders {
		wg.Add(1)
		go func(i int, o order) {
			defer wg.Done()
			results[i] = s.PlaceOrder(ctx, o.session, uuid.Must(uuid.NewV7()).String(), o.user)
		}(i, o)
	}
	wg.Wait()
	placed, exhausted := 0, 0
	for _, err := range results {
		switch {
		case err == nil:
			placed++
		case errors.Is(err, domain.ErrPromoExhausted):
			exhausted++
		default:
			t.Fatal(err)
		}
	}
	p, _ := s.store.PromotionByCode(ctx, s.db, "TEN")
	if placed != 10 || exhausted != 40 || p.Uses != 10 {
		t.Fatalf("placed %d, exhausted %d, uses %d", placed, exhausted, p.Uses)
	}
}

func TestSessionLifecycle(t *testing.T) {
	s, pid := newCart(t, time.Hour)
	ctx := context.Background()
	u := uuid.Must(uuid.NewV7()).String()
	once := true
	if _, err := s.CreatePromotion(ctx, PromotionInput{Code: "ONCE", Kind: "fixed", Value: 300, Currency: "usd", OncePerCustomer: &once}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddItem(ctx, u, pid, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyPromo(ctx, u, "ONCE"); err != nil {
		t.Fatal(err)
	}
	sess, err := s.Checkout(ctx, u, CheckoutInput{Address: addr, Courier: "express", PaymentGateway: "stripe"})
	if err != nil {
		t.Fatal(err)
	}
	order := uuid.Must(uuid.NewV7()).String()
	if err := s.PlaceOrder(ctx, sess.ID, order, uuid.Must(uuid.NewV7()).String()); !errors.Is(err, cartapi.ErrSessionNotFound) {
		t.Fatalf("someone else's session: %v", err)
	}
	for i := 0; i < 2; i++ {
		if err := s.PlaceOrder(ctx, sess.ID, order, u); err != nil {
			t.Fatalf("place #%d: %v", i, err)
		}
	}
	if err := s.PlaceOrder(ctx, sess.ID, uuid.Must(uuid.NewV7()).String(), u); !errors.Is(err, cartapi.ErrSessionUsed) {
		t.Fatalf("second order from one session: %v", err)
	}
	// Once per customer: the code now refuses this customer...
	if _, err := s.ApplyPromo(ctx, u, "ONCE"); !errors.Is(err, domain.ErrPromoUsed) {
		t.Fatalf("reuse: %v", err)
	}
	// ...until the order is canceled and the use released (idempotently).
	for i := 0; i < 2; i++ {
		if err := s.ReleaseOrder(ctx, order); err != nil {
			t.Fatal(err)
		}
	}
	if p, _ := s.store.PromotionByCode(ctx, s.db, "ONCE"); p.Uses != 0 {
		t.Fatalf("uses after release: %d", p.Uses)
	}
	if _, err := s.ApplyPromo(ctx, u, "ONCE"); err != nil {
		t.Fatalf("after release: %v", err)
	}
}

func TestExpiredSessionIsRefused(t *testing.T) {
	s, pid := newCart(t, time.Hour)
	ctx := context.Background()
	u := uuid.Must(uuid.NewV7()).String()
	if _, err := s.AddItem(ctx, u, pid, 1); err != nil {
		t.Fatal(err)
	}
	sess, err := s.Checkout(ctx, u, CheckoutInput{Address: addr, Courier: "standard", PaymentGateway: "test"})
	if err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	if err := s.PlaceOrder(ctx, sess.ID, uuid.Must(uuid.NewV7()).String(), u); !errors.Is(err, cartapi.ErrSessionExpired) {
		t.Fatalf("expired session: %v", err)
	}
	if got, _ := s.CheckoutSession(ctx, sess.ID); got.Status != cartapi.SessionExpired {
		t.Fatalf("status %s", got.Status)
	}
}

// A gateway the shop does not accept is refused at checkout (422
// gateway_unavailable), not when the order is placed.
func TestCheckoutRefusesUnconfiguredGateway(t *testing.T) {
	s, pid := newCart(t, time.Minute)
	s.payments = fakePayments{names: []string{"test"}}
	ctx := context.Background()
	u := uuid.Must(uuid.NewV7()).String()
	if _, err := s.AddItem(ctx, u, pid, 1); err != nil {
		t.Fatal(err)
	}
	_, err := s.Checkout(ctx, u, CheckoutInput{Address: addr, Courier: "standard", PaymentGateway: "stripe"})
	e, ok := errs.As(err)
	if !ok || e.Code != "gateway_unavailable" || e.Kind != errs.Invalid {
		t.Fatalf("stripe without a key: %v", err)
	}
	if _, err := s.Checkout(ctx, u, CheckoutInput{Address: addr, Courier: "standard", PaymentGateway: "test"}); err != nil {
		t.Fatalf("test gateway: %v", err)
	}
}
