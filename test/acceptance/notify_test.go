package acceptance

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/platform/mail/mailtest"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

// smsProvider is a test SMS vendor answering status to every message.
type smsProvider struct {
	*httptest.Server
	mu       sync.Mutex
	attempts int
	got      []map[string]string
}

func newSMSProvider(t *testing.T, status int, token string) *smsProvider {
	p := &smsProvider{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var m map[string]string
		_ = json.NewDecoder(r.Body).Decode(&m)
		p.mu.Lock()
		defer p.mu.Unlock()
		p.attempts++
		if token != "" && r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(401)
			return
		}
		if status/100 == 2 {
			p.got = append(p.got, m)
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *smsProvider) messages() ([]map[string]string, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]map[string]string(nil), p.got...), p.attempts
}

// checkoutWithPhone fills the cart and checks out to an address with a
// phone number (texts go to it).
func (s *shop) checkoutWithPhone(tok, product, phone string) string {
	expect(s.t, call(s.t, s.u, "POST", "/api/v1/cart/items", map[string]any{"product_id": product, "quantity": 1}, tok), 200, "add to cart")
	return expect(s.t, call(s.t, s.u, "POST", "/api/v1/checkout", map[string]any{"address": map[string]any{"line1": "1 St", "city": "Town",
		"postal_code": "10001", "country": "US", "phone": phone}, "courier": "standard", "payment_gateway": "test"}, tok), 201, "checkout").Str("checkout_session_id")
}

// The walk: a shopper's live stream gets order_paid right after the
// signed webhook; emails and one text (through the second SMS provider,
// the first failing) go out; after a disconnect, Last-Event-ID replays what
// was missed, in order, once; a bystander's stream sees nothing of it.
func TestLiveNotificationsOverSSE(t *testing.T) {
	failing := newSMSProvider(t, 503, "")
	working := newSMSProvider(t, 202, "sms-token")
	s := newShop(t, map[string]string{
		"SMS_PROVIDERS": failing.URL + ",http://:sms-token@" + strings.TrimPrefix(working.URL, "http://"),
		"SSE_HEARTBEAT": "1s",
	})
	tok := customerToken(t, s.u, s.smtp, "live@shop.test")
	other := customerToken(t, s.u, s.smtp, "bystander@shop.test")
	expectProblem(t, call(t, s.u, "GET", "/api/v1/notifications/stream", nil, tok, "Last-Event-ID", "yesterday"), 400, "bad_last_event_id", "bad Last-Event-ID")
	expectProblem(t, call(t, s.u, "GET", "/api/v1/notifications/stream", nil, ""), 401, "", "no token")

	live := openSSE(t, s.u, tok, "", true)
	spy := openSSE(t, s.u, other, "", false)
	pid := s.product("SKU-LIVE", 2500, 5)
	o := expect(t, s.order(tok, s.checkoutWithPhone(tok, pid, "+15550001234")), 201, "order").JSON()
	id := o["id"].(string)
	placed, _ := live.waitKind("order_placed", 20*time.Second)
	if placed.ID <= 0 || placed.Data["kind"] != "order_placed" || placed.Data["id"] == "" || !strings.Contains(placed.Data["body"].(string), id) {
		t.Fatalf("placed event: %+v", placed)
	}

	expect(t, s.webhook("evt_live_paid", "payment_intent.succeeded", o["payment"].(map[string]any)["intent_id"].(string), int64(o["total"].(float64)), time.Now().Unix()), 200, "webhook")
	sent := time.Now()
	paid, between := live.waitKind("order_paid", 10*time.Second)
	latency := paid.At.Sub(sent)
	t.Logf("webhook → order_paid on the stream: %s", latency)
	if latency > time.Second {
		t.Fatalf("order_paid reached the stream after %s, want within 1s", latency)
	}
	if len(between) != 0 || paid.ID != placed.ID+1 {
		t.Fatalf("ids: placed %d, paid %d, between %v", placed.ID, paid.ID, between)
	}
	s.smtp.WaitFor(t, "live@shop.test", "Subject: Thanks for your order", 20*time.Second)
	s.smtp.WaitFor(t, "live@shop.test", "Subject: Payment received", 20*time.Second)

	// Text: the first provider fails, the second takes it, exactly once.
	deadline := time.Now().Add(20 * time.Second)
	for {
		got, _ := working.messages()
		if len(got) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no text through the second provider")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, n := failing.messages(); n < 1 {
		t.Fatal("the first provider was never tried")
	}

	// Disconnect; events happen meanwhile; resume with Last-Event-ID.
	live.close()
	var f map[string]any
	deadline = time.Now().Add(20 * time.Second)
	for {
		r := call(t, s.u, "GET", "/api/v1/orders/"+id+"/fulfillment", nil, tok) // 404 until fulfillment hears of the payment
		if f = r.JSON(); r.Status == 200 && f["status"] == "in_progress" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fulfillment: %v", f)
		}
		time.Sleep(50 * time.Millisecond)
	}
	expect(t, call(t, s.u, "POST", "/api/v1/admin/fulfillments/"+f["id"].(string)+"/ship", nil, s.admin), 200, "ship")
	s.waitStatus(tok, id, "shipped")
	expect(t, call(t, s.u, "POST", "/api/v1/admin/fulfillments/"+f["id"].(string)+"/deliver", nil, s.admin), 200, "deliver")
	s.waitStatus(tok, id, "delivered")
	waitNotification(t, s.u, tok, "order_delivered")

	resumed := openSSE(t, s.u, tok, strconv.FormatInt(paid.ID, 10), false)
	var kinds []string
	want := paid.ID
	for _, k := range []string{"order_shipped", "order_delivered"} {
		ev, ok := resumed.next(10 * time.Second)
		if !ok {
			t.Fatalf("resume: missing %s after %v", k, kinds)
		}
		want++
		if ev.Event != k || ev.ID != want {
			t.Fatalf("resume: got %s #%d, want %s #%d", ev.Event, ev.ID, k, want)
		}
		kinds = append(kinds, ev.Event)
	}
	if ev, ok := resumed.next(2500 * time.Millisecond); ok {
		t.Fatalf("resume: unexpected %s #%d", ev.Event, ev.ID)
	}
	if resumed.pings.Load() == 0 {
		t.Fatal("no heartbeat on an idle stream (SSE_HEARTBEAT=1s)")
	}
	// The bystander sees at most their own account notifications.
	for {
		ev, ok := spy.next(0)
		if !ok {
			break
		}
		if ev.Event != "welcome" && ev.Event != "email_verified" {
			t.Fatalf("a bystander's stream got %s", ev.Event)
		}
	}

	// Texts: one for paid and one for shipped, never twice.
	got, _ := working.messages()
	bodies := map[string]int{}
	for _, m := range got {
		if m["to"] != "+15550001234" {
			t.Fatalf("text to %q", m["to"])
		}
		bodies[strings.SplitN(m["body"], ":", 2)[0]]++
	}
	if bodies["Payment received"] != 1 || bodies["Your order has shipped"] != 1 || len(got) != 2 {
		t.Fatalf("texts: %v", bodies)
	}
}

// waitNotification waits until the caller's list holds a notification of kind.
func waitNotification(t *testing.T, base, tok, kind string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		for _, it := range expect(t, call(t, base, "GET", "/api/v1/notifications", nil, tok), 200, "notifications").JSON()["items"].([]any) {
			if it.(map[string]any)["kind"] == kind {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s notification", kind)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Two instances on one database and Redis: a stream on A gets what
// happens through B.
func TestSSEAcrossInstances(t *testing.T) {
	monolithOnly(t)
	if c, err := net.DialTimeout("tcp", "127.0.0.1:6379", time.Second); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Redis is required in CI: %v", err)
		}
		t.Skip("no Redis on 127.0.0.1:6379")
	} else {
		c.Close()
	}
	smtp := mailtest.Start(t, mailtest.Plain, "", "")
	env := func() map[string]string {
		return map[string]string{"DATABASE_URL": pgtest.NewDatabase(t), "REDIS_URL": "redis://127.0.0.1:6379/0", "DATA_DIR": t.TempDir(),
			"SMTP_URL": "smtp://" + smtp.Addr + "?tls=none", "BOOTSTRAP_ADMIN_EMAIL": "ord-admin@shop.test", "BOOTSTRAP_ADMIN_PASSWORD": "admin-password",
			"PAYMENT_WEBHOOK_SECRET": webhookSecret, "RATE_LIMIT_PER_MINUTE": "100000", "AUTH_RATE_LIMIT_PER_MINUTE": "100000"}
	}
	envA := env()
	envA["JWT_PRIVATE_KEY_FILE"] = jwtKeyFile(t)
	envB := env()
	envB["DATABASE_URL"], envB["JWT_PRIVATE_KEY_FILE"] = envA["DATABASE_URL"], envA["JWT_PRIVATE_KEY_FILE"]
	a, _ := startOne(t, envA)
	b, _ := startOne(t, envB)
	s := &shop{t: t, p: b, u: b.URL, smtp: smtp, env: envB}
	s.admin = expect(t, call(t, s.u, "POST", "/api/v1/auth/login", map[string]string{"email": "ord-admin@shop.test", "password": "admin-password"}, ""), 200, "admin login").Str("access_token")
	tok := customerToken(t, b.URL, smtp, "twin@shop.test")
	onA := openSSE(t, a.URL, tok, "", true)
	pid := s.product("SKU-TWIN", 1000, 3)
	o := expect(t, s.order(tok, s.checkout(tok, pid, 1)), 201, "order on B").JSON()
	onA.waitKind("order_placed", 20*time.Second)
	expect(t, s.webhook("evt_twin_paid", "payment_intent.succeeded", o["payment"].(map[string]any)["intent_id"].(string), int64(o["total"].(float64)), time.Now().Unix()), 200, "webhook on B")
	onA.waitKind("order_paid", 10*time.Second)
}
