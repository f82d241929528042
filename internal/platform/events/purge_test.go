package events_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/platform/events"
)

// The purge deletes old rows every reader of their topic has read, keeps
// what a stuck reader still needs (and names it), never deletes the newest
// row, and the sequence goes on above it.
func TestPurgeDeliveredKeepsWhatIsUnread(t *testing.T) {
	db, bus := setup(t)
	ctx := context.Background()
	release := make(chan struct{})
	applied := make(chan string, 16)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(bus.Register(events.Consumer{Name: "t.a", Inbox: "t.inbox", Topics: []string{"test.ok"}, Handle: func(_ context.Context, _ bun.Tx, e events.Envelope) error {
		applied <- e.ID
		return nil
	}}))
	must(bus.Register(events.Consumer{Name: "t.b", Inbox: "t.inbox", Topics: []string{"test.bad"}, Handle: func(ctx context.Context, _ bun.Tx, _ events.Envelope) error {
		select { // a reader that is stuck until released
		case <-release:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}}))
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- bus.Run(runCtx) }()
	defer func() { cancel(); _ = bus.Close(); <-done }()

	var evs []events.Envelope
	for i, topic := range []string{"test.ok", "test.ok", "test.bad", "test.ok", "test.ok"} {
		e, _ := events.New(topic, "agg", map[string]int{"n": i})
		evs = append(evs, e)
	}
	publish(t, db, true, evs...)
	for range 4 {
		<-applied
	}
	waitFor(t, func() bool {
		return count(t, db, `SELECT count(*) FROM events.consumer_offsets WHERE consumer = 't.a' AND seq = (SELECT max(seq) FROM events.outbox)`) == 1
	})
	if _, err := db.ExecContext(ctx, `UPDATE events.outbox SET created_at = now() - interval '2 hours'`); err != nil {
		t.Fatal(err)
	}

	if _, err := events.PurgeDelivered(ctx, db, 0); err == nil {
		t.Fatal("a zero retention was accepted")
	}
	res, err := events.PurgeDelivered(ctx, db, 3*time.Hour)
	if err != nil || res.Deleted != 0 || len(res.HeldBack) != 0 {
		t.Fatalf("nothing is past a 3h retention: %+v %v", res, err)
	}
	res, err = events.PurgeDelivered(ctx, db, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// test.ok: four rows read by t.a, the newest kept; test.bad: unread by t.b.
	if res.Deleted != 3 || !slices.Equal(res.HeldBack, []string{"t.b"}) {
		t.Fatalf("purge with a stuck reader: %+v", res)
	}
	if n := count(t, db, `SELECT count(*) FROM events.outbox WHERE topic = 'test.bad'`); n != 1 {
		t.Fatalf("the stuck reader's event went: %d left", n)
	}
	if n := count(t, db, `SELECT count(*) FROM events.outbox_purge WHERE purged_at <= clock_timestamp()`); n != 1 {
		t.Fatal("the purge was not recorded")
	}

	close(release)
	waitDrained(t, db)
	res, err = events.PurgeDelivered(ctx, db, time.Hour)
	if err != nil || res.Deleted != 1 || len(res.HeldBack) != 0 {
		t.Fatalf("purge once the reader caught up: %+v %v", res, err)
	}
	before := count(t, db, `SELECT max(seq) FROM events.outbox`)
	if n := count(t, db, `SELECT count(*) FROM events.outbox`); n != 1 {
		t.Fatalf("%d rows left, want the newest only", n)
	}
	// New events are numbered above what readers have read, and delivered.
	next, _ := events.New("test.ok", "agg", nil)
	publish(t, db, true, next)
	if got := <-applied; got != next.ID {
		t.Fatalf("applied %s, want the new event", got)
	}
	// The handler runs before its transaction commits: wait for the offset.
	waitFor(t, func() bool {
		return count(t, db, `SELECT count(*) FROM events.consumer_offsets WHERE consumer = 't.a' AND seq = (SELECT max(seq) FROM events.outbox)`) == 1
	})
	if after := count(t, db, `SELECT max(seq) FROM events.outbox`); after <= before {
		t.Fatalf("sequence went from %d to %d", before, after)
	}

	// A reader recorded before topics were (NULL) holds back every topic.
	if _, err := db.ExecContext(ctx, `INSERT INTO events.consumer_offsets (consumer, seq) VALUES ('t.legacy', 0);
		UPDATE events.outbox SET created_at = now() - interval '2 hours'`); err != nil {
		t.Fatal(err)
	}
	res, err = events.PurgeDelivered(ctx, db, time.Hour)
	if err != nil || res.Deleted != 0 || !slices.Equal(res.HeldBack, []string{"t.legacy"}) {
		t.Fatalf("purge with a legacy reader: %+v %v", res, err)
	}
}
