package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/server/servertest"
)

// relayLock is the advisory lock the event relay takes (events/relay.go).
const relayLock = 0x636f6d6d65726365

// When events wait longer than EVENT_LAG_DEGRADED, /readyz still answers
// 200 but says "degraded" and names the topic, /metrics shows the lag per
// topic; once delivery catches up it is "ready" again.
func TestReadyzDegradedOnEventLag(t *testing.T) {
	e := servertest.Start(t, func(c *config.Config) { c.EventLagDegraded = time.Second })
	ctx := context.Background()
	if r := e.Do("GET", "/readyz", nil, ""); r.Status != 200 || r.Str("status") != "ready" {
		t.Fatalf("readyz at start: %d %s", r.Status, r.Body)
	}
	// Hold the relay back (as a stuck relay would be) and let an event age.
	conn, err := pgx.Connect(ctx, e.DB.Pool.Config().ConnConfig.ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(relayLock)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.ExecContext(ctx, `INSERT INTO events.outbox (topic, event_id, aggregate_id, payload, created_at)
		VALUES ('auth.user_registered', 'evt-old', 'x', '{"id":"evt-old","type":"auth.user_registered","version":1,"aggregate_id":"x","data":{}}', now() - interval '1 minute')`); err != nil {
		t.Fatal(err)
	}
	// The lag shows once the cached reading of the idle start has expired.
	r := e.Do("GET", "/readyz", nil, "")
	for deadline := time.Now().Add(10 * time.Second); r.Str("status") != "degraded" && time.Now().Before(deadline); r = e.Do("GET", "/readyz", nil, "") {
		time.Sleep(50 * time.Millisecond)
	}
	if r.Status != 200 || r.Str("status") != "degraded" || !strings.Contains(string(r.Body), "auth.user_registered") {
		t.Fatalf("readyz with a lagging topic: %d %s", r.Status, r.Body)
	}
	if m := e.Do("GET", "/metrics", nil, ""); !strings.Contains(string(m.Body), `commerce_outbox_lag_seconds{`) || !strings.Contains(string(m.Body), "commerce_db_oldest_transaction_seconds") {
		t.Fatalf("metrics lack the event gauges:\n%.2000s", m.Body)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", int64(relayLock)); err != nil {
		t.Fatal(err)
	}
	// Wake the relay as a writer's commit would (the row above was written
	// behind the outbox's back; without this the relay finds it at its
	// fallback poll, which is slower than this test's patience).
	if _, err := conn.Exec(ctx, "SELECT pg_notify('commerce_outbox', '')"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := e.Do("GET", "/readyz", nil, "")
		if r.Str("status") == "ready" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("readyz never recovered: %s", r.Body)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
