// Package redisx connects to Redis, or runs an in-process Redis (miniredis,
// which speaks the real protocol) when REDIS_URL is unset, so caching, rate
// limits and locks run the same code in both cases.
package redisx

import (
	"context"
	"fmt"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
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
		go c.runClock()
		return c, nil
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	c := redis.NewClient(opts)
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		return nil, fmt.Errorf("connect to Redis: %w", err)
	}
	return &Client{Client: c}, nil
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
