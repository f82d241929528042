// Package push carries notifications to the live streams of their user,
// across instances, over the platform's Redis fan-out: every instance
// publishes to a channel per user, so any instance serves any user.
package push

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/opencommerce/commerce/internal/notify/notifyapi"
	"github.com/opencommerce/commerce/internal/platform/fanout"
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

const prefix = notifyapi.LiveChannelPrefix

// Hub is the instance's fan-out of notifications to streams.
type Hub = fanout.Hub[Event]

// Sub is one stream's subscription.
type Sub = fanout.Sub[Event]

// NewHub builds the hub; Run must be running for events to arrive.
func NewHub(rdb *redis.Client, log *slog.Logger) *Hub {
	return fanout.New(rdb, prefix, Buffer, decode, log)
}

func decode(payload string) (Event, bool) {
	var head struct {
		Seq  int64  `json:"seq"`
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal([]byte(payload), &head); err != nil || head.Seq <= 0 {
		return Event{}, false
	}
	return Event{Seq: head.Seq, Kind: head.Kind, Data: []byte(payload)}, true
}

// Publish sends an event (JSON with "seq" and "kind") to every stream of
// user, on any instance.
func Publish(ctx context.Context, rdb *redis.Client, user string, data []byte) error {
	return fanout.Publish(ctx, rdb, prefix+user, data)
}

// Queue adds a Publish to a pipeline, to send many in one round trip.
func Queue(ctx context.Context, pipe redis.Pipeliner, user string, data []byte) {
	pipe.Publish(ctx, prefix+user, data)
}
