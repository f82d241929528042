// Package ratelimit counts requests in Redis fixed windows, so limits hold
// across every replica of the service (and in-process via miniredis).
package ratelimit

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// script increments the window counter and sets its expiry on first use,
// atomically, returning the count and the milliseconds left in the window.
var script = redis.NewScript(`
local c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {c, ttl}
`)

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
	v, err := script.Run(ctx, l.rdb, []string{l.prefix + key}, window.Milliseconds()).Int64Slice()
	if err != nil {
		return Result{}, err
	}
	return Result{Allowed: v[0] <= int64(limit), Count: v[0], RetryAfter: time.Duration(v[1]) * time.Millisecond}, nil
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
