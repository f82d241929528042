package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/catalog/internal/adapters"
	"github.com/opencommerce/commerce/internal/catalog/internal/domain"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/events"
)

// Reserve implements catalogapi.Catalog. In one transaction: a per-order
// advisory lock (idempotency), the stock rows locked in product-id order
// (no deadlocks between concurrent multi-line orders), every line checked,
// then all lines reserved — or, if any line is short, nothing at all.
func (s *Service) Reserve(ctx context.Context, orderID string, lines []catalogapi.Line, expiresAt *time.Time) error {
	if !validID(orderID) {
		return errs.Validation(errs.Field("order_id", "must be a UUID"))
	}
	in := make([]domain.Line, len(lines))
	for i, l := range lines {
		in[i] = domain.Line{ProductID: l.ProductID, Quantity: l.Quantity}
	}
	norm, err := domain.NormalizeLines(in, validID)
	if err != nil {
		return err
	}
	ids := make([]string, len(norm))
	qty := make([]int, len(norm))
	for i, l := range norm {
		ids[i], qty[i] = l.ProductID, l.Quantity
	}
	changed := false
	for attempt := 0; ; attempt++ {
		changed = false
		err = s.reserveOnce(ctx, orderID, norm, ids, qty, expiresAt, &changed)
		// Two concurrent calls for one order: the loser hits the
		// reservations key; run again to answer like a repeat.
		if attempt == 0 && adapters.IsUniqueViolation(err) {
			continue
		}
		break
	}
	if err == nil && changed {
		s.invalidate(ctx, ids...)
	}
	s.inst.reserved(ctx, err, changed)
	return err
}

func (s *Service) reserveOnce(ctx context.Context, orderID string, norm []domain.Line, ids []string, qty []int, expiresAt *time.Time, changed *bool) error {
	return s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		existing, err := s.store.Reservation(ctx, tx, orderID)
		if err != nil {
			return err
		}
		if len(existing) > 0 {
			return sameReservation(existing, norm)
		}
		locked, err := s.store.LockStock(ctx, tx, ids)
		if err != nil {
			return err
		}
		byID := make(map[string]adapters.StockRow, len(locked))
		for _, r := range locked {
			byID[r.ProductID] = r
		}
		var short []errs.FieldError
		moves := make([]adapters.Movement, len(norm))
		for i, l := range norm {
			r, ok := byID[l.ProductID]
			switch {
			case !ok:
				short = append(short, errs.Field(l.ProductID, "no such product"))
			case r.Status != catalogapi.StatusActive:
				short = append(short, errs.Field(l.ProductID, "product is archived"))
			case r.OnHand-r.Reserved < l.Quantity:
				short = append(short, errs.Field(l.ProductID, fmt.Sprintf("only %d available, %d requested", r.OnHand-r.Reserved, l.Quantity)))
			}
			moves[i] = adapters.Movement{ProductID: l.ProductID, DeltaReserved: l.Quantity}
		}
		if len(short) > 0 {
			e := *catalogapi.ErrInsufficientStock
			e.Fields = short
			return &e
		}
		after, err := s.store.ReserveLines(ctx, tx, orderID, ids, qty, expiresAt)
		if err != nil {
			return err
		}
		evs, err := stockEvents("reserve", "order reservation", orderID, moves, after)
		if err != nil {
			return err
		}
		*changed = true
		return s.outbox.Publish(ctx, tx, evs...)
	})
}

// sameReservation makes a repeated Reserve a no-op when it asks for what
// the order already holds, and an error otherwise.
func sameReservation(existing []adapters.ReservationRow, want []domain.Line) error {
	if len(existing) != len(want) {
		return catalogapi.ErrReservationDiffer
	}
	for i := range existing {
		if existing[i].ProductID != want[i].ProductID || existing[i].Quantity != want[i].Quantity {
			return catalogapi.ErrReservationDiffer
		}
	}
	if existing[0].Status == "released" {
		return catalogapi.ErrReservationClosed
	}
	return nil
}

// Release implements catalogapi.Catalog: reserved stock of the order goes
// back to available. Unknown, released or committed orders are no-ops.
func (s *Service) Release(ctx context.Context, orderID, reason string) error {
	if reason == "" {
		reason = "order released"
	}
	return s.settle(ctx, orderID, "release", reason, func(q int) adapters.Movement {
		return adapters.Movement{DeltaReserved: -q}
	})
}

// Commit implements catalogapi.Catalog: the order's reservation becomes a
// deduction of on-hand stock (the goods are sold). Repeating it is a no-op;
// committing a released reservation is ErrReservationClosed.
func (s *Service) Commit(ctx context.Context, orderID string) error {
	return s.settle(ctx, orderID, "commit", "order paid", func(q int) adapters.Movement {
		return adapters.Movement{DeltaOnHand: -q, DeltaReserved: -q}
	})
}

func (s *Service) settle(ctx context.Context, orderID, kind, reason string, move func(q int) adapters.Movement) error {
	if !validID(orderID) {
		return errs.Validation(errs.Field("order_id", "must be a UUID"))
	}
	var ids []string
	err := s.db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error {
		var err error
		ids, err = s.settleIn(ctx, tx, orderID, kind, reason, move)
		return err
	})
	if err == nil && len(ids) > 0 {
		s.invalidate(ctx, ids...)
	}
	return err
}

// settleIn releases or commits the order's reservation inside tx and
// returns the products it touched (for cache invalidation after commit).
func (s *Service) settleIn(ctx context.Context, tx bun.Tx, orderID, kind, reason string, move func(q int) adapters.Movement) ([]string, error) {
	if err := s.store.LockOrder(ctx, tx, orderID); err != nil {
		return nil, err
	}
	res, err := s.store.Reservation(ctx, tx, orderID)
	if err != nil {
		return nil, err
	}
	if len(res) == 0 {
		if kind == "commit" {
			return nil, catalogapi.ErrNoReservation
		}
		return nil, nil
	}
	switch status := res[0].Status; {
	case status == "reserved":
	case kind == "commit" && status == "released":
		return nil, catalogapi.ErrReservationClosed
	default:
		return nil, nil // already in a final state: idempotent
	}
	ids := make([]string, 0, len(res))
	moves := make([]adapters.Movement, len(res))
	for i, r := range res {
		ids = append(ids, r.ProductID)
		moves[i] = move(r.Quantity)
		moves[i].ProductID = r.ProductID
	}
	if _, err := s.store.LockStock(ctx, tx, ids); err != nil {
		return nil, err
	}
	after, err := s.store.Move(ctx, tx, kind, reason, orderID, moves)
	if err != nil {
		return nil, err
	}
	status := map[string]string{"release": "released", "commit": "committed"}[kind]
	if err := s.store.SetReservationStatus(ctx, tx, orderID, status); err != nil {
		return nil, err
	}
	evs, err := stockEvents(kind, reason, orderID, moves, after)
	if err != nil {
		return nil, err
	}
	s.inst.settled(ctx, status)
	return ids, s.outbox.Publish(ctx, tx, evs...)
}

// HandleOrderEvent settles reservations from ordering's events, inside the
// consumer's transaction: paid → commit (stock deducted once), expired or
// canceled → release.
func (s *Service) HandleOrderEvent(ctx context.Context, tx bun.Tx, e events.Envelope) error {
	var p orderingapi.OrderEvent
	if err := e.Decode(&p); err != nil {
		return err
	}
	if !validID(p.OrderID) {
		return nil
	}
	var err error
	switch e.Type {
	case orderingapi.EventOrderPaid:
		_, err = s.settleIn(ctx, tx, p.OrderID, "commit", "order paid", func(q int) adapters.Movement {
			return adapters.Movement{DeltaOnHand: -q, DeltaReserved: -q}
		})
		if errors.Is(err, catalogapi.ErrReservationClosed) || errors.Is(err, catalogapi.ErrNoReservation) {
			s.log.ErrorContext(ctx, "paid order has no open reservation", "order_id", p.OrderID, "err", err)
			return nil
		}
	case orderingapi.EventOrderExpired, orderingapi.EventOrderCanceled:
		_, err = s.settleIn(ctx, tx, p.OrderID, "release", strings.TrimPrefix(e.Type, "ordering."), func(q int) adapters.Movement {
			return adapters.Movement{DeltaReserved: -q}
		})
	}
	return err
}

// AfterOrderEvent drops cached products of the order once its settlement
// committed.
func (s *Service) AfterOrderEvent(ctx context.Context, e events.Envelope) {
	var p orderingapi.OrderEvent
	if e.Decode(&p) != nil || !validID(p.OrderID) {
		return
	}
	res, err := s.store.Reservation(ctx, s.db, p.OrderID)
	if err != nil {
		return
	}
	ids := make([]string, len(res))
	for i, r := range res {
		ids[i] = r.ProductID
	}
	s.invalidate(ctx, ids...)
}

// SweepExpired releases reservations whose expiry passed and returns how
// many orders it released.
func (s *Service) SweepExpired(ctx context.Context) (int, error) {
	orders, err := s.store.ExpiredOrders(ctx, s.db, 100)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, o := range orders {
		if err := s.Release(ctx, o, "reservation expired"); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
