package domain_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/payments/internal/domain"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/money"
)

const (
	payID   = "0192d0a0-0000-7000-8000-000000000001"
	orderID = "0192d0a0-0000-7000-8000-0000000000aa"
	userID  = "0192d0a0-0000-7000-8000-0000000000bb"
)

// Every pair of statuses is either allowed or refused, exactly as the
// webhook rules say: success wins over everything but itself, a failure
// only moves an unpaid intent, only an unpaid intent is canceled, a
// mismatch may be reported again, succeeded is final.
func TestTransitionTable(t *testing.T) {
	rp, ok, fa, ca, mm := domain.StatusRequiresPayment, domain.StatusSucceeded, domain.StatusFailed, domain.StatusCanceled, domain.StatusAmountMismatch
	allowed := map[[2]domain.Status]bool{
		{rp, ok}: true, {rp, fa}: true, {rp, ca}: true, {rp, mm}: true,
		{fa, ok}: true, {fa, mm}: true,
		{ca, ok}: true, {ca, mm}: true,
		{mm, ok}: true, {mm, mm}: true,
	}
	for _, from := range domain.Statuses {
		for _, to := range domain.Statuses {
			if got, want := from.CanBecome(to), allowed[[2]domain.Status{from, to}]; got != want {
				t.Errorf("%s → %s: allowed %v, want %v", from, to, got, want)
			}
		}
	}
	if domain.Status("bogus").CanBecome(rp) || rp.CanBecome("bogus") {
		t.Error("an unknown status takes part in a transition")
	}
	for _, s := range domain.Statuses {
		if got, err := domain.ParseStatus(string(s)); err != nil || got != s {
			t.Errorf("ParseStatus(%s) = %v, %v", s, got, err)
		}
	}
	if _, err := domain.ParseStatus("paid"); err == nil {
		t.Error("an unknown stored status was accepted")
	}
}

func newPayment(t *testing.T, amount int64) *domain.Payment {
	t.Helper()
	p, err := domain.NewPayment(payID, orderID, userID, "test", "pi_test_1", "secret", money.Must(amount, "USD"))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// restored builds a payment in any stored state, as the repository does.
func restored(t *testing.T, status domain.Status, captured, refunded int64, refunds ...domain.RefundState) *domain.Payment {
	t.Helper()
	p, err := domain.Restore(domain.State{ID: payID, OrderID: orderID, OwnerID: userID, Gateway: "test", IntentID: "pi_test_1",
		Amount: 5000, Captured: captured, Refunded: refunded, Currency: "USD", Status: string(status), Refunds: refunds})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func paid(t *testing.T, amount int64) *domain.Payment {
	t.Helper()
	p := newPayment(t, amount)
	if o, err := p.Succeeded(domain.Report{EventID: "evt_1", Amount: amount, Currency: "usd", Complete: true}); err != nil || o != domain.OutcomeSucceeded {
		t.Fatalf("pay: %v %v", o, err)
	}
	p.Events()
	return p
}

func TestNewPaymentValidates(t *testing.T) {
	usd := money.Must(100, "USD")
	for name, f := range map[string]func() (*domain.Payment, error){
		"no id":      func() (*domain.Payment, error) { return domain.NewPayment("", orderID, userID, "test", "pi", "s", usd) },
		"no order":   func() (*domain.Payment, error) { return domain.NewPayment(payID, "", userID, "test", "pi", "s", usd) },
		"no gateway": func() (*domain.Payment, error) { return domain.NewPayment(payID, orderID, userID, "", "pi", "s", usd) },
		"no intent": func() (*domain.Payment, error) {
			return domain.NewPayment(payID, orderID, userID, "test", "", "s", usd)
		},
		"no currency": func() (*domain.Payment, error) {
			return domain.NewPayment(payID, orderID, userID, "test", "pi", "s", money.Money{})
		},
		"negative amount": func() (*domain.Payment, error) {
			return domain.NewPayment(payID, orderID, userID, "test", "pi", "s", money.Must(-1, "USD"))
		},
	} {
		if _, err := f(); !errors.Is(err, domain.ErrInvalidPayment) || errs.KindOf(err) != errs.Invalid {
			t.Errorf("%s: %v", name, err)
		}
	}
	p := newPayment(t, 0) // a free order still has a payment
	if p.Status() != domain.StatusRequiresPayment || !p.Captured().IsZero() || !p.OwnedBy(userID) || p.OwnedBy("") {
		t.Errorf("new payment: %+v", p.State())
	}
	guest, _ := domain.NewPayment(payID, orderID, "guest", "test", "pi", "s", usd)
	if guest.OwnedBy("guest") || guest.State().OwnerID != "" {
		t.Error("a non-UUID owner was kept")
	}
}

func TestRestoreRefusesCorruptState(t *testing.T) {
	base := domain.State{ID: payID, OrderID: orderID, Gateway: "test", IntentID: "pi", Amount: 100, Currency: "USD", Status: "succeeded", Captured: 100}
	for name, mut := range map[string]func(*domain.State){
		"status":   func(s *domain.State) { s.Status = "paid" },
		"currency": func(s *domain.State) { s.Currency = "usd" },
		"refunded": func(s *domain.State) { s.Refunded = 101 },
		"refund":   func(s *domain.State) { s.Refunds = []domain.RefundState{{ID: "r", Amount: 1, Status: "lost"}} },
	} {
		s := base
		mut(&s)
		if _, err := domain.Restore(s); err == nil {
			t.Errorf("%s: corrupt state restored", name)
		}
	}
	p, err := domain.Restore(base)
	if err != nil || !reflect.DeepEqual(p.State(), base) {
		t.Errorf("round trip: %+v %v", p.State(), err)
	}
}

func TestSucceededCapturesAndPublishes(t *testing.T) {
	p := newPayment(t, 5899)
	o, err := p.Succeeded(domain.Report{EventID: "evt_1", Amount: 5899, Currency: "usd", Complete: true})
	if err != nil || o != domain.OutcomeSucceeded || p.Status() != domain.StatusSucceeded || p.Captured() != money.Must(5899, "USD") {
		t.Fatalf("%v %v %+v", o, err, p.State())
	}
	want := []domain.Event{{Type: paymentsapi.EventPaymentSucceeded, AggregateID: orderID, Payload: paymentsapi.PaymentEvent{
		PaymentID: payID, OrderID: orderID, Gateway: "test", IntentID: "pi_test_1", Amount: 5899, Currency: "USD"}}}
	if got := p.Events(); !reflect.DeepEqual(got, want) {
		t.Errorf("events %+v, want %+v", got, want)
	}
	if len(p.Events()) != 0 {
		t.Error("events are handed out twice")
	}
	// A replay changes nothing.
	if o, err := p.Succeeded(domain.Report{EventID: "evt_2", Amount: 1, Currency: "eur", Complete: true}); err != nil || o != domain.OutcomeAlreadySucceeded || len(p.Events()) != 0 {
		t.Errorf("repeat: %v %v", o, err)
	}
	// A failure after a success is ignored.
	if o, err := p.Failed(); err != nil || o != domain.OutcomeIgnored || p.Status() != domain.StatusSucceeded {
		t.Errorf("late failure: %v %v", o, err)
	}
}

// The mismatch path: any difference of amount or currency (or a report
// without them) captures nothing and records the expected and received
// money, the received currency upper-cased.
func TestAmountMismatch(t *testing.T) {
	for name, c := range map[string]struct {
		r        domain.Report
		wantAmt  int64
		wantCurr string
	}{
		"amount":      {domain.Report{EventID: "evt_m", Amount: 100, Currency: "usd", Complete: true}, 100, "USD"},
		"currency":    {domain.Report{EventID: "evt_m", Amount: 5899, Currency: "eur", Complete: true}, 5899, "EUR"},
		"no amount":   {domain.Report{EventID: "evt_m", Amount: -1, Currency: "usd"}, -1, "USD"},
		"no currency": {domain.Report{EventID: "evt_m", Amount: 5899}, 5899, ""},
	} {
		p := newPayment(t, 5899)
		o, err := p.Succeeded(c.r)
		if err != nil || o != domain.OutcomeAmountMismatch || p.Status() != domain.StatusAmountMismatch || !p.Captured().IsZero() {
			t.Errorf("%s: %v %v %+v", name, o, err, p.State())
			continue
		}
		want := []domain.Event{{Type: paymentsapi.EventPaymentAmountMismatch, AggregateID: orderID, Payload: paymentsapi.AmountMismatchEvent{
			PaymentID: payID, OrderID: orderID, Gateway: "test", IntentID: "pi_test_1", ProviderEventID: "evt_m",
			ExpectedAmount: 5899, ExpectedCurrency: "USD", ReceivedAmount: c.wantAmt, ReceivedCurrency: c.wantCurr}}}
		if got := p.Events(); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: events %+v, want %+v", name, got, want)
		}
		// A later correct report still pays.
		if o, err := p.Succeeded(domain.Report{EventID: "evt_ok", Amount: 5899, Currency: "USD", Complete: true}); err != nil || o != domain.OutcomeSucceeded {
			t.Errorf("%s: correct report after mismatch: %v %v", name, o, err)
		}
	}
}

func TestFailedOnlyMovesAnUnpaidIntent(t *testing.T) {
	p := newPayment(t, 100)
	if o, err := p.Failed(); err != nil || o != domain.OutcomeFailed || p.Status() != domain.StatusFailed {
		t.Fatalf("%v %v", o, err)
	}
	if evs := p.Events(); len(evs) != 1 || evs[0].Type != paymentsapi.EventPaymentFailed {
		t.Errorf("events %+v", evs)
	}
	if o, _ := p.Failed(); o != domain.OutcomeIgnored {
		t.Errorf("second failure: %v", o)
	}
	// A success after a failure wins.
	if o, err := p.Succeeded(domain.Report{Amount: 100, Currency: "usd", Complete: true}); err != nil || o != domain.OutcomeSucceeded {
		t.Errorf("success after failure: %v %v", o, err)
	}
	for _, s := range []domain.Status{domain.StatusCanceled, domain.StatusAmountMismatch} {
		if o, _ := restored(t, s, 0, 0).Failed(); o != domain.OutcomeIgnored {
			t.Errorf("failure after %s: %v", s, o)
		}
	}
}

func TestCancel(t *testing.T) {
	at := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	p := newPayment(t, 100)
	if p.CancelPending() || !p.RequestCancel(at) || !p.CancelPending() || p.RequestCancel(at.Add(time.Hour)) {
		t.Fatal("request cancel")
	}
	if got := p.State().CancelRequestedAt; got == nil || !got.Equal(at) {
		t.Errorf("the first request's time is kept: %v", got)
	}
	if !p.CanceledAtProvider(at) || p.Status() != domain.StatusCanceled || p.CancelPending() || p.CanceledAtProvider(at) {
		t.Errorf("canceled at provider: %+v", p.State())
	}
	if len(p.Events()) != 0 {
		t.Error("a cancel publishes nothing")
	}
	q := paid(t, 100)
	if q.RequestCancel(at) || q.CanceledAtProvider(at) || q.Status() != domain.StatusSucceeded {
		t.Error("a paid payment was canceled")
	}
}

func TestCardConfirmation(t *testing.T) {
	if already, err := newPayment(t, 100).CheckCardConfirmation(true); already || err != nil {
		t.Errorf("unpaid: %v %v", already, err)
	}
	if already, err := paid(t, 100).CheckCardConfirmation(true); !already || err != nil {
		t.Errorf("repeat: %v %v", already, err)
	}
	if _, err := paid(t, 100).CheckCardConfirmation(false); !errors.Is(err, domain.ErrPaymentClosed) {
		t.Errorf("decline after pay: %v", err)
	}
	if _, err := restored(t, domain.StatusCanceled, 0, 0).CheckCardConfirmation(true); !errors.Is(err, domain.ErrPaymentClosed) {
		t.Errorf("canceled: %v", err)
	}
	stripe, _ := domain.NewPayment(payID, orderID, userID, "stripe", "pi", "s", money.Must(1, "USD"))
	if _, err := stripe.CheckCardConfirmation(true); !errors.Is(err, domain.ErrNotTestPayment) {
		t.Errorf("stripe: %v", err)
	}
}

func usd(a int64) money.Money { return money.Must(a, "USD") }

// Refunds: partial then full succeed; anything past the captured amount
// (counting pending refunds, which may still succeed) is refused.
func TestRefundsNeverExceedCapture(t *testing.T) {
	p := paid(t, 5000)
	r1, err := p.Refund("r1", usd(2000), "damaged")
	if err != nil || r1.Status() != domain.RefundPending {
		t.Fatalf("partial: %v", err)
	}
	// Pending money is held: 3001 more would exceed.
	if _, err := p.Refund("r2", usd(3001), "more"); !errors.Is(err, paymentsapi.ErrRefundTooLarge) {
		t.Fatalf("over-refund with a pending one: %v", err)
	}
	if ok, err := p.RefundSucceeded("r1", "re_1"); !ok || err != nil {
		t.Fatalf("r1 succeeded: %v %v", ok, err)
	}
	if p.Refunded() != usd(2000) {
		t.Errorf("refunded %v", p.Refunded())
	}
	want := []domain.Event{{Type: paymentsapi.EventRefundSucceeded, AggregateID: orderID, Payload: paymentsapi.RefundEvent{
		RefundID: "r1", PaymentID: payID, OrderID: orderID, Amount: 2000, TotalRefunded: 2000, Captured: 5000, Currency: "USD", Reason: "damaged"}}}
	if got := p.Events(); !reflect.DeepEqual(got, want) {
		t.Errorf("events %+v, want %+v", got, want)
	}
	if ok, _ := p.RefundSucceeded("r1", "re_1"); ok || len(p.Events()) != 0 {
		t.Error("a finished refund succeeded twice")
	}
	// The rest, exactly: full.
	if _, err := p.Refund("r3", usd(3000), "rest"); err != nil {
		t.Fatalf("full: %v", err)
	}
	if ok, err := p.RefundSucceeded("r3", "re_3"); !ok || err != nil || p.Refunded() != usd(5000) {
		t.Fatalf("r3: %v %v %v", ok, err, p.Refunded())
	}
	if evs := p.Events(); len(evs) != 1 || evs[0].Payload.(paymentsapi.RefundEvent).TotalRefunded != 5000 {
		t.Errorf("events %+v", evs)
	}
	// Nothing is left.
	if _, err := p.Refund("r4", usd(1), "one more"); !errors.Is(err, paymentsapi.ErrRefundTooLarge) {
		t.Errorf("over-refund: %v", err)
	}
	// A retry of a known refund returns it, whatever it asks.
	if r, err := p.Refund("r1", usd(9999), "retry"); err != nil || r.ID() != "r1" || r.Amount() != usd(2000) || r.Status() != domain.RefundSucceeded {
		t.Errorf("retry: %v %v", r, err)
	}
	if len(p.Refunds()) != 2 || p.Held() != usd(5000) {
		t.Errorf("refunds %d, held %v", len(p.Refunds()), p.Held())
	}
}

func TestRefundFailedReleasesTheMoney(t *testing.T) {
	p := paid(t, 1000)
	if _, err := p.Refund("r1", usd(1000), "all"); err != nil {
		t.Fatal(err)
	}
	if !p.RefundFailed("r1") || p.RefundFailed("r1") || p.RefundFailed("nope") {
		t.Fatal("refund failed")
	}
	if !p.Held().IsZero() || len(p.Events()) != 0 {
		t.Errorf("held %v", p.Held())
	}
	if _, err := p.Refund("r2", usd(1000), "again"); err != nil {
		t.Errorf("after a failed refund the money is refundable: %v", err)
	}
	if ok, err := p.RefundSucceeded("r1", "x"); ok || err != nil {
		t.Errorf("a failed refund succeeded: %v %v", ok, err)
	}
	if _, err := p.RefundSucceeded("nope", "x"); !errors.Is(err, paymentsapi.ErrNotFound) {
		t.Errorf("unknown refund: %v", err)
	}
}

func TestRefundRefusals(t *testing.T) {
	for _, s := range []domain.Status{domain.StatusRequiresPayment, domain.StatusFailed, domain.StatusCanceled, domain.StatusAmountMismatch} {
		if _, err := restored(t, s, 0, 0).Refund("r", usd(1), ""); !errors.Is(err, paymentsapi.ErrNotCaptured) {
			t.Errorf("%s: %v", s, err)
		}
	}
	if _, err := paid(t, 0).Refund("r", usd(1), ""); !errors.Is(err, paymentsapi.ErrNotCaptured) {
		t.Errorf("nothing captured: %v", err)
	}
	p := paid(t, 100)
	for name, a := range map[string]money.Money{"zero": usd(0), "negative": usd(-5), "currency": money.Must(5, "EUR")} {
		if _, err := p.Refund("r", a, ""); !errors.Is(err, domain.ErrRefundAmount) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := p.Refund("", usd(1), ""); !errors.Is(err, domain.ErrInvalidPayment) {
		t.Errorf("no id: %v", err)
	}
	// Restored refunds count: held = pending + succeeded, failed ones not.
	q := restored(t, domain.StatusSucceeded, 5000, 1000,
		domain.RefundState{ID: "a", Amount: 1000, Status: "succeeded"},
		domain.RefundState{ID: "b", Amount: 3000, Status: "pending"},
		domain.RefundState{ID: "c", Amount: 4000, Status: "failed"})
	if _, err := q.Refund("d", usd(1001), ""); !errors.Is(err, paymentsapi.ErrRefundTooLarge) {
		t.Errorf("restored over-refund: %v", err)
	}
	if _, err := q.Refund("d", usd(1000), ""); err != nil {
		t.Errorf("restored exact rest: %v", err)
	}
}

func TestOutcomeCounted(t *testing.T) {
	for o, want := range map[domain.Outcome]bool{domain.OutcomeSucceeded: true, domain.OutcomeFailed: true, domain.OutcomeAmountMismatch: true,
		domain.OutcomeAlreadySucceeded: false, domain.OutcomeIgnored: false, domain.OutcomeUnknownIntent: false, "": false} {
		if o.Counted() != want {
			t.Errorf("%q counted %v", o, !want)
		}
	}
}
