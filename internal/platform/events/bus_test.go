package events_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
	"github.com/opencommerce/commerce/internal/platform/wait"
)

func setup(t *testing.T) (*pg.DB, *events.Bus) {
	db := pgtest.New(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA t; CREATE TABLE t.inbox (consumer text, event_id text, PRIMARY KEY (consumer, event_id));
		CREATE TABLE t.effects (event_id text, n int)`); err != nil {
		t.Fatal(err)
	}
	bus, err := events.NewBus(db, slog.New(slog.NewTextHandler(io.Discard, nil)), events.BusConfig{PollInterval: 20 * time.Millisecond, BaseBackoff: 5 * time.Millisecond, MaxAttempts: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.InitTopics("test.ok", "test.bad"); err != nil {
		t.Fatal(err)
	}
	return db, bus
}

func publish(t *testing.T, db *pg.DB, commit bool, evs ...events.Envelope) {
	out := events.NewOutbox(slog.New(slog.NewTextHandler(io.Discard, nil)))
	err := db.InTx(context.Background(), func(ctx context.Context, tx bun.Tx) error {
		if err := out.Publish(ctx, tx, evs...); err != nil {
			return err
		}
		if !commit {
			return errors.New("rollback")
		}
		return nil
	})
	if commit && err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, db *pg.DB, q string) int {
	var n int
	if err := db.NewRaw(q).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	wait.Until(t, "the condition", 20*time.Second, 20*time.Millisecond, cond)
}

// waitDrained waits until the relay has sequenced every committed event
// and every consumer's offset has reached the last one.
func waitDrained(t *testing.T, db *pg.DB) {
	t.Helper()
	waitFor(t, func() bool {
		return count(t, db, `SELECT (SELECT count(*) FROM events.outbox WHERE seq IS NULL)
			+ (SELECT count(*) FROM events.consumer_offsets WHERE seq < (SELECT coalesce(max(seq), 0) FROM events.outbox))`) == 0
	})
}

func TestOutboxInboxRetryDeadLetter(t *testing.T) {
	db, bus := setup(t)
	var flaky atomic.Int32
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(bus.Register(events.Consumer{Name: "t.ok", Inbox: "t.inbox", Topics: []string{"test.ok"}, Handle: func(ctx context.Context, tx bun.Tx, e events.Envelope) error {
		var p struct{ Flaky bool }
		if err := e.Decode(&p); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "INSERT INTO t.effects VALUES (?, 1)", e.ID); err != nil {
			return err
		}
		if p.Flaky && flaky.Add(1) < 2 {
			return errors.New("transient") // rolls back the effect and the inbox row
		}
		return nil
	}}))
	must(bus.Register(events.Consumer{Name: "t.bad", Inbox: "t.inbox", Topics: []string{"test.bad"}, Handle: func(context.Context, bun.Tx, events.Envelope) error {
		return errors.New("always broken")
	}}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- bus.Run(ctx) }()
	defer func() { cancel(); _ = bus.Close(); <-done }()

	ok1, _ := events.New("test.ok", "a1", map[string]any{"n": 1})
	flakyEv, _ := events.New("test.ok", "a2", map[string]any{"flaky": true})
	rolledBack, _ := events.New("test.ok", "a3", nil)
	bad, _ := events.New("test.bad", "a4", nil)
	publish(t, db, true, ok1, flakyEv)
	publish(t, db, false, rolledBack)
	publish(t, db, true, ok1) // duplicate delivery of the same event id
	publish(t, db, true, bad)

	waitFor(t, func() bool { return count(t, db, "SELECT count(*) FROM events.dead_letters") == 1 })
	waitFor(t, func() bool { return count(t, db, "SELECT count(*) FROM t.effects") == 2 })
	// Nothing more is applied: that cannot be waited for, so wait until the
	// outbox is drained (every event delivered or dead-lettered), then
	// leave a short settle for a stray second application to show.
	waitDrained(t, db)
	time.Sleep(100 * time.Millisecond)
	if n := count(t, db, "SELECT count(*) FROM t.effects"); n != 2 {
		t.Fatalf("effects = %d, want 2 (duplicate applied once, rollback never delivered)", n)
	}
	if n := count(t, db, "SELECT count(*) FROM t.effects WHERE event_id = '"+rolledBack.ID+"'"); n != 0 {
		t.Fatal("rolled back event was delivered")
	}
	if n := count(t, db, "SELECT attempts FROM events.dead_letters"); n != 3 {
		t.Fatalf("attempts = %d", n)
	}
}
