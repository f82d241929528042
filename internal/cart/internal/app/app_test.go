package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/cart/internal/adapters"
	. "github.com/opencommerce/commerce/internal/cart/internal/app"
	"github.com/opencommerce/commerce/internal/cart/internal/domain"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/address"
	"github.com/opencommerce/commerce/internal/platform/clock"
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
func (f fakeCatalog) DisplayProducts(ctx context.Context, ids []string) (map[string]catalogapi.Product, error) {
	return f.Products(ctx, ids)
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

// cartEnv is a service on a fresh database with fake neighbours and a
// fake clock.
type cartEnv struct {
	store *adapters.Store
	cat   fakeCatalog
	clock *clock.Fake
	pid   string
}

func (e cartEnv) service(ttl time.Duration, gateways ...string) *Service {
	if len(gateways) == 0 {
		gateways = []string{"stripe", "test"}
	}
	return New(e.store, e.cat, fakeAuth{}, fakeShipping{}, fakePayments{names: gateways}, ttl, e.clock, slog.New(slog.NewTextHandler(io.Discard, nil)))
}

func newEnv(t *testing.T) cartEnv {
	pid := uuid.Must(uuid.NewV7()).String()
	cat := fakeCatalog{products: map[string]catalogapi.Product{pid: {ID: pid, Name: "Mug", Price: 1250, Currency: "USD", Status: "active",
		WeightGrams: 300, Stock: catalogapi.Stock{OnHand: 1000, Available: 1000}}}}
	return cartEnv{store: adapters.NewStore(pgtest.New(t)), cat: cat, clock: clock.NewFake(time.Now()), pid: pid}
}

func newCart(t *testing.T, ttl time.Duration) (*Service, string) {
	e := newEnv(t)
	return e.service(ttl), e.pid
}

// promotion finds a promotion by code through the admin list.
func promotion(t *testing.T, s *Service, code string) PromotionRow {
	t.Helper()
	ps, err := s.Promotions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Code == code {
			return p
		}
	}
	t.Fatalf("no promotion %s", code)
	return PromotionRow{}
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
	p := promotion(t, s, "TEN")
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
	if p := promotion(t, s, "ONCE"); p.Uses != 0 {
		t.Fatalf("uses after release: %d", p.Uses)
	}
	if _, err := s.ApplyPromo(ctx, u, "ONCE"); err != nil {
		t.Fatalf("after release: %v", err)
	}
}

func TestExpiredSessionIsRefused(t *testing.T) {
	e := newEnv(t)
	s, pid := e.service(time.Hour), e.pid
	ctx := context.Background()
	u := uuid.Must(uuid.NewV7()).String()
	if _, err := s.AddItem(ctx, u, pid, 1); err != nil {
		t.Fatal(err)
	}
	sess, err := s.Checkout(ctx, u, CheckoutInput{Address: addr, Courier: "standard", PaymentGateway: "test"})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * time.Hour)
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
	e := newEnv(t)
	s, pid := e.service(time.Minute, "test"), e.pid
	ctx := context.Background()
	u := uuid.Must(uuid.NewV7()).String()
	if _, err := s.AddItem(ctx, u, pid, 1); err != nil {
		t.Fatal(err)
	}
	_, err := s.Checkout(ctx, u, CheckoutInput{Address: addr, Courier: "standard", PaymentGateway: "stripe"})
	pe, ok := errs.As(err)
	if !ok || pe.Code != "gateway_unavailable" || pe.Kind != errs.Invalid {
		t.Fatalf("stripe without a key: %v", err)
	}
	if _, err := s.Checkout(ctx, u, CheckoutInput{Address: addr, Courier: "standard", PaymentGateway: "test"}); err != nil {
		t.Fatalf("test gateway: %v", err)
	}
}

// The sweeper expires by the service's clock: nothing before the TTL has
// passed on it, the session once it has (whatever the database's now()).
func TestExpireSessionsFollowsTheClock(t *testing.T) {
	e := newEnv(t)
	s := e.service(30 * time.Minute)
	ctx := context.Background()
	u := uuid.Must(uuid.NewV7()).String()
	if _, err := s.AddItem(ctx, u, e.pid, 1); err != nil {
		t.Fatal(err)
	}
	sess, err := s.Checkout(ctx, u, CheckoutInput{Address: addr, Courier: "standard", PaymentGateway: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if !sess.ExpiresAt.Equal(e.clock.Now().Add(30 * time.Minute).UTC().Truncate(time.Millisecond)) {
		t.Fatalf("expires_at %v, clock %v", sess.ExpiresAt, e.clock.Now())
	}
	e.clock.Advance(29 * time.Minute)
	if n, err := s.ExpireSessions(ctx); err != nil || n != 0 {
		t.Fatalf("before expiry: %d %v", n, err)
	}
	if got, _ := s.OwnSession(ctx, u, sess.ID); got.Status != cartapi.SessionPending {
		t.Fatalf("before expiry: %s", got.Status)
	}
	e.clock.Advance(time.Minute)
	if got, _ := s.OwnSession(ctx, u, sess.ID); got.Status != cartapi.SessionExpired {
		t.Fatalf("at expiry, before the sweep: %s", got.Status)
	}
	if _, err := s.CancelSession(ctx, u, sess.ID); !errors.Is(err, cartapi.ErrSessionExpired) {
		t.Fatalf("cancel an expired session: %v", err)
	}
	if n, err := s.ExpireSessions(ctx); err != nil || n != 1 {
		t.Fatalf("at expiry: %d %v", n, err)
	}
	if err := s.PlaceOrder(ctx, sess.ID, uuid.Must(uuid.NewV7()).String(), u); !errors.Is(err, cartapi.ErrSessionExpired) {
		t.Fatalf("place on a swept session: %v", err)
	}
}

// A promotion applies from starts_at (included) to ends_at (excluded) by
// the service's clock: refused before, discounting within, and reported
// (then refused at checkout) after.
func TestPromotionWindowFollowsTheClock(t *testing.T) {
	e := newEnv(t)
	s := e.service(time.Hour)
	ctx := context.Background()
	u := uuid.Must(uuid.NewV7()).String()
	start := e.clock.Now().Add(time.Hour)
	end := start.Add(time.Hour)
	if _, err := s.CreatePromotion(ctx, PromotionInput{Code: "WINDOW", Kind: "percent", Value: 20, StartsAt: &start, EndsAt: &end}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddItem(ctx, u, e.pid, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyPromo(ctx, u, "WINDOW"); !errors.Is(err, domain.ErrPromoNotStarted) {
		t.Fatalf("before the window: %v", err)
	}
	e.clock.Set(start)
	c, err := s.ApplyPromo(ctx, u, "WINDOW")
	if err != nil {
		t.Fatalf("at the start: %v", err)
	}
	if c.Subtotal != 2500 || c.Discount != 500 || c.Total != 2000 || c.PromoError != nil {
		t.Fatalf("within the window: %+v", c)
	}
	e.clock.Set(end)
	c, err = s.View(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	if c.PromoError == nil || *c.PromoError != "promo_expired" || c.Discount != 0 || c.Total != 2500 {
		t.Fatalf("at the end: %+v", c)
	}
	_, err = s.Checkout(ctx, u, CheckoutInput{Address: addr, Courier: "standard", PaymentGateway: "test"})
	if pe, ok := errs.As(err); !ok || pe.Code != "promo_expired" {
		t.Fatalf("checkout with an expired code: %v", err)
	}
}

// The session freezes money in the cart's currency: lines, discount,
// shipping and total.
func TestCheckoutFreezesMoney(t *testing.T) {
	e := newEnv(t)
	s := e.service(time.Hour)
	ctx := context.Background()
	u := uuid.Must(uuid.NewV7()).String()
	if _, err := s.CreatePromotion(ctx, PromotionInput{Code: "FIVE", Kind: "fixed", Value: 500, Currency: "usd"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddItem(ctx, u, e.pid, 3); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApplyPromo(ctx, u, "FIVE"); err != nil {
		t.Fatal(err)
	}
	sess, err := s.Checkout(ctx, u, CheckoutInput{Address: addr, Courier: "standard", PaymentGateway: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if sess.Currency != "USD" || sess.Subtotal != 3750 || sess.Discount != 500 || sess.ShippingCost != 499 || sess.Total != 3749 ||
		len(sess.Items) != 1 || sess.Items[0].LineTotal != 3750 || sess.PromoCode == nil || *sess.PromoCode != "FIVE" {
		t.Fatalf("session: %+v", sess)
	}
}

// AddItem answers the cart from the lines it changed, without reading
// them again: its answer is the cart a later view reads, line for line
// and in order, for a new line and a merged one.
func TestAddItemAnswersTheStoredCart(t *testing.T) {
	e := newEnv(t)
	other := uuid.Must(uuid.NewV7()).String()
	e.cat.products[other] = catalogapi.Product{ID: other, Name: "Cup", Price: 500, Currency: "USD", Status: "active", Stock: catalogapi.Stock{OnHand: 5, Available: 5}}
	s := e.service(time.Hour)
	ctx := context.Background()
	u := uuid.NewString()
	for _, add := range []struct {
		pid string
		qty int
	}{{e.pid, 1}, {other, 2}, {e.pid, 3}, {other, 1}} {
		got, err := s.AddItem(ctx, u, add.pid, add.qty)
		if err != nil {
			t.Fatal(err)
		}
		want, err := s.View(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got.Items, want.Items) || got.Total != want.Total {
			t.Fatalf("AddItem answered %+v, the stored cart is %+v", got.Items, want.Items)
		}
	}
}
