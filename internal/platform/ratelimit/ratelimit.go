// Package ratelimit counts requests in Redis fixed windows, so limits hold
// across every replica of the service (and in-process via miniredis).
package ratelimit

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// Limiter checks and counts hits against named limits.
type Limiter struct {
	rdb    redis.UniversalClient
	prefix string
}

// New builds a limiter over rdb; keys are prefixed to share a Redis safely.
func New(rdb redis.UniversalClient) *Limiter { return &Limiter{rdb: rdb, prefix: "rl:"} }

// Result says whether the hit was allowed and when the window resets.
type Result struct {
	Allowed    bool
	Count      int64
	RetryAfter time.Duration
}

// Hit counts one event for key and reports whether it is within limit per window.
func (l *Limiter) Hit(ctx context.Context, key string, limit int, window time.Duration) (Result, error) {
	// One round trip, no Lua (cheap on miniredis too): count, start the
	// window on the first hit (NX keeps later hits from extending it),
	// read what is left of it.
	k := l.prefix + key
	pipe := l.rdb.Pipeline()
	incr := pipe.Incr(ctx, k)
	pipe.Do(ctx, "PEXPIRE", k, window.Milliseconds(), "NX")
	ttl := pipe.PTTL(ctx, k)
	if _, err := pipe.Exec(ctx); err != nil {
		return Result{}, err
	}
	left := ttl.Val()
	if left < 0 {
		left = window
	}
	return Result{Allowed: incr.Val() <= int64(limit), Count: incr.Val(), RetryAfter: left}, nil
}

// Peek reports whether key is already over limit without counting a hit.
func (l *Limiter) Peek(ctx context.Context, key string, limit int) (Result, error) {
	k := l.prefix + key
	c := l.rdb
	n, err := c.Get(ctx, k).Int64()
	if err == redis.Nil {
		return Result{Allowed: true}, nil
	}
	if err != nil {
		return Result{}, err
	}
	ttl, err := c.PTTL(ctx, k).Result()
	if err != nil {
		return Result{}, err
	}
	return Result{Allowed: n < int64(limit), Count: n, RetryAfter: ttl}, nil
}

// Reset forgets the counter of key (e.g. failed logins after a success).
func (l *Limiter) Reset(ctx context.Context, key string) error {
	return l.rdb.Del(ctx, l.prefix+key).Err()
}
