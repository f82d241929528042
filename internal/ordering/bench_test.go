package ordering_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/opencommerce/commerce/internal/ordering"
	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/server/servertest"
)

type sagaKey struct{}

// counter counts the statements issued on behalf of a marked context,
// every statement of the process (all), and the durable commits of the
// whole process: every COMMIT and every writing statement run outside a
// transaction (each a WAL flush).
type counter struct{ n, all, commits atomic.Int64 }

func (c *counter) TraceQueryStart(ctx context.Context, conn *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	if ctx.Value(sagaKey{}) != nil {
		c.n.Add(1)
	}
	c.all.Add(1)
	if strings.EqualFold(d.SQL, "commit") || conn.PgConn().TxStatus() == 'I' && writes(d.SQL) {
		c.commits.Add(1)
	}
	return ctx
}

// writes reports a statement that changes rows.
func writes(sql string) bool {
	head, _, _ := strings.Cut(strings.TrimSpace(sql), " ")
	switch strings.ToLower(head) {
	case "insert", "update", "delete":
		return true
	case "with":
		l := strings.ToLower(sql)
		return strings.Contains(l, "insert ") || strings.Contains(l, "update ") || strings.Contains(l, "delete ")
	}
	return false
}

func (*counter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// BenchmarkPlaceOrder measures the place-order saga (reserve + order +
// intent + outbox, test gateway) with 8 concurrent clients
// (BENCH_CLIENTS overrides), and reports the statements one order issues.
// Compare with `pgbench -b tpcb-like` with as many clients on the same
// server (bench/place_order.sh).
func BenchmarkPlaceOrder(b *testing.B) { benchPlaceOrder(b, nil) }

// BenchmarkPlaceOrderTemporal is BenchmarkPlaceOrder with
// SAGA_ENGINE=temporal, against the Temporal server at
// ORDERING_BENCH_TEMPORAL_ADDRESS (namespace ORDERING_BENCH_TEMPORAL_NAMESPACE,
// default "default"); `make test-temporal` runs both side by side with
// TEMPORAL_BENCH=1 against its in-process server.
func BenchmarkPlaceOrderTemporal(b *testing.B) {
	addr := os.Getenv("ORDERING_BENCH_TEMPORAL_ADDRESS")
	if addr == "" {
		b.Skip("ORDERING_BENCH_TEMPORAL_ADDRESS is not set")
	}
	ns := os.Getenv("ORDERING_BENCH_TEMPORAL_NAMESPACE")
	if ns == "" {
		ns = "default"
	}
	benchPlaceOrder(b, func(c *config.Config) {
		c.SagaEngine, c.TemporalAddress, c.TemporalNamespace = "temporal", addr, ns
		c.TemporalTaskQueue = fmt.Sprintf("bench-%d", time.Now().UnixNano())
	})
}

func benchPlaceOrder(b *testing.B, engine func(*config.Config)) {
	tr := &counter{}
	e := servertest.StartWith(b, func(c *config.Config) {
		c.AdminEmail, c.AdminPassword, c.RateLimitPerMinute = "bench@shop.test", "bench-password", 10_000_000
		if engine != nil {
			engine(c)
		}
	}, pg.WithTracer(tr), pg.WithMaxConns(20))
	admin := e.Do("POST", "/api/v1/auth/login", map[string]string{"email": "bench@shop.test", "password": "bench-password"}, "").Str("access_token")
	pid := e.Do("POST", "/api/v1/admin/products", map[string]any{"sku": "BENCH", "name": "B", "category": "c", "price": 1000, "currency": "USD",
		"weight_grams": 100, "initial_stock": 100_000_000}, admin).Str("id")
	e.Do("POST", "/api/v1/cart/items", map[string]any{"product_id": pid, "quantity": 1}, admin)
	login := e.Do("POST", "/api/v1/auth/login", map[string]string{"email": "bench@shop.test", "password": "bench-password"}, "")
	who, err := e.Server.Keys.Verifier().Verify(login.Str("access_token"))
	if err != nil {
		b.Fatal(err)
	}
	sessions := make(chan string, b.N+1)
	checkout := func() string {
		return e.Do("POST", "/api/v1/checkout", map[string]any{"address": map[string]any{"line1": "1 St", "city": "T", "postal_code": "1", "country": "US"},
			"courier": "standard", "payment_gateway": "test"}, admin).Str("checkout_session_id")
	}
	// Sessions first: a placed order empties the cart.
	first := checkout()
	for i := 0; i < b.N; i++ {
		sessions <- checkout()
	}
	close(sessions)
	// One order alone, to count its statements.
	ctx := context.WithValue(context.Background(), sagaKey{}, true)
	if _, err := e.Server.Hosted("ordering").(*ordering.Module).PlaceOrder(ctx, who, first); err != nil {
		b.Fatal(err)
	}
	perOrder := tr.n.Load()
	clients := 8
	if v, err := strconv.Atoi(os.Getenv("BENCH_CLIENTS")); err == nil && v > 0 {
		clients = v
	}
	b.SetParallelism(max(1, clients/runtime.GOMAXPROCS(0)))
	drained(b, e)
	commits, all := tr.commits.Load(), tr.all.Load()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := e.Server.Hosted("ordering").(*ordering.Module).PlaceOrder(context.Background(), who, <-sessions); err != nil {
				b.Error(err)
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "orders/s")
	b.ReportMetric(float64(perOrder), "statements/order")
	// Commits of everything the orders caused: the saga's and the
	// consumers' (once they have applied every event), plus whatever
	// periodic job ran meanwhile.
	b.StopTimer()
	drained(b, e)
	b.ReportMetric(float64(tr.commits.Load()-commits)/float64(b.N), "commits/order")
	// Every statement the orders caused, theirs and the consumers' (and
	// the drain polls above, a few in all): on a machine where the
	// database and the binary share the cores, this is what bounds
	// orders/s once no lock serialises them.
	b.ReportMetric(float64(tr.all.Load()-all)/float64(b.N), "all-statements/order")
}

// drained waits until every consumer has read every sequenced event and
// nothing is left for the relay.
func drained(b *testing.B, e *servertest.Env) {
	deadline := time.Now().Add(time.Minute)
	for {
		var n int
		if err := e.DB.NewRaw(`SELECT (SELECT count(*) FROM events.outbox WHERE seq IS NULL)
			+ (SELECT count(*) FROM events.consumer_offsets o WHERE EXISTS (
				SELECT 1 FROM events.outbox x WHERE x.seq > o.seq AND x.topic = ANY (o.topics)))`).Scan(context.Background(), &n); err != nil {
			b.Fatal(err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d readers still behind after a minute", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
