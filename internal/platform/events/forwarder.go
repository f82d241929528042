package events

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/platform/otelx"
)

// PartitionKey is the metadata key transports use to keep one aggregate's
// events in order (Kafka's record key).
const PartitionKey = "partition_key"

// Forwarder relays the outbox to another publisher, Kafka in split
// deployments. It reads events.outbox in sequence order like any consumer,
// publishes a batch, and only then moves its offset: a crash re-sends
// rather than loses, and consumers' inboxes absorb the duplicates. No
// transaction is open while it waits for the publisher.
type Forwarder struct {
	bus     *Bus
	pub     message.Publisher
	topics  []string
	name    string
	running chan struct{}
}

// NewForwarder relays topics from the bus's database to pub. The bus must
// be running (its relay sequences the rows and its listener wakes this).
func NewForwarder(bus *Bus, pub message.Publisher, topics []string) (*Forwarder, error) {
	ts := slices.Clone(topics)
	slices.Sort(ts)
	ts = slices.Compact(ts)
	if len(ts) == 0 {
		return nil, fmt.Errorf("events: forwarder without topics")
	}
	// One offset per set of topics: each process forwards what it publishes.
	sum := sha256.Sum256([]byte(strings.Join(ts, ",")))
	f := &Forwarder{bus: bus, pub: pub, topics: ts, name: "forwarder:" + hex.EncodeToString(sum[:8]), running: make(chan struct{})}
	bus.track(f.name, ts)
	return f, nil
}

// Run relays until ctx ends.
func (f *Forwarder) Run(ctx context.Context) error {
	if err := f.bus.ensureOffset(ctx, f.name, f.topics); err != nil {
		return err
	}
	wake := f.bus.wake.subscribe(chanEvents)
	close(f.running)
	c := Consumer{Name: f.name, Topics: f.topics}
	backoff := f.bus.cfg.BaseBackoff
	for ctx.Err() == nil {
		full, err := f.forward(ctx, c)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			f.bus.log.WarnContext(ctx, "outbox forwarder: retrying", "err", err)
			select {
			case <-ctx.Done():
			case <-timeAfter(backoff):
			}
			if backoff *= 2; backoff > maxBackoff {
				backoff = maxBackoff
			}
			continue
		}
		backoff = f.bus.cfg.BaseBackoff
		if full {
			continue
		}
		select {
		case <-ctx.Done():
		case <-wake:
		case <-timeAfter(f.bus.cfg.PollInterval):
		}
	}
	return nil
}

// forward publishes the next batch and then records the offset.
func (f *Forwarder) forward(ctx context.Context, c Consumer) (bool, error) {
	b := f.bus
	var off int64
	if err := b.db.NewRaw("SELECT seq FROM events.consumer_offsets WHERE consumer = ?", c.Name).Scan(ctx, &off); err != nil {
		return false, fmt.Errorf("offset: %w", err)
	}
	var rows []struct {
		outboxRow
		AggregateID string `bun:"aggregate_id"`
	}
	if err := b.db.NewRaw(`SELECT seq, topic, event_id, aggregate_id, payload::text AS payload FROM events.outbox
		WHERE seq > ? AND topic IN (?) ORDER BY seq LIMIT ?`, off, bun.In(c.Topics), b.cfg.BatchSize).Scan(ctx, &rows); err != nil {
		return false, fmt.Errorf("read: %w", err)
	}
	var last int64
	for _, r := range rows {
		msg := message.NewMessage(r.EventID, []byte(r.Payload))
		msg.Metadata.Set("type", r.Topic)
		if r.AggregateID != "" {
			msg.Metadata.Set(PartitionKey, r.AggregateID)
		}
		sctx, span := sendSpan(r.Topic, r.EventID, r.AggregateID, r.Payload)
		if span != nil {
			msg.Metadata.Set("traceparent", otelx.TraceParent(sctx)) // consumers continue from the send span
		}
		err := f.pub.Publish(r.Topic, msg)
		endSpan(span, err)
		if err != nil {
			if last > 0 {
				_ = b.advance(ctx, b.db, c.Name, last) // keep what was sent
			}
			return false, fmt.Errorf("publish %s: %w", r.Topic, err)
		}
		last = r.Seq
	}
	if len(rows) == 0 {
		return false, nil
	}
	return len(rows) == b.cfg.BatchSize, b.advance(ctx, b.db, c.Name, rows[len(rows)-1].Seq)
}

// Running is closed once the forwarder reads the outbox.
func (f *Forwarder) Running() <-chan struct{} { return f.running }

// Close stops the publisher (Run ends with its context).
func (f *Forwarder) Close() error { return f.pub.Close() }
