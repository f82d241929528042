package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/opencommerce/commerce/internal/cart/cartapi"
	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/ordering/internal/domain"
	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/otelx"
)

// PlaceOrderOps are the operations the place-order saga performs: each is
// idempotent per order id, so any engine may repeat one after a crash.
type PlaceOrderOps interface {
	ReserveStock(ctx context.Context, orderID string, lines []catalogapi.Line, until *time.Time) error
	ReleaseStock(ctx context.Context, orderID string) error
	ConsumeCheckout(ctx context.Context, sessionID, orderID, userID string) error
	AbortCheckout(ctx context.Context, orderID string) error
	CreateIntent(ctx context.Context, orderID, userID, gateway string, amount int64, currency string) (paymentsapi.Intent, error)
	CancelIntent(ctx context.Context, orderID string) error
	// CommitPlaced stores the order's placing → pending_payment move.
	CommitPlaced(ctx context.Context, o *domain.Order, deadlines []domain.Deadline) error
}

// Placement is the saga's working state: the order (in placing, already
// stored) and what the steps hand each other.
type Placement struct {
	Order     *domain.Order
	SessionID string
	// Expires is the pay-by time; the reservation outlives it by an hour.
	Expires   time.Time
	Deadlines []domain.Deadline
	Intent    paymentsapi.Intent
}

// SagaStep is one step of a saga and its compensation, as data: an
// engine (PostgresSagaEngine today, a workflow engine tomorrow) executes
// the declaration; the declaration knows nothing of the engine.
type SagaStep struct {
	// Name labels the step in the order's failure and timeline.
	Name string
	// Span names the step's span ("saga <Span>").
	Span string
	Do   func(ctx context.Context, ops PlaceOrderOps, p *Placement) error
	// CompensateSpan names the compensation's span.
	CompensateSpan string
	// Compensate undoes Do (nil: nothing to undo); it is idempotent and
	// may run when Do never ran (recovery does not know how far a crashed
	// saga went).
	Compensate func(ctx context.Context, ops PlaceOrderOps, orderID string) error
	// Uncertain says a failure may come after the step took effect (a
	// lost commit): the engine leaves the order to recovery instead of
	// compensating at once.
	Uncertain bool
}

// PlaceOrderSaga is the place-order saga: reserve stock → consume the
// checkout session → create the payment intent → commit the order as
// awaiting payment. On failure the done steps are compensated in reverse
// order and the order is marked failed.
var PlaceOrderSaga = []SagaStep{
	{Name: "reserve", Span: "reserve", CompensateSpan: "release",
		Do: func(ctx context.Context, ops PlaceOrderOps, p *Placement) error {
			lines := p.Order.Lines()
			cl := make([]catalogapi.Line, len(lines))
			for i, l := range lines {
				cl[i] = catalogapi.Line{ProductID: l.ProductID, Quantity: l.Quantity}
			}
			safety := p.Expires.Add(time.Hour) // the reservation outlives the order deadline, never the other way round
			return ops.ReserveStock(ctx, p.Order.ID(), cl, &safety)
		},
		Compensate: func(ctx context.Context, ops PlaceOrderOps, orderID string) error {
			return ops.ReleaseStock(ctx, orderID)
		}},
	{Name: "checkout", Span: "place", CompensateSpan: "abort checkout",
		Do: func(ctx context.Context, ops PlaceOrderOps, p *Placement) error {
			return ops.ConsumeCheckout(ctx, p.SessionID, p.Order.ID(), p.Order.UserID())
		},
		Compensate: func(ctx context.Context, ops PlaceOrderOps, orderID string) error {
			return ops.AbortCheckout(ctx, orderID)
		}},
	{Name: "payment_intent", Span: "create intent", CompensateSpan: "cancel intent",
		Do: func(ctx context.Context, ops PlaceOrderOps, p *Placement) (err error) {
			t := p.Order.Total()
			p.Intent, err = ops.CreateIntent(ctx, p.Order.ID(), p.Order.UserID(), p.Order.Gateway(), t.Amount(), t.Currency())
			return err
		},
		Compensate: func(ctx context.Context, ops PlaceOrderOps, orderID string) error {
			return ops.CancelIntent(ctx, orderID)
		}},
	{Name: "commit", Span: "commit", Uncertain: true,
		Do: func(ctx context.Context, ops PlaceOrderOps, p *Placement) error {
			h := domain.PaymentHandle{Gateway: p.Intent.Gateway, PaymentID: p.Intent.PaymentID, IntentID: p.Intent.IntentID, ClientSecret: p.Intent.ClientSecret}
			if err := p.Order.MarkPlaced(h, p.Expires, len(p.Order.Lines())); err != nil {
				return err
			}
			return ops.CommitPlaced(ctx, p.Order, p.Deadlines)
		}},
}

// remoteOps are the saga's operations over the neighbours' APIs and the
// order repository.
type remoteOps struct {
	catalog  catalogapi.Catalog
	cart     cartapi.Cart
	payments paymentsapi.Payments
	orders   Orders
}

func (r remoteOps) ReserveStock(ctx context.Context, orderID string, lines []catalogapi.Line, until *time.Time) error {
	return r.catalog.Reserve(ctx, orderID, lines, until)
}
func (r remoteOps) ReleaseStock(ctx context.Context, orderID string) error {
	return r.catalog.Release(ctx, orderID, "order not placed")
}
func (r remoteOps) ConsumeCheckout(ctx context.Context, sessionID, orderID, userID string) error {
	return r.cart.PlaceOrder(ctx, sessionID, orderID, userID)
}
func (r remoteOps) AbortCheckout(ctx context.Context, orderID string) error {
	return r.cart.AbortOrder(ctx, orderID)
}
func (r remoteOps) CreateIntent(ctx context.Context, orderID, userID, gateway string, amount int64, currency string) (paymentsapi.Intent, error) {
	return r.payments.CreateIntent(ctx, orderID, userID, gateway, amount, currency)
}
func (r remoteOps) CancelIntent(ctx context.Context, orderID string) error {
	return r.payments.RequestCancel(ctx, orderID)
}
func (r remoteOps) CommitPlaced(ctx context.Context, o *domain.Order, deadlines []domain.Deadline) error {
	return r.orders.CommitPlaced(ctx, o, deadlines)
}

// PostgresSagaEngine executes a saga declaration with its state in the
// order row: the order is stored placing before the first step, every
// remote step runs outside any transaction, a failure compensates the done
// steps in reverse order and marks the order failed, and Recover
// compensates orders a crash left placing.
type PostgresSagaEngine struct {
	orders Orders
	ops    PlaceOrderOps
	log    *slog.Logger
	inst   *instruments
}

// Run stores the new order and executes steps; it returns the cause of a
// failure after compensating.
func (e *PostgresSagaEngine) Run(ctx context.Context, steps []SagaStep, p *Placement) error {
	id := p.Order.ID()
	if err := e.orders.Create(ctx, p.Order); err != nil {
		return err
	}
	for i, st := range steps {
		err := sagaStep(ctx, st.Span, id, func(ctx context.Context) error { return st.Do(ctx, e.ops, p) })
		if err == nil {
			continue
		}
		if st.Uncertain {
			return err // the order stays placing; Recover compensates it
		}
		return e.fail(ctx, steps[:i+undone(err)], id, st.Name, err)
	}
	return nil
}

// undone is how many more steps than those that succeeded a failure
// leaves to compensate: 0 when the neighbour refused the step (a
// categorised answer such as insufficient stock: its transaction rolled
// back, nothing took effect), 1 when the outcome is unknown (the
// neighbour was killed after its commit but before answering, a timeout,
// a dropped connection): the failed step may have taken effect, and its
// compensation, idempotent and a no-op when Do never ran, undoes it. A
// reservation left behind by a failed order was the chaos run's finding.
func undone(err error) int {
	switch errs.KindOf(err) {
	case errs.Internal, errs.Unavailable:
		return 1
	}
	return 0
}

// fail compensates done (in reverse order), marks the order failed
// (freeing its checkout session) and returns the cause for the client.
func (e *PostgresSagaEngine) fail(ctx context.Context, done []SagaStep, id, at string, cause error) error {
	bg := context.WithoutCancel(ctx)
	if err := e.compensate(bg, done, id); err != nil {
		e.log.ErrorContext(ctx, "compensation failed; recovery will retry", "order_id", id, "err", err)
		return cause
	}
	if err := e.orders.Update(bg, id, func(o *domain.Order) error { return o.Fail(at, cause) }); err != nil {
		e.log.ErrorContext(ctx, "mark order failed", "order_id", id, "err", err)
	} else {
		e.inst.reached(ctx, string(domain.Failed))
	}
	return cause
}

// compensate undoes steps in reverse order.
func (e *PostgresSagaEngine) compensate(ctx context.Context, steps []SagaStep, id string) error {
	for i := len(steps) - 1; i >= 0; i-- {
		st := steps[i]
		if st.Compensate == nil {
			continue
		}
		if err := sagaStep(ctx, st.CompensateSpan, id, func(ctx context.Context) error { return st.Compensate(ctx, e.ops, id) }); err != nil {
			return fmt.Errorf("compensate %s of order %s: %w", st.Name, id, err)
		}
	}
	return nil
}

// Recover compensates orders whose saga stopped half-way (created before
// before and still placing): every step is undone idempotently and the
// order marked failed.
func (e *PostgresSagaEngine) Recover(ctx context.Context, steps []SagaStep, before time.Time) (int, error) {
	ids, err := e.orders.Placing(ctx, before, 50)
	if err != nil {
		return 0, fmt.Errorf("orders left placing: %w", err)
	}
	for _, id := range ids {
		if err := e.compensate(ctx, steps, id); err != nil {
			return 0, err
		}
		err := e.orders.Update(ctx, id, func(o *domain.Order) error { return o.Abandon() })
		if errors.Is(err, domain.ErrInvalidTransition) || errors.Is(err, domain.ErrNotFound) {
			continue // the saga finished meanwhile
		}
		if err != nil {
			return 0, fmt.Errorf("mark order %s failed: %w", id, err)
		}
		e.inst.reached(ctx, string(domain.Failed))
	}
	return len(ids), nil
}

// sagaStep runs one step (or compensation) of the place-order saga in an
// internal span "saga <step>" with the order id, when tracing is on.
func sagaStep(ctx context.Context, step, orderID string, fn func(ctx context.Context) error) error {
	if !otelx.Tracing() {
		return fn(ctx)
	}
	ctx, span := otelx.Tracer().Start(ctx, "saga "+step, trace.WithAttributes(attribute.String("commerce.order.id", orderID)))
	defer span.End()
	err := fn(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	return err
}
