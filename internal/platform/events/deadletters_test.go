package events_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/kafka"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

// A consumer failing more often than the bus's attempts dead-letters the
// event; a requested retry (from any process: a row mark and a
// notification) is run by the bus hosting the consumer through the inbox,
// so its effect happens exactly once, and a second retry is refused.
// Both transports: the payload is stored with the letter.
func TestDeadLetterRetryAppliesOnce(t *testing.T) {
	t.Run("postgres", func(t *testing.T) { deadLetterRetry(t, nil) })
	t.Run("kafka", func(t *testing.T) {
		c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close) // after the bus's cleanup (LIFO)
		deadLetterRetry(t, c.ListenAddrs())
	})
}

func deadLetterRetry(t *testing.T, brokers []string) {
	db := pgtest.New(t)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA t; CREATE TABLE t.inbox (consumer text, event_id text, PRIMARY KEY (consumer, event_id));
		CREATE TABLE t.effects (event_id text, n int)`); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg := events.BusConfig{PollInterval: 20 * time.Millisecond, BaseBackoff: 5 * time.Millisecond, MaxAttempts: 3, RetryPollInterval: time.Hour}
	if brokers != nil {
		cfg.Subscriber = func(group string) (message.Subscriber, error) {
			return kafka.NewSubscriber(kafka.SubscriberConfig{Brokers: brokers, ConsumerGroup: group})
		}
	}
	bus, err := events.NewBus(db, log, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var calls, after atomic.Int32
	failFirst := int32(4) // the 3 attempts of the first delivery and the first retry
	if err := bus.Register(events.Consumer{Name: "t.flaky", Inbox: "t.inbox", Topics: []string{"test.flaky"},
		Handle: func(ctx context.Context, tx bun.Tx, e events.Envelope) error {
			if _, err := tx.ExecContext(ctx, "INSERT INTO t.effects VALUES (?, 1)", e.ID); err != nil {
				return err
			}
			if calls.Add(1) <= failFirst {
				return errors.New("not yet") // rolls the effect back
			}
			return nil
		},
		After: func(context.Context, events.Envelope) { after.Add(1) },
	}); err != nil {
		t.Fatal(err)
	}
	runBus(t, bus)
	if brokers != nil {
		pub, err := kafka.NewPublisher(brokers, nil)
		if err != nil {
			t.Fatal(err)
		}
		fw, err := events.NewForwarder(bus, pub, []string{"test.flaky"})
		if err != nil {
			t.Fatal(err)
		}
		fctx, cancel := context.WithCancel(ctx)
		done := make(chan error)
		go func() { done <- fw.Run(fctx) }()
		t.Cleanup(func() { cancel(); <-done; _ = fw.Close() })
	}

	ev, _ := events.New("test.flaky", "agg-1", map[string]any{"n": 1})
	publish(t, db, true, ev)
	waitFor(t, func() bool { return count(t, db, "SELECT count(*) FROM events.dead_letters") == 1 })
	var id int64
	if err := db.NewRaw("SELECT id FROM events.dead_letters").Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	items, next, err := events.ListDeadLetters(ctx, db, events.DeadLetterFilter{Consumer: "t.flaky", Limit: 10})
	if err != nil || len(items) != 1 || next != nil || items[0].EventID != ev.ID || items[0].Attempts != 3 || items[0].RetriedAt != nil {
		t.Fatalf("list: %+v %v %v", items, next, err)
	}

	// First retry: the handler fails again; the letter records it and is
	// no longer pending.
	if _, err := events.RequestRetry(ctx, db, id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		return count(t, db, "SELECT count(*) FROM events.dead_letters WHERE attempts = 4 AND retry_requested_at IS NULL AND retried_at IS NULL") == 1
	})
	if n := count(t, db, "SELECT count(*) FROM t.effects"); n != 0 {
		t.Fatalf("failed retry left %d effects", n)
	}

	// Second retry: applied once, After ran, the letter is retried.
	if _, err := events.RequestRetry(ctx, db, id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		return count(t, db, "SELECT count(*) FROM events.dead_letters WHERE retried_at IS NOT NULL") == 1
	})
	if n := count(t, db, "SELECT count(*) FROM t.effects"); n != 1 {
		t.Fatalf("effects = %d, want 1", n)
	}
	// After runs once the retry's transaction committed, so it may come
	// just after the letter shows retried.
	waitFor(t, func() bool { return after.Load() >= 1 })
	if after.Load() != 1 {
		t.Fatalf("After ran %d times", after.Load())
	}

	// A third request is refused; and even a letter forced back to pending
	// is absorbed by the inbox: no second effect.
	if _, err := events.RequestRetry(ctx, db, id); !errors.Is(err, events.ErrAlreadyRetried) {
		t.Fatalf("retry of a retried letter: %v", err)
	}
	if _, err := events.RequestRetry(ctx, db, id+1000); !errors.Is(err, events.ErrDeadLetterNotFound) {
		t.Fatalf("retry of an unknown letter: %v", err)
	}
	if _, err := db.ExecContext(ctx, "UPDATE events.dead_letters SET retried_at = NULL, retry_requested_at = NULL"); err != nil {
		t.Fatal(err)
	}
	before := calls.Load()
	if _, err := events.RequestRetry(ctx, db, id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		return count(t, db, "SELECT count(*) FROM events.dead_letters WHERE retried_at IS NOT NULL") == 1
	})
	if n := count(t, db, "SELECT count(*) FROM t.effects"); n != 1 || calls.Load() != before || after.Load() != 1 {
		t.Fatalf("effects = %d, handler calls +%d, After %d: applied twice", n, calls.Load()-before, after.Load())
	}
}

// Dead letters list unretried first, newest first, with a cursor that
// neither repeats nor skips.
func TestListDeadLettersPages(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		retried := "NULL"
		if i%2 == 0 {
			retried = "now()"
		}
		if _, err := db.ExecContext(ctx, `INSERT INTO events.dead_letters (consumer, topic, event_id, payload, error, attempts, retried_at)
			VALUES ('c', 'x.y', ?, '{}', 'e', 5, `+retried+`)`, "ev"+string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	cur := ""
	for {
		items, next, err := events.ListDeadLetters(ctx, db, events.DeadLetterFilter{Limit: 2, Cursor: cur})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			got = append(got, it.EventID)
		}
		if next == nil {
			break
		}
		cur = *next
	}
	if want := "evd,evb,eve,evc,eva"; join(got) != want {
		t.Fatalf("order %s, want %s", join(got), want)
	}
	if _, _, err := events.ListDeadLetters(ctx, db, events.DeadLetterFilter{Limit: 2, Cursor: "bm9wZQ"}); !errors.Is(err, events.ErrInvalidCursor) {
		t.Fatalf("forged cursor: %v", err)
	}
	if items, _, err := events.ListDeadLetters(ctx, db, events.DeadLetterFilter{Limit: 10, Topic: "nope"}); err != nil || len(items) != 0 {
		t.Fatalf("topic filter: %v %v", items, err)
	}
}

func join(s []string) string {
	out := ""
	for i, v := range s {
		if i > 0 {
			out += ","
		}
		out += v
	}
	return out
}
