package events

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/opencommerce/commerce/internal/platform/pg"
)

// PartitionKey is the metadata key transports use to keep one aggregate's
// events in order (Kafka's record key).
const PartitionKey = "partition_key"

// Forwarder relays the outbox (the Postgres topic tables written in each
// state change's transaction) to another publisher, Kafka in split
// deployments. A message is acknowledged in the outbox only after the
// publisher accepted it, so a crash re-sends rather than loses; consumers'
// inboxes absorb the duplicates.
type Forwarder struct {
	bus    *Bus
	pub    message.Publisher
	router *message.Router
}

// NewForwarder relays topics from db to pub.
func NewForwarder(db *pg.DB, log *slog.Logger, pub message.Publisher, topics []string) (*Forwarder, error) {
	bus, err := NewBus(db, log, BusConfig{})
	if err != nil {
		return nil, err
	}
	r, err := message.NewRouter(message.RouterConfig{CloseTimeout: 15 * time.Second}, wmLogger(log))
	if err != nil {
		return nil, err
	}
	f := &Forwarder{bus: bus, pub: pub, router: r}
	sub, err := bus.newSQLSubscriber("forwarder")
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for _, t := range topics {
		if seen[t] {
			continue
		}
		seen[t] = true
		topic := t
		r.AddConsumerHandler("forward@"+topic, topic, sub, func(msg *message.Message) error {
			var env Envelope
			out := message.NewMessage(msg.UUID, msg.Payload)
			for k, v := range msg.Metadata {
				out.Metadata.Set(k, v)
			}
			if json.Unmarshal(msg.Payload, &env) == nil && env.AggregateID != "" {
				out.Metadata.Set(PartitionKey, env.AggregateID)
			}
			return pub.Publish(topic, out)
		})
	}
	return f, nil
}

// Run relays until ctx ends or Close.
func (f *Forwarder) Run(ctx context.Context) error { return f.router.Run(ctx) }

// Running is closed once every topic is being relayed.
func (f *Forwarder) Running() <-chan struct{} { return f.router.Running() }

// Close stops relaying.
func (f *Forwarder) Close() error {
	err := f.router.Close()
	_ = f.pub.Close()
	return err
}
