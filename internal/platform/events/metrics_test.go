package events_test

import (
	"context"
	"errors"
	"testing"

	"github.com/uptrace/bun"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/opencommerce/commerce/internal/platform/events"
)

// collect reads every int64 data point as "name label=value" → value.
func collect(t *testing.T, r *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	key := func(name string, attrs attribute.Set) string {
		for _, kv := range attrs.ToSlice() {
			name += " " + string(kv.Key) + "=" + kv.Value.Emit()
		}
		return name
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = p.Value
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] = p.Value
				}
			}
		}
	}
	return out
}

// The bus's metrics: retries per consumer, a dead letter, and the events
// a stuck consumer has not applied yet.
func TestBusMetrics(t *testing.T) {
	db, bus := setup(t) // MaxAttempts 3
	entered, release := make(chan struct{}, 10), make(chan struct{})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(bus.Register(events.Consumer{Name: "t.slow", Inbox: "t.inbox", Topics: []string{"test.ok"}, Handle: func(ctx context.Context, _ bun.Tx, _ events.Envelope) error {
		entered <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	}}))
	must(bus.Register(events.Consumer{Name: "t.bad", Inbox: "t.inbox", Topics: []string{"test.bad"}, Handle: func(context.Context, bun.Tx, events.Envelope) error {
		return errors.New("always broken")
	}}))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(context.Background())
	must(bus.Instrument(mp.Meter("commerce/events")))
	// (No collection before the events: the gauges' reading is cached for
	// meter.SampleEvery, the next one would not see them.)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- bus.Run(ctx) }()
	defer func() { close(release); cancel(); _ = bus.Close(); <-done }()
	var evs []events.Envelope
	for range 3 {
		e, _ := events.New("test.ok", "a", nil)
		evs = append(evs, e)
	}
	bad, _ := events.New("test.bad", "b", nil)
	publish(t, db, true, append(evs, bad)...)
	// The dead letter commits before the offset moves past it: wait for both.
	waitFor(t, func() bool {
		return count(t, db, "SELECT count(*) FROM events.dead_letters WHERE consumer = 't.bad'") == 1 &&
			count(t, db, `SELECT count(*) FROM events.consumer_offsets WHERE consumer = 't.bad'
				AND seq >= (SELECT max(seq) FROM events.outbox WHERE topic = 'test.bad')`) == 1
	})
	<-entered

	got := collect(t, reader)
	for k, want := range map[string]int64{
		"commerce.consumer.retries consumer=t.bad":  2, // 3 attempts
		"commerce.consumer.retries consumer=t.slow": 0,
		"commerce.dead_letters consumer=t.bad":      1,
		"commerce.dead_letters consumer=t.slow":     0,
		"commerce.outbox.pending topic=test.ok":     3, // the slow consumer is on the first
		"commerce.outbox.pending topic=test.bad":    0, // dead-lettered: the offset moved past it
	} {
		if v, ok := got[k]; !ok || v != want {
			t.Errorf("%s = %d (reported %v), want %d", k, v, ok, want)
		}
	}
}
