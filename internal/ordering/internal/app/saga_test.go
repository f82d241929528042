package app_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/ordering/internal/adapters"
	"github.com/opencommerce/commerce/internal/ordering/internal/app"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/authn"
	"github.com/opencommerce/commerce/internal/platform/clock"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

// calls records the remote calls of the fakes, in order.
type calls struct {
	mu   sync.Mutex
	list []string
	fail map[string]error // call name → error to answer
}

func (c *calls) do(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.list = append(c.list, name)
	return c.fail[name]
}

func (c *calls) got() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.list, ",")
}

type fakeCatalog struct {
	catalogapi.Catalog
	c *calls
}

func (f fakeCatalog) Reserve(context.Context, string, []catalogapi.Line, *time.Time) error {
	return f.c.do("reserve")
}
func (f fakeCatalog) Release(context.Context, string, string) error { return f.c.do("release") }
func (f fakeCatalog) LowStock(context.Context, int, int) ([]catalogapi.LowStockItem, error) {
	return []catalogapi.LowStockItem{}, nil
}

type fakeCart struct {
	c        *calls
	sessions map[string]cartapi.Session
}

func (f fakeCart) CheckoutSession(_ context.Context, id string) (cartapi.Session, error) {
	s, ok := f.sessions[id]
	if !ok {
		return s, cartapi.ErrSessionNotFound
	}
	return s, nil
}
func (f fakeCart) PlaceOrder(context.Context, string, string, string) error { return f.c.do("place") }
func (f fakeCart) ReleaseOrder(context.Context, string) error               { return f.c.do("release order") }
func (f fakeCart) AbortOrder(context.Context, string) error                 { return f.c.do("abort checkout") }

type fakePayments struct{ c *calls }

func (f *fakePayments) CreateIntent(_ context.Context, orderID, _, gateway string, _ int64, _ string) (paymentsapi.Intent, error) {
	if err := f.c.do("create intent"); err != nil {
		return paymentsapi.Intent{}, err
	}
	return paymentsapi.Intent{PaymentID: "pay-" + orderID, Gateway: gateway, IntentID: "pi-" + orderID, ClientSecret: "secret", Status: "pending"}, nil
}
func (f *fakePayments) RequestCancel(context.Context, string) error { return f.c.do("cancel intent") }
func (f *fakePayments) Refund(_ context.Context, _ string, amount int64, _, _ string) (paymentsapi.Refund, error) {
	if err := f.c.do("refund"); err != nil {
		return paymentsapi.Refund{}, err
	}
	return paymentsapi.Refund{ID: uuid.NewString(), Amount: amount}, nil
}
func (f *fakePayments) Gateways(context.Context) ([]paymentsapi.Gateway, error) { return nil, nil }
func (f *fakePayments) ReviewSummary(context.Context, int) (paymentsapi.ReviewSummary, error) {
	return paymentsapi.ReviewSummary{}, nil
}

type env struct {
	t      *testing.T
	db     *pg.DB
	calls  *calls
	cart   fakeCart
	pay    *fakePayments
	clock  *clock.Fake
	orders *adapters.Orders
	svc    *app.Service
	who    authn.Principal
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := pgtest.New(t)
	c := &calls{fail: map[string]error{}}
	e := &env{t: t, db: db, calls: c, cart: fakeCart{c: c, sessions: map[string]cartapi.Session{}}, pay: &fakePayments{c: c},
		clock: clock.NewFake(time.Now().UTC().Truncate(time.Second)), who: authn.Principal{UserID: uuid.NewString(), Email: "c@shop.test"}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.orders = adapters.NewOrders(db, events.NewOutbox(log))
	e.svc = app.New(app.Deps{Orders: e.orders, Reads: adapters.NewReads(db), Catalog: fakeCatalog{c: c}, Cart: e.cart, Payments: e.pay,
		Config: app.Config{PaymentTimeout: time.Hour, Reminders: []time.Duration{20 * time.Minute}}, Log: log, Clock: e.clock})
	return e
}

// session makes a pending checkout session of the env's user.
func (e *env) session() string {
	id := uuid.NewString()
	e.cart.sessions[id] = cartapi.Session{ID: id, UserID: e.who.UserID, Status: cartapi.SessionPending,
		Items:    []cartapi.Item{{ProductID: uuid.NewString(), SKU: "S", Name: "N", UnitPrice: 1000, Quantity: 2, LineTotal: 2000, WeightGrams: 100}},
		Subtotal: 2000, ShippingCost: 500, Total: 2500, Currency: "USD", Address: authapi.Address{Line1: "1 St", City: "T", Country: "US", Phone: "+1555"},
		Courier: "standard", PaymentGateway: "test"}
	return id
}

// outbox lists the topics in the outbox, in order.
func (e *env) outbox() string {
	var topics []string
	if err := e.db.NewRaw("SELECT topic FROM events.outbox ORDER BY id").Scan(context.Background(), &topics); err != nil {
		e.t.Fatal(err)
	}
	return strings.Join(topics, ",")
}

func (e *env) status(id string) string {
	var s string
	if err := e.db.NewRaw("SELECT status FROM ordering.orders WHERE id = ?", id).Scan(context.Background(), &s); err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) timeline(id string) string {
	var types []string
	if err := e.db.NewRaw("SELECT type FROM ordering.timeline WHERE order_id = ? ORDER BY id", id).Scan(context.Background(), &types); err != nil {
		e.t.Fatal(err)
	}
	return strings.Join(types, ",")
}

func TestPlaceOrderSucceeds(t *testing.T) {
	e := newEnv(t)
	o, err := e.svc.PlaceOrder(context.Background(), e.who, e.session())
	if err != nil {
		t.Fatal(err)
	}
	if e.calls.got() != "reserve,place,create intent" || o.Status != "pending_payment" || *o.Payment.IntentID != "pi-"+o.ID || o.CreatedAt.IsZero() ||
		!o.ExpiresAt.Equal(e.clock.Now().Add(time.Hour)) || string(o.Items) == "" {
		t.Fatalf("%s %+v", e.calls.got(), o)
	}
	if got := e.outbox(); got != orderingapi.EventOrderPlaced {
		t.Fatalf("outbox %s", got)
	}
	if got := e.timeline(o.ID); got != "stock_reserved,checkout_consumed,payment_intent_created,placed" {
		t.Fatalf("timeline %s", got)
	}
	stored, err := e.svc.Get(context.Background(), e.who.UserID, o.ID, false)
	if err != nil || stored.Status != "pending_payment" || stored.Total != 2500 || !strings.Contains(strings.ReplaceAll(string(stored.Address), " ", ""), `"phone":"+1555"`) {
		t.Fatalf("%+v %v", stored, err)
	}
	if _, err := e.svc.PlaceOrder(context.Background(), e.who, o.SessionID); !errors.Is(err, app.ErrOrderExists) {
		t.Fatalf("a second order from one session: %v", err)
	}
}

// Each step fails in turn: the done steps are compensated in reverse
// order, the order is failed and nothing is published. A step the
// neighbour refused (a categorised answer) took no effect; a step that
// failed otherwise (a crash after its commit, a timeout) may have, and is
// compensated too.
func TestPlaceOrderCompensates(t *testing.T) {
	refused := errs.New(errs.Conflict, "refused", "boom")
	for _, c := range []struct {
		fail  string
		err   error
		calls string
	}{
		{"reserve", refused, "reserve"},
		{"place", refused, "reserve,place,release"},
		{"create intent", refused, "reserve,place,create intent,abort checkout,release"},
		{"reserve", errors.New("boom"), "reserve,release"},
		{"place", errors.New("boom"), "reserve,place,abort checkout,release"},
		{"create intent", errors.New("boom"), "reserve,place,create intent,cancel intent,abort checkout,release"},
	} {
		t.Run(c.fail, func(t *testing.T) {
			e := newEnv(t)
			e.calls.fail[c.fail] = c.err
			sid := e.session()
			if _, err := e.svc.PlaceOrder(context.Background(), e.who, sid); !errors.Is(err, c.err) {
				t.Fatalf("err %v", err)
			}
			if got := e.calls.got(); got != c.calls {
				t.Fatalf("calls %s, want %s", got, c.calls)
			}
			var id, failure string
			if err := e.db.NewRaw("SELECT id::text, status, failure FROM ordering.orders WHERE checkout_session_id = ?", sid).
				Scan(context.Background(), &id, new(string), &failure); err != nil {
				t.Fatal(err)
			}
			if e.status(id) != "failed" || !strings.HasSuffix(failure, ": boom") || e.outbox() != "" || !strings.HasSuffix(e.timeline(id), "failed") {
				t.Fatalf("status %s failure %q outbox %q", e.status(id), failure, e.outbox())
			}
			// The session is free again: a retry places the order.
			delete(e.calls.fail, c.fail)
			if _, err := e.svc.PlaceOrder(context.Background(), e.who, sid); err != nil {
				t.Fatalf("retry: %v", err)
			}
		})
	}
}

// A failing compensation leaves the order placing for recovery.
func TestCompensationFailureLeavesRecovery(t *testing.T) {
	e := newEnv(t)
	e.calls.fail["place"], e.calls.fail["release"] = errors.New("boom"), errors.New("catalog down")
	sid := e.session()
	if _, err := e.svc.PlaceOrder(context.Background(), e.who, sid); err == nil {
		t.Fatal("placed")
	}
	var id string
	if err := e.db.NewRaw("SELECT id::text FROM ordering.orders WHERE checkout_session_id = ?", sid).Scan(context.Background(), &id); err != nil {
		t.Fatal(err)
	}
	if e.status(id) != "placing" {
		t.Fatal(e.status(id))
	}
	delete(e.calls.fail, "release")
	e.clock.Advance(2 * time.Minute)
	if n, err := e.svc.Recover(context.Background(), time.Minute); err != nil || n != 1 || e.status(id) != "failed" {
		t.Fatalf("%d %v %s", n, err, e.status(id))
	}
}

// An order a crash left placing is compensated (every step, in reverse
// order) once older than the threshold, and marked failed.
func TestRecover(t *testing.T) {
	e := newEnv(t)
	sid := e.session()
	id := uuid.NewString()
	if _, err := e.db.ExecContext(context.Background(), `INSERT INTO ordering.orders (id, user_id, email, checkout_session_id, status, items, subtotal, discount,
		shipping_cost, total, currency, address, courier, payment_gateway, created_at) VALUES (?, ?, '', ?, 'placing', '[]', 0, 0, 0, 0, 'USD', '{}', 'standard', 'test', ?)`,
		id, e.who.UserID, sid, e.clock.Now().Add(-30*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.Recover(context.Background(), time.Minute); err != nil || n != 0 || e.calls.got() != "" {
		t.Fatalf("a young placing order recovered: %d %v %s", n, err, e.calls.got())
	}
	e.clock.Advance(time.Minute)
	if n, err := e.svc.Recover(context.Background(), time.Minute); err != nil || n != 1 {
		t.Fatalf("%d %v", n, err)
	}
	if got := e.calls.got(); got != "cancel intent,abort checkout,release" {
		t.Fatalf("compensations %s", got)
	}
	if e.status(id) != "failed" || e.outbox() != "" || e.timeline(id) != "failed" {
		t.Fatalf("%s %s", e.status(id), e.outbox())
	}
}

// Deadlines follow the fake clock: past the reminder offset a reminder is
// published, past the expiry the order expires.
func TestDeadlines(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o, err := e.svc.PlaceOrder(ctx, e.who, e.session())
	if err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.FireDeadlines(ctx); err != nil || n != 0 {
		t.Fatalf("fired early: %d %v", n, err)
	}
	e.clock.Advance(20 * time.Minute)
	if n, err := e.svc.FireDeadlines(ctx); err != nil || n != 1 {
		t.Fatalf("reminder: %d %v", n, err)
	}
	if got := e.outbox(); got != orderingapi.EventOrderPlaced+","+orderingapi.EventPaymentReminder || e.status(o.ID) != "pending_payment" {
		t.Fatalf("outbox %s", got)
	}
	e.clock.Advance(40 * time.Minute)
	if n, err := e.svc.FireDeadlines(ctx); err != nil || n != 1 {
		t.Fatalf("expiry: %d %v", n, err)
	}
	if got := e.outbox(); !strings.HasSuffix(got, ","+orderingapi.EventOrderExpired) || e.status(o.ID) != "expired" {
		t.Fatalf("outbox %s status %s", got, e.status(o.ID))
	}
	if n, err := e.svc.FireDeadlines(ctx); err != nil || n != 0 {
		t.Fatalf("fired twice: %d %v", n, err)
	}
	// Money arriving now is late: it is refunded once.
	e.consume(t, func(ctx context.Context, tx app.Orders) error {
		return e.svc.HandlePaymentEvent(ctx, tx, envelope(t, paymentsapi.EventPaymentSucceeded, paymentsapi.PaymentEvent{OrderID: o.ID, Amount: 2500, IntentID: "pi"}))
	})
	if err := e.svc.RefundLatePayments(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RefundLatePayments(ctx); err != nil {
		t.Fatal(err)
	}
	if got := e.calls.got(); strings.Count(got, "refund") != 1 || !strings.HasSuffix(e.timeline(o.ID), "late_payment,refund") {
		t.Fatalf("calls %s timeline %s", got, e.timeline(o.ID))
	}
}

func envelope(t *testing.T, typ string, p any) events.Envelope {
	t.Helper()
	ev, err := events.New(typ, "x", p)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// consume runs fn as a consumer does: with the repository bound to the
// inbox transaction.
func (e *env) consume(t *testing.T, fn func(ctx context.Context, tx app.Orders) error) {
	t.Helper()
	if err := e.db.InTx(context.Background(), func(ctx context.Context, tx bun.Tx) error { return fn(ctx, e.orders.WithTx(tx)) }); err != nil {
		t.Fatal(err)
	}
}

// The consumers, cancel and refunds through the repositories.
func TestPaymentFulfillmentAndRefund(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o, err := e.svc.PlaceOrder(ctx, e.who, e.session())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Refund(ctx, o.ID, app.RefundInput{Amount: 1, Reason: "x"}, "k"); !errors.Is(err, app.ErrNotRefundable) {
		t.Fatalf("refund of an unpaid order: %v", err)
	}
	pay := func(typ string, p any) {
		e.consume(t, func(ctx context.Context, tx app.Orders) error {
			return e.svc.HandlePaymentEvent(ctx, tx, envelope(t, typ, p))
		})
	}
	pay(paymentsapi.EventPaymentFailed, paymentsapi.PaymentEvent{OrderID: o.ID, IntentID: "pi"})
	pay(paymentsapi.EventPaymentAmountMismatch, paymentsapi.AmountMismatchEvent{OrderID: o.ID, IntentID: "pi"})
	pay(paymentsapi.EventPaymentSucceeded, paymentsapi.PaymentEvent{OrderID: o.ID, Amount: 2500, IntentID: "pi"})
	pay(paymentsapi.EventPaymentSucceeded, paymentsapi.PaymentEvent{OrderID: o.ID, Amount: 2500, IntentID: "pi"}) // no second move
	pay(paymentsapi.EventPaymentSucceeded, paymentsapi.PaymentEvent{OrderID: uuid.NewString(), Amount: 1})        // unknown: dropped
	if _, err := e.svc.Cancel(ctx, e.who.UserID, o.ID); !errors.Is(err, app.ErrNotCancelable) {
		t.Fatalf("cancel of a paid order: %v", err)
	}
	ful := func(typ string) {
		e.consume(t, func(ctx context.Context, tx app.Orders) error {
			return e.svc.HandleFulfillmentEvent(ctx, tx, envelope(t, typ, fulfillmentapi.FulfillmentEvent{OrderID: o.ID, FulfillmentID: "f", TrackingID: "T"}))
		})
	}
	ful(fulfillmentapi.EventShipped)
	ful(fulfillmentapi.EventFulfillmentCreated) // late: nothing moves back
	if e.status(o.ID) != "shipped" {
		t.Fatal(e.status(o.ID))
	}
	got, err := e.svc.Refund(ctx, o.ID, app.RefundInput{Amount: 500, Reason: "dent"}, "k1")
	if err != nil || got.RefundedAmount != 500 || got.Status != "shipped" {
		t.Fatalf("%+v %v", got, err)
	}
	// payments' refund_succeeded for the same refund changes nothing.
	var first string
	if err := e.db.NewRaw("SELECT refund_id::text FROM ordering.refunds WHERE order_id = ?", o.ID).Scan(ctx, &first); err != nil {
		t.Fatal(err)
	}
	pay(paymentsapi.EventRefundSucceeded, paymentsapi.RefundEvent{OrderID: o.ID, RefundID: first, Amount: 500})
	if got, err = e.svc.Refund(ctx, o.ID, app.RefundInput{Amount: 2000, Reason: "all"}, "k2"); err != nil || got.Status != "refunded" || got.RefundedAmount != 2500 {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := e.svc.Refund(ctx, o.ID, app.RefundInput{Amount: 1, Reason: "more"}, "k3"); !errors.Is(err, paymentsapi.ErrRefundTooLarge) {
		t.Fatalf("refund of a refunded order: %v", err)
	}
	want := strings.Join([]string{orderingapi.EventOrderPlaced, orderingapi.EventOrderPaid, orderingapi.EventOrderRefunded, orderingapi.EventOrderRefunded}, ",")
	if got := e.outbox(); got != want {
		t.Fatalf("outbox %s", got)
	}
	tl, err := e.svc.Timeline(ctx, e.who.UserID, o.ID, false)
	if err != nil || len(tl) != 11 || tl[4].Type != "payment_failed" || tl[10].Type != "refunded" {
		t.Fatalf("%v %+v", err, tl)
	}
	m, err := e.svc.Timelines(ctx, e.who.UserID, false, []string{o.ID, "nope"})
	if err != nil || len(m[o.ID]) != 11 {
		t.Fatalf("%v %d", err, len(m[o.ID]))
	}
	if m, _ := e.svc.Timelines(ctx, uuid.NewString(), false, []string{o.ID}); len(m[o.ID]) != 0 {
		t.Fatal("another user's timeline")
	}
}

func TestCancelAndQueries(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	o, err := e.svc.PlaceOrder(ctx, e.who, e.session())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Cancel(ctx, uuid.NewString(), o.ID); !errors.Is(err, app.ErrNotFound) {
		t.Fatalf("another user's cancel: %v", err)
	}
	if _, err := e.svc.Cancel(ctx, e.who.UserID, "nope"); !errors.Is(err, app.ErrNotFound) {
		t.Fatal(err)
	}
	got, err := e.svc.AdminCancel(ctx, "admin-1", o.ID)
	if err != nil || got.Status != "canceled" {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := e.svc.Cancel(ctx, e.who.UserID, o.ID); !errors.Is(err, app.ErrNotCancelable) || !strings.Contains(err.Error(), "the order is canceled") {
		t.Fatalf("second cancel: %v", err)
	}
	if e.outbox() != orderingapi.EventOrderPlaced+","+orderingapi.EventOrderCanceled {
		t.Fatal(e.outbox())
	}
	var due int
	_ = e.db.NewRaw("SELECT count(*) FROM ordering.deadlines WHERE fired_at IS NULL").Scan(ctx, &due)
	if due != 0 {
		t.Fatalf("%d deadlines left after cancel", due)
	}
	page, next, err := e.svc.List(ctx, app.ListFilter{UserID: e.who.UserID, Limit: 10, IDPrefix: o.ID[:8]})
	if err != nil || len(page) != 1 || next != nil || page[0].ID != o.ID {
		t.Fatalf("%+v %v", page, err)
	}
	if _, _, err := e.svc.List(ctx, app.ListFilter{Status: "nope", Limit: 1}); err == nil {
		t.Fatal("bad status listed")
	}
	sum, err := e.svc.Summary(ctx, 5)
	if err != nil || sum.Today.Orders != 1 || sum.Today.OrdersByStatus["canceled"] != 1 {
		t.Fatalf("%+v %v", sum, err)
	}
	if _, err := e.svc.Get(ctx, uuid.NewString(), o.ID, false); !errors.Is(err, app.ErrNotFound) {
		t.Fatal(err)
	}
}
