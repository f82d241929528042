package app

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/payments/internal/domain"
	"github.com/opencommerce/commerce/internal/payments/internal/gateway"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/clock"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/money"
)

// fakeRepo is an in-memory Repository: payments are kept in their stored
// form (so every Update restores, as a database would), InTx rolls back
// everything on error, and saveErr makes the next save fail.
type fakeRepo struct {
	mu       sync.Mutex
	payments map[string]domain.State
	outbox   []domain.Event
	received map[string]ProviderOutcome
	saveErr  error
	created  map[string]time.Time // refund id → created
	inTx     bool
}

func newFakeRepo() *fakeRepo {
	return &fakeRepo{payments: map[string]domain.State{}, received: map[string]ProviderOutcome{}, created: map[string]time.Time{}}
}

func (f *fakeRepo) find(by Lookup) (domain.State, bool) {
	if by.ID != "" {
		s, ok := f.payments[by.ID]
		return s, ok
	}
	for _, key := range []struct {
		v   string
		get func(domain.State) string
	}{{by.OrderID, func(s domain.State) string { return s.OrderID }}, {by.IntentID, func(s domain.State) string { return s.IntentID }}} {
		if key.v == "" {
			continue
		}
		for _, s := range f.payments {
			if key.get(s) == key.v {
				return s, true
			}
		}
	}
	return domain.State{}, false
}

func (f *fakeRepo) Create(_ context.Context, p *domain.Payment) (*domain.Payment, error) {
	f.lock()
	defer f.unlock()
	if s, ok := f.find(Lookup{OrderID: p.OrderID()}); ok {
		return domain.Restore(s)
	}
	f.payments[p.ID()] = p.State()
	return domain.Restore(p.State())
}

func (f *fakeRepo) Get(_ context.Context, by Lookup) (*domain.Payment, error) {
	f.lock()
	defer f.unlock()
	s, ok := f.find(by)
	if !ok {
		return nil, paymentsapi.ErrNotFound
	}
	return domain.Restore(s)
}

func (f *fakeRepo) Update(ctx context.Context, id string, fn func(*domain.Payment) error) error {
	return f.UpdateBy(ctx, Lookup{ID: id}, fn)
}

func (f *fakeRepo) UpdateBy(_ context.Context, by Lookup, fn func(*domain.Payment) error) error {
	f.lock()
	defer f.unlock()
	s, ok := f.find(by)
	if !ok {
		return paymentsapi.ErrNotFound
	}
	p, err := domain.Restore(s)
	if err != nil {
		return err
	}
	if err := fn(p); err != nil {
		return err
	}
	if f.saveErr != nil {
		err, f.saveErr = f.saveErr, nil
		return err
	}
	st := p.State()
	for i, r := range st.Refunds {
		if _, ok := f.created[r.ID]; !ok {
			f.created[r.ID] = time.Now()
		}
		st.Refunds[i].CreatedAt = f.created[r.ID]
	}
	f.payments[st.ID] = st
	f.outbox = append(f.outbox, p.Events()...)
	return nil
}

func (f *fakeRepo) PendingCancels(_ context.Context, limit int) ([]CancelJob, error) {
	f.lock()
	defer f.unlock()
	var out []CancelJob
	for _, s := range f.payments {
		if s.CancelRequestedAt != nil && s.ProviderCanceledAt == nil && s.Status == "requires_payment" && len(out) < limit {
			out = append(out, CancelJob{PaymentID: s.ID, Gateway: s.Gateway, IntentID: s.IntentID})
		}
	}
	return out, nil
}

func (f *fakeRepo) StuckRefunds(_ context.Context, before time.Time, limit int) ([]StuckRefund, error) {
	f.lock()
	defer f.unlock()
	var out []StuckRefund
	for _, s := range f.payments {
		for _, r := range s.Refunds {
			if r.Status == "pending" && f.created[r.ID].Before(before) && len(out) < limit {
				out = append(out, StuckRefund{PaymentID: s.ID, RefundID: r.ID})
			}
		}
	}
	return out, nil
}

func (f *fakeRepo) Receive(_ context.Context, gw, id, _ string) (bool, error) {
	if _, ok := f.received[gw+"/"+id]; ok {
		return false, nil
	}
	f.received[gw+"/"+id] = ProviderOutcome{}
	return true, nil
}

func (f *fakeRepo) Settle(_ context.Context, o ProviderOutcome) error {
	f.received[o.Gateway+"/"+o.EventID] = o
	return nil
}

// InTx runs fn under the lock with a copy of the state, put back on error.
func (f *fakeRepo) InTx(ctx context.Context, fn func(context.Context, Repository) error) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	saved := map[string]domain.State{}
	for k, v := range f.payments {
		saved[k] = v
	}
	rec := map[string]ProviderOutcome{}
	for k, v := range f.received {
		rec[k] = v
	}
	n := len(f.outbox)
	f.inTx = true
	err := fn(ctx, f)
	f.inTx = false
	if err != nil {
		f.payments, f.received, f.outbox = saved, rec, f.outbox[:n]
	}
	return err
}

func (f *fakeRepo) lock() {
	if !f.inTx {
		f.mu.Lock()
	}
}

func (f *fakeRepo) unlock() {
	if !f.inTx {
		f.mu.Unlock()
	}
}

// fakeGateway is the test gateway with failures on demand.
type fakeGateway struct {
	gateway.Test
	name                               string
	failIntent, failRefund, failCancel bool
	cancels                            int
}

func (g *fakeGateway) Name() string {
	if g.name != "" {
		return g.name
	}
	return "test"
}

func (g *fakeGateway) CreateIntent(ctx context.Context, amount int64, cur, orderID, key string) (string, string, error) {
	if g.failIntent {
		return "", "", errors.New("provider down")
	}
	return g.Test.CreateIntent(ctx, amount, cur, orderID, key)
}

func (g *fakeGateway) Refund(ctx context.Context, intentID string, amount int64, key string) (string, error) {
	if g.failRefund {
		return "", errors.New("provider down")
	}
	return g.Test.Refund(ctx, intentID, amount, key)
}

func (g *fakeGateway) CancelIntent(context.Context, string) error {
	g.cancels++
	if g.failCancel {
		return errors.New("provider down")
	}
	return nil
}

type fakeReads struct{ err error }

func (r fakeReads) Payments(context.Context, PaymentQuery) ([]Payment, *string, error) {
	return []Payment{}, nil, r.err
}
func (r fakeReads) ReviewSummary(context.Context, int) (paymentsapi.ReviewSummary, error) {
	return paymentsapi.ReviewSummary{}, r.err
}
func (r fakeReads) OfOrders(context.Context, string, bool, []string) (map[string]*Payment, error) {
	return map[string]*Payment{}, r.err
}

const secret = "whsec"

type fixture struct {
	t     *testing.T
	repo  *fakeRepo
	gw    *fakeGateway
	svc   *Service
	clock *clock.Fake
}

func newFixture(t *testing.T) *fixture {
	repo, gw := newFakeRepo(), &fakeGateway{Test: gateway.Test{Secret: secret}}
	fake := clock.NewFake(time.Now())
	svc := New(Deps{Repo: repo, Reads: fakeReads{}, Gateways: []gateway.Gateway{gw}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Clock: fake})
	return &fixture{t: t, repo: repo, gw: gw, svc: svc, clock: fake}
}

func (x *fixture) intent(amount int64) (string, paymentsapi.Intent) {
	x.t.Helper()
	oid := uuid.NewString()
	in, err := x.svc.CreateIntent(context.Background(), oid, "0192d0a0-0000-7000-8000-0000000000bb", "test", amount, "USD")
	if err != nil {
		x.t.Fatal(err)
	}
	return oid, in
}

func (x *fixture) webhook(id, typ, orderID, intentID string, amount int64, cur string) error {
	body, _ := json.Marshal(map[string]any{"id": id, "type": typ, "data": map[string]any{"object": map[string]any{
		"id": intentID, "amount_received": amount, "currency": cur, "metadata": map[string]string{"order_id": orderID}}}})
	return x.svc.HandleWebhook(context.Background(), "test", body, gateway.Header(secret, x.clock.Now().Unix(), body))
}

func (x *fixture) topics() []string {
	var out []string
	for _, e := range x.repo.outbox {
		out = append(out, e.Type)
	}
	return out
}

func TestCreateIntent(t *testing.T) {
	x := newFixture(t)
	ctx := context.Background()
	if _, err := x.svc.CreateIntent(ctx, uuid.NewString(), "", "stripe", 1, "USD"); !errors.Is(err, paymentsapi.ErrUnknownGateway) {
		t.Errorf("unknown gateway: %v", err)
	}
	if _, err := x.svc.CreateIntent(ctx, uuid.NewString(), "", "test", 1, "usd"); errs.KindOf(err) != errs.Invalid {
		t.Errorf("bad currency: %v", err)
	}
	x.gw.failIntent = true
	if _, err := x.svc.CreateIntent(ctx, uuid.NewString(), "", "test", 1, "USD"); !errors.Is(err, paymentsapi.ErrGateway) {
		t.Errorf("provider down: %v", err)
	}
	x.gw.failIntent = false
	oid, in := x.intent(100)
	if in.Status != "requires_payment" || in.ClientSecret == "" {
		t.Errorf("%+v", in)
	}
	again, err := x.svc.CreateIntent(ctx, oid, "", "test", 100, "USD")
	if err != nil || again.PaymentID != in.PaymentID || again.ClientSecret != in.ClientSecret {
		t.Errorf("repeat: %+v %v", again, err)
	}
	gws, _ := x.svc.Gateways(ctx)
	if len(gws) != 1 || gws[0].Name != "test" || !gws[0].Test {
		t.Errorf("gateways %+v", gws)
	}
}

func TestWebhookPath(t *testing.T) {
	x := newFixture(t)
	oid, in := x.intent(5899)
	if err := x.svc.HandleWebhook(context.Background(), "stripe", nil, ""); !errors.Is(err, ErrUnknownGateway) {
		t.Errorf("unknown gateway: %v", err)
	}
	if err := x.svc.HandleWebhook(context.Background(), "test", []byte("{}"), "t=1,v1=00"); errs.KindOf(err) != errs.BadRequest {
		t.Errorf("bad signature: %v", err)
	}
	for i := 0; i < 3; i++ {
		if err := x.webhook("evt_fail", "payment_intent.payment_failed", oid, in.IntentID, 5899, "usd"); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.webhook("evt_ok", "payment_intent.succeeded", oid, in.IntentID, 5899, "usd"); err != nil {
		t.Fatal(err)
	}
	if err := x.webhook("evt_unknown", "payment_intent.succeeded", "not-a-uuid", "pi_nope", 1, "usd"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(x.topics(), ","); got != paymentsapi.EventPaymentFailed+","+paymentsapi.EventPaymentSucceeded {
		t.Errorf("events %s", got)
	}
	if o := x.repo.received["test/evt_unknown"]; o.Outcome != "unknown_intent" || o.PaymentID != "" || *o.Amount != 1 || o.Currency != "USD" {
		t.Errorf("unknown intent recorded as %+v", o)
	}
	if o := x.repo.received["test/evt_ok"]; o.Outcome != "succeeded" || o.PaymentID != in.PaymentID {
		t.Errorf("success recorded as %+v", o)
	}
	// A failing save rolls the whole event back: it is not marked received
	// and the provider's retry applies it.
	oid2, in2 := x.intent(100)
	x.repo.saveErr = errors.New("disk full")
	if err := x.webhook("evt_retry", "payment_intent.succeeded", oid2, in2.IntentID, 100, "usd"); err == nil {
		t.Fatal("a failed save was acknowledged")
	}
	if _, ok := x.repo.received["test/evt_retry"]; ok || len(x.repo.outbox) != 2 {
		t.Fatal("a failed save left traces")
	}
	if err := x.webhook("evt_retry", "payment_intent.succeeded", oid2, in2.IntentID, 100, "usd"); err != nil || len(x.repo.outbox) != 3 {
		t.Fatalf("retry: %v", err)
	}
}

func TestConfirmTest(t *testing.T) {
	x := newFixture(t)
	ctx := context.Background()
	owner := "0192d0a0-0000-7000-8000-0000000000bb"
	_, in := x.intent(100)
	if _, err := x.svc.ConfirmTest(ctx, owner, in.IntentID, "1234"); !errors.Is(err, ErrTestCard) {
		t.Errorf("not a test card: %v", err)
	}
	if _, err := x.svc.ConfirmTest(ctx, "someone", in.IntentID, CardSucceeds); !errors.Is(err, paymentsapi.ErrNotFound) {
		t.Errorf("not the owner: %v", err)
	}
	if st, err := x.svc.ConfirmTest(ctx, owner, in.IntentID, "4000-0000-0000-9995"); st != "insufficient_funds" || !errors.Is(err, ErrInsufficientFunds) {
		t.Errorf("insufficient: %s %v", st, err)
	}
	if st, err := x.svc.ConfirmTest(ctx, owner, in.IntentID, CardSucceeds); st != "succeeded" || err != nil {
		t.Errorf("pay: %s %v", st, err)
	}
	if n := len(x.topics()); n != 2 {
		t.Errorf("%d events", n)
	}
	none := New(Deps{Repo: x.repo, Log: x.svc.log})
	if _, err := none.ConfirmTest(ctx, owner, in.IntentID, CardSucceeds); !errors.Is(err, ErrUnknownGateway) {
		t.Errorf("no test gateway: %v", err)
	}
}

func TestRefundFlow(t *testing.T) {
	x := newFixture(t)
	ctx := context.Background()
	if _, err := x.svc.Refund(ctx, uuid.NewString(), 0, "", ""); errs.KindOf(err) != errs.Invalid {
		t.Errorf("zero: %v", err)
	}
	oid, in := x.intent(1000)
	if _, err := x.svc.Refund(ctx, oid, 100, "", ""); !errors.Is(err, paymentsapi.ErrNotCaptured) {
		t.Errorf("unpaid: %v", err)
	}
	if err := x.webhook("evt_ok", "payment_intent.succeeded", oid, in.IntentID, 1000, "usd"); err != nil {
		t.Fatal(err)
	}
	x.gw.failRefund = true
	if _, err := x.svc.Refund(ctx, oid, 600, "r", "k"); !errors.Is(err, paymentsapi.ErrGateway) {
		t.Fatalf("provider down: %v", err)
	}
	// The failed refund holds nothing; its key answers its outcome.
	x.gw.failRefund = false
	if r, err := x.svc.Refund(ctx, oid, 600, "r", "k"); err != nil || r.Status != "failed" {
		t.Fatalf("retry of a failed refund: %+v %v", r, err)
	}
	r, err := x.svc.Refund(ctx, oid, 1000, "all", "k2")
	if err != nil || r.Status != "succeeded" || r.TotalRefunded != 1000 || r.CreatedAt.IsZero() {
		t.Fatalf("full: %+v %v", r, err)
	}
	if _, err := x.svc.Refund(ctx, oid, 1, "more", "k3"); !errors.Is(err, paymentsapi.ErrRefundTooLarge) {
		t.Errorf("over-refund: %v", err)
	}
	// A refund left pending (a crash between reserving it and calling the
	// provider) is retried by Work once the clock says it is stuck.
	oid2, in2 := x.intent(500)
	if err := x.webhook("evt_ok2", "payment_intent.succeeded", oid2, in2.IntentID, 500, "usd"); err != nil {
		t.Fatal(err)
	}
	if err := x.repo.UpdateBy(ctx, Lookup{OrderID: oid2}, func(p *domain.Payment) error {
		_, err := p.Refund("stuck", mustUSD(500), "crash")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := x.svc.Work(ctx); err != nil {
		t.Fatal(err)
	}
	x.clock.Advance(2 * time.Minute)
	if err := x.svc.Work(ctx); err != nil {
		t.Fatal(err)
	}
	p, _ := x.repo.Get(ctx, Lookup{ID: in2.PaymentID})
	if p.Refunded().Amount() != 500 {
		t.Errorf("stuck refund: refunded %v", p.Refunded())
	}
	var refunds int
	for _, ty := range x.topics() {
		if ty == paymentsapi.EventRefundSucceeded {
			refunds++
		}
	}
	if refunds != 2 {
		t.Errorf("%d refund events", refunds)
	}
}

func TestCancelAndWork(t *testing.T) {
	x := newFixture(t)
	ctx := context.Background()
	oid, in := x.intent(100)
	if err := x.svc.RequestCancel(ctx, uuid.NewString()); err != nil {
		t.Errorf("no payment: %v", err)
	}
	if err := x.svc.RequestCancel(ctx, oid); err != nil {
		t.Fatal(err)
	}
	x.gw.failCancel = true
	if err := x.svc.Work(ctx); err != nil || x.gw.cancels != 1 {
		t.Fatal(err)
	}
	if p, _ := x.repo.Get(ctx, Lookup{ID: in.PaymentID}); p.Status() != domain.StatusRequiresPayment {
		t.Fatal("canceled although the provider failed")
	}
	x.gw.failCancel = false
	if err := x.svc.Work(ctx); err != nil {
		t.Fatal(err)
	}
	if p, _ := x.repo.Get(ctx, Lookup{ID: in.PaymentID}); p.Status() != domain.StatusCanceled {
		t.Fatalf("not canceled: %s", p.Status())
	}
	if err := x.svc.Work(ctx); err != nil || x.gw.cancels != 2 {
		t.Errorf("canceled twice: %d", x.gw.cancels)
	}
	x.repo.saveErr = errors.New("disk full")
	oid2, _ := x.intent(100)
	if err := x.svc.RequestCancel(ctx, oid2); err == nil || !strings.Contains(err.Error(), oid2) {
		t.Errorf("a failed save is reported with its order: %v", err)
	}
}

func TestAdminValidation(t *testing.T) {
	x := newFixture(t)
	ctx := context.Background()
	if _, _, err := x.svc.Payments(ctx, ListFilter{Status: "paid", OrderID: "x", Limit: 10}); errs.KindOf(err) != errs.Invalid {
		t.Errorf("bad filter: %v", err)
	}
	if _, _, err := x.svc.Payments(ctx, ListFilter{Cursor: "!!", Limit: 10}); err == nil {
		t.Error("bad cursor accepted")
	}
	if list, _, err := x.svc.Payments(ctx, ListFilter{Status: "failed", OrderID: strings.ToUpper(uuid.NewString()), Limit: 10}); err != nil || list == nil {
		t.Errorf("list: %v", err)
	}
	for _, l := range []int{0, 101} {
		if _, err := x.svc.ReviewSummary(ctx, l); errs.KindOf(err) != errs.Invalid {
			t.Errorf("limit %d: %v", l, err)
		}
	}
	if _, err := x.svc.ReviewSummary(ctx, 5); err != nil {
		t.Error(err)
	}
	if m, err := x.svc.OfOrders(ctx, "", true, []string{"nope"}); err != nil || len(m) != 0 {
		t.Errorf("no valid ids: %v", err)
	}
	failing := New(Deps{Repo: x.repo, Reads: fakeReads{err: errors.New("db down")}, Log: x.svc.log})
	if _, _, err := failing.Payments(ctx, ListFilter{Limit: 1}); err == nil {
		t.Error("read error lost")
	}
	if _, err := failing.ReviewSummary(ctx, 1); err == nil {
		t.Error("read error lost")
	}
	if _, err := failing.OfOrders(ctx, "", true, []string{uuid.NewString()}); err == nil {
		t.Error("read error lost")
	}
}

func mustUSD(a int64) money.Money { return money.Must(a, "USD") }
