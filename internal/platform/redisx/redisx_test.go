package redisx

import (
	"context"
	"testing"
	"time"
)

// The embedded server's keys expire in real time (rate-limit windows,
// presence and locks depend on it).
func TestEmbeddedKeysExpire(t *testing.T) {
	ctx := context.Background()
	c, err := Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Set(ctx, "k", "v", 200*time.Millisecond).Err(); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Exists(ctx, "k").Result(); n != 1 {
		t.Fatal("key missing at once")
	}
	time.Sleep(400 * time.Millisecond)
	if n, _ := c.Exists(ctx, "k").Result(); n != 0 {
		t.Fatal("key outlived its TTL")
	}
}
