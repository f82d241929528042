//go:build chaos

// Package chaos runs the shop under a place-and-pay load while it injects
// faults (kill -9 of the binary, a PostgreSQL restart, every database
// session terminated, Redis stopped, in split the Kafka broker stopped),
// then checks that nothing was lost or broken: `commerce check` finds no
// violation, every order the load saw acknowledged exists, and no request
// got a 5xx except a fast 503 while a dependency was down.
//
// `make chaos` runs the full version (minutes); CHAOS_SHORT=1 (`make
// chaos-short`, part of `make test`) a shorter one.
package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/quotedprintable"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/opencommerce/commerce/internal/platform/bintest"
	"github.com/opencommerce/commerce/internal/platform/mail/mailtest"
	"github.com/opencommerce/commerce/internal/platform/pg"
	"github.com/opencommerce/commerce/internal/server/check"
)

var binary string

func TestMain(m *testing.M) { bintest.Main(m, "../../cmd/commerce", &binary) }

const (
	clients       = 16
	clientTimeout = 15 * time.Second // a request longer than this hung
	// slack is how long after a dependency is back a request may still
	// get a 503 (pools reconnect, breakers half-open).
	slack = 10 * time.Second
)

func short() bool { return os.Getenv("CHAOS_SHORT") == "1" }

// window is a span of time during which a dependency was down.
type window struct {
	what       string
	start, end time.Time
}

// faults records what was injected when.
type faults struct {
	mu      sync.Mutex
	windows []window
}

func (f *faults) around(what string, fn func()) {
	w := window{what: what, start: time.Now()}
	fn()
	w.end = time.Now()
	f.mu.Lock()
	f.windows = append(f.windows, w)
	f.mu.Unlock()
}

// during reports whether a request [from, to] overlapped a fault window
// (widened by slack).
func (f *faults) during(from, to time.Time) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, w := range f.windows {
		if !to.Before(w.start) && !from.After(w.end.Add(slack)) {
			return true
		}
	}
	return false
}

// open is a fault in progress: requests overlapping it are excused.
func (f *faults) open(what string) func() {
	f.mu.Lock()
	i := len(f.windows)
	f.windows = append(f.windows, window{what: what, start: time.Now(), end: time.Now().Add(time.Hour)})
	f.mu.Unlock()
	return func() {
		f.mu.Lock()
		f.windows[i].end = time.Now()
		f.mu.Unlock()
	}
}

// stats is what the load saw.
type stats struct {
	mu        sync.Mutex
	acked     []string // order ids answered 201
	requests  int
	unreached int // connection refused or reset (the binary was down)
	excused   int // 503 while a dependency was down
	bad       []string
	paid      int
}

func (s *stats) badf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.bad) < 50 {
		s.bad = append(s.bad, fmt.Sprintf(format, args...))
	}
}

// client is one customer of the load.
type client struct {
	base  string
	token string
	http  *http.Client
	st    *stats
	f     *faults
}

// do sends one request and classifies the outcome; ok is false when the
// caller should start its iteration over.
func (c *client) do(method, path string, body any, key string) (int, map[string]any, bool) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, c.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.token)
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	began := time.Now()
	res, err := c.http.Do(req)
	c.st.mu.Lock()
	c.st.requests++
	c.st.mu.Unlock()
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			c.st.badf("%s %s hung past %s (%v)", method, path, clientTimeout, err)
		} else {
			c.st.mu.Lock()
			c.st.unreached++
			c.st.mu.Unlock()
		}
		return 0, nil, false
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	ended := time.Now()
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	if res.StatusCode >= 500 {
		if res.StatusCode == 503 && c.f.during(began, ended) {
			c.st.mu.Lock()
			c.st.excused++
			c.st.mu.Unlock()
			if ended.Sub(began) > 5*time.Second {
				c.st.badf("%s %s: 503 after %s (should fail fast)", method, path, ended.Sub(began))
			}
			if res.Header.Get("Retry-After") == "" || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
				c.st.badf("%s %s: 503 without Retry-After or problem+json (%q, %q): %s", method, path, res.Header.Get("Retry-After"), res.Header.Get("Content-Type"), raw)
			}
		} else {
			c.st.badf("%s %s: %d at %s outside a fault window: %s", method, path, res.StatusCode, began.Format("15:04:05.000"), raw)
		}
		return res.StatusCode, out, false
	}
	return res.StatusCode, out, true
}

// loop places and pays orders until stop closes.
func (c *client) loop(stop <-chan struct{}, products []string, n int) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		pid := products[rand.IntN(len(products))]
		if code, _, ok := c.do("POST", "/api/v1/cart/items", map[string]any{"product_id": pid, "quantity": 1}, ""); !ok || code != 200 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		code, co, ok := c.do("POST", "/api/v1/checkout", map[string]any{"address": map[string]any{"line1": "1 St", "city": "Town",
			"postal_code": "10001", "country": "US"}, "courier": "standard", "payment_gateway": "test"}, "")
		if !ok || code != 201 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		sess, _ := co["checkout_session_id"].(string)
		key := fmt.Sprintf("chaos-%d-%d-%d", n, i, time.Now().UnixNano())
		var order map[string]any
		for try := 0; try < 20 && !stopped(stop); try++ { // the same key: a retry never places twice
			code, order, ok = c.do("POST", "/api/v1/orders", map[string]any{"checkout_session_id": sess}, key)
			if ok && code == 201 {
				break
			}
			if ok && code != 409 {
				break
			}
			order = nil
			time.Sleep(250 * time.Millisecond)
		}
		if order == nil || code != 201 {
			continue
		}
		id, _ := order["id"].(string)
		c.st.mu.Lock()
		c.st.acked = append(c.st.acked, id)
		c.st.mu.Unlock()
		intent, _ := order["payment"].(map[string]any)["intent_id"].(string)
		for try := 0; try < 20 && !stopped(stop); try++ {
			code, _, ok = c.do("POST", "/api/v1/payments/test/confirm", map[string]any{"intent_id": intent, "card_number": "4242 4242 4242 4242"}, "")
			if ok {
				if code == 200 {
					c.st.mu.Lock()
					c.st.paid++
					c.st.mu.Unlock()
				}
				break
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
}

func stopped(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

var tokenRe = regexp.MustCompile(`token=([A-Za-z0-9_\-%.]+)`)

func call(t *testing.T, base, method, path string, body any, token string) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	var out map[string]any
	_ = json.Unmarshal(raw, &out)
	return out
}

func customer(t *testing.T, base string, smtp *mailtest.Server, email string) string {
	t.Helper()
	call(t, base, "POST", "/api/v1/auth/register", map[string]string{"email": email, "password": "correct horse", "name": "C"}, "")
	data := smtp.WaitFor(t, email, "Confirm your email", 30*time.Second).Data
	if dec, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(data))); err == nil {
		data = string(dec)
	}
	m := tokenRe.FindStringSubmatch(data)
	if m == nil {
		t.Fatalf("no token in %s", data)
	}
	call(t, base, "POST", "/api/v1/auth/verify", map[string]string{"token": m[1]}, "")
	return call(t, base, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": "correct horse"}, "")["access_token"].(string)
}

// shop is the system under test: one process, or the split topology.
type shop struct {
	edge  string
	procs []*proc // the ones a kill -9 may hit
	gw    *proc
	kafka *pausable
	// brokers are the Kafka broker's addresses (split only).
	brokers []string
}

func startShop(t *testing.T, split bool, db, redis, smtpAddr string) *shop {
	common := map[string]string{"DATABASE_URL": db, "REDIS_URL": redis, "PAYMENT_WEBHOOK_SECRET": "whsec_chaos",
		"RATE_LIMIT_PER_MINUTE": "1000000", "AUTH_RATE_LIMIT_PER_MINUTE": "1000000", "SMTP_URL": "smtp://" + smtpAddr + "?tls=none",
		"LOG_LEVEL": "info", "JWT_PRIVATE_KEY_FILE": jwtKeyFile(t)}
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{"DATA_DIR": t.TempDir(), "HTTP_ADDR": fmt.Sprintf("127.0.0.1:%d", freePort(t))}
		for k, v := range common {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	if !split {
		p := newProc(t, with(nil))
		p.start()
		return &shop{edge: p.url, procs: []*proc{p}}
	}
	l := &pausable{conns: map[net.Conn]bool{}}
	cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.DefaultNumPartitions(2), kfake.AllowAutoTopicCreation(),
		kfake.ListenFn(func(network, addr string) (net.Listener, error) {
			inner, err := net.Listen(network, "127.0.0.1:0")
			l.Listener = inner
			return l, err
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cluster.Close)
	common["EVENT_TRANSPORT"] = "kafka"
	common["KAFKA_BROKERS"] = strings.Join(cluster.ListenAddrs(), ",")
	catGRPC := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cat := newProc(t, with(map[string]string{"CONTEXTS": "catalog", "GRPC_ADDR": catGRPC}))
	cat.start()
	rest := newProc(t, with(map[string]string{"CONTEXTS": "auth,cart,fulfillment,ordering,payments,notify", "GRPC_ADDR": fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		"CATALOG_GRPC_ADDR": catGRPC, "TRUST_PROXY": "true"}))
	rest.start()
	var ups []string
	for _, c := range []string{"auth", "cart", "fulfillment", "ordering", "payments", "notify", "chat", "search", "webhooks"} {
		ups = append(ups, c+"="+rest.url)
	}
	gwEnv := with(map[string]string{"CONTEXTS": "gateway", "GATEWAY_UPSTREAMS": strings.Join(append(ups, "catalog="+cat.url), ",")})
	delete(gwEnv, "DATABASE_URL")
	gw := newProc(t, gwEnv)
	gw.start()
	return &shop{edge: gw.url, procs: []*proc{cat, rest}, gw: gw, kafka: l, brokers: cluster.ListenAddrs()}
}

func (s *shop) waitReady(t *testing.T) {
	for _, p := range append(append([]*proc{}, s.procs...), s.gw) {
		if p != nil {
			p.waitReady(90 * time.Second)
		}
	}
}

func TestChaos(t *testing.T) {
	split := os.Getenv("CHAOS_TOPOLOGY") == "split"
	began := time.Now()
	pgs := startPostgres(t)
	rds := startRedis(t)
	smtp := mailtest.Start(t, mailtest.Plain, "", "")
	admin := "chaos-admin@shop.test"
	db := pgs.url("commerce")
	s := startShop(t, split, db, "redis://"+rds.addr(), smtp.Addr)
	t.Cleanup(func() {
		if t.Failed() {
			s.diagnose(t)
			for _, p := range append(append([]*proc{}, s.procs...), s.gw) {
				if p != nil {
					t.Logf("log of %s (last lines):\n%s", p.url, p.tail())
					p.save("out")
				}
			}
		}
	})
	// The administrator is created with the command (it migrates nothing
	// new: serve did), and the catalog through the edge.
	adminCmd := exec.Command(binary, "admin", "create", "--email", admin, "--password", "admin-password")
	adminCmd.Env = []string{"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + db, "DATA_DIR=" + t.TempDir()}
	if out, err := adminCmd.CombinedOutput(); err != nil {
		t.Fatalf("admin create: %v\n%s", err, out)
	}
	adminTok := call(t, s.edge, "POST", "/api/v1/auth/login", map[string]string{"email": admin, "password": "admin-password"}, "")["access_token"].(string)
	var products []string
	for i := 0; i < 8; i++ {
		p := call(t, s.edge, "POST", "/api/v1/admin/products", map[string]any{"sku": fmt.Sprintf("CHAOS-%d", i), "name": "Chaos", "category": "c",
			"price": 1000 + i, "currency": "USD", "weight_grams": 300, "initial_stock": 1000000}, adminTok)
		products = append(products, p["id"].(string))
	}
	cls := make([]*client, clients)
	for i := range cls {
		cls[i] = &client{base: s.edge, http: &http.Client{Timeout: clientTimeout},
			token: customer(t, s.edge, smtp, fmt.Sprintf("chaos-%d@shop.test", i))}
	}
	var wg sync.WaitGroup
	t.Logf("setup took %s", time.Since(began).Round(time.Second))

	st := &stats{}
	f := &faults{}
	stop := make(chan struct{})
	for i, c := range cls {
		c.st, c.f = st, f
		wg.Add(1)
		go func() { defer wg.Done(); c.loop(stop, products, i) }()
	}
	gap := func() {
		lo, hi := 20*time.Second, 40*time.Second
		if short() {
			lo, hi = 3*time.Second, 6*time.Second
		}
		time.Sleep(lo + rand.N(hi-lo))
	}
	var injected atomic.Int32
	kill := func() {
		victim := s.procs[rand.IntN(len(s.procs))]
		done := f.open("kill -9")
		victim.kill()
		victim.start()
		s.waitReady(t)
		done()
		injected.Add(1)
	}
	plan := []func(){
		kill,
		func() {
			done := f.open("postgres restart")
			pgs.stop()
			time.Sleep(2 * time.Second)
			pgs.start()
			s.waitReady(t)
			done()
			injected.Add(1)
		},
		kill,
		func() {
			done := f.open("pg_terminate_backend")
			n := pgs.terminateAll()
			time.Sleep(time.Second)
			done()
			t.Logf("terminated %d sessions", n)
			injected.Add(1)
		},
		func() {
			done := f.open("redis stopped")
			rds.stop()
			time.Sleep(10 * time.Second)
			rds.start()
			done()
			injected.Add(1)
		},
		kill,
	}
	if split {
		plan = append(plan, func() {
			done := f.open("kafka stopped")
			s.kafka.pause(true)
			time.Sleep(10 * time.Second)
			s.kafka.pause(false)
			done()
			injected.Add(1)
		})
	}
	rand.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })
	loadBegan := time.Now()
	for _, fault := range plan {
		gap()
		fault()
		f.mu.Lock()
		last := f.windows[len(f.windows)-1]
		f.mu.Unlock()
		t.Logf("injected %s at %s (%s)", last.what, last.start.Format("15:04:05.000"), last.end.Sub(last.start).Round(time.Millisecond))
	}
	gap()
	close(stop)
	wg.Wait()
	t.Logf("load: %s, %d requests, %d orders acknowledged, %d paid, %d unreached (binary down), %d excused 503s, %d faults injected",
		time.Since(loadBegan).Round(time.Second), st.requests, len(st.acked), st.paid, st.unreached, st.excused, injected.Load())
	f.mu.Lock()
	for _, w := range f.windows {
		t.Logf("fault %-22s %s for %s", w.what, w.start.Format("15:04:05.000"), w.end.Sub(w.start).Round(time.Millisecond))
	}
	f.mu.Unlock()
	for _, b := range st.bad {
		t.Errorf("request: %s", b)
	}
	if len(st.acked) == 0 {
		t.Fatal("the load placed no order")
	}

	// Drain: interrupted placements are compensated after a minute, events
	// are applied; then the checker must find nothing.
	sqldb, err := pg.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer sqldb.Close()
	drainDeadline := time.Now().Add(150 * time.Second)
	var rep *check.Report
	for {
		rep, err = check.Run(context.Background(), sqldb.SQL(), check.Options{})
		if err != nil {
			t.Fatal(err)
		}
		var placing int
		_ = sqldb.QueryRowContext(context.Background(), "SELECT count(*) FROM ordering.orders WHERE status = 'placing'").Scan(&placing)
		if len(rep.Violations) == 0 && placing == 0 || time.Now().After(drainDeadline) {
			break
		}
		time.Sleep(2 * time.Second)
	}
	out, cmdErr := func() ([]byte, error) {
		c := exec.Command(binary, "check", "--json", "--grace", "0s")
		c.Env = []string{"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + db, "DATA_DIR=" + t.TempDir()}
		return c.Output()
	}()
	var final check.Report
	if err := json.Unmarshal(out, &final); err != nil {
		t.Fatalf("commerce check --json: %v %v\n%s", cmdErr, err, out)
	}
	for _, v := range final.Violations {
		t.Errorf("violation %s %s: %s", v.Invariant, v.Subject, v.Detail)
	}
	if cmdErr != nil && len(final.Violations) == 0 {
		t.Errorf("commerce check exited with %v and no violation", cmdErr)
	}
	// Every acknowledged order exists (and was not abandoned).
	conn, err := pgx.Connect(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var found, failed int
	if err := conn.QueryRow(context.Background(), "SELECT count(*), count(*) FILTER (WHERE status IN ('failed', 'placing')) FROM ordering.orders WHERE id = ANY($1::uuid[])", st.acked).Scan(&found, &failed); err != nil {
		t.Fatal(err)
	}
	if found != len(st.acked) || failed != 0 {
		t.Errorf("acknowledged orders: %d, found %d, of which %d failed or placing", len(st.acked), found, failed)
	}
	t.Logf("RESULT topology=%s orders_acknowledged=%d orders_found=%d paid_confirmed=%d faults_injected=%d violations=%d examined=%v took=%s",
		map[bool]string{false: "monolith", true: "split"}[split], len(st.acked), found, st.paid, injected.Load(), len(final.Violations), final.Examined, time.Since(began).Round(time.Second))
}
