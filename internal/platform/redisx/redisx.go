// Package redisx connects to Redis, or runs an in-process Redis (miniredis,
// which speaks the real protocol) when REDIS_URL is unset, so caching, rate
// limits and locks run the same code in both cases.
package redisx

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"

	"github.com/opencommerce/commerce/internal/platform/otelx"
)

// Client is a go-redis client plus the embedded server, if any.
type Client struct {
	*redis.Client
	embedded *miniredis.Miniredis
	stop     chan struct{}
	stopped  chan struct{}
}

// clockTick is how often the embedded server's clock follows the wall
// clock: miniredis expires keys only when told time has passed, so without
// this TTLs (rate-limit windows, locks, presence) would never run out.
const clockTick = 50 * time.Millisecond

func (c *Client) runClock() {
	defer close(c.stopped)
	t := time.NewTicker(clockTick)
	defer t.Stop()
	last := time.Now()
	for {
		select {
		case <-c.stop:
			return
		case now := <-t.C:
			c.embedded.SetTime(now)
			c.embedded.FastForward(now.Sub(last))
			last = now
		}
	}
}

// Open connects to url, or starts miniredis when url is empty.
func Open(ctx context.Context, url string) (*Client, error) {
	if url == "" {
		m := miniredis.NewMiniRedis()
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("start in-process redis: %w", err)
		}
		m.SetTime(time.Now())
		c := &Client{Client: redis.NewClient(&redis.Options{Addr: m.Addr()}), embedded: m, stop: make(chan struct{}), stopped: make(chan struct{})}
		if err := instrument(c.Client); err != nil {
			m.Close()
			return nil, err
		}
		go c.runClock()
		return c, nil
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	c := redis.NewClient(opts)
	if err := instrument(c); err != nil {
		_ = c.Close()
		return nil, err
	}
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("connect to Redis: %w", err)
	}
	return &Client{Client: c}, nil
}

// instrument adds a client span per command (named by the command, e.g.
// "get", "evalsha") and per pipeline when tracing is on; without tracing
// the client gets no hook, so commands cost nothing more. The spans carry
// the server address but not the command's arguments (keys and values may
// be tokens), nor the caller (a stack walk per command); connection dials
// are left out.
func instrument(c *redis.Client) error {
	if !otelx.Tracing() {
		return nil
	}
	if err := redisotel.InstrumentTracing(c,
		redisotel.WithTracerProvider(otelx.TracerProvider()),
		redisotel.WithDBStatement(false),
		redisotel.WithCallerEnabled(false),
		redisotel.WithDialFilter(true),
	); err != nil {
		return fmt.Errorf("redis tracing: %w", err)
	}
	return nil
}

// Embedded reports whether this is the in-process server.
func (c *Client) Embedded() bool { return c.embedded != nil }

// Close closes the client and the embedded server.
func (c *Client) Close() error {
	err := c.Client.Close()
	if c.embedded != nil {
		close(c.stop)
		<-c.stopped
		c.embedded.Close()
	}
	return err
}
