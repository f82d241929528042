// Package fanout delivers messages to the live connections of a key (a
// user) across instances: publishers send to a Redis channel per key, and
// every instance subscribes to the channels of the keys it holds
// connections for, then fans each message out to those connections
// locally. A connection that falls a bounded number of messages behind
// is dropped, never slowing the others.
package fanout

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// ErrClosed is returned once the hub is shutting down.
var ErrClosed = errors.New("fanout hub closed")

// Hub is one instance's end of the per-key channels; T is a message as
// decoded once per instance and shared by the key's connections.
type Hub[T any] struct {
	rdb    *redis.Client
	log    *slog.Logger
	prefix string
	buffer int
	decode func(payload string) (T, bool)
	ps     *redis.PubSub
	mu     sync.Mutex
	keys   map[string]map[*Sub[T]]struct{}
	done   chan struct{}
	once   sync.Once
}

// Sub is one connection's subscription.
type Sub[T any] struct {
	hub     *Hub[T]
	key     string
	c       chan T
	gone    chan struct{}
	once    sync.Once
	dropped atomic.Bool
}

// C delivers the key's messages in publish order.
func (s *Sub[T]) C() <-chan T { return s.c }

// Gone is closed when the connection must end: it fell too far behind
// (Dropped) or the hub is shutting down.
func (s *Sub[T]) Gone() <-chan struct{} { return s.gone }

// Dropped reports whether the subscription ended for being too slow.
func (s *Sub[T]) Dropped() bool { return s.dropped.Load() }

// Close ends the subscription.
func (s *Sub[T]) Close() { s.hub.remove(s) }

// New builds a hub for the channels prefix+key; buffer bounds how far a
// connection may fall behind; decode turns a payload into a message (false
// drops it). Run must be running for messages to arrive.
func New[T any](rdb *redis.Client, prefix string, buffer int, decode func(string) (T, bool), log *slog.Logger) *Hub[T] {
	return &Hub[T]{rdb: rdb, log: log, prefix: prefix, buffer: buffer, decode: decode, ps: rdb.Subscribe(context.Background()),
		keys: map[string]map[*Sub[T]]struct{}{}, done: make(chan struct{})}
}

// Channel is the Redis channel of key.
func (h *Hub[T]) Channel(key string) string { return h.prefix + key }

// Publish sends data to every connection of key, on any instance.
func Publish(ctx context.Context, rdb *redis.Client, channel string, data []byte) error {
	return rdb.Publish(ctx, channel, data).Err()
}

// Subscribe opens a subscription to key's messages.
func (h *Hub[T]) Subscribe(ctx context.Context, key string) (*Sub[T], error) {
	s := &Sub[T]{hub: h, key: key, c: make(chan T, h.buffer), gone: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	select {
	case <-h.done:
		return nil, ErrClosed
	default:
	}
	subs := h.keys[key]
	if subs == nil {
		// First connection of this key here: listen to its channel.
		if err := h.ps.Subscribe(ctx, h.prefix+key); err != nil {
			return nil, err
		}
		subs = map[*Sub[T]]struct{}{}
		h.keys[key] = subs
	}
	subs[s] = struct{}{}
	return s, nil
}

func (h *Hub[T]) remove(s *Sub[T]) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(s)
}

// removeLocked ends s; the last connection of a key leaves its channel.
func (h *Hub[T]) removeLocked(s *Sub[T]) {
	s.once.Do(func() { close(s.gone) })
	subs, ok := h.keys[s.key]
	if !ok {
		return
	}
	if _, ok := subs[s]; !ok {
		return
	}
	delete(subs, s)
	if len(subs) == 0 {
		delete(h.keys, s.key)
		select {
		case <-h.done:
		default:
			if err := h.ps.Unsubscribe(context.Background(), h.prefix+s.key); err != nil {
				h.log.Warn("fanout: unsubscribe", "err", err)
			}
		}
	}
}

// Subscriptions is the number of live subscriptions.
func (h *Hub[T]) Subscriptions() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, subs := range h.keys {
		n += len(subs)
	}
	return n
}

// Run delivers published messages to local subscriptions until ctx ends
// or the hub is closed.
func (h *Hub[T]) Run(ctx context.Context) error {
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

func (h *Hub[T]) dispatch(m *redis.Message) {
	key, ok := strings.CutPrefix(m.Channel, h.prefix)
	if !ok {
		return
	}
	msg, ok := h.decode(m.Payload)
	if !ok {
		h.log.Warn("fanout: undecodable message", "channel", m.Channel)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.keys[key] {
		select {
		case s.c <- msg:
		default:
			s.dropped.Store(true)
			h.removeLocked(s) // too slow: drop it rather than wait
		}
	}
}

// Close ends every subscription and stops listening (graceful shutdown:
// clients reconnect to another instance).
func (h *Hub[T]) Close() {
	h.once.Do(func() {
		h.mu.Lock()
		close(h.done)
		for _, subs := range h.keys {
			for s := range subs {
				s.once.Do(func() { close(s.gone) })
			}
		}
		h.keys = map[string]map[*Sub[T]]struct{}{}
		h.mu.Unlock()
		_ = h.ps.Close()
	})
}
