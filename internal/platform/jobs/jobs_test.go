package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/platform/jobs"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

// testRedis is the shared Redis server (its own namespace per test keeps
// parallel tests and packages apart); without one the test skips locally
// and fails under CI.
func testRedis(t *testing.T) redis.UniversalClient {
	t.Helper()
	if c, err := net.DialTimeout("tcp", "127.0.0.1:6379", time.Second); err == nil {
		_ = c.Close()
	} else {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Redis unreachable: %v", err)
		}
		t.Skip("no Redis on 127.0.0.1:6379")
	}
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// namespace is a fresh queue prefix for one test.
func namespace(t *testing.T) string {
	return fmt.Sprintf("jobstest-%s-%d", t.Name(), rand.Int64())
}

func newQueue(rdb redis.UniversalClient, ns string) *jobs.Queue {
	return jobs.New(rdb, jobs.Config{Namespace: ns, RetryBase: 100 * time.Millisecond, PollInterval: 200 * time.Millisecond,
		ShutdownTimeout: time.Second, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
}

func run(t *testing.T, q *jobs.Queue) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("Run did not return after its context ended")
		}
	})
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A handler that panics is retried (with backoff) and the process goes on
// serving.
func TestPanickingHandlerIsRetried(t *testing.T) {
	rdb := testRedis(t)
	q := newQueue(rdb, namespace(t))
	s := q.Scope("test")
	var attempts atomic.Int32
	done := make(chan string, 1)
	s.Handle("flaky", func(ctx context.Context, payload []byte) error {
		if attempts.Add(1) == 1 {
			panic("boom")
		}
		done <- string(payload)
		return nil
	})
	var others atomic.Int32
	s.Handle("other", func(context.Context, []byte) error { others.Add(1); return nil })
	run(t, q)
	if err := s.Enqueue(context.Background(), "flaky", []byte("payload")); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-done:
		if got != "payload" {
			t.Fatalf("payload %q", got)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("the task was not retried after its panic (attempts %d)", attempts.Load())
	}
	if n := attempts.Load(); n != 2 {
		t.Fatalf("attempts = %d, want 2 (one panic, one success)", n)
	}
	// The server still works after the panic.
	if err := s.Enqueue(context.Background(), "other", map[string]int{"n": 1}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, "a task after the panic", func() bool { return others.Load() == 1 })
}

// Two replicas on one Redis run each periodic task once per period.
func TestPeriodicRunsOncePerPeriodAcrossReplicas(t *testing.T) {
	rdb := testRedis(t)
	ns := namespace(t)
	var mu sync.Mutex
	runs := map[int64][]string{} // period slot -> replicas that ran it
	for _, name := range []string{"a", "b"} {
		q := newQueue(rdb, ns)
		q.Scope("maint").Every("sweep", time.Second, func(ctx context.Context) error {
			mu.Lock()
			defer mu.Unlock()
			slot := time.Now().Truncate(time.Second).Unix()
			runs[slot] = append(runs[slot], name)
			return nil
		})
		run(t, q)
	}
	time.Sleep(5500 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	total := 0
	for slot, who := range runs {
		total += len(who)
		if len(who) > 1 {
			t.Errorf("slot %d ran %d times (%v)", slot, len(who), who)
		}
	}
	if total < 4 || total > 6 {
		t.Fatalf("%d runs in 5.5s of a 1s periodic task with two replicas, want 4 to 6: %v", total, runs)
	}
}

// A task recorded in a transaction that rolls back is never enqueued; one
// recorded in a transaction that commits is, after the commit.
func TestEnqueueAfterCommit(t *testing.T) {
	rdb := testRedis(t)
	ns := namespace(t)
	db := pgtest.New(t)
	q := newQueue(rdb, ns)
	s := q.Scope("orders")
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, "CREATE TABLE jobs_test_rows (id int PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	ins := asynq.NewInspectorFromRedisClient(rdb)
	pending := func() int {
		info, err := ins.GetQueueInfo(ns + "/orders")
		if err != nil {
			return 0 // the queue does not exist until a task is enqueued
		}
		return info.Pending
	}

	boom := errors.New("boom")
	err := s.InTx(ctx, db, func(ctx context.Context, tx bun.Tx, later *jobs.Later) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO jobs_test_rows VALUES (1)"); err != nil {
			return err
		}
		if err := later.Enqueue("confirm", map[string]int{"id": 1}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want the function's error", err)
	}
	if n := pending(); n != 0 {
		t.Fatalf("%d tasks queued by a rolled-back transaction", n)
	}

	err = s.InTx(ctx, db, func(ctx context.Context, tx bun.Tx, later *jobs.Later) error {
		if _, err := tx.ExecContext(ctx, "INSERT INTO jobs_test_rows VALUES (2)"); err != nil {
			return err
		}
		if err := later.Enqueue("confirm", map[string]int{"id": 2}); err != nil {
			return err
		}
		if n := pending(); n != 0 {
			t.Errorf("task queued before the commit (%d)", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := pending(); n != 1 {
		t.Fatalf("%d tasks queued after the commit, want 1", n)
	}

	// The committed task is processed once the server runs.
	got := make(chan string, 2)
	s.Handle("confirm", func(_ context.Context, p []byte) error { got <- string(p); return nil })
	run(t, q)
	select {
	case p := <-got:
		if p != `{"id":2}` {
			t.Fatalf("processed %s, want the committed task", p)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the committed task was not processed")
	}
	_ = ins.DeleteQueue(ns+"/orders", true)
}

// Unique and TaskID drop a second identical task.
func TestDuplicateDropped(t *testing.T) {
	rdb := testRedis(t)
	q := newQueue(rdb, namespace(t))
	s := q.Scope("x")
	ctx := context.Background()
	if err := s.Enqueue(ctx, "t", nil, jobs.TaskID("one")); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, "t", nil, jobs.TaskID("one")); !errors.Is(err, jobs.ErrDuplicate) {
		t.Fatalf("second enqueue = %v, want ErrDuplicate", err)
	}
	if err := s.Enqueue(ctx, "u", "p", jobs.Unique(time.Minute), jobs.WithPriority(jobs.High)); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, "u", "p", jobs.Unique(time.Minute), jobs.WithPriority(jobs.High)); !errors.Is(err, jobs.ErrDuplicate) {
		t.Fatalf("second unique enqueue = %v, want ErrDuplicate", err)
	}
}
