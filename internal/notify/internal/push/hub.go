// Package push fans notifications out to the live streams of their user,
// across instances: every instance publishes to a Redis channel per user
// and subscribes to the channels of the users it has streams for, so a
// shopper's stream can be served by any instance.
package push

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Event is one notification as pushed: its per-user sequence number (the
// SSE id), its kind (the SSE event name) and its JSON.
type Event struct {
	Seq  int64
	Kind string
	Data []byte
}

// Buffer is how many events a stream may fall behind before it is dropped.
const Buffer = 64

const prefix = "notify:user:"

// ErrClosed is returned once the hub is shutting down.
var ErrClosed = errors.New("push hub closed")

// Hub is one instance's end of the per-user Redis channels.
type Hub struct {
	rdb   *redis.Client
	log   *slog.Logger
	ps    *redis.PubSub
	mu    sync.Mutex
	users map[string]map[*Sub]struct{}
	done  chan struct{}
	once  sync.Once
}

// Sub is one live stream's subscription.
type Sub struct {
	hub  *Hub
	user string
	c    chan Event
	gone chan struct{}
	once sync.Once
}

// C delivers the user's events in publish order.
func (s *Sub) C() <-chan Event { return s.c }

// Gone is closed when the stream must end: it fell too far behind (a slow
// client is dropped rather than delaying anyone else; it resumes with
// Last-Event-ID) or the hub is shutting down.
func (s *Sub) Gone() <-chan struct{} { return s.gone }

// Close ends the subscription.
func (s *Sub) Close() { s.hub.remove(s) }

// NewHub builds the hub; Run must be running for events to arrive.
func NewHub(rdb *redis.Client, log *slog.Logger) *Hub {
	return &Hub{rdb: rdb, log: log, ps: rdb.Subscribe(context.Background()), users: map[string]map[*Sub]struct{}{}, done: make(chan struct{})}
}

// Publish sends an event (JSON with "seq" and "kind") to every stream of
// user, on any instance.
func Publish(ctx context.Context, rdb *redis.Client, user string, data []byte) error {
	return rdb.Publish(ctx, prefix+user, data).Err()
}

// Queue adds a Publish to a pipeline, to send many in one round trip.
func Queue(ctx context.Context, pipe redis.Pipeliner, user string, data []byte) {
	pipe.Publish(ctx, prefix+user, data)
}

// Subscribe opens a subscription to user's events.
func (h *Hub) Subscribe(ctx context.Context, user string) (*Sub, error) {
	s := &Sub{hub: h, user: user, c: make(chan Event, Buffer), gone: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.done:
		return nil, ErrClosed
	default:
	}
	subs := h.users[user]
	if subs == nil {
		// First stream of this user here: listen to the user's channel.
		if err := h.ps.Subscribe(ctx, prefix+user); err != nil {
			return nil, err
		}
		subs = map[*Sub]struct{}{}
		h.users[user] = subs
	}
	subs[s] = struct{}{}
	return s, nil
}

// remove drops s; the last stream of a user unsubscribes its channel.
func (h *Hub) remove(s *Sub) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(s)
}

func (h *Hub) removeLocked(s *Sub) {
	s.once.Do(func() { close(s.gone) })
	subs, ok := h.users[s.user]
	if !ok {
		return
	}
	if _, ok := subs[s]; !ok {
		return
	}
	delete(subs, s)
	if len(subs) == 0 {
		delete(h.users, s.user)
		select {
		case <-h.done:
		default:
			if err := h.ps.Unsubscribe(context.Background(), prefix+s.user); err != nil {
				h.log.Warn("push: unsubscribe", "err", err)
			}
		}
	}
}

// Streams is the number of live subscriptions.
func (h *Hub) Streams() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, subs := range h.users {
		n += len(subs)
	}
	return n
}

// Run delivers published events to local streams until ctx ends or the
// hub is closed.
func (h *Hub) Run(ctx context.Context) error {
	ch := h.ps.Channel(redis.WithChannelSize(4096))
	for {
		select {
		case <-ctx.Done():
			h.Close()
			return nil
		case <-h.done:
			return nil
		case m, ok := <-ch:
			if !ok {
				return nil
			}
			h.dispatch(m)
		}
	}
}

func (h *Hub) dispatch(m *redis.Message) {
	user, ok := strings.CutPrefix(m.Channel, prefix)
	if !ok {
		return
	}
	var head struct {
		Seq  int64  `json:"seq"`
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal([]byte(m.Payload), &head); err != nil || head.Seq <= 0 {
		h.log.Warn("push: bad event", "channel", m.Channel)
		return
	}
	ev := Event{Seq: head.Seq, Kind: head.Kind, Data: []byte(m.Payload)}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.users[user] {
		select {
		case s.c <- ev:
		default:
			h.removeLocked(s) // too slow: drop it, it resumes from its last id
		}
	}
}

// Close ends every stream and stops listening (graceful shutdown: clients
// reconnect to another instance with Last-Event-ID).
func (h *Hub) Close() {
	h.once.Do(func() {
		h.mu.Lock()
		close(h.done)
		for _, subs := range h.users {
			for s := range subs {
				s.once.Do(func() { close(s.gone) })
			}
		}
		h.users = map[string]map[*Sub]struct{}{}
		h.mu.Unlock()
		_ = h.ps.Close()
	})
}
