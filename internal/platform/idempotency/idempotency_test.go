package idempotency_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/platform/clock"
	"github.com/opencommerce/commerce/internal/platform/httpx"
	"github.com/opencommerce/commerce/internal/platform/idempotency"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// process is one server process: its store, a heartbeat that can be
// stopped, and an app whose POST /orders blocks while block is open.
type process struct {
	store *idempotency.Store
	app   *fiber.App
	runs  atomic.Int32
	stop  context.CancelFunc
	done  chan struct{}
}

func start(t *testing.T, db *pg.DB, heartbeat bool, block chan struct{}) *process {
	t.Helper()
	p := &process{store: idempotency.New(db, quiet)}
	p.app = httpx.NewApp(httpx.Config{BodyLimit: 1 << 20, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second, IdleTimeout: time.Second}, quiet)
	p.app.Use(p.store.Middleware)
	p.app.Post("/orders", func(c *fiber.Ctx) error {
		p.runs.Add(1)
		if block != nil {
			<-block
		}
		return c.Status(201).JSON(fiber.Map{"id": "o1"})
	})
	if heartbeat {
		ctx, cancel := context.WithCancel(context.Background())
		p.stop, p.done = cancel, make(chan struct{})
		go func() { defer close(p.done); _ = p.store.Run(ctx) }()
		t.Cleanup(p.shutdown)
		deadline := time.Now().Add(5 * time.Second)
		for !p.store.LiveForTest() && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if !p.store.LiveForTest() {
			t.Fatal("heartbeat not established")
		}
	}
	return p
}

func (p *process) shutdown() {
	if p.stop != nil {
		p.stop()
		<-p.done
	}
}

func (p *process) post(t *testing.T, key, body string) (int, string) {
	t.Helper()
	status, code, err := p.send(key, body)
	if err != nil {
		t.Fatal(err)
	}
	return status, code
}

// background sends a request that blocks in the handler, from a goroutine
// (no *testing.T there), and waits until the handler runs.
func (p *process) background(t *testing.T, key, body string) {
	t.Helper()
	before := p.runs.Load()
	go func() { _, _, _ = p.send(key, body) }()
	deadline := time.Now().Add(5 * time.Second)
	for p.runs.Load() == before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if p.runs.Load() == before {
		t.Fatal("the request did not reach its handler")
	}
}

func (p *process) send(key, body string) (int, string, error) {
	r := httptest.NewRequest("POST", "/orders", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(idempotency.Header, key)
	res, err := p.app.Test(r, -1)
	if err != nil {
		return 0, "", err
	}
	b, _ := io.ReadAll(res.Body)
	var m struct{ Code string }
	_ = json.Unmarshal(b, &m)
	return res.StatusCode, m.Code, nil
}

// leaseHeldBy writes an in-flight record of key (as POST /orders with
// body) owned by owner, with the whole 2-minute lease still ahead.
func leaseHeldBy(t *testing.T, db *pg.DB, key, body string, owner any) {
	t.Helper()
	// The same request from another "process" that stays blocked claims it;
	// then the owner is rewritten to the one under test.
	block := make(chan struct{})
	p := start(t, db, false, block)
	p.background(t, key, body)
	if _, err := db.ExecContext(context.Background(), "UPDATE platform.idempotency_keys SET owner = ? WHERE key = ?", owner, key); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { close(block) })
}

func TestLeaseOfALiveProcessHoldsAndADeadOnesIsTakenOverAtOnce(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	const body = `{"checkout_session_id":"c1"}`

	// A live process (heartbeat running) is inside the request: a retry
	// elsewhere is 409 idempotency_conflict.
	block := make(chan struct{})
	a := start(t, db, true, block)
	b := start(t, db, true, nil)
	a.background(t, "k-live", body)
	var owner string
	if err := db.QueryRowContext(ctx, "SELECT owner::text FROM platform.idempotency_keys WHERE key = 'k-live'").Scan(&owner); err != nil || owner != a.store.InstanceForTest() {
		t.Fatalf("lease owner %q (%v), want %s", owner, err, a.store.InstanceForTest())
	}
	// Beyond the dead-after window A still beats. The database's clock
	// decides deadness (one clock for every replica), so time is moved
	// there: A's last beat is aged past DeadAfter, and the test waits
	// until A's next beat has renewed it.
	if _, err := db.ExecContext(ctx, "UPDATE platform.instances SET heartbeat_at = now() - make_interval(secs => ?) WHERE id = ?",
		idempotency.DeadAfter.Seconds()+1, a.store.InstanceForTest()); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(idempotency.DeadAfter); ; time.Sleep(20 * time.Millisecond) {
		var alive bool
		if err := db.QueryRowContext(ctx, "SELECT heartbeat_at > now() - make_interval(secs => ?) FROM platform.instances WHERE id = ?",
			idempotency.DeadAfter.Seconds(), a.store.InstanceForTest()).Scan(&alive); err != nil {
			t.Fatal(err)
		}
		if alive {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("A's heartbeat did not renew its row")
		}
	}
	if status, code := b.post(t, "k-live", body); status != 409 || code != "idempotency_conflict" {
		t.Fatalf("retry while a live process runs the request: %d %s", status, code)
	}
	close(block)

	// A process that crashed (its heartbeat stopped DeadAfter ago) holds a
	// lease: the retry runs at once, not after the 2-minute cap.
	dead := uuid.NewString()
	if _, err := db.ExecContext(ctx, "INSERT INTO platform.instances (id, heartbeat_at) VALUES (?, now() - make_interval(secs => ?))", dead, idempotency.DeadAfter.Seconds()+1); err != nil {
		t.Fatal(err)
	}
	leaseHeldBy(t, db, "k-crashed", body, dead)
	if status, _ := b.post(t, "k-crashed", body); status != 201 {
		t.Fatalf("retry after the owner crashed: %d, want 201", status)
	}
	// The owner's row is gone (a clean shutdown, or purged): same.
	leaseHeldBy(t, db, "k-gone", body, uuid.NewString())
	if status, _ := b.post(t, "k-gone", body); status != 201 {
		t.Fatalf("retry after the owner's row is gone: %d, want 201", status)
	}
	// Another request under a dead owner's key is still a conflict.
	leaseHeldBy(t, db, "k-other", body, dead)
	if status, code := b.post(t, "k-other", `{"checkout_session_id":"c2"}`); status != 409 || code != "idempotency_conflict" {
		t.Fatalf("different request under the key: %d %s", status, code)
	}
	// A lease without an owner (written before this change, or by a process
	// without a heartbeat) keeps the 2-minute cap.
	leaseHeldBy(t, db, "k-legacy", body, nil)
	if status, _ := b.post(t, "k-legacy", body); status != 409 {
		t.Fatalf("ownerless lease within its time limit: %d, want 409", status)
	}
	if _, err := db.ExecContext(ctx, "UPDATE platform.idempotency_keys SET locked_until = now() - interval '1 second' WHERE key = 'k-legacy'"); err != nil {
		t.Fatal(err)
	}
	if status, _ := b.post(t, "k-legacy", body); status != 201 {
		t.Fatalf("ownerless lease past its time limit: %d, want 201", status)
	}
}

// A clean shutdown removes the process's row, so its (finished) leases
// are no longer held; a process that never started its heartbeat names no
// owner, so nobody mistakes it for dead.
func TestCleanShutdownAndNoHeartbeat(t *testing.T) {
	db := pgtest.New(t)
	ctx := context.Background()
	a := start(t, db, true, nil)
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM platform.instances WHERE id = ?", a.store.InstanceForTest()).Scan(&n); err != nil || n != 1 {
		t.Fatalf("instance row: %d %v", n, err)
	}
	a.shutdown()
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM platform.instances WHERE id = ?", a.store.InstanceForTest()).Scan(&n); err != nil || n != 0 {
		t.Fatalf("instance row after a clean shutdown: %d %v", n, err)
	}
	if a.store.LiveForTest() {
		t.Fatal("a stopped heartbeat still names the process in new leases")
	}

	block := make(chan struct{})
	defer close(block)
	quietProc := start(t, db, false, block)
	b := start(t, db, true, nil)
	quietProc.background(t, "k-quiet", "{}")
	if status, _ := b.post(t, "k-quiet", "{}"); status != 409 {
		t.Fatalf("the lease of a process without heartbeat was taken over: %d", status)
	}
}

// A process whose heartbeats stop succeeding names no owner in new leases
// once its last beat is older than the freshness bound (they fall back to
// the time limit): the store's clock is a fake, moved past the bound.
func TestStaleHeartbeatNamesNoOwner(t *testing.T) {
	db := pgtest.New(t)
	clk := clock.NewFake(time.Now())
	s := idempotency.New(db, quiet)
	s.SetClockForTest(clk)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(5 * time.Second); !s.LiveForTest(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("heartbeat not established")
		}
	}
	clk.Advance(idempotency.OwnerFreshForTest)
	if !s.LiveForTest() {
		t.Fatal("a beat as old as the bound is still fresh")
	}
	// A real beat (every HeartbeatEvery) landing between the move and the
	// check renews the reading; the fake then moves again.
	for i := 0; ; i++ {
		clk.Advance(time.Millisecond)
		if !s.LiveForTest() {
			break
		}
		if i == 3 {
			t.Fatal("a beat older than the bound still names the process")
		}
		clk.Advance(idempotency.OwnerFreshForTest)
	}
}
