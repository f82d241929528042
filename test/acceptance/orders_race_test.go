package acceptance

import (
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// 200 concurrent orders for a product with 50 units: exactly 50 orders.
func TestConcurrentOrdersNeverOversell(t *testing.T) {
	s := newShop(t, nil)
	tok := customerToken(t, s.u, s.smtp, "crowd@shop.test")
	pid := s.product("SKU-HOT", 1000, 50)
	expect(t, call(t, s.u, "POST", "/api/v1/cart/items", map[string]any{"product_id": pid, "quantity": 1}, tok), 200, "cart")
	sessions := make([]string, 200)
	for i := range sessions {
		r := call(t, s.u, "POST", "/api/v1/checkout", map[string]any{"address": map[string]any{"line1": "1 St", "city": "Town",
			"postal_code": "10001", "country": "US"}, "courier": "standard", "payment_gateway": "test"}, tok)
		if r.Status != 201 {
			for _, l := range strings.Split(s.p.Logs(), "\n") {
				if strings.Contains(l, "upstream") || strings.Contains(l, "ERROR") || strings.Contains(l, "panic") || strings.Contains(l, "error:") || strings.Contains(l, "goroutine") || strings.Contains(l, "shutting down") || strings.Contains(l, "WARN") {
					t.Log(l)
				}
			}
		}
		sessions[i] = expect(t, r, 201, "checkout").Str("checkout_session_id")
	}
	var wg sync.WaitGroup
	codes := make([]int, len(sessions))
	problems := make([]string, len(sessions))
	for i, sess := range sessions {
		wg.Add(1)
		go func(i int, sess string) {
			defer wg.Done()
			r := s.order(tok, sess)
			codes[i], problems[i] = r.Status, r.Str("code")
		}(i, sess)
	}
	wg.Wait()
	ok, short := 0, 0
	for i, c := range codes {
		switch {
		case c == 201:
			ok++
		case c == 409 && problems[i] == "insufficient_stock":
			short++
		default:
			t.Fatalf("unexpected answer %d %s", c, problems[i])
		}
	}
	if ok != 50 || short != 150 {
		t.Fatalf("%d orders, %d refused; want 50 and 150", ok, short)
	}
	if h, r := s.stock(pid); h != 50 || r != 50 {
		t.Fatalf("stock %d/%d", h, r)
	}
	l := expect(t, call(t, s.u, "GET", "/api/v1/admin/orders?status=pending_payment&limit=100", nil, s.admin), 200, "orders")
	if n := len(l.JSON()["items"].([]any)); n != 50 {
		t.Fatalf("%d pending orders", n)
	}
}

// A cancel racing a payment ends in one outcome, consistent everywhere.
func TestCancelRacingPayment(t *testing.T) {
	s := newShop(t, nil)
	tok := customerToken(t, s.u, s.smtp, "racer@shop.test")
	pid := s.product("SKU-RACE", 1000, 100)
	for round := 0; round < 5; round++ {
		o := expect(t, s.order(tok, s.checkout(tok, pid, 1)), 201, "order").JSON()
		id := o["id"].(string)
		intent := o["payment"].(map[string]any)["intent_id"].(string)
		total := int64(o["total"].(float64))
		var wg sync.WaitGroup
		var cancel resp
		wg.Add(2)
		go func() { defer wg.Done(); cancel = call(t, s.u, "POST", "/api/v1/orders/"+id+"/cancel", nil, tok) }()
		go func() {
			defer wg.Done()
			s.webhook("evt_race_"+id, "payment_intent.succeeded", intent, total, time.Now().Unix())
		}()
		wg.Wait()
		// The race is decided once the order left pending_payment (the
		// payment's effect arrives through an event).
		var final resp
		eventually(t, "the order decided", 20*time.Second, func() bool {
			final = expect(t, call(t, s.u, "GET", "/api/v1/orders/"+id, nil, tok), 200, "order")
			return final.Str("status") != "pending_payment"
		})
		switch st := final.Str("status"); {
		case laterThanPaid[st]:
			if cancel.Status != 409 {
				t.Fatalf("paid but cancel answered %d", cancel.Status)
			}
		case st == "canceled":
			if cancel.Status != 200 {
				t.Fatalf("canceled but cancel answered %d", cancel.Status)
			}
			// The money that arrived anyway goes back.
			deadline := time.Now().Add(20 * time.Second)
			for int64(expect(t, call(t, s.u, "GET", "/api/v1/orders/"+id, nil, tok), 200, "order").JSON()["refunded_amount"].(float64)) != total {
				if time.Now().After(deadline) {
					t.Fatal("canceled order's payment not refunded")
				}
				time.Sleep(100 * time.Millisecond)
			}
		default:
			// pending_payment only while the webhook is still being applied
			s.waitStatus(tok, id, "paid")
		}
	}
	// Stock: every paid order deducted once, every canceled one released.
	s.settle()
	orders := expect(t, call(t, s.u, "GET", "/api/v1/orders?limit=100", nil, tok), 200, "orders").JSON()["items"].([]any)
	paid := 0
	for _, o := range orders {
		if laterThanPaid[o.(map[string]any)["status"].(string)] {
			paid++
		}
	}
	s.waitStock(pid, 100-paid, 0)
}

// SIGKILL between placement and webhook: after a restart the webhook pays
// the order once, and an order whose deadline passed while the binary was
// down is expired.
func TestRestartLosesNothing(t *testing.T) {
	monolithOnly(t)
	s := newShop(t, map[string]string{"ORDER_PAYMENT_TIMEOUT": "12s", "ORDER_REMINDERS": "1s"})
	tok := customerToken(t, s.u, s.smtp, "restart@shop.test")
	pid := s.product("SKU-RST", 1000, 10)
	// Order B expires while we are down; order A (placed later) is paid after the restart.
	b := expect(t, s.order(tok, s.checkout(tok, pid, 2)), 201, "order B").JSON()
	bPlaced := time.Now()
	// A scenario step, not a wait: A is placed 6 s after B, so B's deadline
	// passes while the binary is down and A's does not: the restart, the
	// login and the payment have 5.5 s before A's deadline, ample on a
	// loaded machine (the binary takes no fake clock).
	time.Sleep(6 * time.Second)
	a := expect(t, s.order(tok, s.checkout(tok, pid, 1)), 201, "order A").JSON()
	_ = s.p.cmd.Process.Signal(syscall.SIGKILL)
	<-s.p.done
	// B's deadline passes while nothing runs: nothing to wait on but time.
	time.Sleep(time.Until(bPlaced.Add(12500 * time.Millisecond)))
	// Same database, same settings: a new process.
	p, _ := start(t, s.env)
	s.p, s.u = p, p.URL
	s.expireDeadClaims()
	tok = expect(t, call(t, s.u, "POST", "/api/v1/auth/login", map[string]string{"email": "restart@shop.test", "password": "correct horse"}, ""), 200, "login").Str("access_token")
	// A: pay now (twice: still once).
	intent := a["payment"].(map[string]any)["intent_id"].(string)
	for i := 0; i < 2; i++ {
		expect(t, s.webhook("evt_after_restart", "payment_intent.succeeded", intent, int64(a["total"].(float64)), time.Now().Unix()), 200, "webhook")
	}
	s.waitStatus(tok, a["id"].(string), "paid")
	// B: expired by the rebuilt schedule.
	s.waitStatus(tok, b["id"].(string), "expired")
	s.waitStock(pid, 9, 0)
	s.smtp.WaitFor(t, "restart@shop.test", "Subject: Your order expired", 20*time.Second)
	s.settle() // no second paid or expiry email
	if n := s.emails("restart@shop.test", "Payment received"); n != 1 {
		t.Fatalf("%d paid emails", n)
	}
	if n := s.emails("restart@shop.test", "Your order expired"); n != 1 {
		t.Fatalf("%d expiry emails", n)
	}
	tl := expect(t, call(t, s.u, "GET", "/api/v1/orders/"+b["id"].(string)+"/events", nil, tok), 200, "timeline").Body
	if strings.Count(string(tl), `"type":"payment_reminder"`) != 1 {
		t.Fatalf("reminder fired %d times", strings.Count(string(tl), `"type":"payment_reminder"`))
	}
}
