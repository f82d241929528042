package events_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/trace"

	"github.com/opencommerce/commerce/internal/platform/events"
)

// Events waiting together are applied in one transaction (one durable
// commit), each still exactly once; a failing event in the middle of a
// batch neither loses nor repeats the events around it, is retried on its
// own and dead-lettered, and the After hook runs once per applied event;
// handler and hook work in their own event's trace.
func TestWaitingEventsShareOneTransaction(t *testing.T) {
	db, bus := setup(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE TABLE t.txs (event_id text PRIMARY KEY, xid bigint)`); err != nil {
		t.Fatal(err)
	}
	var flaky atomic.Int32
	var mu sync.Mutex
	after := map[string]int{}
	var untraced atomic.Int32 // handler or hook not in its event's trace
	inTrace := func(ctx context.Context, e events.Envelope) {
		if want := strings.Split(e.TraceParent, "-")[1]; trace.SpanContextFromContext(ctx).TraceID().String() != want {
			untraced.Add(1)
		}
	}
	if err := bus.Register(events.Consumer{Name: "t.batch", Inbox: "t.inbox", Topics: []string{"test.ok"}, Batch: true,
		Handle: func(ctx context.Context, tx bun.Tx, e events.Envelope) error {
			inTrace(ctx, e)
			var p struct{ Flaky, Poison bool }
			if err := e.Decode(&p); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO t.effects VALUES (?, 1)", e.ID); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, "INSERT INTO t.txs VALUES (?, txid_current())", e.ID); err != nil {
				return err
			}
			switch {
			case p.Poison:
				return errors.New("always broken")
			case p.Flaky && flaky.Add(1) < 2:
				return errors.New("transient")
			}
			return nil
		},
		After: func(ctx context.Context, e events.Envelope) {
			inTrace(ctx, e)
			mu.Lock()
			after[e.ID]++
			mu.Unlock()
		}}); err != nil {
		t.Fatal(err)
	}

	var evs []events.Envelope
	for i := range 10 {
		e, _ := events.New("test.ok", "agg", map[string]any{"n": i, "flaky": i == 3, "poison": i == 6})
		e.TraceParent = fmt.Sprintf("00-%032x-%016x-01", i+1, i+1) // each its own trace
		evs = append(evs, e)
	}
	// Already applied before the bus starts: in the batch, skipped.
	if _, err := db.ExecContext(ctx, "INSERT INTO t.inbox VALUES ('t.batch', ?)", evs[8].ID); err != nil {
		t.Fatal(err)
	}
	publish(t, db, true, evs...) // waiting before the consumer reads
	runBus(t, bus)

	waitFor(t, func() bool { return count(t, db, "SELECT count(*) FROM events.dead_letters") == 1 })
	waitDrained(t, db)

	if n := count(t, db, "SELECT count(*) FROM t.effects"); n != 8 {
		t.Fatalf("effects = %d, want 8 (ten events, one poisoned, one already applied)", n)
	}
	if n := count(t, db, "SELECT count(DISTINCT event_id) FROM t.effects"); n != 8 {
		t.Fatalf("%d distinct events applied, want 8", n)
	}
	for _, i := range []int{6, 8} {
		if n := count(t, db, "SELECT count(*) FROM t.effects WHERE event_id = '"+evs[i].ID+"'"); n != 0 {
			t.Fatalf("event %d was applied", i)
		}
	}
	if n := count(t, db, "SELECT attempts FROM events.dead_letters WHERE event_id = '"+evs[6].ID+"'"); n != 3 {
		t.Fatalf("the poisoned event was tried %d times alone, want 3", n)
	}
	// The events read together before the first failure share a commit.
	if n := count(t, db, "SELECT count(DISTINCT xid) FROM t.txs WHERE event_id IN ('"+evs[0].ID+"','"+evs[1].ID+"','"+evs[2].ID+"')"); n != 1 {
		t.Fatalf("the first three events took %d transactions, want 1", n)
	}
	if n := count(t, db, "SELECT count(DISTINCT xid) FROM t.txs"); n >= 8 {
		t.Fatalf("%d transactions for 8 events: nothing was batched", n)
	}
	if n := untraced.Load(); n != 0 {
		t.Fatalf("%d handler or hook calls outside their event's trace", n)
	}
	mu.Lock()
	defer mu.Unlock()
	for i, e := range evs {
		want := 1
		if i == 6 || i == 8 {
			want = 0
		}
		if after[e.ID] != want {
			t.Fatalf("After ran %d times for event %d, want %d", after[e.ID], i, want)
		}
	}
}
