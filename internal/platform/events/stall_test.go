package events_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

// idleIn opens a session on url, starts a transaction that takes a
// snapshot and leaves it idle in transaction until the test ends.
func idleIn(t *testing.T, url string) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	if _, err := c.Exec(ctx, "BEGIN ISOLATION LEVEL REPEATABLE READ"); err != nil {
		t.Fatal(err)
	}
	// A snapshot and a transaction id: what held the old subscriber back.
	if _, err := c.Exec(ctx, "SELECT txid_current(), count(*) FROM pg_class"); err != nil {
		t.Fatal(err)
	}
}

func runBus(t *testing.T, bus *events.Bus) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- bus.Run(ctx) }()
	t.Cleanup(func() { cancel(); _ = bus.Close(); <-done })
	select {
	case <-bus.Running():
	case <-time.After(10 * time.Second):
		t.Fatal("bus did not start")
	}
}

func effectCounter(n *atomic.Int32) events.Handler {
	return func(ctx context.Context, tx bun.Tx, e events.Envelope) error {
		n.Add(1)
		_, err := tx.ExecContext(ctx, "INSERT INTO t.effects VALUES (?, 1)", e.ID)
		return err
	}
}

// Transactions left open in another database of the same server, and in
// the shop's own database, do not hold delivery back; nor does a writer
// that commits after later writers (its event comes late, never skipped).
func TestDeliveryIgnoresOtherTransactions(t *testing.T) {
	db, bus := setup(t)
	idleIn(t, pgtest.NewDatabase(t)) // another database, same server
	var own *pg.DB = db
	conn, err := own.Pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(conn.Release)
	if _, err := conn.Exec(context.Background(), "BEGIN; SELECT txid_current()"); err != nil { // the shop's own database
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = conn.Exec(context.Background(), "ROLLBACK") })

	var n atomic.Int32
	if err := bus.Register(events.Consumer{Name: "t.ok", Inbox: "t.inbox", Topics: []string{"test.ok"}, Handle: effectCounter(&n)}); err != nil {
		t.Fatal(err)
	}
	runBus(t, bus)

	// A slow writer: its row gets a lower id but commits last.
	slowTx, err := db.BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	slow, _ := events.New("test.ok", "slow", nil)
	if err := events.NewOutbox(nil).Publish(context.Background(), slowTx, slow); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := 0; i < 20; i++ {
		e, _ := events.New("test.ok", "a", map[string]int{"i": i})
		publish(t, db, true, e)
	}
	waitFor(t, func() bool { return n.Load() == 20 })
	if d := time.Since(start); d > 15*time.Second { // the old subscriber waited for the idle transactions to end
		t.Fatalf("20 events took %s with idle transactions around", d)
	}
	if err := slowTx.Commit(); err != nil {
		t.Fatal(err)
	}
	// Waited for by its effect, not by the handler's calls: under load a
	// call may roll back and run again (the inbox keeps the effect once),
	// so a count of calls can reach 21 before the slow event's turn. A
	// skipped event never gets its effect, and the wait fails.
	waitFor(t, func() bool {
		return count(t, db, "SELECT count(*) FROM t.effects WHERE event_id = '"+slow.ID+"'") == 1
	})
	if got := count(t, db, "SELECT count(*) FROM t.effects"); got != 21 {
		t.Fatalf("%d effects, want 21 (each event once)", got)
	}
}

// A handler blocked for a long time (a dead dependency) holds only its own
// transaction's connection, never a second one, and other consumers keep
// flowing meanwhile.
func TestBlockedHandlerStallsNobodyElse(t *testing.T) {
	db, bus := setup(t)
	release := make(chan struct{})
	var blocked, other atomic.Int32
	if err := bus.Register(events.Consumer{Name: "t.slow", Inbox: "t.inbox", Topics: []string{"test.bad"}, Handle: func(ctx context.Context, tx bun.Tx, e events.Envelope) error {
		blocked.Add(1)
		select { // e.g. a Redis call that hangs
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	if err := bus.Register(events.Consumer{Name: "t.ok", Inbox: "t.inbox", Topics: []string{"test.ok"}, Handle: effectCounter(&other)}); err != nil {
		t.Fatal(err)
	}
	runBus(t, bus)
	defer close(release)
	e, _ := events.New("test.bad", "x", nil)
	publish(t, db, true, e)
	waitFor(t, func() bool { return blocked.Load() == 1 })
	for i := 0; i < 10; i++ {
		ok, _ := events.New("test.ok", "y", map[string]int{"i": i})
		publish(t, db, true, ok)
	}
	waitFor(t, func() bool { return other.Load() == 10 })
	// While the handler waits, the only transaction the bus holds is the
	// blocked handler's own (the old subscriber held a second one, locking
	// its offsets, for as long as the handler ran).
	// (Sessions between two statements of a short transaction are idle in
	// transaction for an instant; count only those idle for a while.)
	// That no second transaction stays open cannot be waited for: after the
	// positive waits above (the handler blocked, the other events applied),
	// a window longer than the idle threshold lets one show.
	time.Sleep(600 * time.Millisecond)
	var idle int
	if err := db.NewRaw(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		AND state LIKE 'idle in transaction%' AND state_change < now() - interval '500 milliseconds'`).Scan(context.Background(), &idle); err != nil {
		t.Fatal(err)
	}
	if idle > 1 {
		var qs []string
		_ = db.NewRaw(`SELECT query FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'`).Scan(context.Background(), &qs)
		t.Fatalf("%d sessions idle in transaction while one handler waits: %q", idle, qs)
	}
}

// After every session of the shop is terminated, delivery resumes within
// seconds and nothing is applied twice.
func TestDeliveryResumesAfterTerminatedBackends(t *testing.T) {
	db, bus := setup(t)
	var n atomic.Int32
	if err := bus.Register(events.Consumer{Name: "t.ok", Inbox: "t.inbox", Topics: []string{"test.ok"}, Handle: effectCounter(&n)}); err != nil {
		t.Fatal(err)
	}
	runBus(t, bus)
	for i := 0; i < 5; i++ {
		e, _ := events.New("test.ok", "a", map[string]int{"i": i})
		publish(t, db, true, e)
	}
	waitFor(t, func() bool { return n.Load() == 5 })
	admin, err := pgx.Connect(context.Background(), pgtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	var dbname string
	if err := db.NewRaw("SELECT current_database()").Scan(context.Background(), &dbname); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(context.Background(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", dbname); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := 5; i < 10; i++ {
		e, _ := events.New("test.ok", "a", map[string]int{"i": i})
		for {
			err := db.InTx(context.Background(), func(ctx context.Context, tx bun.Tx) error { return events.NewOutbox(nil).Publish(ctx, tx, e) })
			if err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond) // the pool replaces broken connections
		}
	}
	waitFor(t, func() bool { return n.Load() == 10 })
	if d := time.Since(start); d > 15*time.Second { // seconds, not a 60 s acknowledgement deadline
		t.Fatalf("delivery resumed after %s", d)
	}
	// The handler counts before its transaction commits: wait for the
	// last commit, then check that nothing was applied twice.
	waitFor(t, func() bool { return count(t, db, "SELECT count(*) FROM t.effects") >= 10 })
	if got := count(t, db, "SELECT count(*) FROM t.effects"); got != 10 {
		t.Fatalf("effects = %d, want 10", got)
	}
}

// Lag names the topic whose events wait, with their age.
func TestLagReportsWaitingEvents(t *testing.T) {
	db, bus := setup(t)
	if err := bus.Register(events.Consumer{Name: "t.ok", Inbox: "t.inbox", Topics: []string{"test.ok"}, Handle: func(context.Context, bun.Tx, events.Envelope) error { return nil }}); err != nil {
		t.Fatal(err)
	}
	lag, err := bus.Lag(context.Background())
	if err != nil || lag["test.ok"] != 0 {
		t.Fatalf("idle lag: %v %v", lag, err)
	}
	e, _ := events.New("test.ok", "a", nil)
	publish(t, db, true, e)
	// The waiting event shows once the cached idle reading is past and the
	// event is a second old.
	waitFor(t, func() bool {
		lag, err = bus.Lag(context.Background())
		return err == nil && lag["test.ok"] >= 1
	})
	runBus(t, bus)
	waitFor(t, func() bool {
		time.Sleep(100 * time.Millisecond)
		l, err := bus.Lag(context.Background())
		return err == nil && l["test.ok"] == 0
	})
}
