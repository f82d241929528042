package events

import (
	"context"
	"fmt"

	"github.com/uptrace/bun/dialect/pgdialect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/opencommerce/commerce/internal/platform/metrics/meter"
)

// pendingCap bounds how many rows one topic's pending count reads (a
// backlog larger than this reports the cap: the alert fires either way).
const pendingCap = 100_000

// busMetrics are the bus's own instruments; nil records nothing.
type busMetrics struct {
	retries metric.Int64Counter
}

// retried counts one failed attempt that will be tried again.
func (m *busMetrics) retried(ctx context.Context, consumer string) {
	if m != nil {
		m.retries.Add(ctx, 1, metric.WithAttributes(attribute.String("consumer", consumer)))
	}
}

// Instrument registers the event pipeline's metrics on m; call it after
// the consumers are registered and before Run:
//
//   - commerce_consumer_retries_total{consumer}: failed handler attempts
//     that were retried (a dead letter follows MaxAttempts failures);
//   - commerce_outbox_pending{topic}: outbox rows of the topic that a
//     reader of this process (consumer or Kafka forwarder) has not applied
//     yet, plus rows the relay has not sequenced yet;
//   - commerce_dead_letters{consumer}: dead letters not retried
//     successfully (every consumer's: the table is shared, so every
//     process reports the same figures; aggregate with max, not sum).
//
// The gauges are read at scrape time through a cached query (one per
// meter.SampleEvery, bounded by meter.SampleTimeout).
func (b *Bus) Instrument(m metric.Meter) error {
	retries, err := m.Int64Counter("commerce.consumer.retries", metric.WithDescription("event handler attempts that failed and were retried, by consumer"))
	if err != nil {
		return err
	}
	b.mu.Lock()
	for _, c := range b.cons {
		// Every consumer's series exists from the start (rate() and
		// alerts see 0, not nothing).
		retries.Add(context.Background(), 0, metric.WithAttributes(attribute.String("consumer", c.Name)))
	}
	b.metrics = &busMetrics{retries: retries}
	b.mu.Unlock()

	pending, err := m.Int64ObservableGauge("commerce.outbox.pending",
		metric.WithDescription("outbox rows per topic not yet applied by a reader of this process or not yet sequenced by the relay"))
	if err != nil {
		return err
	}
	dead, err := m.Int64ObservableGauge("commerce.dead_letters", metric.WithDescription("dead-lettered events not retried successfully, by consumer"))
	if err != nil {
		return err
	}
	pendingS := meter.NewSampler(b.pendingCounts)
	deadS := meter.NewSampler(b.deadLetterCounts)
	_, err = m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		if p, err := pendingS.Get(ctx); err == nil {
			for topic, n := range p {
				o.ObserveInt64(pending, n, metric.WithAttributes(attribute.String("topic", topic)))
			}
		}
		if d, err := deadS.Get(ctx); err == nil {
			for consumer, n := range d {
				o.ObserveInt64(dead, n, metric.WithAttributes(attribute.String("consumer", consumer)))
			}
		}
		return nil
	}, pending, dead)
	return err
}

// pendingCounts is, per topic read or published here, the largest number
// of rows a reader of this process has still to apply, plus the rows not
// sequenced yet.
func (b *Bus) pendingCounts(ctx context.Context) (map[string]int64, error) {
	topics, positions, err := b.readerPositions(ctx)
	if err != nil {
		return nil, fmt.Errorf("outbox pending: %w", err)
	}
	out := make(map[string]int64, len(topics))
	for _, t := range topics {
		out[t] = 0
	}
	var rows []struct {
		Topic     string `bun:"topic"`
		N         int64  `bun:"n"`
		Sequenced bool   `bun:"sequenced"`
	}
	if err := b.db.NewRaw(`SELECT t.topic, (SELECT count(*) FROM (SELECT 1 FROM events.outbox o WHERE o.topic = t.topic AND o.seq > t.pos LIMIT ?) x) AS n, true AS sequenced
		FROM unnest(?::text[], ?::bigint[]) AS t(topic, pos)
		UNION ALL
		SELECT topic, count(*), false FROM events.outbox WHERE seq IS NULL GROUP BY topic`,
		pendingCap, pgdialect.Array(topics), pgdialect.Array(positions)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("outbox pending: %w", err)
	}
	behind := map[string]int64{}
	for _, r := range rows {
		if r.Sequenced {
			behind[r.Topic] = max(behind[r.Topic], r.N)
		} else {
			out[r.Topic] += r.N
		}
	}
	for t, n := range behind {
		out[t] += n
	}
	return out, nil
}

// deadLetterCounts counts unretried dead letters by consumer; the
// consumers of this process report 0 when they have none.
func (b *Bus) deadLetterCounts(ctx context.Context) (map[string]int64, error) {
	pending, err := PendingDeadLetters(ctx, b.db)
	if err != nil {
		return nil, err
	}
	out := map[string]int64{}
	b.mu.Lock()
	for _, c := range b.cons {
		out[c.Name] = 0
	}
	b.mu.Unlock()
	for consumer, n := range pending {
		out[consumer] = n
	}
	return out, nil
}
