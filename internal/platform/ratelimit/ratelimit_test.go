package ratelimit_test

import (
	"context"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/platform/ratelimit"
	"github.com/opencommerce/commerce/internal/platform/redisx"
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
	a, b := ratelimit.New(rdb), ratelimit.New(rdb) // two replicas
	key := "big:" + time.Now().Format(time.RFC3339Nano)
	allowed := 0
	for i := 0; i < 150; i++ {
		if r, _ := a.Hit(ctx, key, 200, time.Minute); r.Allowed {
			allowed++
		}
	}
	time.Sleep(3 * ratelimit.SyncInterval) // background sync
	for i := 0; i < 150; i++ {
		if r, _ := b.Hit(ctx, key, 200, time.Minute); r.Allowed {
			allowed++
		}
		if i%20 == 0 {
			time.Sleep(ratelimit.SyncInterval)
		}
	}
	if allowed < 200 || allowed > 230 {
		t.Fatalf("two replicas admitted %d of 300 hits for a limit of 200", allowed)
	}
	// Replica a learns the global count at its next sync.
	_, _ = a.Hit(ctx, key, 200, time.Minute)
	time.Sleep(3 * ratelimit.SyncInterval)
	r, _ := a.Hit(ctx, key, 200, time.Minute)
	if r.Allowed || r.RetryAfter <= 0 {
		t.Fatalf("over the limit: %+v", r)
	}
	a.Close()
	b.Close()
}
