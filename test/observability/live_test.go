package observability

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/server/servertest"
)

// sample is one line of the Prometheus text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var labelRe = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// scrape reads base's /metrics.
func scrape(t *testing.T, base string) []sample {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("/metrics: %d %s", res.StatusCode, b)
	}
	var out []sample
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		s := sample{labels: map[string]string{}}
		rest := line
		if i := strings.IndexAny(line, "{ "); i > 0 {
			s.name, rest = line[:i], line[i:]
		}
		if strings.HasPrefix(rest, "{") {
			j := strings.LastIndex(rest, "}")
			for _, m := range labelRe.FindAllStringSubmatch(rest[1:j], -1) {
				s.labels[m[1]] = m[2]
			}
			rest = rest[j+1:]
		}
		f := strings.Fields(rest)
		if len(f) > 0 {
			s.value, _ = strconv.ParseFloat(f[0], 64)
		}
		out = append(out, s)
	}
	return out
}

// value sums the samples of name whose labels include want; found is
// false when no sample matches.
func value(samples []sample, name string, want map[string]string) (v float64, found bool) {
next:
	for _, s := range samples {
		if s.name != name {
			continue
		}
		for k, w := range want {
			if s.labels[k] != w {
				continue next
			}
		}
		v, found = v+s.value, true
	}
	return v, found
}

// shop is a running in-process shop with an admin, a product and a
// customer.
type shop struct {
	t        *testing.T
	e        *servertest.Env
	admin    string
	customer string
	product  string
}

func startShop(t *testing.T) *shop {
	e := servertest.Start(t, func(c *config.Config) { c.AdminEmail, c.AdminPassword = "ops@shop.test", "admin-password" })
	s := &shop{t: t, e: e}
	s.admin = s.want(e.Do("POST", "/api/v1/auth/login", map[string]string{"email": "ops@shop.test", "password": "admin-password"}, ""), 200).Str("access_token")
	s.product = s.want(e.Do("POST", "/api/v1/admin/products", map[string]any{"sku": "OBS-1", "name": "Observed", "category": "c", "price": 1000,
		"currency": "USD", "weight_grams": 100, "initial_stock": 10}, s.admin), 201).Str("id")
	email := "shopper@shop.test"
	s.want(e.Do("POST", "/api/v1/auth/register", map[string]string{"email": email, "password": "s3cret-pass", "name": "S"}, ""), 201)
	s.want(e.Do("POST", "/api/v1/auth/verify", map[string]string{"token": e.WaitToken(email, "verify_email")}, ""), 200)
	s.customer = s.want(e.Do("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": "s3cret-pass"}, ""), 200).Str("access_token")
	return s
}

func (s *shop) want(r servertest.Response, status int) servertest.Response {
	s.t.Helper()
	if r.Status != status {
		s.t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	return r
}

// placeAndPay places an order of the product and pays it with the test
// card; it returns once ordering saw the payment (status paid or later).
func (s *shop) placeAndPay() string {
	s.t.Helper()
	e := s.e
	s.want(e.Do("POST", "/api/v1/cart/items", map[string]any{"product_id": s.product, "quantity": 1}, s.customer), 200)
	sid := s.want(e.Do("POST", "/api/v1/checkout", map[string]any{"address": map[string]any{"line1": "1 St", "city": "T", "postal_code": "10001", "country": "US"},
		"courier": "standard", "payment_gateway": "test"}, s.customer), 201).Str("checkout_session_id")
	o := s.want(e.Do("POST", "/api/v1/orders", map[string]any{"checkout_session_id": sid}, s.customer), 201).JSON()
	id := o["id"].(string)
	s.want(e.Do("POST", "/api/v1/payments/test/confirm", map[string]any{"intent_id": o["payment"].(map[string]any)["intent_id"],
		"card_number": "4242424242424242"}, s.customer), 200)
	s.eventually("the order paid", func() bool {
		st := e.Do("GET", "/api/v1/orders/"+id, nil, s.customer).Str("status")
		return st == "paid" || st == "fulfilling"
	})
	return id
}

func (s *shop) eventually(what string, ok func() bool) {
	s.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !ok(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			s.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// The live checks share one server (the machine running the suite is
// small): the business counters after an order is placed and paid, the
// names the dashboards and rules use, and a real Prometheus scraping it.
func TestLiveMetrics(t *testing.T) {
	s := startShop(t)
	s.placeAndPay()

	t.Run("order flow counters", func(t *testing.T) {
		var samples []sample
		atLeast := func(name string, labels map[string]string, min float64) {
			t.Helper()
			if v, ok := value(samples, name, labels); !ok || v < min {
				t.Errorf("%s%v = %v (found %v), want >= %v", name, labels, v, ok, min)
			}
		}
		// The catalog commits the reservation when it applies order_paid,
		// which may come a moment after ordering's transition.
		s.eventually("the reservation committed", func() bool {
			samples = scrape(t, s.e.URL)
			v, _ := value(samples, "commerce_stock_reservations_total", map[string]string{"outcome": "committed"})
			return v >= 1
		})
		// Two reads of the product once its stock has settled (a stock
		// change evicts it from the cache): the second is served from the
		// cache.
		for range 2 {
			s.want(s.e.Do("GET", "/api/v1/products/"+s.product, nil, ""), 200)
		}
		samples = scrape(t, s.e.URL)
		atLeast("commerce_orders_total", map[string]string{"status": "placed"}, 1)
		atLeast("commerce_orders_total", map[string]string{"status": "paid"}, 1)
		atLeast("commerce_payments_total", map[string]string{"gateway": "test", "outcome": "succeeded"}, 1)
		atLeast("commerce_stock_reservations_total", map[string]string{"outcome": "reserved"}, 1)
		atLeast("commerce_stock_reservations_total", map[string]string{"outcome": "committed"}, 1)
		atLeast("commerce_cache_requests_total", map[string]string{"cache": "product", "result": "hit"}, 1)
		atLeast("commerce_cache_requests_total", map[string]string{"cache": "product", "result": "miss"}, 1)
		// Series that exist at 0 from the start (rate() and alerts see
		// them before the first event).
		for _, st := range []string{"canceled", "expired", "delivered", "refunded", "failed"} {
			atLeast("commerce_orders_total", map[string]string{"status": st}, 0)
		}
		for _, o := range []string{"failed", "amount_mismatch", "refunded", "refund_failed"} {
			atLeast("commerce_payments_total", map[string]string{"gateway": "test", "outcome": o}, 0)
		}
		atLeast("commerce_stock_reservations_total", map[string]string{"outcome": "insufficient"}, 0)
		atLeast("commerce_consumer_retries_total", map[string]string{"consumer": "ordering.payments"}, 0)
		atLeast("commerce_dead_letters", map[string]string{"consumer": "catalog.orders"}, 0)
		atLeast("commerce_outbox_pending", map[string]string{"topic": "ordering.order_paid"}, 0)
		atLeast("commerce_deadlines_due", nil, 0)
		atLeast("commerce_sse_streams", map[string]string{"stream": "notify"}, 0)
		atLeast("commerce_sse_streams", map[string]string{"stream": "admin"}, 0)
		atLeast("commerce_ws_connections", map[string]string{"endpoint": "chat"}, 0)
		atLeast("commerce_db_pool_max_connections", nil, 1)
		atLeast("commerce_db_pool_acquires_total", nil, 1)
		for _, n := range []string{"commerce_db_pool_acquired_connections", "commerce_db_pool_idle_connections", "commerce_db_pool_total_connections",
			"commerce_db_pool_acquire_duration_seconds_total", "commerce_db_pool_empty_acquires_total", "commerce_db_pool_canceled_acquires_total"} {
			atLeast(n, nil, 0)
		}
	})

	t.Run("dashboards and rules name exported metrics", func(t *testing.T) {
		exported := map[string]bool{"up": true} // up: Prometheus's own, per target
		for _, s := range scrape(t, s.e.URL) {
			exported[s.name] = true
		}
		// Only the split topology serves gRPC; the interceptor's names are
		// checked by grpcx.TestServerMetricsNames.
		for _, n := range []string{"rpc_server_requests_total", "rpc_server_duration_seconds_bucket", "rpc_server_duration_seconds_sum", "rpc_server_duration_seconds_count"} {
			exported[n] = true
		}
		exprs := map[string]string{}
		for _, d := range dashboards(t) {
			for k, e := range d.exprs() {
				exprs[k] = grafanaVars(e)
			}
		}
		rules, _ := filepath.Glob(filepath.Join(dir, "prometheus", "rules", "*.rules.yml"))
		for _, f := range rules {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var doc struct {
				Groups []struct {
					Rules []struct{ Record, Alert, Expr string }
				}
			}
			if err := yaml.Unmarshal(b, &doc); err != nil {
				t.Fatal(err)
			}
			for _, g := range doc.Groups {
				for _, r := range g.Rules {
					if r.Record != "" {
						exported[r.Record] = true
					}
					exprs[filepath.Base(f)+": "+r.Alert+r.Record] = r.Expr
				}
			}
		}
		used := map[string]bool{}
		for k, e := range exprs {
			names := metricNames(e)
			if len(names) == 0 {
				t.Errorf("%s: no metric in %q", k, e)
			}
			for _, n := range names {
				used[n] = true
				if !exported[n] {
					t.Errorf("%s: %s is not exported by the binary", k, n)
				}
			}
		}
		// Every commerce_ metric is on some dashboard.
		for n := range exported {
			base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_sum"), "_count")
			if strings.HasPrefix(n, "commerce_") && !used[n] && !used[base+"_bucket"] {
				t.Errorf("%s is on no dashboard", n)
			}
		}
	})

	t.Run("prometheus scrapes the binary", func(t *testing.T) {
		promBin := need(t, "prometheus")
		api := runPrometheus(t, promBin, s.e.URL)
		var res []any
		s.eventually("Prometheus to answer commerce_orders_total", func() bool {
			res = query(t, api, `sum by (status) (commerce_orders_total{job="commerce",status=~"placed|paid"})`)
			return len(res) == 2
		})
		for _, r := range res {
			m := r.(map[string]any)
			v, _ := strconv.ParseFloat(m["value"].([]any)[1].(string), 64)
			if v < 1 {
				t.Errorf("%v: %v, want >= 1", m["metric"], v)
			}
		}
		// The alert rules loaded and evaluate without error on the live
		// series.
		s.eventually("every rule evaluated", func() bool {
			var rules struct {
				Data struct {
					Groups []struct {
						Rules []struct{ Name, Health, LastError string }
					}
				}
			}
			getJSON(t, api+"/api/v1/rules", &rules)
			total, ok := 0, 0
			for _, g := range rules.Data.Groups {
				for _, r := range g.Rules {
					total++
					if r.Health == "ok" {
						ok++
					} else if r.LastError != "" {
						t.Fatalf("rule %s: %s", r.Name, r.LastError)
					}
				}
			}
			return total > 0 && ok == total
		})
	})
}

// runPrometheus starts Prometheus on deploy/observability's prometheus.yml
// with the commerce job pointed at target, and returns its base URL.
func runPrometheus(t *testing.T, bin, target string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "prometheus", "prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(target)
	rulesDir, _ := filepath.Abs(filepath.Join(dir, "prometheus", "rules"))
	cfg["global"].(map[string]any)["scrape_interval"] = "1s"
	cfg["global"].(map[string]any)["evaluation_interval"] = "1s"
	cfg["rule_files"] = []any{filepath.Join(rulesDir, "*.rules.yml")}
	found := false
	for _, sc := range cfg["scrape_configs"].([]any) {
		job := sc.(map[string]any)
		if job["job_name"] == "commerce" {
			found = true
			job["scrape_interval"], job["scrape_timeout"] = "1s", "1s"
			job["static_configs"] = []any{map[string]any{"targets": []any{u.Host}}}
		}
	}
	if !found {
		t.Fatal("prometheus.yml has no commerce job")
	}
	tmp := t.TempDir()
	out, _ := yaml.Marshal(cfg)
	if err := os.WriteFile(filepath.Join(tmp, "prometheus.yml"), out, 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+filepath.Join(tmp, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(tmp, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus output:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		if res, err := http.Get(base + "/-/ready"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready:\n%s", logs.String())
		}
	}
}

func getJSON(t *testing.T, u string, v any) {
	t.Helper()
	res, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("%s: %v", u, err)
	}
}

// query runs an instant query and returns its result vector.
func query(t *testing.T, api, q string) []any {
	t.Helper()
	var r struct {
		Status string
		Error  string
		Data   struct {
			Result []any
		}
	}
	getJSON(t, api+"/api/v1/query?query="+url.QueryEscape(q), &r)
	if r.Status != "success" {
		t.Fatalf("%s: %s", q, r.Error)
	}
	return r.Data.Result
}
