package fanout

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

const prefix = "test:user:"

// seqOf decodes the test messages: {"seq":N,...}.
func seqOf(p string) (int64, bool) {
	var m struct {
		Seq int64 `json:"seq"`
	}
	return m.Seq, json.Unmarshal([]byte(p), &m) == nil && m.Seq > 0
}

const Buffer = 64

func newHub(t *testing.T) (*Hub[int64], *redis.Client) {
	t.Helper()
	m := miniredis.RunT(t)
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	t.Cleanup(func() { _ = rdb.Close() })
	h := New(rdb, prefix, Buffer, seqOf, slog.New(slog.NewTextHandler(io.Discard, nil)))
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
	if err := Publish(ctx, rdb, prefix+"ann", event(7)); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Sub[int64]{a1, a2} {
		select {
		case seq := <-s.C():
			if seq != 7 {
				t.Fatalf("event %d", seq)
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
	if h.Subscriptions() != 1 {
		t.Fatalf("%d streams", h.Subscriptions())
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
		for seq := range fast.C() {
			got <- seq
		}
	}()
	for i := 1; i <= Buffer+10; i++ { // slow never reads
		if err := Publish(ctx, rdb, prefix+"ann", event(i)); err != nil {
			t.Fatal(err)
		}
		if i == Buffer {
			// The fast reader keeps up (a loaded machine may not schedule it
			// before the buffer fills, which would drop it too).
			for deadline := time.Now().Add(5 * time.Second); len(got) < Buffer && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
		}
	}
	select {
	case <-slow.Gone():
	case <-time.After(2 * time.Second):
		t.Fatal("the slow stream was not dropped")
	}
	if !slow.Dropped() || fast.Dropped() {
		t.Fatal("Dropped must tell the slow one")
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
