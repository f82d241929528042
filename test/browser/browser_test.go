//go:build browser

// Package browser runs the storefront journey in a real Chromium: the
// built binary (with the web app embedded by `make web`), a test SMTP
// server, and web/e2e/journey.mjs driving Debian's chromium through
// playwright-core. Run it with `make test-browser` (part of `make test`).
//
// The Go side owns the shop: it builds and starts the binary, creates the
// catalogue and a promotion through the admin API, and serves the emails
// the shop sent over a loopback HTTP endpoint, so the script opens the
// verification link exactly as a shopper would from the email.
package browser

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/opencommerce/commerce/internal/platform/bintest"
	"github.com/opencommerce/commerce/internal/platform/mail/mailtest"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
	"github.com/opencommerce/commerce/internal/webhooks/webhooksapi"
)

const (
	adminEmail    = "admin@browser.test"
	adminPassword = "admin-password-1"
)

// Budgets of issue 15. The size is deterministic and enforced; the
// timings are measured in the browser and reported (the machine is
// shared, so a slow run is logged rather than failed).
const (
	maxInitialJSGzip = 150 * 1024
	lcpBudgetMs      = 1000
	searchBudgetMs   = 300
)

func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Clean(filepath.Join(wd, "..", ".."))
}

// need fails under CI=true and skips elsewhere.
func need(t *testing.T, what string, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true: %v", what, err)
	}
	t.Skipf("%s unavailable: %v", what, err)
}

func freePort(t *testing.T) int { return bintest.FreePort(t) }

// shop is the running binary.
type shop struct {
	URL  string
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs bytes.Buffer
	done chan struct{}
}

func (s *shop) Logs() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logs.String()
}

func startShop(t *testing.T, binary string, env map[string]string) *shop {
	t.Helper()
	cmd := exec.Command(binary, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	s := &shop{URL: env["PUBLIC_URL"], cmd: cmd, done: make(chan struct{})}
	stderr, _ := cmd.StderrPipe()
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			s.mu.Lock()
			s.logs.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
		}
		_ = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			t.Fatalf("binary exited early:\n%s", s.Logs())
		default:
		}
		if res, err := http.Get(s.URL + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return s
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("not ready in time:\n%s", s.Logs())
	return nil
}

// api calls the shop's JSON API and decodes the answer into out.
func api(t *testing.T, base, method, path, token string, body any, want int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d %s (want %d)", method, path, res.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// catalogue is what the journey shops from.
var catalogue = []struct {
	SKU, Name, Category, Brand string
	Price, Stock               int
}{
	{"HP-1", "Wireless Headphones", "audio", "Acme", 12999, 20},
	{"SPK-1", "Bluetooth Speaker", "audio", "Sonora", 5999, 15},
	{"MUG-1", "Ceramic Coffee Mug", "kitchen", "Acme", 1250, 50},
	{"KTL-1", "Electric Kettle", "kitchen", "Brewline", 3999, 8},
	{"LMP-1", "Desk Lamp", "home", "Lumen", 2499, 12},
	{"BLK-1", "Wool Blanket", "home", "Northway", 6900, 5},
	{"TSH-1", "Organic Cotton T-Shirt", "apparel", "Fieldwear", 1999, 40},
	{"JKT-1", "Rain Jacket", "apparel", "Fieldwear", 8900, 6},
}

// seed creates the catalogue and a promotion, and waits until search
// finds the headphones (indexing follows the catalogue's events).
func seed(t *testing.T, base string) {
	t.Helper()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	api(t, base, "POST", "/api/v1/auth/login", "", map[string]string{"email": adminEmail, "password": adminPassword}, 200, &tok)
	for _, p := range catalogue {
		api(t, base, "POST", "/api/v1/admin/products", tok.AccessToken, map[string]any{
			"sku": p.SKU, "name": p.Name, "description": "The " + strings.ToLower(p.Name) + " of the browser test.",
			"category": p.Category, "brand": p.Brand, "price": p.Price, "currency": "USD", "weight_grams": 500, "initial_stock": p.Stock,
		}, 201, nil)
	}
	api(t, base, "POST", "/api/v1/admin/promotions", tok.AccessToken, map[string]any{"code": "WELCOME10", "kind": "percent", "value": 10}, 201, nil)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		var r struct {
			Total int `json:"total"`
		}
		api(t, base, "GET", "/api/v1/search?q=headphones", "", nil, 200, &r)
		if r.Total > 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("search never found the seeded headphones")
}

// mailbox serves the emails the shop sent: GET /mail?to=&contains= waits
// up to 20 s for one and answers its decoded text.
func mailbox(t *testing.T, smtp *mailtest.Server) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/mail", func(w http.ResponseWriter, r *http.Request) {
		to, contains := r.URL.Query().Get("to"), r.URL.Query().Get("contains")
		deadline := time.Now().Add(20 * time.Second)
		for time.Now().Before(deadline) {
			for _, m := range smtp.Messages() {
				for _, addr := range m.To {
					if strings.EqualFold(addr, to) && strings.Contains(m.Data, contains) {
						dec, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(m.Data)))
						if err != nil {
							dec = []byte(m.Data)
						}
						_, _ = w.Write(dec)
						return
					}
				}
			}
			time.Sleep(50 * time.Millisecond)
		}
		http.Error(w, "no such email", http.StatusNotFound)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + l.Addr().String()
}

var budgetRe = regexp.MustCompile(`(?m)^BUDGET (\{.*\})$`)

// budget is what journey.mjs measured.
type budget struct {
	InitialJSGzipBytes int      `json:"initial_js_gzip_bytes"`
	InitialJSFiles     []string `json:"initial_js_files"`
	HomeLCPMs          float64  `json:"home_lcp_ms"`
	SearchMs           float64  `json:"search_ms"`
}

// journeyEnv is a started shop for one browser journey.
type journeyEnv struct {
	root, base, mail, out, chromium, node string
	shop                                  *shop
	smtp                                  *mailtest.Server
	dsn                                   string
}

// startJourney checks the tools, builds the binary with the web app,
// starts it with a test SMTP server and the seeded catalogue.
func startJourney(t *testing.T) *journeyEnv {
	t.Helper()
	root := repoRoot(t)
	index, err := os.ReadFile(filepath.Join(root, "web", "dist", "index.html"))
	if err != nil || !bytes.Contains(index, []byte("/assets/")) {
		t.Fatalf("web/dist holds no built storefront: run `make web` first (%v)", err)
	}
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		need(t, "Debian's chromium", err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		need(t, "node", err)
	}
	if _, err := os.Stat(filepath.Join(root, "web", "node_modules", "playwright-core")); err != nil {
		need(t, "web/node_modules/playwright-core (npm ci in web/)", err)
	}
	binary := filepath.Join(t.TempDir(), "commerce")
	build := exec.Command("go", "build", "-o", binary, "./cmd/commerce")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	smtp := mailtest.Start(t, mailtest.Plain, "", "")
	port := freePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	dsn := pgtest.NewDatabase(t)
	env := map[string]string{
		"HTTP_ADDR": fmt.Sprintf("127.0.0.1:%d", port), "PUBLIC_URL": base,
		"DATABASE_URL": dsn, "DATA_DIR": t.TempDir(),
		"SMTP_URL": "smtp://" + smtp.Addr + "?tls=none", "BOOTSTRAP_ADMIN_EMAIL": adminEmail, "BOOTSTRAP_ADMIN_PASSWORD": adminPassword,
		"RATE_LIMIT_PER_MINUTE": "100000", "AUTH_RATE_LIMIT_PER_MINUTE": "100000",
		"WEBHOOKS_ALLOW_INSECURE": "true", // the admin journey's receiver is on loopback over http
	}
	if os.Getenv("CI") == "true" {
		env["REDIS_URL"] = "redis://127.0.0.1:6379/0"
	}
	s := startShop(t, binary, env)
	seed(t, base)
	out := os.Getenv("BROWSER_OUT")
	if out == "" {
		out = filepath.Join(root, "test", "browser", "out")
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	return &journeyEnv{root: root, base: base, mail: mailbox(t, smtp), out: out, chromium: chromium, node: node, shop: s, smtp: smtp, dsn: dsn}
}

// run runs one journey script of web/e2e and returns what it printed.
func (j *journeyEnv) run(t *testing.T, script string, env ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	js := exec.CommandContext(ctx, j.node, filepath.Join(j.root, "web", "e2e", script))
	js.Dir = filepath.Join(j.root, "web")
	js.Env = append(os.Environ(), append([]string{"BASE_URL=" + j.base, "MAIL_URL=" + j.mail, "CHROMIUM=" + j.chromium, "OUT_DIR=" + j.out,
		"ADMIN_EMAIL=" + adminEmail, "ADMIN_PASSWORD=" + adminPassword}, env...)...)
	var buf bytes.Buffer
	js.Stdout = io.MultiWriter(&buf, os.Stdout)
	js.Stderr = os.Stderr
	if err := js.Run(); err != nil {
		t.Fatalf("%s failed: %v\nshop log tail:\n%s", script, err, tail(j.shop.Logs(), 60))
	}
	return buf.Bytes()
}

var tokenRe = regexp.MustCompile(`token to the API:\s+([A-Za-z0-9_-]{20,})`)

// shopper registers and verifies a customer through the API (the
// storefront journey covers doing it in the browser).
func (j *journeyEnv) shopper(t *testing.T, email, password string) {
	t.Helper()
	api(t, j.base, "POST", "/api/v1/auth/register", "", map[string]string{"email": email, "password": password, "name": "Sam Shopper"}, 201, nil)
	m := j.smtp.WaitFor(t, email, "token to the API", 20*time.Second)
	dec, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(m.Data)))
	if err != nil {
		dec = []byte(m.Data)
	}
	tok := tokenRe.FindSubmatch(dec)
	if tok == nil {
		t.Fatalf("no token in the verification email:\n%s", dec)
	}
	api(t, j.base, "POST", "/api/v1/auth/verify", "", map[string]string{"token": string(tok[1])}, 200, nil)
}

func TestStorefrontJourney(t *testing.T) {
	j := startJourney(t)
	out := j.run(t, "journey.mjs")
	m := budgetRe.FindSubmatch(out)
	if m == nil {
		t.Fatal("the journey reported no budget line")
	}
	var b budget
	if err := json.Unmarshal(m[1], &b); err != nil {
		t.Fatal(err)
	}
	t.Logf("initial JS %.1f KB gzip in %d files (budget %d KB); home LCP %.0f ms (budget %d); search %.0f ms after the last keystroke (budget %d); screenshots in %s",
		float64(b.InitialJSGzipBytes)/1024, len(b.InitialJSFiles), maxInitialJSGzip/1024, b.HomeLCPMs, lcpBudgetMs, b.SearchMs, searchBudgetMs, j.out)
	if b.InitialJSGzipBytes <= 0 || b.InitialJSGzipBytes > maxInitialJSGzip {
		t.Errorf("initial JavaScript is %d bytes gzipped, budget %d", b.InitialJSGzipBytes, maxInitialJSGzip)
	}
	if b.HomeLCPMs > lcpBudgetMs {
		t.Logf("NOTE: home LCP %.0f ms is over the %d ms budget on this run", b.HomeLCPMs, lcpBudgetMs)
	}
	if b.SearchMs > searchBudgetMs {
		t.Logf("NOTE: search took %.0f ms after the last keystroke, over the %d ms budget on this run", b.SearchMs, searchBudgetMs)
	}
}

// TestAdminJourney: an admin runs a day of the shop from the console
// while a shopper buys (issue 16).
func TestAdminJourney(t *testing.T) {
	j := startJourney(t)
	const email, password = "sam@browser.test", "correct horse battery"
	j.shopper(t, email, password)
	// A dead letter for the console to retry: the search indexer's copy of
	// a product event it has in fact applied (as after a crash between the
	// effect and the bookkeeping). The retry goes through the consumer's
	// inbox, so the product is not indexed twice; the retry semantics
	// themselves are tested in internal/platform/events.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, j.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	tag, err := conn.Exec(ctx, `INSERT INTO events.dead_letters (consumer, topic, event_id, payload, error, attempts)
		SELECT 'search.products', topic, event_id, payload, 'search index unavailable (simulated by the browser test)', 5
		FROM events.outbox WHERE topic = $1 ORDER BY id DESC LIMIT 1`, "catalog.product_created")
	if err != nil || tag.RowsAffected() != 1 {
		t.Fatalf("dead letter: %v (%d rows)", err, tag.RowsAffected())
	}
	recv := startWebhookReceiver(t)
	j.run(t, "admin.mjs", "SHOPPER_EMAIL="+email, "SHOPPER_PASSWORD="+password, "DEAD_LETTER_CONSUMER=search.products",
		"WEBHOOK_RECEIVER="+recv.URL)
	if n := recv.verified("webhooks.ping"); n < 1 {
		t.Fatalf("the receiver got no correctly signed ping (bad: %d)", recv.bad())
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	var retried bool
	if err := conn.QueryRow(ctx2, `SELECT retried_at IS NOT NULL FROM events.dead_letters WHERE consumer = 'search.products'`).Scan(&retried); err != nil || !retried {
		t.Fatalf("the dead letter was not retried: %v", err)
	}
}

// TestGraphiQLJourney: a browser opening /graphql gets the GraphiQL of the
// web build, queries products, and follows an order's status over a
// subscription authorized by the Headers tab's token while the order is
// paid over REST.
func TestGraphiQLJourney(t *testing.T) {
	j := startJourney(t)
	const email, password, product = "gql@browser.test", "correct horse battery", "Desk Lamp"
	j.shopper(t, email, password)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	api(t, j.base, "POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": password}, 200, &tok)
	var page struct {
		Items []struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"items"`
	}
	api(t, j.base, "GET", "/api/v1/products?category=home", "", nil, 200, &page)
	var pid string
	for _, p := range page.Items {
		if p.Name == product {
			pid = p.ID
		}
	}
	if pid == "" {
		t.Fatalf("no %s among %+v", product, page.Items)
	}
	api(t, j.base, "POST", "/api/v1/cart/items", tok.AccessToken, map[string]any{"product_id": pid, "quantity": 1}, 200, nil)
	var session struct {
		ID string `json:"checkout_session_id"`
	}
	api(t, j.base, "POST", "/api/v1/checkout", tok.AccessToken, map[string]any{"address": map[string]any{"line1": "1 Test Street", "city": "Springfield",
		"postal_code": "10001", "country": "US"}, "courier": "standard", "payment_gateway": "test"}, 201, &session)
	var order struct {
		ID      string `json:"id"`
		Payment struct {
			IntentID string `json:"intent_id"`
		} `json:"payment"`
	}
	api(t, j.base, "POST", "/api/v1/orders", tok.AccessToken, map[string]any{"checkout_session_id": session.ID}, 201, &order)
	if order.ID == "" || order.Payment.IntentID == "" {
		t.Fatalf("order: %+v", order)
	}
	j.run(t, "graphiql.mjs", "ACCESS_TOKEN="+tok.AccessToken, "ORDER_ID="+order.ID, "INTENT_ID="+order.Payment.IntentID, "PRODUCT_NAME="+product)
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// webhookReceiver is the endpoint the admin journey registers from the
// console: PUT /secret gives it the signing secret the page showed once;
// every other POST is a delivery, counted by event type when its
// Commerce-Signature verifies.
type webhookReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	secret   string
	ok       map[string]int
	failures int
}

func startWebhookReceiver(t *testing.T) *webhookReceiver {
	r := &webhookReceiver{ok: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(req.Body)
		if err != nil {
			w.WriteHeader(400)
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		if req.Method == http.MethodPut && req.URL.Path == "/secret" {
			r.secret = string(body)
			return
		}
		if r.secret == "" || webhooksapi.Verify(r.secret, req.Header.Get("Commerce-Signature"), body, 5*time.Minute, time.Now()) != nil {
			r.failures++
			w.WriteHeader(401)
			return
		}
		r.ok[req.Header.Get("Commerce-Event-Type")]++
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *webhookReceiver) verified(typ string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ok[typ]
}

func (r *webhookReceiver) bad() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failures
}
