package events

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/uptrace/bun/dialect/pgdialect"
)

// reader is something that reads events.outbox past an offset of its own:
// a consumer on the Postgres transport or a Kafka forwarder.
type reader struct {
	name   string
	topics []string
}

// lagCache keeps the last lag reading briefly: /metrics and /readyz may
// ask often, the answer changes slowly.
type lagCache struct {
	mu   sync.Mutex
	at   time.Time
	lags map[string]float64
	err  error
}

// track adds a reader whose lag Lag reports.
func (b *Bus) track(name string, topics []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.readers = append(b.readers, reader{name: name, topics: topics})
}

// Lag reports, per topic, the age in seconds of the oldest event that a
// reader of this process has not applied yet, or that the relay has not
// sequenced yet (0 when nothing waits). Readings are cached for a second.
func (b *Bus) Lag(ctx context.Context) (map[string]float64, error) {
	b.lag.mu.Lock()
	defer b.lag.mu.Unlock()
	if time.Since(b.lag.at) < time.Second {
		return b.lag.lags, b.lag.err
	}
	b.lag.lags, b.lag.err = b.readLag(ctx)
	b.lag.at = time.Now()
	return b.lag.lags, b.lag.err
}

func (b *Bus) readLag(ctx context.Context) (map[string]float64, error) {
	topics, positions, err := b.readerPositions(ctx)
	if err != nil {
		return nil, fmt.Errorf("event lag: %w", err)
	}
	out := make(map[string]float64, len(topics))
	for _, t := range topics {
		out[t] = 0
	}
	var rows []struct {
		Topic string  `bun:"topic"`
		Age   float64 `bun:"age"`
	}
	// The first unapplied event of each (reader, topic), by index, plus
	// what the relay has not sequenced.
	if err := b.db.NewRaw(`SELECT t.topic, extract(epoch FROM now() - o.created_at)::float8 AS age
		FROM unnest(?::text[], ?::bigint[]) AS t(topic, pos)
		CROSS JOIN LATERAL (SELECT created_at FROM events.outbox WHERE topic = t.topic AND seq > t.pos ORDER BY seq LIMIT 1) o
		UNION ALL
		SELECT topic, extract(epoch FROM now() - min(created_at))::float8 FROM events.outbox WHERE seq IS NULL GROUP BY topic`,
		pgdialect.Array(topics), pgdialect.Array(positions)).Scan(ctx, &rows); err != nil {
		return nil, fmt.Errorf("event lag: %w", err)
	}
	for _, r := range rows {
		if _, ours := out[r.Topic]; ours && r.Age > out[r.Topic] {
			out[r.Topic] = r.Age
		}
	}
	return out, nil
}

// readerPositions lists, for every topic each reader of this process
// consumes, the reader's applied position (a pair per reader and topic,
// 0 when it has applied nothing): the start of both the pending counts
// and the lag.
func (b *Bus) readerPositions(ctx context.Context) (topics []string, positions []int64, err error) {
	b.mu.Lock()
	readers := append([]reader(nil), b.readers...)
	b.mu.Unlock()
	if len(readers) == 0 {
		return nil, nil, nil
	}
	names := make([]string, len(readers))
	for i, r := range readers {
		names[i] = r.name
	}
	var offs []struct {
		Consumer string `bun:"consumer"`
		Seq      int64  `bun:"seq"`
	}
	if err := b.db.NewRaw("SELECT consumer, seq FROM events.consumer_offsets WHERE consumer = ANY(?::text[])", pgdialect.Array(names)).Scan(ctx, &offs); err != nil {
		return nil, nil, fmt.Errorf("reader positions: %w", err)
	}
	at := make(map[string]int64, len(offs))
	for _, o := range offs {
		at[o.Consumer] = o.Seq
	}
	for _, r := range readers {
		for _, t := range r.topics {
			topics, positions = append(topics, t), append(positions, at[r.name])
		}
	}
	return topics, positions, nil
}
