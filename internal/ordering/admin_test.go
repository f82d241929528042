package ordering_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/payments/paymentsapi"
	paymentsgrpc "github.com/opencommerce/commerce/internal/payments/paymentsapi/grpcclient"
	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/grpcx/grpctest"
	"github.com/opencommerce/commerce/internal/platform/module"
	"github.com/opencommerce/commerce/internal/server/servertest"
)

type console struct {
	t     *testing.T
	e     *servertest.Env
	admin string
}

func (c *console) customer(email string) (token, id string) {
	c.t.Helper()
	r := c.e.Do("POST", "/api/v1/auth/register", map[string]string{"email": email, "password": "s3cret-pass", "name": "C"}, "")
	c.e.Do("POST", "/api/v1/auth/verify", map[string]string{"token": c.e.WaitToken(email, "verify_email")}, "")
	return c.e.Do("POST", "/api/v1/auth/login", map[string]string{"email": email, "password": "s3cret-pass"}, "").Str("access_token"), r.Str("id")
}

// order places an order of qty of product for the customer.
func (c *console) order(tok, product string, qty int) map[string]any {
	c.t.Helper()
	c.want(c.e.Do("POST", "/api/v1/cart/items", map[string]any{"product_id": product, "quantity": qty}, tok), 200)
	sid := c.want(c.e.Do("POST", "/api/v1/checkout", map[string]any{"address": map[string]any{"line1": "1 St", "city": "T", "postal_code": "10001", "country": "US"},
		"courier": "standard", "payment_gateway": "test"}, tok), 201).Str("checkout_session_id")
	return c.want(c.e.Do("POST", "/api/v1/orders", map[string]any{"checkout_session_id": sid}, tok), 201).JSON()
}

func (c *console) want(r servertest.Response, status int) servertest.Response {
	c.t.Helper()
	if r.Status != status {
		c.t.Fatalf("status %d, want %d: %s", r.Status, status, r.Body)
	}
	return r
}

func (c *console) problem(r servertest.Response, status int, code string) {
	c.t.Helper()
	if r.Status != status || (code != "" && r.Str("code") != code) {
		c.t.Fatalf("got %d %s, want %d %s", r.Status, r.Body, status, code)
	}
}

// eventually waits until ok holds, checking it on every tick of a short
// ticker, and fails the test when the deadline passes first.
func (c *console) eventually(what string, ok func() bool) {
	c.t.Helper()
	deadline := time.NewTimer(20 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !ok() {
		select {
		case <-deadline.C:
			c.t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}

func items(r servertest.Response) []map[string]any {
	var out []map[string]any
	for _, it := range r.JSON()["items"].([]any) {
		out = append(out, it.(map[string]any))
	}
	return out
}

func ids(r servertest.Response) map[string]bool {
	out := map[string]bool{}
	for _, it := range items(r) {
		out[it["id"].(string)] = true
	}
	return out
}

// The admin console's queries: dashboard summary, order filters, detail,
// timeline and cancel, payment filters, the fulfillment queue and ship
// with a tracking number; customers get 403 everywhere.
func TestAdminConsole(t *testing.T) {
	e := servertest.Start(t, func(c *config.Config) { c.AdminEmail, c.AdminPassword = "a@shop.test", "admin-password" })
	c := &console{t: t, e: e}
	c.admin = e.Do("POST", "/api/v1/auth/login", map[string]string{"email": "a@shop.test", "password": "admin-password"}, "").Str("access_token")
	scarce := c.want(e.Do("POST", "/api/v1/admin/products", map[string]any{"sku": "SCARCE", "name": "Scarce", "category": "c", "price": 1000, "currency": "USD",
		"weight_grams": 100, "initial_stock": 3}, c.admin), 201).Str("id")
	plenty := c.want(e.Do("POST", "/api/v1/admin/products", map[string]any{"sku": "PLENTY", "name": "Plenty", "category": "c", "price": 500, "currency": "USD",
		"weight_grams": 100, "initial_stock": 50}, c.admin), 201).Str("id")
	ann, annID := c.customer("ann@shop.test")
	bob, bobID := c.customer("bob@shop.test")

	paid := c.order(ann, scarce, 1)
	paidID := paid["id"].(string)
	c.want(e.Do("POST", "/api/v1/payments/test/confirm", map[string]any{"intent_id": paid["payment"].(map[string]any)["intent_id"], "card_number": "4242424242424242"}, ann), 200)
	pending := c.order(ann, plenty, 2)
	pendingID := pending["id"].(string)
	declined := c.order(bob, plenty, 1)
	declinedID := declined["id"].(string)
	if r := e.Do("POST", "/api/v1/payments/test/confirm", map[string]any{"intent_id": declined["payment"].(map[string]any)["intent_id"], "card_number": "4000000000000002"}, bob); r.Status == 200 {
		t.Fatalf("declined card paid: %s", r.Body)
	}
	c.eventually("the order paid", func() bool {
		s := e.Do("GET", "/api/v1/orders/"+paidID, nil, ann).Str("status")
		return s == "paid" || s == "fulfilling"
	})
	if _, err := e.DB.ExecContext(context.Background(), `INSERT INTO events.dead_letters (consumer, topic, event_id, payload, error, attempts)
		VALUES ('test', 'test.topic', 'evt-dead', '{}', 'boom', 5)`); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DB.ExecContext(context.Background(), `INSERT INTO events.dead_letters (consumer, topic, event_id, payload, error, attempts, retried_at)
		VALUES ('test', 'test.topic', 'evt-retried', '{}', 'boom', 5, now())`); err != nil {
		t.Fatal(err)
	}

	// The summary.
	var sum map[string]any
	c.eventually("the scarce product committed", func() bool {
		sum = c.want(e.Do("GET", "/api/v1/admin/summary", nil, c.admin), 200).JSON()
		low := sum["low_stock"].([]any)
		return len(low) == 1 && low[0].(map[string]any)["available"].(float64) == 2
	})
	today := sum["today"].(map[string]any)
	byStatus := today["orders_by_status"].(map[string]any)
	if today["orders"].(float64) != 3 || byStatus["pending_payment"].(float64) != 2 || byStatus["paid"].(float64)+byStatus["fulfilling"].(float64) != 1 ||
		byStatus["canceled"].(float64) != 0 {
		t.Fatalf("today: %v", today)
	}
	rev := today["revenue"].([]any)
	if len(rev) != 1 || rev[0].(map[string]any)["currency"] != "USD" || rev[0].(map[string]any)["amount"].(float64) != paid["total"].(float64) {
		t.Fatalf("revenue: %v (order total %v)", rev, paid["total"])
	}
	if week := sum["last_7_days"].(map[string]any); week["orders"].(float64) != 3 || len(week["revenue"].([]any)) != 1 {
		t.Fatalf("last 7 days: %v", week)
	}
	if low := sum["low_stock"].([]any)[0].(map[string]any); low["product_id"] != scarce || low["sku"] != "SCARCE" || low["name"] != "Scarce" {
		t.Fatalf("low stock: %v", low)
	}
	review := sum["payments_needing_review"].(map[string]any)
	if review["failed"].(float64) != 1 || review["amount_mismatch"].(float64) != 0 || len(review["items"].([]any)) != 1 ||
		review["items"].([]any)[0].(map[string]any)["order_id"] != declinedID {
		t.Fatalf("review: %v", review)
	}
	if sum["dead_letters"].(float64) != 1 {
		t.Fatalf("dead letters: %v", sum["dead_letters"])
	}
	if low := c.want(e.Do("GET", "/api/v1/admin/summary?low_stock=100", nil, c.admin), 200).JSON()["low_stock"].([]any); len(low) != 2 ||
		low[0].(map[string]any)["product_id"] != scarce {
		t.Fatalf("low stock at 100: %v", low)
	}
	for _, bad := range []string{"-1", "x", "1000001"} {
		c.problem(e.Do("GET", "/api/v1/admin/summary?low_stock="+bad, nil, c.admin), 422, "validation_failed")
	}

	// Order filters.
	list := func(q string) servertest.Response {
		return c.want(e.Do("GET", "/api/v1/admin/orders?"+q, nil, c.admin), 200)
	}
	if got := ids(list("status=pending_payment")); len(got) != 2 || !got[pendingID] || !got[declinedID] {
		t.Fatalf("by status: %v", got)
	}
	if got := ids(list("user_id=" + bobID)); len(got) != 1 || !got[declinedID] {
		t.Fatalf("by user: %v", got)
	}
	if got := ids(list("user_id=" + annID + "&status=pending_payment")); len(got) != 1 || !got[pendingID] {
		t.Fatalf("by user and status: %v", got)
	}
	hour := url.QueryEscape(time.Now().UTC().Add(-time.Hour).Format(time.RFC3339))
	later := url.QueryEscape(time.Now().UTC().Add(time.Hour).Format(time.RFC3339))
	if got := ids(list("from=" + hour + "&to=" + later)); len(got) != 3 {
		t.Fatalf("by date: %v", got)
	}
	if got := ids(list("from=" + later)); len(got) != 0 {
		t.Fatalf("from the future: %v", got)
	}
	if got := ids(list("q=" + strings.ToUpper(pendingID[:23]))); len(got) != 1 || !got[pendingID] {
		t.Fatalf("by id prefix: %v", got)
	}
	first := list("limit=2")
	next, _ := first.JSON()["next_cursor"].(string)
	if len(items(first)) != 2 || next == "" {
		t.Fatalf("page 1: %s", first.Body)
	}
	if second := list("limit=2&cursor=" + next); len(items(second)) != 1 || ids(first)[items(second)[0]["id"].(string)] {
		t.Fatalf("page 2: %s", second.Body)
	}
	for _, bad := range []string{"status=nope", "from=yesterday", "to=2026-13-01T00:00:00Z", "user_id=42", "q=xyz", "q=" + strings.Repeat("a", 33),
		"from=" + later + "&to=" + hour} {
		c.problem(e.Do("GET", "/api/v1/admin/orders?"+bad, nil, c.admin), 422, "validation_failed")
	}

	// Detail, timeline, cancel.
	if o := c.want(e.Do("GET", "/api/v1/admin/orders/"+declinedID, nil, c.admin), 200).JSON(); o["user_id"] != bobID || o["id"] != declinedID {
		t.Fatalf("detail: %v", o)
	}
	c.problem(e.Do("GET", "/api/v1/admin/orders/0190f5a8-7a3e-7c61-9a52-0c0d5a4f0c11", nil, c.admin), 404, "not_found")
	c.problem(e.Do("GET", "/api/v1/admin/orders/nope", nil, c.admin), 404, "not_found")
	var types []string
	for _, it := range items(c.want(e.Do("GET", "/api/v1/admin/orders/"+paidID+"/events", nil, c.admin), 200)) {
		types = append(types, it["type"].(string))
	}
	if !strings.HasPrefix(strings.Join(types, ","), "stock_reserved,checkout_consumed,payment_intent_created,placed,paid") {
		t.Fatalf("timeline: %v", types)
	}
	if o := c.want(e.Do("POST", "/api/v1/admin/orders/"+pendingID+"/cancel", nil, c.admin), 200).JSON(); o["status"] != "canceled" {
		t.Fatalf("cancel: %v", o)
	}
	c.problem(e.Do("POST", "/api/v1/admin/orders/"+pendingID+"/cancel", nil, c.admin), 409, "order_not_cancelable")
	c.problem(e.Do("POST", "/api/v1/admin/orders/"+paidID+"/cancel", nil, c.admin), 409, "order_not_cancelable")
	c.problem(e.Do("POST", "/api/v1/admin/orders/0190f5a8-7a3e-7c61-9a52-0c0d5a4f0c11/cancel", nil, c.admin), 404, "not_found")
	c.eventually("stock released", func() bool {
		st := e.Do("GET", "/api/v1/products/"+plenty, nil, "").JSON()["stock"].(map[string]any)
		return st["reserved"].(float64) == 1 && st["on_hand"].(float64) == 50
	})
	last := items(c.want(e.Do("GET", "/api/v1/admin/orders/"+pendingID+"/events", nil, c.admin), 200))
	if l := last[len(last)-1]; l["type"] != "canceled" || l["detail"].(map[string]any)["by"] != "admin" {
		t.Fatalf("cancel entry: %v", l)
	}

	// Payments by status and order, paged.
	if got := items(c.want(e.Do("GET", "/api/v1/admin/payments?status=failed", nil, c.admin), 200)); len(got) != 1 || got[0]["order_id"] != declinedID {
		t.Fatalf("failed payments: %v", got)
	}
	if got := items(c.want(e.Do("GET", "/api/v1/admin/payments?order_id="+paidID, nil, c.admin), 200)); len(got) != 1 || got[0]["status"] != "succeeded" {
		t.Fatalf("payment of order: %v", got)
	}
	p1 := c.want(e.Do("GET", "/api/v1/admin/payments?limit=2", nil, c.admin), 200)
	cur, _ := p1.JSON()["next_cursor"].(string)
	if p2 := c.want(e.Do("GET", "/api/v1/admin/payments?limit=2&cursor="+cur, nil, c.admin), 200); cur == "" || len(items(p2)) != 1 || ids(p1)[items(p2)[0]["id"].(string)] {
		t.Fatalf("payment pages: %s then %s", p1.Body, p2.Body)
	}
	c.problem(e.Do("GET", "/api/v1/admin/payments?status=nope", nil, c.admin), 422, "validation_failed")
	c.problem(e.Do("GET", "/api/v1/admin/payments?order_id=nope", nil, c.admin), 422, "validation_failed")
	c.problem(e.Do("GET", "/api/v1/admin/payments?cursor=nope", nil, c.admin), 400, "invalid_cursor")

	// The fulfillment queue, ship with a tracking number, deliver.
	var f map[string]any
	c.eventually("the fulfillment in progress", func() bool {
		q := items(c.want(e.Do("GET", "/api/v1/admin/fulfillments?status=in_progress", nil, c.admin), 200))
		if len(q) == 1 {
			f = q[0]
		}
		return f != nil
	})
	if f["order_id"] != paidID || f["courier"] != "standard" || f["created_at"] == nil || f["updated_at"] == nil || f["eta"] == nil {
		t.Fatalf("queue item: %v", f)
	}
	fid := f["id"].(string)
	if all := items(c.want(e.Do("GET", "/api/v1/admin/fulfillments", nil, c.admin), 200)); len(all) != 1 {
		t.Fatalf("queue: %v", all)
	}
	if none := items(c.want(e.Do("GET", "/api/v1/admin/fulfillments?status=pending", nil, c.admin), 200)); len(none) != 0 {
		t.Fatalf("pending queue: %v", none)
	}
	c.problem(e.Do("GET", "/api/v1/admin/fulfillments?status=lost", nil, c.admin), 422, "validation_failed")
	if g := c.want(e.Do("GET", "/api/v1/admin/fulfillments/"+fid, nil, c.admin), 200).JSON(); g["id"] != fid || g["status"] != "in_progress" {
		t.Fatalf("fulfillment: %v", g)
	}
	c.problem(e.Do("GET", "/api/v1/admin/fulfillments/0190f5a8-7a3e-7c61-9a52-0c0d5a4f0c11", nil, c.admin), 404, "not_found")
	c.problem(e.Do("POST", "/api/v1/admin/fulfillments/"+fid+"/ship", map[string]any{"tracking_id": strings.Repeat("x", 101)}, c.admin), 422, "validation_failed")
	c.problem(e.Do("POST", "/api/v1/admin/fulfillments/"+fid+"/ship", map[string]any{"tracking": "x"}, c.admin), 422, "validation_failed")
	if g := c.want(e.Do("GET", "/api/v1/admin/fulfillments/"+fid, nil, c.admin), 200).JSON(); g["status"] != "in_progress" {
		t.Fatalf("a refused ship changed the fulfillment: %v", g)
	}
	if s := c.want(e.Do("POST", "/api/v1/admin/fulfillments/"+fid+"/ship", map[string]any{"tracking_id": "1Z999AA10123456784"}, c.admin), 200).JSON(); s["status"] != "shipped" || s["tracking_id"] != "1Z999AA10123456784" {
		t.Fatalf("ship: %v", s)
	}
	c.want(e.Do("POST", "/api/v1/admin/fulfillments/"+fid+"/deliver", nil, c.admin), 200)
	if s := c.want(e.Do("GET", "/api/v1/orders/"+paidID+"/fulfillment", nil, ann), 200).JSON(); s["status"] != "delivered" || s["tracking_id"] != "1Z999AA10123456784" {
		t.Fatalf("customer's view: %v", s)
	}
	c.eventually("the order delivered", func() bool { return e.Do("GET", "/api/v1/orders/"+paidID, nil, ann).Str("status") == "delivered" })

	// Customers are refused every admin route.
	for _, r := range []struct{ method, path string }{{"GET", "/api/v1/admin/summary"}, {"GET", "/api/v1/admin/orders?status=paid"},
		{"GET", "/api/v1/admin/orders/" + paidID}, {"GET", "/api/v1/admin/orders/" + paidID + "/events"}, {"POST", "/api/v1/admin/orders/" + declinedID + "/cancel"},
		{"GET", "/api/v1/admin/payments?status=failed"}, {"GET", "/api/v1/admin/fulfillments"}, {"GET", "/api/v1/admin/fulfillments/" + fid}} {
		c.problem(e.Do(r.method, r.path, nil, ann), 403, "")
	}
	if s := e.Do("GET", "/api/v1/orders/"+declinedID, nil, bob).Str("status"); s != "pending_payment" {
		t.Fatalf("a customer's refused cancel changed the order: %s", s)
	}

	// The review summary is the same in-process and over gRPC.
	// (Reached through the capabilities: ordering's tests import payments
	// only through paymentsapi, like ordering.)
	pay := e.Server.Hosted("payments")
	conn := grpctest.Serve(t, pay.(module.GRPCServer).RegisterGRPC)
	for name, api := range map[string]paymentsapi.Payments{"in-process": pay.(interface{ API() paymentsapi.Payments }).API(), "grpc": paymentsgrpc.New(conn)} {
		r, err := api.ReviewSummary(context.Background(), 5)
		if err != nil || r.Failed != 1 || len(r.Items) != 1 || r.Items[0].OrderID != declinedID || r.Items[0].Status != "failed" || r.Items[0].UpdatedAt.IsZero() ||
			r.Items[0].Currency != "USD" {
			t.Fatalf("%s: %+v %v", name, r, err)
		}
		if _, err := api.ReviewSummary(context.Background(), 0); err == nil {
			t.Fatalf("%s: limit 0 accepted", name)
		}
	}
}
