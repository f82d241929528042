// Package ratelimit counts requests in Redis fixed windows, so limits hold
// across every replica of the service (and in-process via miniredis).
//
// Small limits (login attempts, emails per hour) are counted exactly: one
// pipelined Redis round trip per hit. Large limits (requests per minute per
// IP or user) are counted locally and synchronised with Redis in the
// background at most every SyncInterval, so the hot request path makes no
// network call; across N replicas such a limit may be exceeded by what N-1
// replicas admit within one interval.
package ratelimit

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/opencommerce/commerce/internal/platform/clock"
)

// ExactBelow is the limit under which every hit goes to Redis.
const ExactBelow = 100

// SyncInterval is how often local counts of large limits reach Redis.
const SyncInterval = 100 * time.Millisecond

// Limiter checks and counts hits against named limits.
type Limiter struct {
	rdb    redis.UniversalClient
	prefix string
	// clock decides the local windows of large limits (their end, and
	// when a hit is due to sync); Redis keeps the time of exact limits.
	clock clock.Clock

	mu      sync.Mutex
	local   map[string]*window
	hits    uint64
	flusher sync.Once
	stop    chan struct{}
}

type window struct {
	win      time.Duration
	limit    int
	end      time.Time
	base     int64 // global count at the last sync (our flushed hits included)
	pending  int64 // hits admitted here and not yet sent to Redis
	syncing  bool
	lastSync time.Time
}

// New builds a limiter over rdb; keys are prefixed to share a Redis safely.
func New(rdb redis.UniversalClient) *Limiter { return NewWithClock(rdb, nil) }

// NewWithClock is New reading the time from c (nil: the system clock), so
// tests move the local windows of large limits without waiting.
func NewWithClock(rdb redis.UniversalClient, c clock.Clock) *Limiter {
	return &Limiter{rdb: rdb, prefix: "rl:", clock: clock.Or(c), local: map[string]*window{}, stop: make(chan struct{})}
}

// Close stops the background flusher.
func (l *Limiter) Close() {
	l.flusher.Do(func() {}) // never start it after Close
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
}

// flushLoop sends pending local hits to Redis every SyncInterval, so hits
// reach the other replicas even when no further request triggers a sync.
func (l *Limiter) flushLoop() {
	t := time.NewTicker(SyncInterval)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		type job struct {
			key   string
			w     *window
			delta int64
			win   time.Duration
			limit int
		}
		var jobs []job
		l.mu.Lock()
		for k, w := range l.local {
			if w.pending > 0 && !w.syncing {
				w.syncing = true
				jobs = append(jobs, job{k, w, w.pending, w.win, w.limit})
				w.base, w.pending = w.base+w.pending, 0
			}
		}
		l.mu.Unlock()
		for _, j := range jobs {
			l.sync(j.key, j.w, j.delta, j.win, j.limit)
		}
	}
}

// Result says whether the hit was allowed and when the window resets.
type Result struct {
	Allowed    bool
	Count      int64
	RetryAfter time.Duration
}

// Hit counts one event for key and reports whether it is within limit per window.
func (l *Limiter) Hit(ctx context.Context, key string, limit int, window time.Duration) (Result, error) {
	if limit < ExactBelow {
		return l.exact(ctx, key, 1, window, limit)
	}
	return l.approx(key, limit, window), nil
}

// exact adds delta in one round trip, no Lua (cheap on miniredis too):
// count, start the window on the first hit (NX keeps later hits from
// extending it), read what is left of it.
func (l *Limiter) exact(ctx context.Context, key string, delta int64, window time.Duration, limit int) (Result, error) {
	k := l.prefix + key
	pipe := l.rdb.Pipeline()
	incr := pipe.IncrBy(ctx, k, delta)
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

func (l *Limiter) approx(key string, limit int, win time.Duration) Result {
	l.flusher.Do(func() { go l.flushLoop() })
	now := l.clock.Now()
	l.mu.Lock()
	l.hits++
	if l.hits%4096 == 0 {
		l.sweep(now)
	}
	w := l.local[key]
	if w == nil || now.After(w.end) {
		w = &window{end: now.Add(win), win: win, limit: limit}
		l.local[key] = w
	}
	used := w.base + w.pending
	if used >= int64(limit) {
		end := w.end // read under the lock: sync moves it
		l.mu.Unlock()
		return Result{Allowed: false, Count: used + 1, RetryAfter: end.Sub(now)}
	}
	w.pending++
	var delta int64
	if !w.syncing && (now.Sub(w.lastSync) >= SyncInterval || w.pending >= int64(limit)/10) {
		w.syncing, delta = true, w.pending
		w.base, w.pending = w.base+delta, 0
	}
	end := w.end // read under the lock: sync moves it
	l.mu.Unlock()
	if delta > 0 {
		go l.sync(key, w, delta, win, limit)
	}
	return Result{Allowed: true, Count: used + 1, RetryAfter: end.Sub(now)}
}

// sync sends local hits to Redis and adopts the global count and window.
func (l *Limiter) sync(key string, w *window, delta int64, win time.Duration, limit int) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	res, err := l.exact(ctx, key, delta, win, limit)
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	w.syncing, w.lastSync = false, now
	if err != nil {
		return // keep counting locally; the next sync retries
	}
	if res.Count > w.base {
		w.base = res.Count
	}
	if end := now.Add(res.RetryAfter); end.Before(w.end) {
		w.end = end
	}
}

func (l *Limiter) sweep(now time.Time) {
	for k, w := range l.local {
		if now.After(w.end) && !w.syncing {
			delete(l.local, k)
		}
	}
}

// Peek reports whether key is already at its limit without counting a hit
// (exact limits only).
func (l *Limiter) Peek(ctx context.Context, key string, limit int) (Result, error) {
	k := l.prefix + key
	n, err := l.rdb.Get(ctx, k).Int64()
	if err == redis.Nil {
		return Result{Allowed: true}, nil
	}
	if err != nil {
		return Result{}, err
	}
	ttl, err := l.rdb.PTTL(ctx, k).Result()
	if err != nil {
		return Result{}, err
	}
	return Result{Allowed: n < int64(limit), Count: n, RetryAfter: ttl}, nil
}

// Reset forgets the counter of key (e.g. failed logins after a success).
func (l *Limiter) Reset(ctx context.Context, key string) error {
	return l.rdb.Del(ctx, l.prefix+key).Err()
}
