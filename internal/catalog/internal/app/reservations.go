package app

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/opencommerce/commerce/internal/catalog/catalogapi"
	"github.com/opencommerce/commerce/internal/catalog/internal/domain"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/platform/errs"
	"github.com/opencommerce/commerce/internal/platform/events"
)

// Reserve implements catalogapi.Catalog. In one transaction (shared with
// concurrent calls, reservebatch.go): the stock rows locked in product-id
// order (no deadlocks between concurrent multi-line orders), the order's
// existing reservation checked (a repeat is a no-op), every line checked,
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
	req := &reserveReq{ctx: ctx, orderID: orderID, norm: norm, ids: ids, qty: qty, expiresAt: expiresAt, done: make(chan reserveResult, 1)}
	s.reservations.enqueue(s, req)
	// The result is awaited even if ctx ends: the reservation may already
	// be committing in a shared transaction, and a caller told nothing
	// would compensate before the commit landed (its Release a no-op).
	r := <-req.done
	if r.err == nil && r.changed {
		s.invalidate(ctx, ids...)
	}
	s.inst.reserved(ctx, r.err, r.changed)
	return r.err
}

// reserveAlone is one order's reservation in a transaction of its own;
// changed says it reserved (not a repeat).
func (s *Service) reserveAlone(ctx context.Context, orderID string, norm []domain.Line, ids []string, qty []int, expiresAt *time.Time) (bool, error) {
	changed, err := s.reserveOnce(ctx, orderID, norm, ids, qty, expiresAt)
	// Two concurrent calls for one order: the loser hits the reservations
	// key; run again to answer like a repeat.
	if errors.Is(err, ErrDuplicate) {
		changed, err = s.reserveOnce(ctx, orderID, norm, ids, qty, expiresAt)
	}
	return changed, err
}

func (s *Service) reserveOnce(ctx context.Context, orderID string, norm []domain.Line, ids []string, qty []int, expiresAt *time.Time) (bool, error) {
	req := []*reserveReq{{orderID: orderID, norm: norm, ids: ids, qty: qty, expiresAt: expiresAt}}
	changed := false
	err := s.store.InTx(ctx, func(ctx context.Context, r Repos) error {
		stock, err := lockedStock(ctx, r, ids)
		if err != nil {
			return err
		}
		res, evs, err := reserveAll(ctx, r, req, stock)
		if err != nil {
			return err
		}
		if res[0].err != nil || !res[0].changed {
			return res[0].err
		}
		changed = true
		return r.Publish(ctx, evs...)
	})
	return changed && err == nil, err
}

// lockedStock locks the stock rows of ids (product-id order) and returns
// them by product id.
func lockedStock(ctx context.Context, r Repos, ids []string) (map[string]StockRecord, error) {
	locked, err := r.LockStock(ctx, ids)
	if err != nil {
		return nil, err
	}
	stock := make(map[string]StockRecord, len(locked))
	for _, l := range locked {
		stock[l.ProductID] = l
	}
	return stock, nil
}

// reserveAll reserves the orders of reqs (distinct orders) in r's
// transaction, whose stock rows (locked, by product id) are in stock, in
// a fixed number of statements however many orders there are: their
// existing reservations in one query, then every accepted order in one
// write (ReserveOrders). Each order is checked in turn against the stock
// the orders before it left (stock is updated in place) and answered in
// its result: a repeat like sameReservation (unchanged, no events), a
// short line ErrInsufficientStock (nothing of that order written),
// otherwise reserved (changed) with its stock events among evs, whose
// positions are the ones after that order. An error is the transaction's
// (nothing may be committed).
func reserveAll(ctx context.Context, r Repos, reqs []*reserveReq, stock map[string]StockRecord) (results []reserveResult, evs []events.Envelope, err error) {
	orderIDs := make([]string, len(reqs))
	for i, q := range reqs {
		orderIDs[i] = q.orderID
	}
	existing, err := r.Reservations(ctx, orderIDs)
	if err != nil {
		return nil, nil, err
	}
	results = make([]reserveResult, len(reqs))
	accepted := make([]OrderReservation, 0, len(reqs))
	for i, q := range reqs {
		if ex := existing[q.orderID]; len(ex) > 0 {
			results[i].err = sameReservation(ex, q.norm)
			continue
		}
		var short []errs.FieldError
		for _, l := range q.norm {
			st, ok := stock[l.ProductID]
			switch {
			case !ok:
				short = append(short, errs.Field(l.ProductID, "no such product"))
			case st.Status != catalogapi.StatusActive:
				short = append(short, errs.Field(l.ProductID, "product is archived"))
			case st.OnHand-st.Reserved < l.Quantity:
				short = append(short, errs.Field(l.ProductID, fmt.Sprintf("only %d available, %d requested", st.OnHand-st.Reserved, l.Quantity)))
			}
		}
		if len(short) > 0 {
			e := *catalogapi.ErrInsufficientStock
			e.Fields = short
			results[i].err = &e
			continue
		}
		moves := make([]Movement, len(q.norm))
		after := make(map[string]StockRecord, len(q.norm))
		for j, l := range q.norm {
			st := stock[l.ProductID]
			st.Reserved += l.Quantity
			stock[l.ProductID] = st
			after[l.ProductID] = st
			moves[j] = Movement{ProductID: l.ProductID, DeltaReserved: l.Quantity}
		}
		ev, err := stockEvents("reserve", "order reservation", q.orderID, moves, after)
		if err != nil {
			return nil, nil, fmt.Errorf("reserve order %s: %w", q.orderID, err)
		}
		evs = append(evs, ev...)
		accepted = append(accepted, OrderReservation{OrderID: q.orderID, ProductIDs: q.ids, Quantities: q.qty, ExpiresAt: q.expiresAt})
		results[i].changed = true
	}
	if len(accepted) > 0 {
		if err := r.ReserveOrders(ctx, accepted); err != nil {
			return nil, nil, err
		}
	}
	return results, evs, nil
}

// sameReservation makes a repeated Reserve a no-op when it asks for what
// the order already holds, and an error otherwise.
func sameReservation(existing []ReservationRecord, want []domain.Line) error {
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
	return s.settle(ctx, orderID, "release", reason, func(q int) Movement {
		return Movement{DeltaReserved: -q}
	})
}

// Commit implements catalogapi.Catalog: the order's reservation becomes a
// deduction of on-hand stock (the goods are sold). Repeating it is a no-op;
// committing a released reservation is ErrReservationClosed.
func (s *Service) Commit(ctx context.Context, orderID string) error {
	return s.settle(ctx, orderID, "commit", "order paid", func(q int) Movement {
		return Movement{DeltaOnHand: -q, DeltaReserved: -q}
	})
}

func (s *Service) settle(ctx context.Context, orderID, kind, reason string, move func(q int) Movement) error {
	if !validID(orderID) {
		return errs.Validation(errs.Field("order_id", "must be a UUID"))
	}
	var ids []string
	err := s.store.InTx(ctx, func(ctx context.Context, r Repos) error {
		var err error
		ids, err = s.settleIn(ctx, r, orderID, kind, reason, move)
		return err
	})
	if err == nil && len(ids) > 0 {
		s.invalidate(ctx, ids...)
	}
	return err
}

// settleIn releases or commits the order's reservation through r (bound to
// a transaction) and
// returns the products it touched (for cache invalidation after commit).
func (s *Service) settleIn(ctx context.Context, r Repos, orderID, kind, reason string, move func(q int) Movement) ([]string, error) {
	if err := r.LockOrder(ctx, orderID); err != nil {
		return nil, err
	}
	res, err := r.Reservation(ctx, orderID)
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
	moves := make([]Movement, len(res))
	for i, line := range res {
		ids = append(ids, line.ProductID)
		moves[i] = move(line.Quantity)
		moves[i].ProductID = line.ProductID
	}
	if _, err := r.LockStock(ctx, ids); err != nil {
		return nil, err
	}
	after, err := r.Move(ctx, kind, reason, orderID, moves)
	if err != nil {
		return nil, err
	}
	status := map[string]string{"release": "released", "commit": "committed"}[kind]
	if err := r.SetReservationStatus(ctx, orderID, status); err != nil {
		return nil, err
	}
	evs, err := stockEvents(kind, reason, orderID, moves, after)
	if err != nil {
		return nil, fmt.Errorf("%s order %s: %w", kind, orderID, err)
	}
	s.inst.settled(ctx, status)
	return ids, r.Publish(ctx, evs...)
}

// HandleOrderEvent settles reservations from ordering's events through r,
// which the module binds to the consumer's inbox transaction (the effect
// happens exactly once): paid → commit (stock deducted once), expired or
// canceled → release.
func (s *Service) HandleOrderEvent(ctx context.Context, r Repos, e events.Envelope) error {
	var p orderingapi.OrderEvent
	if err := e.Decode(&p); err != nil {
		return fmt.Errorf("decode %s %s: %w", e.Type, e.ID, err)
	}
	if !validID(p.OrderID) {
		return nil
	}
	var err error
	switch e.Type {
	case orderingapi.EventOrderPaid:
		_, err = s.settleIn(ctx, r, p.OrderID, "commit", "order paid", func(q int) Movement {
			return Movement{DeltaOnHand: -q, DeltaReserved: -q}
		})
		if errors.Is(err, catalogapi.ErrReservationClosed) || errors.Is(err, catalogapi.ErrNoReservation) {
			s.log.ErrorContext(ctx, "paid order has no open reservation", "order_id", p.OrderID, "err", err)
			return nil
		}
	case orderingapi.EventOrderExpired, orderingapi.EventOrderCanceled:
		_, err = s.settleIn(ctx, r, p.OrderID, "release", strings.TrimPrefix(e.Type, "ordering."), func(q int) Movement {
			return Movement{DeltaReserved: -q}
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
	res, err := s.store.Reservation(ctx, p.OrderID)
	if err != nil {
		s.log.WarnContext(ctx, "products of a settled order not invalidated", "order_id", p.OrderID, "err", err)
		return
	}
	ids := make([]string, len(res))
	for i, line := range res {
		ids[i] = line.ProductID
	}
	s.invalidate(ctx, ids...)
}

// SweepExpired releases reservations whose expiry passed by the service's
// clock and returns how many orders it released.
func (s *Service) SweepExpired(ctx context.Context) (int, error) {
	orders, err := s.store.ExpiredOrders(ctx, s.clock.Now(), 100)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, o := range orders {
		if err := s.Release(ctx, o, "reservation expired"); err != nil {
			return n, fmt.Errorf("release expired order %s: %w", o, err)
		}
		n++
	}
	return n, nil
}
