package app_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"

	"github.com/opencommerce/commerce/internal/ordering/internal/app"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/errs"
)

// Commit is the post-payment stock commit the workflow asks of catalog.
func (f fakeCatalog) Commit(context.Context, string) error { return f.c.do("commit") }

// wf runs the order workflow of one placement in the SDK's test
// environment (time skipping), over the env's real repositories and fakes.
type wf struct {
	*env
	ts  testsuite.WorkflowTestSuite
	tw  *testsuite.TestWorkflowEnvironment
	id  string
	in  app.PlaceOrderInput
	res *app.PlacementResult
	// at records when (offset from the start) each deadline activity ran.
	mu    sync.Mutex
	at    []time.Duration
	start time.Time
}

func newWF(t *testing.T) *wf {
	e := newEnv(t)
	w := &wf{env: e}
	w.tw = w.ts.NewTestWorkflowEnvironment()
	w.tw.SetWorkerOptions(worker.Options{})
	w.start = e.clock.Now()
	w.tw.SetStartTime(w.start)
	app.Register(w.tw, e.svc)
	p, err := e.svc.Placement(context.Background(), e.who, e.session())
	if err != nil {
		t.Fatal(err)
	}
	w.id, w.in = p.Order.ID(), app.WorkflowInput(p, 3*time.Hour)
	w.tw.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		if info.ActivityType.Name == "Deadline" {
			w.mu.Lock()
			w.at = append(w.at, w.tw.Now().Sub(w.start).Round(time.Second))
			w.mu.Unlock()
		}
	})
	// The placement update, as TemporalSagaEngine.Place asks it.
	w.tw.RegisterDelayedCallback(func() {
		w.tw.UpdateWorkflow(app.UpdatePlacement, "placement", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { t.Errorf("placement rejected: %v", err) },
			OnAccept:   func() {},
			OnComplete: func(v any, err error) { r := v.(app.PlacementResult); w.res = &r }})
	}, 0)
	return w
}

// at runs fn in the workflow's time, offset after the start.
func (w *wf) after(offset time.Duration, fn func()) { w.tw.RegisterDelayedCallback(fn, offset) }

// pay applies a payment event as the consumer does and signals it.
func (w *wf) pay() {
	w.consume(w.t, func(ctx context.Context, tx app.Orders) error {
		return w.svc.HandlePaymentEvent(ctx, tx, envelope(w.t, paymentsapi.EventPaymentSucceeded,
			paymentsapi.PaymentEvent{OrderID: w.id, IntentID: "pi-" + w.id, Amount: 2500, Currency: "USD"}))
	})
	w.tw.SignalWorkflow(app.SignalPaid, nil)
}

// run executes the workflow to its end and answers its final state.
func (w *wf) run() app.SagaState {
	w.t.Helper()
	w.tw.ExecuteWorkflow(app.PlaceOrderWorkflowName, w.in)
	if !w.tw.IsWorkflowCompleted() {
		w.t.Fatal("workflow not completed")
	}
	if err := w.tw.GetWorkflowError(); err != nil {
		w.t.Fatal(err)
	}
	var st app.SagaState
	if err := w.tw.GetWorkflowResult(&st); err != nil {
		w.t.Fatal(err)
	}
	return st
}

func TestWorkflowHappyPath(t *testing.T) {
	w := newWF(t)
	w.after(time.Minute, func() {
		if w.res == nil || w.res.Failed || w.status(w.id) != "pending_payment" {
			t.Errorf("placement %+v, status %s", w.res, w.status(w.id))
		}
		v, err := w.tw.QueryWorkflow(app.QueryState)
		var st app.SagaState
		if err != nil || v.Get(&st) != nil || st.Phase != "pending_payment" {
			t.Errorf("query: %+v %v", st, err)
		}
		w.pay()
	})
	st := w.run()
	if st.Status != "paid" || st.Phase != "done" || st.Reminders != 0 || len(st.Compensated) != 0 {
		t.Fatalf("state %+v", st)
	}
	if got := w.calls.got(); got != "reserve,place,create intent,commit" {
		t.Fatalf("calls %s", got)
	}
	if w.status(w.id) != "paid" || !strings.HasPrefix(w.timeline(w.id), "stock_reserved,checkout_consumed,payment_intent_created,placed") {
		t.Fatalf("%s %s", w.status(w.id), w.timeline(w.id))
	}
}

// Each step fails in turn: the done steps are compensated in reverse
// order, the order is failed and the placement answers the cause with its
// category; a transient failure is retried before it compensates.
func TestWorkflowCompensates(t *testing.T) {
	refused := errs.New(errs.Conflict, "refused", "the neighbour refused")
	for _, c := range []struct {
		fail  string
		err   error
		calls string
		comp  string
	}{
		{"reserve", refused, "reserve", ""},
		{"place", refused, "reserve,place,release", "reserve"},
		{"create intent", refused, "reserve,place,create intent,abort checkout,release", "checkout,reserve"},
		// Not a refusal: the intent may exist, so it is cancelled too.
		{"create intent", errors.New("payments down"), "reserve,place," + strings.Repeat("create intent,", 6) + "cancel intent,abort checkout,release", "payment_intent,checkout,reserve"},
	} {
		t.Run(c.fail, func(t *testing.T) {
			w := newWF(t)
			w.calls.fail[c.fail] = c.err
			st := w.run()
			if got := w.calls.got(); got != c.calls {
				t.Fatalf("calls %s, want %s", got, c.calls)
			}
			if st.Phase != "done" && st.Phase != "failed" || strings.Join(st.Compensated, ",") != c.comp || w.status(w.id) != "failed" {
				t.Fatalf("state %+v status %s", st, w.status(w.id))
			}
			if w.res == nil || !w.res.Failed {
				t.Fatalf("placement %+v", w.res)
			}
			if c.err == refused && w.res.Cause.Code != "refused" {
				t.Fatalf("cause %+v", w.res.Cause)
			}
			if w.outbox() != "" {
				t.Fatalf("outbox %s", w.outbox())
			}
		})
	}
}

// Unpaid, the order gets its reminder at 20m and expires at 1h (the env's
// ORDER_REMINDERS and ORDER_PAYMENT_TIMEOUT); a payment after the expiry
// is refunded.
func TestWorkflowExpiryAndLatePayment(t *testing.T) {
	w := newWF(t)
	w.after(90*time.Minute, func() {
		if w.status(w.id) != "expired" {
			t.Errorf("status at 90m: %s", w.status(w.id))
		}
		w.pay()
	})
	st := w.run()
	if st.Status != "expired" || st.Reminders != 1 || !st.LateRefund {
		t.Fatalf("state %+v", st)
	}
	if len(w.at) != 2 || w.at[0] != 20*time.Minute || w.at[1] != time.Hour {
		t.Fatalf("deadlines ran at %v", w.at)
	}
	if !strings.Contains(w.calls.got(), "refund") || strings.Contains(w.calls.got(), "commit") {
		t.Fatalf("calls %s", w.calls.got())
	}
	if !strings.Contains(w.timeline(w.id), "payment_reminder") || !strings.Contains(w.outbox(), "order_expired") {
		t.Fatalf("timeline %s outbox %s", w.timeline(w.id), w.outbox())
	}
}

// A cancel racing a payment: the order row decides (here the cancel), the
// workflow ends canceled and refunds the payment that lost.
func TestWorkflowCancelRacingPayment(t *testing.T) {
	w := newWF(t)
	w.after(10*time.Minute, func() {
		if _, err := w.svc.Cancel(context.Background(), w.who.UserID, w.id); err != nil {
			t.Errorf("cancel: %v", err)
		}
		w.tw.SignalWorkflow(app.SignalCancel, nil)
		w.pay()
	})
	st := w.run()
	if st.Status != "canceled" || !st.LateRefund || st.Reminders != 0 {
		t.Fatalf("state %+v", st)
	}
	if w.status(w.id) != "canceled" || !strings.Contains(w.calls.got(), "refund") || len(w.at) != 0 {
		t.Fatalf("status %s calls %s deadlines %v", w.status(w.id), w.calls.got(), w.at)
	}
}
