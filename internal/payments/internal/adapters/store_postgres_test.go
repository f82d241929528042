package adapters_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/payments/internal/adapters"
	"github.com/opencommerce/commerce/internal/payments/internal/app"
	"github.com/opencommerce/commerce/internal/payments/internal/domain"
	"github.com/opencommerce/commerce/internal/payments/internal/gateway"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/clock"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/money"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

const secret = "whsec_test"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type env struct {
	t     *testing.T
	db    *pg.DB
	store *adapters.Store
	svc   *app.Service
	clock *clock.Fake
	gw    *flakyGateway
	// signAt, when set, is when webhooks are signed (else the clock's now).
	signAt time.Time
}

// flakyGateway is the test gateway whose refunds fail while failRefunds is set.
type flakyGateway struct {
	gateway.Test
	mu          sync.Mutex
	failRefunds bool
	refunds     int
}

func (g *flakyGateway) Refund(ctx context.Context, intentID string, amount int64, key string) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.refunds++
	if g.failRefunds {
		return "", errors.New("provider down")
	}
	return g.Test.Refund(ctx, intentID, amount, key)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	db := pgtest.New(t)
	store := adapters.NewStore(db, events.NewOutbox(quiet))
	fake := clock.NewFake(time.Now())
	gw := &flakyGateway{Test: gateway.Test{Secret: secret}}
	svc := app.New(app.Deps{Repo: store, Reads: adapters.NewQueries(db), Gateways: []gateway.Gateway{gw}, Log: quiet, Clock: fake})
	return &env{t: t, db: db, store: store, svc: svc, clock: fake, gw: gw}
}

func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.NewRaw(q, args...).Scan(context.Background(), &n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) outbox(topic string) []json.RawMessage {
	e.t.Helper()
	var rows []struct {
		Payload json.RawMessage `bun:"payload"`
	}
	if err := e.db.NewRaw("SELECT payload::text AS payload FROM events.outbox WHERE topic = ? ORDER BY event_id", topic).Scan(context.Background(), &rows); err != nil {
		e.t.Fatal(err)
	}
	out := make([]json.RawMessage, len(rows))
	for i, r := range rows {
		var env events.Envelope
		if err := json.Unmarshal(r.Payload, &env); err != nil {
			e.t.Fatal(err)
		}
		out[i] = env.Data
	}
	return out
}

func (e *env) intent(amount int64) (orderID string, in paymentsapi.Intent) {
	e.t.Helper()
	orderID = uuid.Must(uuid.NewV7()).String()
	in, err := e.svc.CreateIntent(context.Background(), orderID, uuid.NewString(), "test", amount, "USD")
	if err != nil {
		e.t.Fatal(err)
	}
	return orderID, in
}

func (e *env) webhook(id, typ, orderID, intentID string, amount int64, currency string) error {
	body, _ := json.Marshal(map[string]any{"id": id, "type": typ, "data": map[string]any{"object": map[string]any{
		"id": intentID, "amount": amount, "amount_received": amount, "currency": currency, "metadata": map[string]string{"order_id": orderID}}}})
	at := e.clock.Now()
	if !e.signAt.IsZero() {
		at = e.signAt
	}
	return e.svc.HandleWebhook(context.Background(), "test", body, gateway.Header(secret, at.Unix(), body))
}

func (e *env) pay(amount int64) (string, paymentsapi.Intent) {
	e.t.Helper()
	oid, in := e.intent(amount)
	if err := e.webhook("evt_pay_"+oid, "payment_intent.succeeded", oid, in.IntentID, amount, "usd"); err != nil {
		e.t.Fatal(err)
	}
	return oid, in
}

// failOn makes every statement of kind (INSERT, UPDATE) on table fail
// until the returned function is called.
func (e *env) failOn(table, kind string) func() {
	e.t.Helper()
	ctx := context.Background()
	name := "fail_" + strings.NewReplacer(".", "_").Replace(table) + "_" + strings.ToLower(kind)
	for _, q := range []string{
		"CREATE FUNCTION " + name + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$",
		"CREATE TRIGGER " + name + " BEFORE " + kind + " ON " + table + " FOR EACH ROW EXECUTE FUNCTION " + name + "()",
	} {
		if _, err := e.db.ExecContext(ctx, q); err != nil {
			e.t.Fatal(err)
		}
	}
	return func() {
		if _, err := e.db.ExecContext(ctx, "DROP TRIGGER "+name+" ON "+table); err != nil {
			e.t.Fatal(err)
		}
	}
}

// Update saves the change and writes its events in one transaction: a
// save that fails writes no outbox row, an outbox write that fails
// leaves the payment as it was, and only a whole success shows both.
func TestUpdateWritesEventsInTheSameTransaction(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, in := e.intent(5899)
	succeed := func(p *domain.Payment) error {
		_, err := p.Succeeded(domain.Report{EventID: "evt", Amount: 5899, Currency: "usd", Complete: true})
		return err
	}
	status := func() string {
		p, err := e.store.Get(ctx, app.Lookup{ID: in.PaymentID})
		if err != nil {
			t.Fatal(err)
		}
		return p.Status().String()
	}

	restore := e.failOn("payments.payments", "UPDATE")
	if err := e.store.Update(ctx, in.PaymentID, succeed); err == nil || !strings.Contains(err.Error(), "injected failure") {
		t.Fatalf("failing save: %v", err)
	}
	restore()
	if n := len(e.outbox(paymentsapi.EventPaymentSucceeded)); n != 0 || status() != "requires_payment" {
		t.Fatalf("a failed save left %d outbox rows, status %s", n, status())
	}

	restore = e.failOn("events.outbox", "INSERT")
	if err := e.store.Update(ctx, in.PaymentID, succeed); err == nil {
		t.Fatal("failing outbox write: no error")
	}
	restore()
	if status() != "requires_payment" {
		t.Fatalf("a failed outbox write kept the change: %s", status())
	}

	if err := e.store.Update(ctx, in.PaymentID, func(p *domain.Payment) error { _ = succeed(p); return errors.New("changed my mind") }); err == nil {
		t.Fatal("a failing fn was saved")
	}
	if status() != "requires_payment" || len(e.outbox(paymentsapi.EventPaymentSucceeded)) != 0 {
		t.Fatal("a failing fn wrote")
	}

	if err := e.store.Update(ctx, in.PaymentID, succeed); err != nil {
		t.Fatal(err)
	}
	evs := e.outbox(paymentsapi.EventPaymentSucceeded)
	if len(evs) != 1 || status() != "succeeded" {
		t.Fatalf("%d events, status %s", len(evs), status())
	}
	var got paymentsapi.PaymentEvent
	_ = json.Unmarshal(evs[0], &got)
	want := paymentsapi.PaymentEvent{PaymentID: in.PaymentID, OrderID: got.OrderID, Gateway: "test", IntentID: in.IntentID, Amount: 5899, Currency: "USD"}
	if got != want || got.OrderID == "" {
		t.Errorf("payload %+v, want %+v", got, want)
	}
	if _, err := e.store.Get(ctx, app.Lookup{ID: uuid.NewString()}); !errors.Is(err, paymentsapi.ErrNotFound) {
		t.Errorf("missing payment: %v", err)
	}
}

// The same webhook delivered ten times at once pays the order once.
func TestWebhookTenTimesPaysOnce(t *testing.T) {
	e := newEnv(t)
	oid, in := e.intent(5899)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- e.webhook("evt_once", "payment_intent.succeeded", oid, in.IntentID, 5899, "usd")
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if n := len(e.outbox(paymentsapi.EventPaymentSucceeded)); n != 1 {
		t.Errorf("%d payment_succeeded events", n)
	}
	if n := e.count("SELECT count(*) FROM payments.webhook_events WHERE event_id = 'evt_once' AND outcome = 'succeeded' AND payment_id = ?", in.PaymentID); n != 1 {
		t.Errorf("webhook log: %d", n)
	}
	// Another event id for the paid intent: recorded, no second effect.
	if err := e.webhook("evt_twice", "payment_intent.succeeded", oid, in.IntentID, 5899, "usd"); err != nil {
		t.Fatal(err)
	}
	if n := e.count("SELECT count(*) FROM payments.webhook_events WHERE event_id = 'evt_twice' AND outcome = 'already_succeeded'"); n != 1 || len(e.outbox(paymentsapi.EventPaymentSucceeded)) != 1 {
		t.Error("a second success was applied")
	}
	// A stale signature is refused by the injected clock.
	e.signAt = e.clock.Now()
	e.clock.Advance(10 * time.Minute)
	if err := e.webhook("evt_stale", "payment_intent.succeeded", oid, in.IntentID, 5899, "usd"); err == nil {
		t.Error("a webhook signed 10 minutes off the clock was accepted")
	}
}

func TestWebhookOutcomes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	oid, in := e.intent(5899)
	// An unknown intent, and an order's id with another intent.
	if err := e.webhook("evt_unknown", "payment_intent.succeeded", uuid.NewString(), "pi_nope", 1, "usd"); err != nil {
		t.Fatal(err)
	}
	if err := e.webhook("evt_other", "payment_intent.succeeded", oid, "pi_other", 5899, "usd"); err != nil {
		t.Fatal(err)
	}
	if n := e.count("SELECT count(*) FROM payments.webhook_events WHERE outcome = 'unknown_intent' AND payment_id IS NULL"); n != 2 {
		t.Errorf("unknown intents: %d", n)
	}
	// A mismatch, then the right money.
	if err := e.webhook("evt_mm", "payment_intent.succeeded", oid, in.IntentID, 100, "eur"); err != nil {
		t.Fatal(err)
	}
	mm := e.outbox(paymentsapi.EventPaymentAmountMismatch)
	var got paymentsapi.AmountMismatchEvent
	if len(mm) != 1 || json.Unmarshal(mm[0], &got) != nil || got.ReceivedAmount != 100 || got.ReceivedCurrency != "EUR" ||
		got.ExpectedAmount != 5899 || got.ExpectedCurrency != "USD" || got.ProviderEventID != "evt_mm" {
		t.Fatalf("mismatch events %s", mm)
	}
	if n := e.count("SELECT count(*) FROM payments.webhook_events WHERE event_id = 'evt_mm' AND outcome = 'amount_mismatch' AND amount = 100 AND currency = 'EUR'"); n != 1 {
		t.Error("mismatch not recorded")
	}
	if err := e.webhook("evt_fail", "payment_intent.payment_failed", oid, in.IntentID, 5899, "usd"); err != nil {
		t.Fatal(err)
	}
	if len(e.outbox(paymentsapi.EventPaymentFailed)) != 0 {
		t.Error("a failure after a mismatch was applied")
	}
	if err := e.webhook("evt_other_type", "charge.refunded", oid, in.IntentID, 5899, "usd"); err != nil {
		t.Fatal(err)
	}
	if err := e.webhook("evt_ok", "payment_intent.succeeded", oid, in.IntentID, 5899, "usd"); err != nil {
		t.Fatal(err)
	}
	p, err := e.store.Get(ctx, app.Lookup{OrderID: oid})
	if err != nil || p.Status() != domain.StatusSucceeded || p.Captured().Amount() != 5899 {
		t.Fatalf("%v %v", p, err)
	}
	if n := e.count("SELECT count(*) FROM payments.webhook_events WHERE outcome = 'ignored'"); n != 2 {
		t.Errorf("ignored: %d", n)
	}
}

// Refunds are idempotent by key, bounded by the capture under
// concurrency, and a provider failure is retried by Work.
func TestRefunds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	oid, _ := e.pay(5000)
	r1, err := e.svc.Refund(ctx, oid, 2000, "damaged", "key-1")
	if err != nil || r1.Status != "succeeded" || r1.TotalRefunded != 2000 || r1.CreatedAt.IsZero() {
		t.Fatalf("%+v %v", r1, err)
	}
	again, err := e.svc.Refund(ctx, oid, 2000, "damaged", "key-1")
	if err != nil || again.ID != r1.ID || again.TotalRefunded != 2000 || !again.CreatedAt.Equal(r1.CreatedAt) {
		t.Fatalf("retry: %+v %v", again, err)
	}
	if n := len(e.outbox(paymentsapi.EventRefundSucceeded)); n != 1 {
		t.Fatalf("%d refund events", n)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, tooLarge := 0, 0
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := e.svc.Refund(ctx, oid, 1000, "split", fmt.Sprintf("k%d", i))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.Is(err, paymentsapi.ErrRefundTooLarge):
				tooLarge++
			default:
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if ok != 3 || tooLarge != 3 {
		t.Fatalf("%d refunded, %d refused", ok, tooLarge)
	}
	if n := e.count("SELECT amount_refunded FROM payments.payments WHERE order_id = ?", oid); n != 5000 {
		t.Fatalf("refunded %d", n)
	}
	if _, err := e.svc.Refund(ctx, uuid.NewString(), 1, "", ""); !errors.Is(err, paymentsapi.ErrNotFound) {
		t.Errorf("no payment: %v", err)
	}

	// A provider failure marks the refund failed; a pending one left by a
	// crash is retried by Work once the clock says it is stuck.
	oid2, in2 := e.pay(3000)
	e.gw.failRefunds = true
	if _, err := e.svc.Refund(ctx, oid2, 1000, "x", "fails"); !errors.Is(err, paymentsapi.ErrGateway) {
		t.Fatalf("provider down: %v", err)
	}
	if n := e.count("SELECT count(*) FROM payments.refunds WHERE payment_id = ? AND status = 'failed'", in2.PaymentID); n != 1 {
		t.Fatal("failed refund not recorded")
	}
	if err := e.store.UpdateBy(ctx, app.Lookup{OrderID: oid2}, func(p *domain.Payment) error {
		_, err := p.Refund(uuid.NewString(), money.Must(3000, "USD"), "crashed")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	e.gw.failRefunds = false
	if err := e.svc.Work(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.count("SELECT count(*) FROM payments.refunds WHERE payment_id = ? AND status = 'pending'", in2.PaymentID); n != 1 {
		t.Fatal("a fresh pending refund was retried")
	}
	e.clock.Advance(2 * time.Minute)
	if err := e.svc.Work(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.count("SELECT amount_refunded FROM payments.payments WHERE id = ?", in2.PaymentID); n != 3000 {
		t.Fatalf("stuck refund not retried: refunded %d", n)
	}
}

// A cancel request made through a consumer's transaction commits with it
// (or not at all); Work then cancels at the provider.
func TestCancelThroughTheConsumerTransaction(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	oid, in := e.intent(100)
	rollback := errors.New("rollback")
	if err := e.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		if err := e.svc.CancelForOrder(ctx, e.store.WithTx(tx), oid); err != nil {
			return err
		}
		return rollback
	}); !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	if n := e.count("SELECT count(*) FROM payments.payments WHERE cancel_requested_at IS NOT NULL"); n != 0 {
		t.Fatal("a rolled back request was kept")
	}
	if err := e.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		return e.svc.CancelForOrder(ctx, e.store.WithTx(tx), oid)
	}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.RequestCancel(ctx, uuid.NewString()); err != nil {
		t.Errorf("an order without payment: %v", err)
	}
	if err := e.svc.Work(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := e.store.Get(ctx, app.Lookup{ID: in.PaymentID})
	if err != nil || p.Status() != domain.StatusCanceled {
		t.Fatalf("%v %v", p, err)
	}
	// The order's owner can no longer pay it with a test card.
	if _, err := e.svc.ConfirmTest(ctx, "", in.IntentID, app.CardSucceeds); !errors.Is(err, paymentsapi.ErrNotFound) {
		t.Errorf("not the owner: %v", err)
	}
}

func TestConfirmTestAndReads(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	user := uuid.NewString()
	oid := uuid.Must(uuid.NewV7()).String()
	in, err := e.svc.CreateIntent(ctx, oid, user, "test", 1250, "USD")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := e.svc.CreateIntent(ctx, oid, user, "test", 1250, "USD"); err != nil || again != in {
		t.Fatalf("repeat intent: %+v %v", again, err)
	}
	if _, err := e.svc.ConfirmTest(ctx, user, in.IntentID, "4000 0000 0000 0002"); !errors.Is(err, app.ErrCardDeclined) {
		t.Fatalf("declined: %v", err)
	}
	if st, err := e.svc.ConfirmTest(ctx, user, in.IntentID, "4242 4242 4242 4242"); err != nil || st != "succeeded" {
		t.Fatalf("pay: %s %v", st, err)
	}
	if st, err := e.svc.ConfirmTest(ctx, user, in.IntentID, "4242424242424242"); err != nil || st != "succeeded" {
		t.Fatalf("repeat: %s %v", st, err)
	}
	if _, err := e.svc.ConfirmTest(ctx, user, in.IntentID, "4000000000000002"); !errors.Is(err, app.ErrPaymentClosed) {
		t.Fatalf("closed: %v", err)
	}
	if _, err := e.svc.ConfirmTest(ctx, user, "pi_nope", "4242424242424242"); !errors.Is(err, paymentsapi.ErrNotFound) {
		t.Fatalf("unknown intent: %v", err)
	}

	list, next, err := e.svc.Payments(ctx, app.ListFilter{Status: "succeeded", Limit: 10})
	if err != nil || next != nil || len(list) != 1 || list[0].AmountCaptured != 1250 || list[0].Refunds == nil {
		t.Fatalf("list: %+v %v %v", list, next, err)
	}
	of, err := e.svc.OfOrders(ctx, user, false, []string{oid, "not-a-uuid"})
	if err != nil || of[oid] == nil || of[oid].Status != "succeeded" {
		t.Fatalf("of orders: %+v %v", of, err)
	}
	if of, _ := e.svc.OfOrders(ctx, uuid.NewString(), false, []string{oid}); len(of) != 0 {
		t.Error("another user's payment was shown")
	}
	sum, err := e.svc.ReviewSummary(ctx, 10)
	if err != nil || sum.Failed != 0 || sum.AmountMismatch != 0 || sum.Items == nil {
		t.Fatalf("summary: %+v %v", sum, err)
	}
}
