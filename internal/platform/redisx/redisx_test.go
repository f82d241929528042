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
	// The key is gone within two clock ticks of its TTL: polled up to
	// then, not slept through.
	for deadline := time.Now().Add(400 * time.Millisecond); ; time.Sleep(10 * time.Millisecond) {
		if n, _ := c.Exists(ctx, "k").Result(); n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("key outlived its TTL")
		}
	}
}
