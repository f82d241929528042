package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/opencommerce/commerce/internal/ordering/internal/domain"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/errs"
)

// The Temporal names of the order workflow: its type, its update (the
// placement's outcome), its query and its signals. They are part of the
// history of every running order: renaming one breaks in-flight orders.
const (
	PlaceOrderWorkflowName = "ordering.PlaceOrder"
	UpdatePlacement        = "placement"
	QueryState             = "state"
	SignalPaid             = "payment_succeeded"
	SignalPaymentFailed    = "payment_failed"
	SignalCancel           = "cancel"
	SignalRefund           = "refund"
)

// errTypeCategorised is the Temporal error type of a step's business
// failure (an *errs.Error that no retry changes: out of stock, checkout
// used); its details carry the category so the caller answers as the
// PostgreSQL engine does.
const errTypeCategorised = "commerce.categorised"

// PlaceOrderInput is the workflow's input: the new order (in placing) and
// what the steps need. Only data: it is stored in the workflow history.
type PlaceOrderInput struct {
	Order     domain.Snapshot
	SessionID string
	Expires   time.Time
	Deadlines []domain.Deadline
	// LateWindow is how long after expiry or cancel the workflow still
	// refunds a payment that arrives.
	LateWindow time.Duration
}

// StepData is what the steps hand each other through the workflow.
type StepData struct {
	Order     domain.Snapshot
	SessionID string
	Expires   time.Time
	Intent    paymentsapi.Intent
}

// PlacementResult is the answer of the placement update: the order awaits
// payment, or failed at Step with a categorised cause.
type PlacementResult struct {
	Failed bool
	Step   string
	Cause  CategorisedError
}

// CategorisedError is an *errs.Error as data (Kind 0, Internal, for an
// uncategorised failure, whose Detail is its message).
type CategorisedError struct {
	Kind   int
	Code   string
	Detail string
}

// err rebuilds the error the client gets.
func (c CategorisedError) err(orderID, step string) error {
	if c.Code == "" {
		return fmt.Errorf("place order %s: step %s: %s", orderID, step, c.Detail)
	}
	return &errs.Error{Kind: errs.Kind(c.Kind), Code: c.Code, Detail: c.Detail}
}

// SagaState is what the state query answers: where the order's saga is.
type SagaState struct {
	OrderID string
	// Phase: placing, pending_payment, paid, expired, canceled, failed,
	// done.
	Phase string
	// Step is the step running (or that failed) while placing.
	Step string
	// Compensated lists the compensations run, in order.
	Compensated []string
	// Reminders counts the reminders fired.
	Reminders int
	// Status is the order's status as last seen by an activity.
	Status string
	// LateRefund says a payment after expiry or cancel was refunded.
	LateRefund bool
}

// sagaActivities are the activities of the order workflow: each calls the
// app layer (the same saga declaration and operations the PostgreSQL
// engine runs) and is idempotent per order id, so Temporal may repeat one.
type sagaActivities struct {
	s   *Service
	ops PlaceOrderOps
}

// categorise turns a business failure into a non-retryable Temporal
// error carrying its category; transient failures stay retryable.
func categorise(err error) error {
	var e *errs.Error
	if err == nil || !errors.As(err, &e) || e.Kind == errs.Unavailable || e.Kind == errs.Internal {
		return err
	}
	return temporal.NewNonRetryableApplicationError(err.Error(), errTypeCategorised, nil,
		CategorisedError{Kind: int(e.Kind), Code: e.Code, Detail: e.Detail})
}

// CreateOrder stores the order in placing (a repeat of the same order id
// is a no-op).
func (a *sagaActivities) CreateOrder(ctx context.Context, in PlaceOrderInput) error {
	o, err := domain.Rehydrate(in.Order)
	if err != nil {
		return categorise(err)
	}
	err = a.s.orders.Create(ctx, o)
	if errors.Is(err, domain.ErrOrderExists) {
		if _, gerr := a.s.orders.Get(ctx, in.Order.ID); gerr == nil {
			return nil // this very order, stored by an earlier attempt
		}
	}
	return categorise(err)
}

// Step runs one step of PlaceOrderSaga by name.
func (a *sagaActivities) Step(ctx context.Context, name string, d StepData) (StepData, error) {
	st, ok := sagaStepNamed(name)
	if !ok {
		return d, temporal.NewNonRetryableApplicationError("unknown saga step "+name, "commerce.unknown_step", nil)
	}
	o, err := domain.Rehydrate(d.Order)
	if err != nil {
		return d, categorise(err)
	}
	p := &Placement{Order: o, SessionID: d.SessionID, Expires: d.Expires, Intent: d.Intent}
	err = sagaStep(ctx, st.Span, o.ID(), func(ctx context.Context) error { return st.Do(ctx, a.ops, p) })
	if err != nil && st.Uncertain {
		// A commit whose answer was lost: the order row says whether it
		// took effect.
		if cur, gerr := a.s.orders.Get(ctx, o.ID()); gerr == nil && cur.Status() != domain.Placing {
			err = nil
		}
	}
	if err != nil {
		return d, categorise(err)
	}
	d.Intent = p.Intent
	return d, nil
}

// Compensate runs the compensation of the step named.
func (a *sagaActivities) Compensate(ctx context.Context, name, orderID string) error {
	st, ok := sagaStepNamed(name)
	if !ok || st.Compensate == nil {
		return nil
	}
	return sagaStep(ctx, st.CompensateSpan, orderID, func(ctx context.Context) error { return st.Compensate(ctx, a.ops, orderID) })
}

// MarkFailed marks the order failed at step (its compensations done).
func (a *sagaActivities) MarkFailed(ctx context.Context, orderID, step, cause string) error {
	err := a.s.update(ctx, a.s.orders, orderID, func(o *domain.Order) error { return o.Fail(step, errors.New(cause)) })
	if errors.Is(err, domain.ErrInvalidTransition) || errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	return err
}

// Deadline applies a reminder or the expiry that came due, as
// FireDeadlines does for the PostgreSQL engine, and answers the order's
// status.
func (a *sagaActivities) Deadline(ctx context.Context, orderID string, d domain.Deadline) (string, error) {
	err := a.s.update(ctx, a.s.orders, orderID, func(o *domain.Order) error {
		var err error
		switch d.Kind {
		case domain.DeadlineExpire:
			err = o.Expire()
		case domain.DeadlineReminder:
			err = o.RemindPayment(d.Seq)
		}
		if errors.Is(err, domain.ErrInvalidTransition) {
			return nil // paid, canceled or gone meanwhile
		}
		return err
	})
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return "", err
	}
	return a.Status(ctx, orderID)
}

// errNotSettled says a payment's signal came before its transaction was
// visible: the activity is retried.
var errNotSettled = errors.New("payment signalled but the order still awaits it")

// Settle answers the order's status after a signal; a payment signal on
// an order still awaiting payment is retried a little (the signal may
// overtake the commit that sent it).
func (a *sagaActivities) Settle(ctx context.Context, orderID, signal string) (string, error) {
	st, err := a.Status(ctx, orderID)
	if err != nil {
		return "", err
	}
	if signal == SignalPaid && st == string(domain.PendingPayment) {
		return st, errNotSettled
	}
	return st, nil
}

// Status is the order's status ("failed" when not found: failed orders
// are hidden).
func (a *sagaActivities) Status(ctx context.Context, orderID string) (string, error) {
	o, err := a.s.orders.Get(ctx, orderID)
	if errors.Is(err, domain.ErrNotFound) {
		return string(domain.Failed), nil
	}
	if err != nil {
		return "", err
	}
	return string(o.Status()), nil
}

// CommitStock turns the paid order's reservation into a deduction
// (idempotent; catalog's order_paid consumer does the same).
func (a *sagaActivities) CommitStock(ctx context.Context, orderID string) error {
	err := a.s.catalog.Commit(ctx, orderID)
	var e *errs.Error
	if errors.As(err, &e) && e.Kind != errs.Unavailable && e.Kind != errs.Internal {
		a.s.log.WarnContext(ctx, "commit stock of paid order", "order_id", orderID, "err", err)
		return nil
	}
	return err
}

// RefundLate refunds a payment that arrived after the order expired or was
// canceled (the fixed key makes it once per order, whoever asks).
func (a *sagaActivities) RefundLate(ctx context.Context, orderID string) error {
	return a.s.refundLate(ctx, orderID)
}

// sagaStepNamed finds a step of PlaceOrderSaga.
func sagaStepNamed(name string) (SagaStep, bool) {
	for _, st := range PlaceOrderSaga {
		if st.Name == name {
			return st, true
		}
	}
	return SagaStep{}, false
}

// acts is the typed nil the workflow names activities by.
var acts *sagaActivities

// PlaceOrderWorkflow executes PlaceOrderSaga for one order (workflow id =
// order id): the steps as activities, the done steps compensated in
// reverse order on a failure; then the reminders and the expiry as
// durable timers, the payment, cancel and refund as signals, and the
// post-payment path (stock committed). The placement update answers once
// the order awaits payment or failed.
func PlaceOrderWorkflow(ctx workflow.Context, in PlaceOrderInput) (SagaState, error) {
	id := in.Order.ID
	st := SagaState{OrderID: id, Phase: "placing", Status: string(domain.Placing)}
	var placed bool
	var result PlacementResult
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (SagaState, error) { return st, nil }); err != nil {
		return st, err
	}
	if err := workflow.SetUpdateHandler(ctx, UpdatePlacement, func(ctx workflow.Context) (PlacementResult, error) {
		err := workflow.Await(ctx, func() bool { return placed })
		return result, err
	}); err != nil {
		return st, err
	}
	paid := workflow.GetSignalChannel(ctx, SignalPaid)
	failedPay := workflow.GetSignalChannel(ctx, SignalPaymentFailed)
	cancel := workflow.GetSignalChannel(ctx, SignalCancel)
	refund := workflow.GetSignalChannel(ctx, SignalRefund)

	// Steps retry transient failures a few times, then compensate;
	// compensations retry until they succeed (they are idempotent).
	stepCtx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 5 * time.Second, MaximumAttempts: 6}})
	durable := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 500 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: time.Minute}})
	settle := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: 2 * time.Second, MaximumAttempts: 8}})

	finish := func(step string, err error) (SagaState, error) {
		result = PlacementResult{Failed: true, Step: step, Cause: causeOf(err)}
		placed = true
		st.Phase, st.Status = "failed", string(domain.Failed)
		return st, nil
	}
	if err := workflow.ExecuteActivity(stepCtx, acts.CreateOrder, in).Get(ctx, nil); err != nil {
		return finish("create", err) // nothing to compensate
	}
	data := StepData{Order: in.Order, SessionID: in.SessionID, Expires: in.Expires}
	for i, step := range PlaceOrderSaga {
		st.Step = step.Name
		err := workflow.ExecuteActivity(stepCtx, acts.Step, step.Name, data).Get(ctx, &data)
		if err == nil {
			continue
		}
		// Compensate even when the request went away: a disconnected
		// context survives the workflow's cancellation.
		dctx, _ := workflow.NewDisconnectedContext(durable)
		// A step whose outcome is unknown is compensated too (undone).
		last := i - 1
		if c := causeOf(err); c.Code == "" || undone(&errs.Error{Kind: errs.Kind(c.Kind)}) == 1 {
			last = i
		}
		for j := last; j >= 0; j-- {
			done := PlaceOrderSaga[j]
			if done.Compensate == nil {
				continue
			}
			if cerr := workflow.ExecuteActivity(dctx, acts.Compensate, done.Name, id).Get(dctx, nil); cerr != nil {
				return st, fmt.Errorf("compensate %s of order %s: %w", done.Name, id, cerr)
			}
			st.Compensated = append(st.Compensated, done.Name)
		}
		if merr := workflow.ExecuteActivity(dctx, acts.MarkFailed, id, step.Name, causeOf(err).message()).Get(dctx, nil); merr != nil {
			return st, fmt.Errorf("mark order %s failed: %w", id, merr)
		}
		return finish(step.Name, err)
	}
	placed = true
	st.Phase, st.Step, st.Status = string(domain.PendingPayment), "", string(domain.PendingPayment)

	// Awaiting payment: the earliest deadline's timer against the signals.
	pending := append([]domain.Deadline(nil), in.Deadlines...)
	sort.SliceStable(pending, func(i, j int) bool { return pending[i].Due.Before(pending[j].Due) })
	for st.Status == string(domain.PendingPayment) {
		var fired *domain.Deadline
		var signal string
		tctx, stop := workflow.WithCancel(ctx)
		sel := workflow.NewSelector(ctx)
		if len(pending) > 0 {
			next := pending[0]
			wait := next.Due.Sub(workflow.Now(ctx))
			if wait < 0 {
				wait = 0
			}
			sel.AddFuture(workflow.NewTimer(tctx, wait), func(workflow.Future) { fired = &next })
		}
		for _, ch := range []workflow.ReceiveChannel{paid, failedPay, cancel, refund} { // a slice: the order is deterministic
			sel.AddReceive(ch, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); signal = c.Name() })
		}
		sel.Select(ctx)
		stop()
		var status string
		var err error
		switch {
		case fired != nil:
			pending = pending[1:]
			err = workflow.ExecuteActivity(durable, acts.Deadline, id, *fired).Get(ctx, &status)
			if err == nil && fired.Kind == domain.DeadlineReminder {
				st.Reminders++
			}
		case signal == SignalPaymentFailed || signal == SignalRefund:
			continue // the order still awaits payment (a refund needs one)
		default:
			err = workflow.ExecuteActivity(settle, acts.Settle, id, signal).Get(ctx, &status)
		}
		if err != nil {
			workflow.GetLogger(ctx).Warn("order workflow step", "order_id", id, "err", err)
			if status == "" {
				continue
			}
		}
		st.Status = status
	}

	switch domain.Status(st.Status) {
	case domain.Expired, domain.Canceled:
		st.Phase = st.Status
		// A payment may still arrive (a slow gateway, a customer paying a
		// dead order): refund it for a while.
		late := false
		tctx, stop := workflow.WithCancel(ctx)
		sel := workflow.NewSelector(ctx)
		sel.AddFuture(workflow.NewTimer(tctx, in.LateWindow), func(workflow.Future) {})
		sel.AddReceive(paid, func(c workflow.ReceiveChannel, _ bool) { c.Receive(ctx, nil); late = true })
		sel.Select(ctx)
		stop()
		if late {
			if err := workflow.ExecuteActivity(durable, acts.RefundLate, id).Get(ctx, nil); err != nil {
				return st, fmt.Errorf("refund late payment of order %s: %w", id, err)
			}
			st.LateRefund = true
		}
	case domain.Failed:
		st.Phase = "failed"
	default: // paid or later
		st.Phase = string(domain.Paid)
		// Version 1 added the post-payment path to the workflow: orders
		// started before it complete as they began.
		if v := workflow.GetVersion(ctx, "post-payment", workflow.DefaultVersion, 1); v >= 1 {
			if err := workflow.ExecuteActivity(durable, acts.CommitStock, id).Get(ctx, nil); err != nil {
				return st, fmt.Errorf("commit stock of order %s: %w", id, err)
			}
		}
	}
	st.Phase = "done"
	return st, nil
}

// causeOf reads the category back from a step's failure.
func causeOf(err error) CategorisedError {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && app.Type() == errTypeCategorised && app.HasDetails() {
		var c CategorisedError
		if app.Details(&c) == nil {
			return c
		}
	}
	if errors.As(err, &app) {
		return CategorisedError{Detail: app.Message()}
	}
	return CategorisedError{Detail: err.Error()}
}

// message is the cause as the order's failure records it.
func (c CategorisedError) message() string {
	if c.Code == "" {
		return c.Detail
	}
	return c.Code + ": " + c.Detail
}

// WorkflowInput is the order workflow's input for a placement; late is
// how long a payment after expiry or cancel is still refunded by it.
func WorkflowInput(p *Placement, late time.Duration) PlaceOrderInput {
	return PlaceOrderInput{Order: p.Order.Snapshot(), SessionID: p.SessionID, Expires: p.Expires, Deadlines: p.Deadlines, LateWindow: late}
}

// TemporalSagaEngine runs the place-order saga as a Temporal workflow per
// order: Place starts it (a second start of one order id is a no-op) and
// waits for the placement update; the worker executes it.
type TemporalSagaEngine struct {
	client client.Client
	queue  string
	late   time.Duration
	log    *slog.Logger
}

// Place starts the order's workflow and waits until the order awaits
// payment (nil) or failed (the cause, as the PostgreSQL engine returns it).
func (e *TemporalSagaEngine) Place(ctx context.Context, p *Placement) error {
	id := p.Order.ID()
	in := WorkflowInput(p, e.late)
	_, err := e.client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: e.queue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE}, PlaceOrderWorkflowName, in)
	if err != nil {
		return &errs.Error{Kind: errs.Unavailable, Code: "saga_unavailable", Detail: "the order could not be started; retry", Cause: err}
	}
	h, err := e.client.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateID: UpdatePlacement, UpdateName: UpdatePlacement,
		WaitForStage: client.WorkflowUpdateStageCompleted})
	if err != nil {
		return fmt.Errorf("await placement of order %s: %w", id, err)
	}
	var r PlacementResult
	if err := h.Get(ctx, &r); err != nil {
		return fmt.Errorf("placement of order %s: %w", id, err)
	}
	if r.Failed {
		return r.Cause.err(id, r.Step)
	}
	return nil
}

// Signal tells an order's workflow of a payment, cancel or refund. It is
// best-effort: the order row stays the truth (a lost signal only delays
// the workflow until its next timer), and orders of the PostgreSQL engine
// or finished workflows have nobody to tell.
func (e *TemporalSagaEngine) Signal(ctx context.Context, orderID, signal string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	err := e.client.SignalWorkflow(ctx, orderID, "", signal, nil)
	var nf *serviceerror.NotFound
	if err != nil && !errors.As(err, &nf) {
		e.log.WarnContext(ctx, "signal order workflow", "order_id", orderID, "signal", signal, "err", err)
	}
}

// State queries an order's workflow for its saga state.
func (e *TemporalSagaEngine) State(ctx context.Context, orderID string) (SagaState, error) {
	v, err := e.client.QueryWorkflow(ctx, orderID, "", QueryState)
	if err != nil {
		return SagaState{}, fmt.Errorf("query order %s workflow: %w", orderID, err)
	}
	var st SagaState
	if err := v.Get(&st); err != nil {
		return SagaState{}, fmt.Errorf("decode order %s saga state: %w", orderID, err)
	}
	return st, nil
}

// Registry is where the workflow and activities are registered: a
// worker.Worker, or the SDK's test environment.
type Registry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
	RegisterActivity(a any)
}

// Register registers the order workflow and its activities (over s) on a
// worker (or a test environment).
func Register(r Registry, s *Service) {
	r.RegisterWorkflowWithOptions(PlaceOrderWorkflow, workflow.RegisterOptions{Name: PlaceOrderWorkflowName})
	r.RegisterActivity(&sagaActivities{s: s, ops: s.saga.ops})
}

// UseTemporal makes the service place orders through Temporal (client c,
// task queue queue) instead of the PostgreSQL engine; the caller runs the
// worker (Register).
func (s *Service) UseTemporal(c client.Client, queue string) *TemporalSagaEngine {
	late := s.cfg.PaymentTimeout
	if late < time.Hour {
		late = time.Hour
	}
	s.temporal = &TemporalSagaEngine{client: c, queue: queue, late: late, log: s.log}
	return s.temporal
}

// Temporal is the Temporal engine when the service uses it (nil: the
// PostgreSQL engine).
func (s *Service) Temporal() *TemporalSagaEngine { return s.temporal }

// signal tells the order's workflow, when Temporal runs the saga.
func (s *Service) signal(ctx context.Context, orderID, signal string) {
	if s.temporal != nil {
		s.temporal.Signal(ctx, orderID, signal)
	}
}
