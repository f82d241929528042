package push

import (
	"context"
	"encoding/json"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/opencommerce/commerce/internal/platform/fanout"
)

// AdminEvent is one event of the administrators' live stream: its type
// (the SSE event name) and its JSON. The admin stream keeps no history
// (the console refetches what it shows when it reconnects), so events
// carry no sequence number.
type AdminEvent struct {
	Type string
	Data []byte
}

// The administrators' stream is one key of its own hub, on its own
// channel prefix: every administrator sees every event.
const (
	adminPrefix = "notify:admin:"
	adminKey    = "all"
)

// AdminHub is the instance's fan-out of admin events to admin streams.
type AdminHub = fanout.Hub[AdminEvent]

// AdminSub is one admin stream's subscription.
type AdminSub = fanout.Sub[AdminEvent]

// NewAdminHub builds the admin hub; Run must be running for events to
// arrive.
func NewAdminHub(rdb *redis.Client, log *slog.Logger) *AdminHub {
	return fanout.New(rdb, adminPrefix, Buffer, decodeAdmin, log)
}

// SubscribeAdmin opens a subscription to the admin events.
func SubscribeAdmin(ctx context.Context, h *AdminHub) (*AdminSub, error) {
	return h.Subscribe(ctx, adminKey)
}

func decodeAdmin(payload string) (AdminEvent, bool) {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal([]byte(payload), &head); err != nil || head.Type == "" {
		return AdminEvent{}, false
	}
	return AdminEvent{Type: head.Type, Data: []byte(payload)}, true
}

// PublishAdmin sends an admin event (JSON with "type") to every admin
// stream, on any instance.
func PublishAdmin(ctx context.Context, rdb *redis.Client, data []byte) error {
	return fanout.Publish(ctx, rdb, adminPrefix+adminKey, data)
}
