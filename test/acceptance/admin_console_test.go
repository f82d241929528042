package acceptance

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

func pageIDs(r resp) map[string]bool {
	out := map[string]bool{}
	for _, it := range r.JSON()["items"].([]any) {
		out[it.(map[string]any)["id"].(string)] = true
	}
	return out
}

// The admin console over HTTP (issue 16): the dashboard shows today's
// paid order, its revenue and the low-stock product; the admin finds
// orders by status, date and user, reads one and its timeline, cancels a
// pending one (stock comes back), works the fulfillment queue and ships
// with a tracking number. Customers are refused every admin route.
func TestAdminConsoleOverHTTP(t *testing.T) {
	s := newShop(t, nil)
	tok := customerToken(t, s.u, s.smtp, "console-buyer@shop.test")
	other := customerToken(t, s.u, s.smtp, "console-other@shop.test")
	buyerID := expect(t, call(t, s.u, "GET", "/api/v1/me", nil, tok), 200, "me").Str("id")
	otherID := expect(t, call(t, s.u, "GET", "/api/v1/me", nil, other), 200, "me").Str("id")
	scarce := s.product("SKU-CONSOLE-SCARCE", 1500, 3)
	plenty := s.product("SKU-CONSOLE-PLENTY", 700, 40)

	// A customer buys one of the scarce product and pays with the test card.
	o := expect(t, s.order(tok, s.checkout(tok, scarce, 1)), 201, "order").JSON()
	paidID := o["id"].(string)
	expect(t, call(t, s.u, "POST", "/api/v1/payments/test/confirm", map[string]any{"intent_id": o["payment"].(map[string]any)["intent_id"],
		"card_number": "4242424242424242"}, tok), 200, "pay")
	s.waitStatus(tok, paidID, "paid")
	s.waitStock(scarce, 2, 0)
	// Two orders stay pending: the buyer's and another customer's.
	pendingID := expect(t, s.order(tok, s.checkout(tok, plenty, 3)), 201, "pending order").JSON()["id"].(string)
	otherOrder := expect(t, s.order(other, s.checkout(other, plenty, 1)), 201, "other's order").JSON()["id"].(string)
	s.waitStock(plenty, 40, 4)

	// The dashboard.
	sum := expect(t, call(t, s.u, "GET", "/api/v1/admin/summary?low_stock=5", nil, s.admin), 200, "summary").JSON()
	today := sum["today"].(map[string]any)
	by := today["orders_by_status"].(map[string]any)
	if today["orders"].(float64) != 3 || by["pending_payment"].(float64) != 2 || by["paid"].(float64)+by["fulfilling"].(float64)+by["shipped"].(float64) != 1 {
		t.Fatalf("today's orders: %v", today)
	}
	rev := today["revenue"].([]any)
	if len(rev) != 1 || rev[0].(map[string]any)["currency"] != "USD" || rev[0].(map[string]any)["amount"].(float64) != o["total"].(float64) {
		t.Fatalf("today's revenue: %v, order total %v", rev, o["total"])
	}
	if week := sum["last_7_days"].(map[string]any); week["orders"].(float64) != 3 || len(week["revenue"].([]any)) != 1 {
		t.Fatalf("last 7 days: %v", week)
	}
	low := sum["low_stock"].([]any)
	if len(low) != 1 || low[0].(map[string]any)["product_id"] != scarce || low[0].(map[string]any)["sku"] != "SKU-CONSOLE-SCARCE" ||
		low[0].(map[string]any)["available"].(float64) != 2 {
		t.Fatalf("low stock: %v", low)
	}
	if r := sum["payments_needing_review"].(map[string]any); r["failed"].(float64) != 0 || r["amount_mismatch"].(float64) != 0 || len(r["items"].([]any)) != 0 {
		t.Fatalf("payments needing review: %v", r)
	}
	if sum["dead_letters"] == nil || sum["generated_at"] == nil {
		t.Fatalf("summary: %v", sum)
	}
	expectProblem(t, call(t, s.u, "GET", "/api/v1/admin/summary?low_stock=-1", nil, s.admin), 422, "validation_failed", "negative threshold")

	// Orders by status, date and user.
	list := func(q string) map[string]bool {
		return pageIDs(expect(t, call(t, s.u, "GET", "/api/v1/admin/orders?"+q, nil, s.admin), 200, "orders "+q))
	}
	if got := list("status=pending_payment"); len(got) != 2 || !got[pendingID] || !got[otherOrder] {
		t.Fatalf("pending orders: %v", got)
	}
	from := url.QueryEscape(time.Now().UTC().Add(-time.Hour).Format(time.RFC3339))
	to := url.QueryEscape(time.Now().UTC().Add(time.Hour).Format(time.RFC3339))
	if got := list("from=" + from + "&to=" + to); len(got) != 3 {
		t.Fatalf("orders of the last hour: %v", got)
	}
	if got := list("to=" + from); len(got) != 0 {
		t.Fatalf("orders before the last hour: %v", got)
	}
	if got := list("user_id=" + otherID); len(got) != 1 || !got[otherOrder] {
		t.Fatalf("the other customer's orders: %v", got)
	}
	if got := list("user_id=" + buyerID + "&status=pending_payment&q=" + pendingID[:8]); len(got) != 1 || !got[pendingID] {
		t.Fatalf("combined filters: %v", got)
	}
	expectProblem(t, call(t, s.u, "GET", "/api/v1/admin/orders?from=yesterday", nil, s.admin), 422, "validation_failed", "bad from")

	// Detail and timeline of any customer's order.
	if d := expect(t, call(t, s.u, "GET", "/api/v1/admin/orders/"+otherOrder, nil, s.admin), 200, "detail").JSON(); d["user_id"] != otherID || d["status"] != "pending_payment" {
		t.Fatalf("detail: %v", d)
	}
	var types []string
	for _, e := range expect(t, call(t, s.u, "GET", "/api/v1/admin/orders/"+paidID+"/events", nil, s.admin), 200, "timeline").JSON()["items"].([]any) {
		types = append(types, e.(map[string]any)["type"].(string))
	}
	if !strings.HasPrefix(strings.Join(types, ","), "stock_reserved,checkout_consumed,payment_intent_created,placed,paid") {
		t.Fatalf("timeline: %v", types)
	}

	// The admin cancels another customer's pending order: its stock comes back.
	if c := expect(t, call(t, s.u, "POST", "/api/v1/admin/orders/"+otherOrder+"/cancel", nil, s.admin), 200, "cancel").JSON(); c["status"] != "canceled" {
		t.Fatalf("cancel: %v", c)
	}
	s.waitStock(plenty, 40, 3)
	expectProblem(t, call(t, s.u, "POST", "/api/v1/admin/orders/"+paidID+"/cancel", nil, s.admin), 409, "order_not_cancelable", "cancel a paid order")
	s.waitStatus(other, otherOrder, "canceled")

	// Payments by status and order.
	pays := expect(t, call(t, s.u, "GET", "/api/v1/admin/payments?status=succeeded&order_id="+paidID, nil, s.admin), 200, "payments").JSON()["items"].([]any)
	if len(pays) != 1 || pays[0].(map[string]any)["order_id"] != paidID {
		t.Fatalf("payments: %v", pays)
	}

	// The fulfillment queue shows the paid order's shipment.
	var f map[string]any
	deadline := time.Now().Add(20 * time.Second)
	for f == nil {
		for _, it := range expect(t, call(t, s.u, "GET", "/api/v1/admin/fulfillments?status=in_progress", nil, s.admin), 200, "queue").JSON()["items"].([]any) {
			if it.(map[string]any)["order_id"] == paidID {
				f = it.(map[string]any)
			}
		}
		if f == nil && time.Now().After(deadline) {
			t.Fatal("the paid order's fulfillment is not in the queue")
		}
		time.Sleep(100 * time.Millisecond)
	}
	fid := f["id"].(string)
	if g := expect(t, call(t, s.u, "GET", "/api/v1/admin/fulfillments/"+fid, nil, s.admin), 200, "fulfillment").JSON(); g["order_id"] != paidID || g["created_at"] == nil {
		t.Fatalf("fulfillment: %v", g)
	}
	shipped := expect(t, call(t, s.u, "POST", "/api/v1/admin/fulfillments/"+fid+"/ship", map[string]any{"tracking_id": "1Z-CONSOLE-42"}, s.admin), 200, "ship").JSON()
	if shipped["status"] != "shipped" || shipped["tracking_id"] != "1Z-CONSOLE-42" {
		t.Fatalf("ship: %v", shipped)
	}
	s.waitStatus(tok, paidID, "shipped")
	expect(t, call(t, s.u, "POST", "/api/v1/admin/fulfillments/"+fid+"/deliver", nil, s.admin), 200, "deliver")
	s.waitStatus(tok, paidID, "delivered")
	if mine := expect(t, call(t, s.u, "GET", "/api/v1/orders/"+paidID+"/fulfillment", nil, tok), 200, "customer's fulfillment").JSON(); mine["tracking_id"] != "1Z-CONSOLE-42" {
		t.Fatalf("the customer sees tracking %v", mine["tracking_id"])
	}
	if q := pageIDs(expect(t, call(t, s.u, "GET", "/api/v1/admin/fulfillments?status=delivered", nil, s.admin), 200, "delivered queue")); !q[fid] {
		t.Fatalf("delivered queue: %v", q)
	}

	// A customer token is refused every new admin route.
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/v1/admin/summary"}, {"GET", "/api/v1/admin/orders?status=paid"}, {"GET", "/api/v1/admin/orders/" + paidID},
		{"GET", "/api/v1/admin/orders/" + paidID + "/events"}, {"POST", "/api/v1/admin/orders/" + pendingID + "/cancel"},
		{"GET", "/api/v1/admin/payments?status=failed"}, {"GET", "/api/v1/admin/fulfillments"}, {"GET", "/api/v1/admin/fulfillments/" + fid},
		{"POST", "/api/v1/admin/fulfillments/" + fid + "/ship"},
	} {
		expectProblem(t, call(t, s.u, r.method, r.path, nil, tok), 403, "", "customer on "+r.method+" "+r.path)
	}
	if st := expect(t, call(t, s.u, "GET", "/api/v1/orders/"+pendingID, nil, tok), 200, "pending order").Str("status"); st != "pending_payment" {
		t.Fatalf("a refused cancel changed the order: %s", st)
	}
}
