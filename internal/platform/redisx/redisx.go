// Package redisx connects to Redis, or runs an in-process Redis (miniredis,
// which speaks the real protocol) when REDIS_URL is unset, so caching, rate
// limits and locks run the same code in both cases.
package redisx

import (
	"context"
	"fmt"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// Client is a go-redis client plus the embedded server, if any.
type Client struct {
	*redis.Client
	embedded *miniredis.Miniredis
}

// Open connects to url, or starts miniredis when url is empty.
func Open(ctx context.Context, url string) (*Client, error) {
	if url == "" {
		m := miniredis.NewMiniRedis()
		if err := m.StartAddr("127.0.0.1:0"); err != nil {
			return nil, fmt.Errorf("start in-process redis: %w", err)
		}
		return &Client{Client: redis.NewClient(&redis.Options{Addr: m.Addr()}), embedded: m}, nil
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
		c.embedded.Close()
	}
	return err
}
