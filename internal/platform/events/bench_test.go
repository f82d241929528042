package events_test

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

// BenchmarkDelivery measures events per second through the Postgres
// transport: b.N events committed in transactions of 10 on 4 topics, each
// applied by one of 4 consumers (inbox row + an effect row), from the first
// commit until the last is applied.
//
//	go test -run '^$' -bench Delivery -benchtime 5000x ./internal/platform/events/
func BenchmarkDelivery(b *testing.B) {
	db := pgtest.New(b)
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA t; CREATE TABLE t.inbox (consumer text, event_id text, PRIMARY KEY (consumer, event_id));
		CREATE TABLE t.effects (event_id text, n int)`); err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	bus, err := events.NewBus(db, log, events.BusConfig{})
	if err != nil {
		b.Fatal(err)
	}
	topics := []string{"bench.a", "bench.b", "bench.c", "bench.d"}
	if err := bus.InitTopics(topics...); err != nil {
		b.Fatal(err)
	}
	var applied atomic.Int64
	for _, topic := range topics {
		if err := bus.Register(events.Consumer{Name: "c." + topic, Inbox: "t.inbox", Topics: []string{topic},
			Handle: func(ctx context.Context, tx bun.Tx, e events.Envelope) error {
				_, err := tx.ExecContext(ctx, "INSERT INTO t.effects VALUES (?, 1)", e.ID)
				applied.Add(1)
				return err
			}}); err != nil {
			b.Fatal(err)
		}
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- bus.Run(rctx) }()
	defer func() { cancel(); _ = bus.Close(); <-done }()
	<-bus.Running()
	out := events.NewOutbox(log)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i += 10 {
		batch := make([]events.Envelope, 0, 10)
		for j := i; j < i+10 && j < b.N; j++ {
			e, _ := events.New(topics[j%len(topics)], "agg", map[string]int{"i": j})
			batch = append(batch, e)
		}
		if err := db.InTx(ctx, func(ctx context.Context, tx bun.Tx) error { return out.Publish(ctx, tx, batch...) }); err != nil {
			b.Fatal(err)
		}
	}
	for applied.Load() < int64(b.N) {
		if time.Since(start) > 5*time.Minute {
			b.Fatalf("only %d of %d applied", applied.Load(), b.N)
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}
