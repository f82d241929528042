package app

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/opencommerce/commerce/internal/catalog/internal/domain"
	"github.com/opencommerce/commerce/internal/platform/events"
)

// maxReserveBatch bounds the orders one transaction reserves.
const maxReserveBatch = 64

// Group commit of reservations. Every order of a popular product locks
// that product's stock row, and holds it until its transaction's commit
// is durable: concurrent orders queued on the row one commit (one WAL
// flush) at a time, which bounded placing orders well below what the
// database does otherwise. Reserve therefore queues its request; one
// goroutine at a time takes every request queued meanwhile and reserves
// them in one transaction (one lock hold, one flush), each order still
// all-or-nothing and checked against the stock the earlier orders of the
// batch left. Alone in the queue, a request runs as before in a
// transaction of its own, so a quiet shop waits for nothing. Each caller
// is answered after the commit with its own result; a failure of the
// shared transaction fails every request in it (nothing of them was
// written), which the saga compensates or retries as any failure.
type reserver struct {
	mu      sync.Mutex
	queue   []*reserveReq
	running bool
}

// reserveReq is one Reserve call waiting for its batch.
type reserveReq struct {
	ctx       context.Context
	orderID   string
	norm      []domain.Line
	ids       []string
	qty       []int
	expiresAt *time.Time
	done      chan reserveResult
}

type reserveResult struct {
	changed bool
	err     error
}

// enqueue queues req and starts the worker if none runs.
func (q *reserver) enqueue(s *Service, req *reserveReq) {
	q.mu.Lock()
	q.queue = append(q.queue, req)
	start := !q.running
	q.running = true
	q.mu.Unlock()
	if start {
		go q.work(s)
	}
}

// work reserves batches until the queue is empty, then ends.
func (q *reserver) work(s *Service) {
	for {
		q.mu.Lock()
		if len(q.queue) == 0 {
			q.running = false
			q.mu.Unlock()
			return
		}
		batch := q.take()
		q.mu.Unlock()
		if len(batch) == 1 {
			r := batch[0]
			changed, err := s.reserveAlone(r.ctx, r.orderID, r.norm, r.ids, r.qty, r.expiresAt)
			r.done <- reserveResult{changed: changed, err: err}
			continue
		}
		s.reserveBatch(batch)
	}
}

// take removes up to maxReserveBatch requests of distinct orders from the
// queue (a second call for an order waits for the next batch, where it is
// answered as a repeat). q.mu is held.
func (q *reserver) take() []*reserveReq {
	batch := make([]*reserveReq, 0, min(len(q.queue), maxReserveBatch))
	seen := make(map[string]bool, cap(batch))
	rest := q.queue[:0]
	for _, r := range q.queue {
		if len(batch) < maxReserveBatch && !seen[r.orderID] {
			seen[r.orderID] = true
			batch = append(batch, r)
			continue
		}
		rest = append(rest, r)
	}
	clear(q.queue[len(rest):])
	q.queue = rest
	return batch
}

// reserveBatch reserves the orders of batch in one transaction and
// answers each.
func (s *Service) reserveBatch(batch []*reserveReq) {
	var all []string
	for _, r := range batch {
		all = append(all, r.ids...)
	}
	slices.Sort(all)
	all = slices.Compact(all)
	// The first caller's context carries the transaction's spans; none of
	// the callers' cancellations may abort the others' reservations.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(batch[0].ctx), 30*time.Second)
	defer cancel()
	var results []reserveResult
	err := s.store.InTx(ctx, func(ctx context.Context, r Repos) error {
		stock, err := lockedStock(ctx, r, all)
		if err != nil {
			return err
		}
		var evs []events.Envelope
		results, evs, err = reserveAll(ctx, r, batch, stock)
		if err != nil {
			return err
		}
		return r.Publish(ctx, evs...)
	})
	if errors.Is(err, ErrDuplicate) {
		// Another process reserved one of these orders meanwhile: each
		// answers on its own, like a repeat.
		for _, q := range batch {
			changed, err := s.reserveAlone(q.ctx, q.orderID, q.norm, q.ids, q.qty, q.expiresAt)
			q.done <- reserveResult{changed: changed, err: err}
		}
		return
	}
	for i, q := range batch {
		if err != nil {
			q.done <- reserveResult{err: err}
			continue
		}
		q.done <- results[i]
	}
}
