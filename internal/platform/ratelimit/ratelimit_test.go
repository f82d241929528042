package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/platform/clock"
	"github.com/opencommerce/commerce/internal/platform/ratelimit"
	"github.com/opencommerce/commerce/internal/platform/redisx"
	"github.com/opencommerce/commerce/internal/platform/wait"
)

func TestFixedWindowOnEmbeddedAndRealRedis(t *testing.T) {
	ctx := context.Background()
	emb, err := redisx.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	clients := map[string]*redisx.Client{"embedded": emb}
	if real, err := redisx.Open(ctx, "redis://127.0.0.1:6379/0"); err == nil {
		defer real.Close()
		clients["real"] = real
	} else if testingCI() {
		t.Fatalf("Redis required under CI=true: %v", err)
	}
	for name, c := range clients {
		t.Run(name, func(t *testing.T) {
			l := ratelimit.New(c)
			key := "test:" + time.Now().Format(time.RFC3339Nano)
			for i := 1; i <= 3; i++ {
				r, err := l.Hit(ctx, key, 3, time.Minute)
				if err != nil || !r.Allowed {
					t.Fatalf("hit %d: %+v %v", i, r, err)
				}
			}
			r, err := l.Hit(ctx, key, 3, time.Minute)
			if err != nil || r.Allowed || r.RetryAfter <= 0 || r.RetryAfter > time.Minute {
				t.Fatalf("4th hit: %+v %v", r, err)
			}
			if p, _ := l.Peek(ctx, key, 3); p.Allowed {
				t.Fatal("peek should report over limit")
			}
			_ = l.Reset(ctx, key)
			if p, _ := l.Peek(ctx, key, 3); !p.Allowed {
				t.Fatal("reset should clear")
			}
		})
	}
}

func TestLargeLimitsCountLocallyAndShareThroughRedis(t *testing.T) {
	ctx := context.Background()
	rdb, err := redisx.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	clk := clock.NewFake(time.Now())
	a, b := ratelimit.NewWithClock(rdb, clk), ratelimit.NewWithClock(rdb, clk) // two replicas
	key := "big:" + time.Now().Format(time.RFC3339Nano)
	allowed := 0
	for i := 0; i < 150; i++ {
		if r, _ := a.Hit(ctx, key, 200, time.Minute); r.Allowed {
			allowed++
		}
	}
	// Background sync: every hit of a reaches Redis.
	eventually(t, "a's hits in Redis", func() bool {
		n, _ := rdb.Get(ctx, "rl:"+key).Int64()
		return n == 150 && a.SettledForTest(key)
	})
	for i := 0; i < 150; i++ {
		if r, _ := b.Hit(ctx, key, 200, time.Minute); r.Allowed {
			allowed++
		}
		if i%20 == 0 {
			eventually(t, "b's sync", func() bool { return b.SettledForTest(key) })
		}
	}
	if allowed < 200 || allowed > 230 {
		t.Fatalf("two replicas admitted %d of 300 hits for a limit of 200", allowed)
	}
	// Replica a learns the global count at its next sync (one is due once
	// SyncInterval has passed).
	clk.Advance(ratelimit.SyncInterval)
	_, _ = a.Hit(ctx, key, 200, time.Minute)
	eventually(t, "a's sync", func() bool { return a.SettledForTest(key) })
	r, _ := a.Hit(ctx, key, 200, time.Minute)
	if r.Allowed || r.RetryAfter <= 0 {
		t.Fatalf("over the limit: %+v", r)
	}
	a.Close()
	b.Close()
}

// eventually polls ok until it holds, failing after 5 s.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	wait.Until(t, what, 5*time.Second, 5*time.Millisecond, ok)
}
