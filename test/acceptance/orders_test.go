package acceptance

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/platform/mail/mailtest"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

const webhookSecret = "whsec_acceptance_secret"

// shop is a running binary with an admin, a customer and helpers.
type shop struct {
	t     *testing.T
	p     *proc
	u     string
	smtp  *mailtest.Server
	admin string
	env   map[string]string
}

func newShop(t *testing.T, extra map[string]string) *shop {
	smtp := mailtest.Start(t, mailtest.Plain, "", "")
	env := map[string]string{
		"DATABASE_URL": pgtest.NewDatabase(t), "REDIS_URL": redisURL(t), "DATA_DIR": t.TempDir(),
		"SMTP_URL": "smtp://" + smtp.Addr + "?tls=none", "BOOTSTRAP_ADMIN_EMAIL": "ord-admin@shop.test", "BOOTSTRAP_ADMIN_PASSWORD": "admin-password",
		"PAYMENT_WEBHOOK_SECRET": webhookSecret, "RATE_LIMIT_PER_MINUTE": "100000", "AUTH_RATE_LIMIT_PER_MINUTE": "100000",
	}
	for k, v := range extra {
		env[k] = v
	}
	p, _ := start(t, env)
	s := &shop{t: t, p: p, u: p.URL, smtp: smtp, env: env}
	s.admin = expect(t, call(t, s.u, "POST", "/api/v1/auth/login", map[string]string{"email": "ord-admin@shop.test", "password": "admin-password"}, ""), 200, "admin login").Str("access_token")
	return s
}

func (s *shop) product(sku string, price, stock int) string {
	return expect(s.t, call(s.t, s.u, "POST", "/api/v1/admin/products", map[string]any{"sku": sku, "name": sku, "category": "c", "price": price,
		"currency": "USD", "weight_grams": 500, "initial_stock": stock}, s.admin), 201, "product").Str("id")
}

func (s *shop) stock(id string) (onHand, reserved int) {
	st := expect(s.t, call(s.t, s.u, "GET", "/api/v1/products/"+id, nil, ""), 200, "product").JSON()["stock"].(map[string]any)
	return int(st["on_hand"].(float64)), int(st["reserved"].(float64))
}

// checkout fills the cart and returns a fresh checkout session id.
func (s *shop) checkout(tok, product string, qty int) string {
	expect(s.t, call(s.t, s.u, "POST", "/api/v1/cart/items", map[string]any{"product_id": product, "quantity": qty}, tok), 200, "add to cart")
	return expect(s.t, call(s.t, s.u, "POST", "/api/v1/checkout", map[string]any{"address": map[string]any{"line1": "1 St", "city": "Town",
		"postal_code": "10001", "country": "US"}, "courier": "standard", "payment_gateway": "test"}, tok), 201, "checkout").Str("checkout_session_id")
}

func (s *shop) order(tok, session string) resp {
	return call(s.t, s.u, "POST", "/api/v1/orders", map[string]any{"checkout_session_id": session}, tok)
}

func signed(body []byte, ts int64) string { return headerFor(webhookSecret, body, ts) }

// headerFor signs like Stripe: t=<unix>,v1=hex(HMAC-SHA256(secret, t + "." + body)).
func headerFor(secret string, body []byte, ts int64) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(strconv.FormatInt(ts, 10) + "."))
	m.Write(body)
	return fmt.Sprintf("t=%d,v1=%s", ts, hex.EncodeToString(m.Sum(nil)))
}

func (s *shop) webhook(eventID, typ, intent string, amount int64, ts int64) resp {
	body, _ := json.Marshal(map[string]any{"id": eventID, "type": typ, "data": map[string]any{"object": map[string]any{"id": intent, "amount": amount, "currency": "usd"}}})
	return call(s.t, s.u, "POST", "/api/v1/payments/webhooks/test", body, "", "Stripe-Signature", signed(body, ts))
}

// laterThanPaid are the statuses a paid order moves on to by itself
// (fulfillment starts as soon as it is paid).
var laterThanPaid = map[string]bool{"paid": true, "fulfilling": true, "shipped": true, "delivered": true}

func (s *shop) waitStatus(tok, id, status string) resp {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		r := expect(s.t, call(s.t, s.u, "GET", "/api/v1/orders/"+id, nil, tok), 200, "order")
		if got := r.Str("status"); got == status || (status == "paid" && laterThanPaid[got]) {
			return r
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("order %s is %s, want %s", id, r.Str("status"), status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *shop) waitStock(id string, onHand, reserved int) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		h, r := s.stock(id)
		if h == onHand && r == reserved {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("stock on_hand=%d reserved=%d, want %d/%d", h, r, onHand, reserved)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *shop) emails(to, subject string) int {
	n := 0
	for _, m := range s.smtp.Messages() {
		if len(m.To) > 0 && m.To[0] == to && strings.Contains(m.Data, "Subject: "+subject) {
			n++
		}
	}
	return n
}

func TestOrderToPaymentOverHTTP(t *testing.T) {
	s := newShop(t, nil)
	tok := customerToken(t, s.u, s.smtp, "buyer@shop.test")
	other := customerToken(t, s.u, s.smtp, "other@shop.test")
	pid := s.product("SKU-PAY", 2500, 5)
	session := s.checkout(tok, pid, 2)

	// Idempotency-Key: replay returns the first response; another body is 409.
	body := map[string]any{"checkout_session_id": session}
	first := expect(t, call(t, s.u, "POST", "/api/v1/orders", body, tok, "Idempotency-Key", "order-1"), 201, "place order")
	again := expect(t, call(t, s.u, "POST", "/api/v1/orders", body, tok, "Idempotency-Key", "order-1"), 201, "replay")
	if string(again.Body) != string(first.Body) {
		t.Fatal("replay differs")
	}
	expectProblem(t, call(t, s.u, "POST", "/api/v1/orders", map[string]any{"checkout_session_id": uuid.NewString()}, tok, "Idempotency-Key", "order-1"), 409, "idempotency_conflict", "key reuse")
	expectProblem(t, s.order(tok, session), 409, "checkout_used", "second order from one session")
	o := first.JSON()
	id := o["id"].(string)
	pay := o["payment"].(map[string]any)
	if o["status"] != "pending_payment" || pay["gateway"] != "test" || pay["intent_id"] == nil || o["expires_at"] == nil || o["total"].(float64) != 5000+899 {
		t.Fatalf("order: %s", first.Body)
	}
	if h, r := s.stock(pid); h != 5 || r != 2 {
		t.Fatalf("reserved: %d/%d", h, r)
	}
	expectProblem(t, call(t, s.u, "GET", "/api/v1/orders/"+id, nil, other), 404, "not_found", "someone else's order")

	// Webhooks: bad signature and stale timestamp are 400; the same signed event 10 times pays once.
	intent := pay["intent_id"].(string)
	bodyBad, _ := json.Marshal(map[string]any{"id": "evt_x", "type": "payment_intent.succeeded", "data": map[string]any{"object": map[string]any{"id": intent}}})
	expectProblem(t, call(t, s.u, "POST", "/api/v1/payments/webhooks/test", bodyBad, "", "Stripe-Signature", "t=1,v1=deadbeef"), 400, "invalid_signature", "bad signature")
	expectProblem(t, call(t, s.u, "POST", "/api/v1/payments/webhooks/test", bodyBad, ""), 400, "invalid_signature", "missing signature")
	expectProblem(t, s.webhook("evt_stale", "payment_intent.succeeded", intent, 5899, time.Now().Add(-10*time.Minute).Unix()), 400, "invalid_signature", "stale")
	var wg sync.WaitGroup
	for i := 0; i < 10; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			expect(t, s.webhook("evt_paid_1", "payment_intent.succeeded", intent, 5899, time.Now().Unix()), 200, "webhook")
		}()
	}
	wg.Wait()
	s.waitStatus(tok, id, "paid")
	s.waitStock(pid, 3, 0)
	// A failure after success changes nothing.
	expect(t, s.webhook("evt_failed_late", "payment_intent.payment_failed", intent, 5899, time.Now().Unix()), 200, "late failure")
	s.settle() // the late failure's events applied
	s.waitStatus(tok, id, "paid")
	s.smtp.WaitFor(t, "buyer@shop.test", "Subject: Payment received", 20*time.Second)
	s.settle() // no second email
	if n := s.emails("buyer@shop.test", "Payment received"); n != 1 {
		t.Fatalf("%d paid emails", n)
	}
	if n := s.emails("buyer@shop.test", "Thanks for your order"); n != 1 {
		t.Fatalf("%d order placed emails", n)
	}
	if h, _ := s.stock(pid); h != 3 {
		t.Fatalf("stock deducted more than once: %d", h)
	}
	tl := expect(t, call(t, s.u, "GET", "/api/v1/orders/"+id+"/events", nil, tok), 200, "timeline").JSON()["items"].([]any)
	var types []string
	for _, e := range tl {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	if !strings.HasPrefix(strings.Join(types, ","), "stock_reserved,checkout_consumed,payment_intent_created,placed,paid") {
		t.Fatalf("timeline: %v", types)
	}
	// The cart was emptied by order_placed.
	if c := expect(t, call(t, s.u, "GET", "/api/v1/cart", nil, tok), 200, "cart"); len(c.JSON()["items"].([]any)) != 0 {
		t.Fatalf("cart not emptied: %s", c.Body)
	}

	// Refunds: partial, too much, the rest.
	expectProblem(t, call(t, s.u, "POST", "/api/v1/admin/orders/"+id+"/refund", map[string]any{"amount": 100, "reason": "x"}, tok), 403, "", "customer refund")
	r := expect(t, call(t, s.u, "POST", "/api/v1/admin/orders/"+id+"/refund", map[string]any{"amount": 1000, "reason": "damaged box"}, s.admin), 200, "partial refund")
	if r.JSON()["refunded_amount"].(float64) != 1000 || !laterThanPaid[r.Str("status")] {
		t.Fatalf("partial: %s", r.Body)
	}
	expectProblem(t, call(t, s.u, "POST", "/api/v1/admin/orders/"+id+"/refund", map[string]any{"amount": 4900, "reason": "too much"}, s.admin), 409, "refund_exceeds_captured", "over-refund")
	r = expect(t, call(t, s.u, "POST", "/api/v1/admin/orders/"+id+"/refund", map[string]any{"amount": 4899, "reason": "rest"}, s.admin), 200, "rest")
	if r.Str("status") != "refunded" || r.JSON()["refunded_amount"].(float64) != 5899 {
		t.Fatalf("full refund: %s", r.Body)
	}
	if l := expect(t, call(t, s.u, "GET", "/api/v1/admin/orders?status=refunded", nil, s.admin), 200, "admin list"); len(l.JSON()["items"].([]any)) != 1 {
		t.Fatalf("admin list: %s", l.Body)
	}
	pays := expect(t, call(t, s.u, "GET", "/api/v1/admin/payments", nil, s.admin), 200, "payments").JSON()["items"].([]any)
	if len(pays) != 1 || len(pays[0].(map[string]any)["refunds"].([]any)) != 2 || pays[0].(map[string]any)["status"] != "succeeded" {
		t.Fatalf("payments: %v", pays)
	}

	// Cancel restores stock; cancel twice is 409.
	s2 := s.checkout(tok, pid, 1)
	o2 := expect(t, s.order(tok, s2), 201, "order 2").Str("id")
	s.waitStock(pid, 3, 1)
	expectProblem(t, call(t, s.u, "POST", "/api/v1/orders/"+o2+"/cancel", nil, other), 404, "", "someone else cancels")
	if c := expect(t, call(t, s.u, "POST", "/api/v1/orders/"+o2+"/cancel", nil, tok), 200, "cancel"); c.Str("status") != "canceled" {
		t.Fatalf("cancel: %s", c.Body)
	}
	expectProblem(t, call(t, s.u, "POST", "/api/v1/orders/"+o2+"/cancel", nil, tok), 409, "order_not_cancelable", "cancel twice")
	s.waitStock(pid, 3, 0)

	// A payment for the canceled order is refunded automatically.
	o2v := expect(t, call(t, s.u, "GET", "/api/v1/orders/"+o2, nil, tok), 200, "o2").JSON()
	intent2 := o2v["payment"].(map[string]any)["intent_id"].(string)
	expect(t, s.webhook("evt_late", "payment_intent.succeeded", intent2, int64(o2v["total"].(float64)), time.Now().Unix()), 200, "late webhook")
	deadline := time.Now().Add(20 * time.Second)
	for {
		o := expect(t, call(t, s.u, "GET", "/api/v1/orders/"+o2, nil, tok), 200, "o2").JSON()
		if o["status"] == "canceled" && o["refunded_amount"].(float64) == o["total"].(float64) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("late payment not refunded: %v", o)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if h, _ := s.stock(pid); h != 3 {
		t.Fatalf("late payment deducted stock: %d", h)
	}

	// Insufficient stock: 409 and nothing left reserved.
	big := s.checkout(tok, pid, 3)
	expect(t, call(t, s.u, "PATCH", "/api/v1/cart/items/"+pid, map[string]any{"quantity": 0}, tok), 200, "clear")
	expect(t, call(t, s.u, "POST", "/api/v1/admin/products/"+pid+"/stock", map[string]any{"delta": -1, "reason": "breakage"}, s.admin), 200, "shrink")
	expectProblem(t, s.order(tok, big), 409, "insufficient_stock", "short stock")
	if _, r := s.stock(pid); r != 0 {
		t.Fatalf("reserved after a failed order: %d", r)
	}
	expect(t, call(t, s.u, "POST", "/api/v1/admin/products/"+pid+"/stock", map[string]any{"delta": 1, "reason": "found"}, s.admin), 200, "restock")
	if o := expect(t, s.order(tok, big), 201, "retry after restock"); o.Str("status") != "pending_payment" {
		t.Fatalf("retry: %s", o.Body)
	}
}

func TestOrderExpiryAndRemindersOverHTTP(t *testing.T) {
	s := newShop(t, map[string]string{"ORDER_PAYMENT_TIMEOUT": "4s", "ORDER_REMINDERS": "1s,2s"})
	tok := customerToken(t, s.u, s.smtp, "slow@shop.test")
	pid := s.product("SKU-EXP", 1000, 3)
	expect(t, call(t, s.u, "POST", "/api/v1/admin/promotions", map[string]any{"code": "ONCE", "kind": "percent", "value": 10, "max_uses": 1}, s.admin), 201, "promo")
	expect(t, call(t, s.u, "POST", "/api/v1/cart/items", map[string]any{"product_id": pid, "quantity": 2}, tok), 200, "cart")
	expect(t, call(t, s.u, "POST", "/api/v1/cart/promo", map[string]any{"code": "ONCE"}, tok), 200, "promo")
	sess := expect(t, call(t, s.u, "POST", "/api/v1/checkout", map[string]any{"address": map[string]any{"line1": "1 St", "city": "Town",
		"postal_code": "10001", "country": "US"}, "courier": "standard", "payment_gateway": "test"}, tok), 201, "checkout").Str("checkout_session_id")
	o := expect(t, s.order(tok, sess), 201, "order")
	id := o.Str("id")
	s.waitStock(pid, 3, 2)
	s.waitStatus(tok, id, "expired")
	s.waitStock(pid, 3, 0)
	s.smtp.WaitFor(t, "slow@shop.test", "Subject: Your order expired", 20*time.Second)
	eventually(t, "two reminders", 20*time.Second, func() bool { return s.emails("slow@shop.test", "Your order is waiting for payment") >= 2 })
	s.settle() // no third reminder, no second expiry email
	if n := s.emails("slow@shop.test", "Your order is waiting for payment"); n != 2 {
		t.Fatalf("%d reminders, want 2", n)
	}
	if n := s.emails("slow@shop.test", "Your order expired"); n != 1 {
		t.Fatalf("%d expiry emails", n)
	}
	// The promo use was released with the order: the code applies again.
	expect(t, call(t, s.u, "POST", "/api/v1/cart/items", map[string]any{"product_id": pid, "quantity": 1}, tok), 200, "cart")
	deadline := time.Now().Add(10 * time.Second)
	for call(t, s.u, "POST", "/api/v1/cart/promo", map[string]any{"code": "ONCE"}, tok).Status != 200 {
		if time.Now().After(deadline) {
			t.Fatal("promo use not released after expiry")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Paying after expiry: refunded automatically, stock untouched.
	intent := o.JSON()["payment"].(map[string]any)["intent_id"].(string)
	total := int64(o.JSON()["total"].(float64))
	expect(t, s.webhook("evt_after_expiry", "payment_intent.succeeded", intent, total, time.Now().Unix()), 200, "late")
	for {
		got := expect(t, call(t, s.u, "GET", "/api/v1/orders/"+id, nil, tok), 200, "order").JSON()
		if got["status"] == "expired" && int64(got["refunded_amount"].(float64)) == total {
			break
		}
		if time.Now().After(deadline.Add(20 * time.Second)) {
			t.Fatalf("payment after expiry not refunded: %v", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.smtp.WaitFor(t, "slow@shop.test", "Subject: Your refund is on its way", 20*time.Second)
	if h, r := s.stock(pid); h != 3 || r != 0 {
		t.Fatalf("stock after late payment: %d/%d", h, r)
	}
}
