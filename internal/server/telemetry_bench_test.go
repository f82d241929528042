package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/logx"
	"github.com/opencommerce/commerce/internal/platform/otelx"
	"github.com/opencommerce/commerce/internal/platform/otelx/otlptest"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
	"github.com/opencommerce/commerce/internal/server"
	"github.com/opencommerce/commerce/internal/server/servertest"
)

// TestMain lets the benchmarks' OTLP sink run in a process of its own.
func TestMain(m *testing.M) {
	otlptest.ServeSinkProcessIfAsked()
	os.Exit(m.Run())
}

// BenchmarkProductGetTelemetry is the overhead of telemetry on the
// request path: a cached product GET through the whole app (middleware
// chain, router, catalog cache) over loopback HTTP, with nothing exported
// ("off") and with traces, metrics and logs exported over OTLP/gRPC at
// 100% ("on") and 10% sampling to a sink that does not decode, in a
// process of its own (a collector elsewhere: its work is not counted). The access log is written (info) in all; its
// record is not exported, the request's span being that record. Compare
// the ns/op; -cpu 1 puts the exporters' goroutines on the request's one
// core, so that their work counts (the throughput cost):
//
//	TELEMETRY_BENCH_ROUNDS=5 go test -run '^$' -bench ProductGetTelemetry -benchtime 5000x -cpu 1 ./internal/server/
//
// bench/telemetry.sh runs both benchmarks in rounds and prints the ratios.
func BenchmarkProductGetTelemetry(b *testing.B) {
	sink := otlptest.StartSinkProcess(b)
	run := func(b *testing.B, url string) {
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
		get := func() {
			res, err := client.Get(url)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != 200 {
				b.Fatalf("status %d", res.StatusCode)
			}
		}
		// Warm up for a second: the cache and the connection, and the
		// server's start (migrations, first consumer passes, and with
		// export on the spans of all that being encoded and sent) is
		// over before the clock starts. The throughput cost is the
		// steady state's; a short run otherwise charges the start's
		// export to the requests.
		for start := time.Now(); time.Since(start) < time.Second; {
			get()
		}
		b.ReportAllocs()
		b.ResetTimer()
		cpu := processCPU(b)
		for i := 0; i < b.N; i++ {
			get()
		}
		cpu.report(b)
	}

	eachSetting(b, sink, func(b *testing.B, s benchShop) { run(b, s.productURL) })
	if sink.Requests("traces") == 0 {
		b.Fatal("nothing exported with telemetry on")
	}
}

// telemetrySettings are the export settings the telemetry benchmarks
// compare: nothing exported ("off", no endpoint), and export at 100% and
// 10% sampling.
var telemetrySettings = []struct {
	name, logs, sampler, arg string
}{
	{"off", "", "", ""},
	{"on", "otlp", "always_on", ""},
	// 10% of traces (and so of the info logs inside them) exported.
	{"on-sampled-10pct", "otlp", "traceidratio", "0.1"},
}

// BenchmarkPlaceOrderTelemetry is the overhead of telemetry on the
// heaviest write: POST /api/v1/orders (reservation, order, payment
// intent, outbox; a span per SQL statement when traced) over loopback
// HTTP, with nothing exported and with the settings of
// telemetrySettings. The checkout sessions are made before the timer.
//
//	TELEMETRY_BENCH_ROUNDS=3 go test -run '^$' -bench PlaceOrderTelemetry -benchtime 300x ./internal/server/
func BenchmarkPlaceOrderTelemetry(b *testing.B) {
	sink := otlptest.StartSinkProcess(b)
	run := func(b *testing.B, s benchShop) {
		e := servertest.Do(b, s.base, "POST", "/api/v1/cart/items", map[string]any{"product_id": s.productID, "quantity": 1}, s.admin)
		if e.Status >= 300 {
			b.Fatalf("cart: %d %s", e.Status, e.Body)
		}
		sessions := make([]string, b.N)
		for i := range sessions {
			r := servertest.Do(b, s.base, "POST", "/api/v1/checkout", map[string]any{"address": map[string]any{"line1": "1 St", "city": "T", "postal_code": "1", "country": "US"},
				"courier": "standard", "payment_gateway": "test"}, s.admin)
			if sessions[i] = r.Str("checkout_session_id"); sessions[i] == "" {
				b.Fatalf("checkout: %d %s", r.Status, r.Body)
			}
		}
		b.ReportAllocs()
		b.ResetTimer()
		cpu := processCPU(b)
		for i := 0; i < b.N; i++ {
			r := servertest.Do(b, s.base, "POST", "/api/v1/orders", map[string]any{"checkout_session_id": sessions[i]}, s.admin)
			if r.Status != 201 {
				b.Fatalf("order: %d %s", r.Status, r.Body)
			}
		}
		b.StopTimer()
		cpu.report(b)
		// A placed order empties the cart through an event: let that land
		// before the next round fills the cart again.
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			items, _ := servertest.Do(b, s.base, "GET", "/api/v1/cart", nil, s.admin).JSON()["items"].([]any)
			if len(items) == 0 {
				break
			}
			if time.Now().After(deadline) {
				b.Fatal("the cart was not emptied after the orders")
			}
		}
	}
	eachSetting(b, sink, run)
	if sink.Requests("traces") == 0 || sink.Requests("logs") == 0 {
		b.Fatalf("nothing exported with telemetry on: %d trace and %d log exports", sink.Requests("traces"), sink.Requests("logs"))
	}
}

// benchRounds is how many rounds eachSetting runs: TELEMETRY_BENCH_ROUNDS,
// 1 when unset. Go runs every -count of one sub-benchmark before the
// next sub-benchmark starts, so -count cannot interleave the settings;
// rounds do, and a round's settings ran minutes apart at most, under the
// same neighbours (bench/telemetry.sh compares them round by round).
func benchRounds(b *testing.B) int {
	v := os.Getenv("TELEMETRY_BENCH_ROUNDS")
	if v == "" {
		return 1
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("TELEMETRY_BENCH_ROUNDS=%q: want a positive number of rounds", v)
	}
	return n
}

// eachSetting runs run as one sub-benchmark per telemetry setting, each on
// a server of its own (fresh database), stopped before the next starts,
// and does so benchRounds times. Each round starts at the next setting (3
// rounds put each setting first, second and third once): a fixed order
// would charge whatever grows over a run (the PostgreSQL cluster's WAL
// and catalogs, the test process's heap, a neighbour's load) to the
// settings that come last. From the second round on Go names the results
// "off#01", "on#01" and so on.
func eachSetting(b *testing.B, sink *otlptest.Sink, run func(*testing.B, benchShop)) {
	n := len(telemetrySettings)
	for round := range benchRounds(b) {
		for i := range n {
			c := telemetrySettings[(round+i)%n]
			var tel *otelx.Telemetry
			if c.name != "off" {
				var err error
				tel, err = otelx.Setup(context.Background(), otelx.Settings{Endpoint: sink.Endpoint, Sampler: c.sampler, SamplerArg: c.arg, ServiceVersion: "bench", LogsExporter: c.logs})
				if err != nil {
					b.Fatal(err)
				}
			}
			srv := benchServer(b, tel)
			b.Run(c.name, func(b *testing.B) { run(b, srv) })
			srv.stop()
			if err := tel.Shutdown(context.Background()); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// cpuClock is the process's CPU time (user and system) at a benchmark's
// start. ns/op of a serial loop is latency, the exporters working on the
// other core unseen; the CPU time per operation (cpu-ns/op) counts every
// goroutine's work, the exporters' included, and its ratio between two
// settings is their throughput ratio on a busy machine. The in-process
// HTTP client's own work is in both.
type cpuClock struct{ start time.Duration }

func processCPU(b *testing.B) cpuClock {
	b.Helper()
	return cpuClock{start: cpuTime(b)}
}

// report adds cpu-ns/op to the benchmark's results.
func (c cpuClock) report(b *testing.B) {
	b.Helper()
	b.ReportMetric(float64(cpuTime(b)-c.start)/float64(b.N), "cpu-ns/op")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchShop is a started benchmark server: its base URL, an
// administrator's token and a product with plenty of stock.
type benchShop struct {
	base, admin, productID, productURL string
	// stop shuts the server down (once): a benchmark stops each server
	// before measuring the next, so that its background work (relay,
	// deadline runner, pollers) is not counted in the next one's CPU.
	stop func()
}

// benchServer starts a server whose logger writes JSON (discarded) at info
// and, with tel, exports the records.
func benchServer(b testing.TB, tel *otelx.Telemetry) benchShop {
	b.Helper()
	db := pgtest.New(b)
	cfg, err := config.Load(nil, func(k string) string {
		switch k {
		case "DATA_DIR":
			return b.TempDir()
		case "PASSWORD_HASH_MEMORY_KIB":
			return "64"
		case "BOOTSTRAP_ADMIN_EMAIL":
			return "bench@shop.test"
		case "BOOTSTRAP_ADMIN_PASSWORD":
			return "admin-password"
		case "RATE_LIMIT_PER_MINUTE":
			return "100000000"
		}
		return ""
	})
	if err != nil {
		b.Fatal(err)
	}
	var log *slog.Logger
	if tel != nil {
		log = logx.New(io.Discard, "info", tel.LogHandler())
	} else {
		log = logx.New(io.Discard, "info")
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := server.New(ctx, cfg, db, log)
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	stop := sync.OnceFunc(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			b.Error("server did not shut down")
		}
		// Its connections go now, not at the benchmark's end: rounds
		// start dozens of servers, more than PostgreSQL takes clients.
		_ = db.Close()
	})
	b.Cleanup(stop)
	base := "http://" + ln.Addr().String()
	login := servertest.Do(b, base, "POST", "/api/v1/auth/login", map[string]string{"email": "bench@shop.test", "password": "admin-password"}, "")
	admin := login.Str("access_token")
	if admin == "" {
		b.Fatalf("login: %d %s", login.Status, login.Body)
	}
	r := servertest.Do(b, base, "POST", "/api/v1/admin/products", map[string]any{"sku": "BENCH-1", "name": "Bench", "category": "c", "price": 900,
		"currency": "USD", "weight_grams": 100, "initial_stock": 100_000_000}, admin)
	if r.Status != 201 {
		b.Fatalf("product: %d %s", r.Status, r.Body)
	}
	return benchShop{base: base, admin: admin, productID: r.Str("id"), productURL: base + "/api/v1/products/" + r.Str("id"), stop: stop}
}
