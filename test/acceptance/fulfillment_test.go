package acceptance

import (
	"strings"
	"testing"
	"time"
)

// A paid order gets exactly one fulfillment; the carrier gives it a
// tracking id; admin ship/deliver move it and the order follows.
func TestFulfillmentFollowsPayment(t *testing.T) {
	s := newShop(t, nil)
	tok := customerToken(t, s.u, s.smtp, "ship@shop.test")
	other := customerToken(t, s.u, s.smtp, "nosy@shop.test")
	pid := s.product("SKU-SHIP", 3000, 5)
	o := expect(t, s.order(tok, s.checkout(tok, pid, 2)), 201, "order").JSON()
	id := o["id"].(string)
	expectProblem(t, call(t, s.u, "GET", "/api/v1/orders/"+id+"/fulfillment", nil, tok), 404, "not_found", "no fulfillment before payment")
	for i := 0; i < 3; i++ {
		expect(t, s.webhook("evt_ship_paid", "payment_intent.succeeded", o["payment"].(map[string]any)["intent_id"].(string), int64(o["total"].(float64)), time.Now().Unix()), 200, "webhook")
	}
	s.waitStatus(tok, id, "fulfilling")
	var f map[string]any
	deadline := time.Now().Add(20 * time.Second)
	for {
		f = expect(t, call(t, s.u, "GET", "/api/v1/orders/"+id+"/fulfillment", nil, tok), 200, "fulfillment").JSON()
		if f["status"] == "in_progress" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fulfillment not handed to the carrier: %v", f)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if tr, _ := f["tracking_id"].(string); !strings.HasPrefix(tr, "SIM") || f["eta"] == nil || f["courier"] != "standard" {
		t.Fatalf("fulfillment: %v", f)
	}
	expectProblem(t, call(t, s.u, "GET", "/api/v1/orders/"+id+"/fulfillment", nil, other), 404, "not_found", "someone else's fulfillment")
	fid := f["id"].(string)
	expectProblem(t, call(t, s.u, "POST", "/api/v1/admin/fulfillments/"+fid+"/deliver", nil, s.admin), 409, "invalid_transition", "deliver before ship")
	expectProblem(t, call(t, s.u, "POST", "/api/v1/admin/fulfillments/"+fid+"/ship", nil, tok), 403, "", "customer ships")
	if r := expect(t, call(t, s.u, "POST", "/api/v1/admin/fulfillments/"+fid+"/ship", nil, s.admin), 200, "ship"); r.Str("status") != "shipped" {
		t.Fatalf("ship: %s", r.Body)
	}
	expectProblem(t, call(t, s.u, "POST", "/api/v1/admin/fulfillments/"+fid+"/ship", nil, s.admin), 409, "invalid_transition", "ship twice")
	s.waitStatus(tok, id, "shipped")
	s.smtp.WaitFor(t, "ship@shop.test", "Subject: Your order has shipped", 20*time.Second)
	expect(t, call(t, s.u, "POST", "/api/v1/admin/fulfillments/"+fid+"/deliver", nil, s.admin), 200, "deliver")
	s.waitStatus(tok, id, "delivered")
	if f := expect(t, call(t, s.u, "GET", "/api/v1/orders/"+id+"/fulfillment", nil, tok), 200, "fulfillment").JSON(); f["status"] != "delivered" {
		t.Fatalf("after deliver: %v", f)
	}
	if n := s.emails("ship@shop.test", "Your order has shipped"); n != 1 {
		t.Fatalf("%d shipped emails", n)
	}

	// In-app notifications: one per event, the owner's only, mark read.
	var list map[string]any
	deadline = time.Now().Add(20 * time.Second)
	for {
		list = expect(t, call(t, s.u, "GET", "/api/v1/notifications", nil, tok), 200, "notifications").JSON()
		kinds := map[string]int{}
		for _, it := range list["items"].([]any) {
			kinds[it.(map[string]any)["kind"].(string)]++
		}
		if kinds["order_placed"] == 1 && kinds["order_paid"] == 1 && kinds["order_shipped"] == 1 && kinds["order_delivered"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("notifications: %v", kinds)
		}
		time.Sleep(100 * time.Millisecond)
	}
	unread := int(list["unread"].(float64))
	first := list["items"].([]any)[0].(map[string]any)["id"].(string)
	// The other user has only their own account notifications.
	l := expect(t, call(t, s.u, "GET", "/api/v1/notifications", nil, other), 200, "other's notifications")
	for _, it := range l.JSON()["items"].([]any) {
		if k := it.(map[string]any)["kind"].(string); k != "welcome" && k != "email_verified" {
			t.Fatalf("another user sees: %s", l.Body)
		}
	}
	expectProblem(t, call(t, s.u, "POST", "/api/v1/notifications/"+first+"/read", nil, other), 404, "not_found", "mark someone else's")
	expect(t, call(t, s.u, "POST", "/api/v1/notifications/"+first+"/read", nil, tok), 204, "mark read")
	expect(t, call(t, s.u, "POST", "/api/v1/notifications/"+first+"/read", nil, tok), 204, "mark read again")
	if l := expect(t, call(t, s.u, "GET", "/api/v1/notifications", nil, tok), 200, "notifications").JSON(); int(l["unread"].(float64)) != unread-1 {
		t.Fatalf("unread %v, want %d", l["unread"], unread-1)
	}
}
