package app

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/fulfillment/fulfillmentapi"
	"github.com/opencommerce/commerce/internal/ordering/orderingapi"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

// flakyCarrier fails for one order until told otherwise.
type flakyCarrier struct {
	mu      sync.Mutex
	failFor string
	calls   map[string]int
}

func (c *flakyCarrier) CreateShipment(_ context.Context, orderID, courier, country string, w int, eta time.Time) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[orderID]++
	if orderID == c.failFor {
		return "", errors.New("carrier down")
	}
	return SimulatedCarrier{}.CreateShipment(context.Background(), orderID, courier, country, w, eta)
}

func TestCarrierFailureIsRetriedAndBlocksNoOtherOrder(t *testing.T) {
	db := pgtest.New(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	bus, err := events.NewBus(db, log, events.BusConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.InitTopics(fulfillmentapi.Topics...); err != nil {
		t.Fatal(err)
	}
	s := New(db, events.NewOutbox(log))
	bad, good := uuid.Must(uuid.NewV7()).String(), uuid.Must(uuid.NewV7()).String()
	carrier := &flakyCarrier{failFor: bad, calls: map[string]int{}}
	s.WithCarrier(carrier)
	ctx := context.Background()
	for _, o := range []string{bad, good, good} { // good twice: a redelivered event
		ev, _ := events.New(orderingapi.EventOrderPaid, o, orderingapi.OrderEvent{OrderID: o, UserID: uuid.NewString(), Courier: "express", Country: "DE", WeightGrams: 500, Currency: "USD"})
		if err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error { return s.HandleOrderPaid(ctx, tx, ev) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateShipments(ctx); err != nil {
		t.Fatal(err)
	}
	fg, err := s.OfOrder(ctx, "", good, true)
	if err != nil || fg.Status != "in_progress" || fg.TrackingID == nil {
		t.Fatalf("good order: %+v %v", fg, err)
	}
	var n int
	_ = db.NewRaw("SELECT count(*) FROM fulfillment.fulfillments WHERE order_id = ?", good).Scan(ctx, &n)
	if n != 1 {
		t.Fatalf("%d fulfillments for one order", n)
	}
	fb, _ := s.OfOrder(ctx, "", bad, true)
	if fb.Status != "pending" {
		t.Fatalf("failed order: %+v", fb)
	}
	// Backoff: not retried at once; retried once due.
	_ = s.CreateShipments(ctx)
	if carrier.calls[bad] != 1 {
		t.Fatalf("retried without backoff: %d calls", carrier.calls[bad])
	}
	carrier.mu.Lock()
	carrier.failFor = ""
	carrier.mu.Unlock()
	if _, err := db.ExecContext(ctx, "UPDATE fulfillment.fulfillments SET next_attempt_at = now() WHERE order_id = ?", bad); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateShipments(ctx); err != nil {
		t.Fatal(err)
	}
	if fb, _ := s.OfOrder(ctx, "", bad, true); fb.Status != "in_progress" || carrier.calls[bad] != 2 {
		t.Fatalf("after recovery: %+v, %d calls", fb, carrier.calls[bad])
	}
}
