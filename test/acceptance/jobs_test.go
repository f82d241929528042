package acceptance

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/platform/mail/mailtest"
)

const recoverySubject = "You left something in your cart"

// recoveryEmails counts the cart recovery emails sent to addr.
func recoveryEmails(smtp *mailtest.Server, addr string) int {
	n := 0
	for _, m := range smtp.Messages() {
		for _, to := range m.To {
			if strings.EqualFold(to, addr) && strings.Contains(m.Data, recoverySubject) {
				n++
			}
		}
	}
	return n
}

// With CART_ABANDONED_AFTER=2s: one recovery email per abandoned cart,
// none for a cart that became an order, never a second one; an order after
// the email counts the cart as recovered.
func TestAbandonedCartRecovery(t *testing.T) {
	s := newShop(t, map[string]string{"CART_ABANDONED_AFTER": "2s", "CART_RECOVERY_PROMO": "COMEBACK10"})
	mug := s.product("REC-MUG", 1250, 50)
	ann := customerToken(t, s.u, s.smtp, "ann-rec@shop.test")
	bob := customerToken(t, s.u, s.smtp, "bob-rec@shop.test")

	expect(t, call(t, s.u, "POST", "/api/v1/cart/items", map[string]any{"product_id": mug, "quantity": 1}, ann), 200, "ann adds")
	// Bob's cart becomes an order before it is abandoned.
	expect(t, s.order(bob, s.checkout(bob, mug, 2)), 201, "bob orders")

	m := s.smtp.WaitFor(t, "ann-rec@shop.test", recoverySubject, 20*time.Second)
	if !strings.Contains(m.Data, "/cart") || !strings.Contains(m.Data, "COMEBACK10") {
		t.Fatalf("recovery email without the cart link or the promo:\n%s", m.Data)
	}
	// Several more periods pass: no second email, none for bob.
	time.Sleep(6 * time.Second)
	if n := recoveryEmails(s.smtp, "ann-rec@shop.test"); n != 1 {
		t.Fatalf("%d recovery emails for one abandoned cart, want 1", n)
	}
	if n := recoveryEmails(s.smtp, "bob-rec@shop.test"); n != 0 {
		t.Fatalf("%d recovery emails for a cart that became an order", n)
	}

	// Ann comes back and orders: the cart counts as recovered.
	expect(t, s.order(ann, s.checkout(ann, mug, 1)), 201, "ann orders")
	// The admin dashboard's figure (both topologies)...
	deadline := time.Now().Add(20 * time.Second)
	for {
		st := expect(t, call(t, s.u, "GET", "/api/v1/admin/carts/recovery", nil, s.admin), 200, "recovery figures").JSON()
		if st["recovered"].(float64) == 1 && st["emailed"].(float64) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recovery figures: %v, want 1 emailed and 1 recovered", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	expectProblem(t, call(t, s.u, "GET", "/api/v1/admin/carts/recovery", nil, bob), 403, "forbidden", "customer reads recovery figures")
	// ...and the metric (the single process's; at the split edge /metrics
	// is the gateway's own).
	if !splitMode {
		res, err := http.Get(s.u + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		_ = res.Body.Close()
		if !regexp.MustCompile(`(?m)^commerce_carts_recovered_total(\{[^}]*\})? 1$`).Match(body) {
			t.Fatalf("commerce_carts_recovered_total is not 1")
		}
	}
	if n := recoveryEmails(s.smtp, "ann-rec@shop.test"); n != 1 {
		t.Fatalf("%d recovery emails after the order, want 1", n)
	}
}

// monitorGet requests the queue monitor directly: it is asynqmon's own UI
// and API, not part of the shop's OpenAPI document.
func monitorGet(t *testing.T, base, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", base+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// The queue monitor is for administrators only (through the gateway too
// under ACCEPTANCE_TOPOLOGY=split).
func TestQueueMonitorAdminOnly(t *testing.T) {
	s := newShop(t, nil)
	customer := customerToken(t, s.u, s.smtp, "queues-customer@shop.test")
	if st, _ := monitorGet(t, s.u, "/admin/queues/api/queues", ""); st != 401 {
		t.Fatalf("anonymous: %d", st)
	}
	if st, _ := monitorGet(t, s.u, "/admin/queues/api/queues", customer); st != 403 {
		t.Fatalf("customer: %d", st)
	}
	st, body := monitorGet(t, s.u, "/admin/queues/api/queues", s.admin)
	if st != 200 || !strings.Contains(body, `"queues"`) {
		t.Fatalf("admin lists queues: %d %s", st, body)
	}
	if st, body := monitorGet(t, s.u, "/admin/queues", s.admin); st != 200 || !strings.Contains(body, "<html") {
		t.Fatalf("admin opens the monitor: %d %.200s", st, body)
	}
}
