package acceptance

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// signedEvent posts a signed test-gateway event whose object is obj.
func (s *shop) signedEvent(eventID, typ string, obj map[string]any) resp {
	body, _ := json.Marshal(map[string]any{"id": eventID, "type": typ, "data": map[string]any{"object": obj}})
	return call(s.t, s.u, "POST", "/api/v1/payments/webhooks/test", body, "", "Stripe-Signature", signed(body, time.Now().Unix()))
}

// paymentOf returns the admin view of the order's payment.
func (s *shop) paymentOf(orderID string) map[string]any {
	s.t.Helper()
	for _, p := range expect(s.t, call(s.t, s.u, "GET", "/api/v1/admin/payments?limit=100", nil, s.admin), 200, "payments").JSON()["items"].([]any) {
		if pm := p.(map[string]any); pm["order_id"] == orderID {
			return pm
		}
	}
	s.t.Fatalf("no payment for order %s", orderID)
	return nil
}

// A correctly signed success whose amount or currency differs from the
// intent's never pays the order: the payment waits for review
// (amount_mismatch), admins get an in-app notification, the provider gets a
// 2xx, and the order stays pending_payment until a correct event pays it.
// Refunds are bounded by what was captured.
func TestPaymentAmountMismatchNeverPays(t *testing.T) {
	s := newShop(t, nil)
	tok := customerToken(t, s.u, s.smtp, "mismatch@shop.test")
	pid := s.product("SKU-MISMATCH", 2000, 5)
	o := expect(t, s.order(tok, s.checkout(tok, pid, 1)), 201, "order").JSON()
	id := o["id"].(string)
	intent := o["payment"].(map[string]any)["intent_id"].(string)
	total := int64(o["total"].(float64))

	// Amount 1, then the right amount in euros, then amount_received short
	// of amount, then no amount at all: each is acknowledged and pays nothing.
	bad := []map[string]any{
		{"id": intent, "amount": 1, "currency": "usd"},
		{"id": intent, "amount": total, "currency": "eur"},
		{"id": intent, "amount": total, "amount_received": total - 1, "currency": "usd"},
		{"id": intent, "currency": "usd"},
		{"id": intent, "amount": total},
	}
	for i, obj := range bad {
		expect(t, s.signedEvent("evt_mismatch_"+string(rune('a'+i)), "payment_intent.succeeded", obj), 200, "mismatched success")
	}
	// Admins are told (in-app, pushed like every notification).
	deadline := time.Now().Add(20 * time.Second)
	for {
		items := expect(t, call(t, s.u, "GET", "/api/v1/notifications", nil, s.admin), 200, "admin notifications").JSON()["items"].([]any)
		n := 0
		for _, it := range items {
			m := it.(map[string]any)
			if m["kind"] == "payment_review" && strings.Contains(m["body"].(string), id) {
				n++
			}
		}
		if n == len(bad) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("admin told %d times, want %d: %v", n, len(bad), items)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The customer was not told anything was paid, and the order is unpaid.
	if r := expect(t, call(t, s.u, "GET", "/api/v1/orders/"+id, nil, tok), 200, "order"); r.Str("status") != "pending_payment" {
		t.Fatalf("order paid by a mismatched event: %s", r.Body)
	}
	if p := s.paymentOf(id); p["status"] != "amount_mismatch" || p["amount_captured"].(float64) != 0 {
		t.Fatalf("payment: %v", p)
	}
	if h, r := s.stock(pid); h != 5 || r != 1 {
		t.Fatalf("stock moved: %d/%d", h, r)
	}
	expectProblem(t, call(t, s.u, "POST", "/api/v1/admin/orders/"+id+"/refund", map[string]any{"amount": 1, "reason": "x"}, s.admin), 409, "", "refund of nothing captured")
	// The timeline says why.
	found := false
	for _, e := range expect(t, call(t, s.u, "GET", "/api/v1/orders/"+id+"/events", nil, s.admin), 200, "timeline").JSON()["items"].([]any) {
		found = found || e.(map[string]any)["type"] == "payment_amount_mismatch"
	}
	if !found {
		// The timeline note arrives through an event: poll for it.
		for deadline := time.Now().Add(10 * time.Second); !found && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			for _, e := range expect(t, call(t, s.u, "GET", "/api/v1/orders/"+id+"/events", nil, s.admin), 200, "timeline").JSON()["items"].([]any) {
				found = found || e.(map[string]any)["type"] == "payment_amount_mismatch"
			}
		}
		if !found {
			t.Fatal("timeline has no payment_amount_mismatch")
		}
	}

	// A later correct event pays normally; refunds stop at the captured amount.
	expect(t, s.signedEvent("evt_mismatch_ok", "payment_intent.succeeded", map[string]any{"id": intent, "amount": total, "amount_received": total, "currency": "usd"}), 200, "correct success")
	s.waitStatus(tok, id, "paid")
	if p := s.paymentOf(id); p["status"] != "succeeded" || int64(p["amount_captured"].(float64)) != total {
		t.Fatalf("payment after the correct event: %v", p)
	}
	expectProblem(t, call(t, s.u, "POST", "/api/v1/admin/orders/"+id+"/refund", map[string]any{"amount": total + 1, "reason": "too much"}, s.admin), 409, "", "refund above capture")
	expect(t, call(t, s.u, "POST", "/api/v1/admin/orders/"+id+"/refund", map[string]any{"amount": total, "reason": "all"}, s.admin), 200, "full refund")
}

// Checkout refuses a gateway the shop does not accept (stripe without a
// Stripe key) with 422 gateway_unavailable and writes no session;
// GET /api/v1/payments/gateways lists what it accepts.
func TestCheckoutGatewayUnavailable(t *testing.T) {
	s := newShop(t, nil)
	gws := expect(t, call(t, s.u, "GET", "/api/v1/payments/gateways", nil, ""), 200, "gateways").JSON()["items"].([]any)
	if len(gws) != 1 || gws[0].(map[string]any)["name"] != "test" || gws[0].(map[string]any)["test"] != true {
		t.Fatalf("gateways without a Stripe key: %v", gws)
	}
	tok := customerToken(t, s.u, s.smtp, "nostripe@shop.test")
	pid := s.product("SKU-NOSTRIPE", 1000, 5)
	expect(t, call(t, s.u, "POST", "/api/v1/cart/items", map[string]any{"product_id": pid, "quantity": 1}, tok), 200, "add to cart")
	r := call(t, s.u, "POST", "/api/v1/checkout", map[string]any{"address": map[string]any{"line1": "1 St", "city": "Town",
		"postal_code": "10001", "country": "US"}, "courier": "standard", "payment_gateway": "stripe"}, tok)
	expectProblem(t, r, 422, "gateway_unavailable", "stripe without a key")
	if !strings.Contains(string(r.Body), "payment_gateway") {
		t.Fatalf("the problem should name the field: %s", r.Body)
	}
}

// A browser pays a test-gateway intent with a test card, as in Stripe test
// mode: only the order's owner may, the decline cards fail with their
// codes, and 4242… pays through the webhook path (the order becomes paid).
func TestTestCardConfirmation(t *testing.T) {
	s := newShop(t, nil)
	tok := customerToken(t, s.u, s.smtp, "cards@shop.test")
	other := customerToken(t, s.u, s.smtp, "cards-other@shop.test")
	pid := s.product("SKU-CARDS", 1500, 5)
	o := expect(t, s.order(tok, s.checkout(tok, pid, 1)), 201, "order").JSON()
	id := o["id"].(string)
	intent := o["payment"].(map[string]any)["intent_id"].(string)
	confirm := func(token, card string) resp {
		return call(t, s.u, "POST", "/api/v1/payments/test/confirm", map[string]any{"intent_id": intent, "card_number": card}, token)
	}
	expectProblem(t, call(t, s.u, "POST", "/api/v1/payments/test/confirm", map[string]any{"intent_id": intent, "card_number": "4242424242424242"}, ""), 401, "", "anonymous")
	expectProblem(t, confirm(other, "4242 4242 4242 4242"), 404, "not_found", "someone else's intent")
	expectProblem(t, confirm(tok, "1234 5678 9012 3456"), 422, "validation_failed", "not a test card")
	expectProblem(t, confirm(tok, "4000 0000 0000 0002"), 422, "card_declined", "declined card")
	expectProblem(t, confirm(tok, "4000 0000 0000 9995"), 422, "insufficient_funds", "insufficient funds")
	if r := expect(t, call(t, s.u, "GET", "/api/v1/orders/"+id, nil, tok), 200, "order"); r.Str("status") != "pending_payment" {
		t.Fatalf("declined card changed the order: %s", r.Body)
	}
	if r := expect(t, confirm(tok, "4242 4242 4242 4242"), 200, "test card"); r.Str("status") != "succeeded" {
		t.Fatalf("confirm: %s", r.Body)
	}
	s.waitStatus(tok, id, "paid")
	expect(t, confirm(tok, "4242424242424242"), 200, "repeated confirmation")
	expectProblem(t, confirm(tok, "4000000000000002"), 409, "payment_closed", "decline after success")
	// Stock is committed by catalog's consumer of the paid order, after
	// the order turns paid: wait for it.
	s.waitStock(pid, 4, 0)
}
