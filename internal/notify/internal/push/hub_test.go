package push

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

func newHub(t *testing.T) (*Hub, *redis.Client) {
	t.Helper()
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	h := NewHub(rdb, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = h.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return h, rdb
}

func event(seq int) []byte { return []byte(fmt.Sprintf(`{"seq":%d,"kind":"order_paid"}`, seq)) }

// waitSubscribed waits until Redis knows n subscribers of user's channel.
func waitSubscribed(t *testing.T, rdb *redis.Client, user string, n int64) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if m, _ := rdb.PubSubNumSub(context.Background(), prefix+user).Result(); m[prefix+user] == n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("channel of %s never had %d subscribers", user, n)
}

func TestEventsReachOnlyTheirUsersStreams(t *testing.T) {
	h, rdb := newHub(t)
	ctx := context.Background()
	a1, _ := h.Subscribe(ctx, "ann")
	a2, _ := h.Subscribe(ctx, "ann")
	b, _ := h.Subscribe(ctx, "bob")
	waitSubscribed(t, rdb, "ann", 1)
	waitSubscribed(t, rdb, "bob", 1)
	if err := Publish(ctx, rdb, "ann", event(7)); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Sub{a1, a2} {
		select {
		case ev := <-s.C():
			if ev.Seq != 7 || ev.Kind != "order_paid" {
				t.Fatalf("event %+v", ev)
			}
		case <-time.After(2 * time.Second):
			t.Fatal("ann's stream got nothing")
		}
	}
	select {
	case ev := <-b.C():
		t.Fatalf("bob got ann's event %+v", ev)
	case <-time.After(100 * time.Millisecond):
	}
	// The last stream of a user leaves its channel.
	a1.Close()
	a2.Close()
	waitSubscribed(t, rdb, "ann", 0)
	if h.Streams() != 1 {
		t.Fatalf("%d streams", h.Streams())
	}
}

func TestSlowStreamIsDroppedWithoutDelayingOthers(t *testing.T) {
	h, rdb := newHub(t)
	ctx := context.Background()
	slow, _ := h.Subscribe(ctx, "ann")
	fast, _ := h.Subscribe(ctx, "ann")
	waitSubscribed(t, rdb, "ann", 1)
	got := make(chan int64, 2*Buffer)
	go func() {
		for ev := range fast.C() {
			got <- ev.Seq
		}
	}()
	for i := 1; i <= Buffer+10; i++ { // slow never reads
		if err := Publish(ctx, rdb, "ann", event(i)); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case <-slow.Gone():
	case <-time.After(2 * time.Second):
		t.Fatal("the slow stream was not dropped")
	}
	for want := int64(1); want <= Buffer+10; want++ {
		select {
		case seq := <-got:
			if seq != want {
				t.Fatalf("fast stream got %d, want %d", seq, want)
			}
		case <-time.After(2 * time.Second):
			t.Fatalf("fast stream stalled at %d", want)
		}
	}
}

func TestCloseEndsEveryStream(t *testing.T) {
	h, _ := newHub(t)
	s, _ := h.Subscribe(context.Background(), "ann")
	h.Close()
	select {
	case <-s.Gone():
	case <-time.After(time.Second):
		t.Fatal("stream not ended by Close")
	}
	if _, err := h.Subscribe(context.Background(), "bob"); err != ErrClosed {
		t.Fatalf("subscribe after close: %v", err)
	}
}
