package acceptance

import (
	"testing"
	"time"
)

const (
	gqlCreateProduct = `mutation($in: ProductInput!, $stock: Int) { createProduct(input: $in, initialStock: $stock) {
  id sku name price { amount currency } version status stock { onHand reserved available } } }`
	gqlUpdateProduct = `mutation($id: ID!, $v: Int!, $in: ProductInput!) { updateProduct(id: $id, version: $v, input: $in) {
  id name price { amount currency } version } }`
	gqlAdjustStock = `mutation($id: ID!, $d: Int!, $r: String!) { adjustStock(productId: $id, delta: $d, reason: $r) { id stock { onHand reserved available } } }`
	gqlRefundOrder = `mutation($id: ID!, $amount: MoneyInput!, $r: String!, $k: String) { refundOrder(orderId: $id, amount: $amount, reason: $r, idempotencyKey: $k) {
  id status refunded { amount currency } } }`
	gqlShipOrder = `mutation($id: ID!, $t: String) { shipOrder(orderId: $id, trackingId: $t) { id status trackingId } }`
)

// gqlProduct reads a product through the graph, anonymously.
func gqlProduct(t *testing.T, base, id string) map[string]any {
	t.Helper()
	p, _ := dig(gqlOK(t, base, "", `query($id: ID!) { product(id: $id) { id sku name price { amount currency } version stock { onHand reserved available } } }`,
		map[string]any{"id": id}), "product").(map[string]any)
	if p == nil {
		t.Fatalf("product %s not found", id)
	}
	return p
}

// gqlAuditSeen reports whether the audit log holds an entry of the
// bootstrap admin for a GraphQL mutation with this status.
func gqlAuditSeen(t *testing.T, s *shop, mutation string, status int) bool {
	t.Helper()
	items := expect(t, call(t, s.u, "GET", "/api/v1/admin/audit?actor=ord-admin@shop.test&limit=100", nil, s.admin), 200, "audit").JSON()["items"].([]any)
	for _, it := range items {
		e := it.(map[string]any)
		if e["method"] == "POST" && e["route"] == "/graphql mutation "+mutation && e["status"] == float64(status) {
			return true
		}
	}
	return false
}

// Administrators create and update products and adjust stock through the
// graph with REST's rules: optimistic concurrency (a stale version is
// version_conflict and changes nothing), validation, stock never below
// reserved, and the audit log; customers get forbidden and anonymous
// callers unauthenticated, and nothing changes.
func TestGraphQLAdminProductMutations(t *testing.T) {
	s := newShop(t, nil)
	customer := customerToken(t, s.u, s.smtp, "gql-admin-customer@shop.test")
	in := map[string]any{"sku": "GQL-ADM-1", "name": "Graph Lamp", "category": "lighting", "brand": "Acme", "description": "A lamp",
		"attributes": `{"color":"red"}`, "price": map[string]any{"amount": 4200, "currency": "USD"}, "weightGrams": 800}

	// Refused callers change nothing.
	if r := gqlDo(t, s.u, customer, gqlCreateProduct, map[string]any{"in": in, "stock": 3}); r.Status != 200 || r.code() != "forbidden" || dig(r.Data, "createProduct") != nil {
		t.Fatalf("customer createProduct: %d %s", r.Status, r.Raw)
	}
	if r := gqlDo(t, s.u, "", gqlCreateProduct, map[string]any{"in": in}); r.code() != "unauthenticated" {
		t.Fatalf("anonymous createProduct: %s", r.Raw)
	}
	// Bad input: REST's validation, nothing created.
	bad := map[string]any{}
	for k, v := range in {
		bad[k] = v
	}
	bad["price"] = map[string]any{"amount": -1, "currency": "USD"}
	if r := gqlDo(t, s.u, s.admin, gqlCreateProduct, map[string]any{"in": bad}); r.code() != "validation_failed" {
		t.Fatalf("negative price: %s", r.Raw)
	}
	bad["price"], bad["attributes"] = in["price"], "[1, 2]"
	if r := gqlDo(t, s.u, s.admin, gqlCreateProduct, map[string]any{"in": bad}); r.code() != "validation_failed" {
		t.Fatalf("attributes not an object: %s", r.Raw)
	}
	if items, _ := dig(gqlOK(t, s.u, "", `{ products { items { id } } }`, nil), "products", "items").([]any); len(items) != 0 {
		t.Fatalf("a refused or invalid create left products: %v", items)
	}

	// Create: version 1, with its initial stock.
	d := gqlOK(t, s.u, s.admin, gqlCreateProduct, map[string]any{"in": in, "stock": 3})
	p, _ := d["createProduct"].(map[string]any)
	id, _ := p["id"].(string)
	if id == "" || p["version"] != 1.0 || p["status"] != "ACTIVE" || dig(p, "price", "amount") != 4200.0 || dig(p, "price", "currency") != "USD" ||
		dig(p, "stock", "onHand") != 3.0 || dig(p, "stock", "available") != 3.0 {
		t.Fatalf("createProduct: %v", d)
	}
	if rest := expect(t, call(t, s.u, "GET", "/api/v1/products/"+id, nil, ""), 200, "product").JSON(); rest["sku"] != "GQL-ADM-1" ||
		dig(rest, "attributes", "color") != "red" || rest["weight_grams"] != 800.0 {
		t.Fatalf("created product over REST: %v", rest)
	}
	if r := gqlDo(t, s.u, s.admin, gqlCreateProduct, map[string]any{"in": in}); r.code() != "sku_taken" {
		t.Fatalf("duplicate SKU: %s", r.Raw)
	}

	// Update with the version read: version 2.
	upd := map[string]any{}
	for k, v := range in {
		upd[k] = v
	}
	upd["name"], upd["price"] = "Graph Lamp II", map[string]any{"amount": 4500, "currency": "USD"}
	d = gqlOK(t, s.u, s.admin, gqlUpdateProduct, map[string]any{"id": id, "v": 1, "in": upd})
	if dig(d, "updateProduct", "version") != 2.0 || dig(d, "updateProduct", "name") != "Graph Lamp II" || dig(d, "updateProduct", "price", "amount") != 4500.0 {
		t.Fatalf("updateProduct: %v", d)
	}
	// A stale version is REST's version_conflict, and the product is unchanged.
	stale := map[string]any{}
	for k, v := range upd {
		stale[k] = v
	}
	stale["name"] = "Stale Lamp"
	if r := gqlDo(t, s.u, s.admin, gqlUpdateProduct, map[string]any{"id": id, "v": 1, "in": stale}); r.code() != "version_conflict" || r.Errors[0].Extensions["status"] != 409.0 {
		t.Fatalf("stale version: %s", r.Raw)
	}
	if r := gqlDo(t, s.u, customer, gqlUpdateProduct, map[string]any{"id": id, "v": 2, "in": stale}); r.code() != "forbidden" {
		t.Fatalf("customer updateProduct: %s", r.Raw)
	}
	if r := gqlDo(t, s.u, s.admin, gqlUpdateProduct, map[string]any{"id": "00000000-0000-7000-8000-000000000000", "v": 1, "in": stale}); r.code() != "not_found" {
		t.Fatalf("update unknown product: %s", r.Raw)
	}
	if got := gqlProduct(t, s.u, id); got["name"] != "Graph Lamp II" || got["version"] != 2.0 || dig(got, "price", "amount") != 4500.0 {
		t.Fatalf("product after refused updates: %v", got)
	}

	// Stock: adjust by a delta; never below reserved; customers refused.
	d = gqlOK(t, s.u, s.admin, gqlAdjustStock, map[string]any{"id": id, "d": 7, "r": "restock"})
	if dig(d, "adjustStock", "stock", "onHand") != 10.0 || dig(d, "adjustStock", "stock", "available") != 10.0 {
		t.Fatalf("adjustStock: %v", d)
	}
	if r := gqlDo(t, s.u, s.admin, gqlAdjustStock, map[string]any{"id": id, "d": -11, "r": "shrinkage"}); r.code() != "stock_below_reserved" {
		t.Fatalf("below zero: %s", r.Raw)
	}
	if r := gqlDo(t, s.u, s.admin, gqlAdjustStock, map[string]any{"id": id, "d": 0, "r": "nothing"}); r.code() != "validation_failed" {
		t.Fatalf("zero delta: %s", r.Raw)
	}
	if r := gqlDo(t, s.u, customer, gqlAdjustStock, map[string]any{"id": id, "d": 100, "r": "free stock"}); r.code() != "forbidden" {
		t.Fatalf("customer adjustStock: %s", r.Raw)
	}
	if onHand, reserved := s.stock(id); onHand != 10 || reserved != 0 {
		t.Fatalf("stock after refused adjustments: %d/%d", onHand, reserved)
	}

	// The audit log records the administrator's mutations, refused ones
	// with REST's status, as it records REST's admin routes.
	for _, c := range []struct {
		mutation string
		status   int
	}{{"createProduct", 200}, {"createProduct", 422}, {"updateProduct", 200}, {"updateProduct", 409}, {"adjustStock", 200}, {"adjustStock", 409}} {
		if !gqlAuditSeen(t, s, c.mutation, c.status) {
			t.Errorf("audit log: no %s with status %d", c.mutation, c.status)
		}
	}
}

// Administrators refund a paid order and ship it through the graph, with
// REST's rules and codes; a customer (even the order's owner) is refused
// with forbidden and nothing changes.
func TestGraphQLAdminRefundAndShip(t *testing.T) {
	s := newShop(t, nil)
	tok := customerToken(t, s.u, s.smtp, "gql-refund@shop.test")
	pid := s.product("GQL-REFUND-1", 3000, 5)
	order := expect(t, s.order(tok, s.checkout(tok, pid, 2)), 201, "order")
	id := order.Str("id")
	total := order.JSON()["total"].(float64)

	// Not paid yet: REST's codes.
	refund := func(token string, amount float64, currency, key string) gqlResult {
		vars := map[string]any{"id": id, "amount": map[string]any{"amount": amount, "currency": currency}, "r": "damaged"}
		if key != "" {
			vars["k"] = key
		}
		return gqlDo(t, s.u, token, gqlRefundOrder, vars)
	}
	if r := refund(s.admin, 1000, "USD", ""); r.code() != "order_not_refundable" {
		t.Fatalf("refund unpaid order: %s", r.Raw)
	}
	if r := gqlDo(t, s.u, s.admin, gqlShipOrder, map[string]any{"id": id}); r.code() != "not_found" {
		t.Fatalf("ship unpaid order: %s", r.Raw)
	}

	expect(t, s.webhook("evt_gql_admin_paid", "payment_intent.succeeded", order.JSON()["payment"].(map[string]any)["intent_id"].(string), int64(total), time.Now().Unix()), 200, "webhook")
	s.waitStatus(tok, id, "fulfilling")
	deadline := time.Now().Add(20 * time.Second)
	for dig(gqlOK(t, s.u, tok, `query($id: ID!) { order(id: $id) { fulfillment { status } } }`, map[string]any{"id": id}), "order", "fulfillment", "status") != "IN_PROGRESS" {
		if time.Now().After(deadline) {
			t.Fatal("fulfillment not in progress")
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The owner is a customer: refused, nothing changes.
	if r := refund(tok, 1000, "USD", ""); r.Status != 200 || r.code() != "forbidden" || dig(r.Data, "refundOrder") != nil {
		t.Fatalf("customer refundOrder: %d %s", r.Status, r.Raw)
	}
	if r := gqlDo(t, s.u, tok, gqlShipOrder, map[string]any{"id": id, "t": "TRK-CUSTOMER"}); r.code() != "forbidden" || dig(r.Data, "shipOrder") != nil {
		t.Fatalf("customer shipOrder: %s", r.Raw)
	}
	if r := refund("", 1000, "USD", ""); r.code() != "unauthenticated" {
		t.Fatalf("anonymous refundOrder: %s", r.Raw)
	}
	if r := gqlDo(t, s.u, "", gqlShipOrder, map[string]any{"id": id}); r.code() != "unauthenticated" {
		t.Fatalf("anonymous shipOrder: %s", r.Raw)
	}
	o := dig(gqlOK(t, s.u, tok, `query($id: ID!) { order(id: $id) { status refunded { amount } fulfillment { status trackingId } } }`, map[string]any{"id": id}), "order")
	if dig(o, "refunded", "amount") != 0.0 || dig(o, "fulfillment", "status") != "IN_PROGRESS" || dig(o, "status") != "FULFILLING" {
		t.Fatalf("order after refused mutations: %v", o)
	}

	// Ship: the tracking id given replaces the carrier's; the order follows.
	d := gqlOK(t, s.u, s.admin, gqlShipOrder, map[string]any{"id": id, "t": "TRK-GQL-1"})
	if dig(d, "shipOrder", "status") != "SHIPPED" || dig(d, "shipOrder", "trackingId") != "TRK-GQL-1" {
		t.Fatalf("shipOrder: %v", d)
	}
	if r := gqlDo(t, s.u, s.admin, gqlShipOrder, map[string]any{"id": id}); r.code() != "invalid_transition" {
		t.Fatalf("ship twice: %s", r.Raw)
	}
	s.waitStatus(tok, id, "shipped")

	// Refund: validation, a partial refund replayed by its key, the cap.
	if r := refund(s.admin, 1000, "EUR", ""); r.code() != "validation_failed" {
		t.Fatalf("refund in another currency: %s", r.Raw)
	}
	if r := refund(s.admin, 0, "USD", ""); r.code() != "validation_failed" {
		t.Fatalf("refund of 0: %s", r.Raw)
	}
	d = gqlOK(t, s.u, s.admin, gqlRefundOrder, map[string]any{"id": id, "amount": map[string]any{"amount": 1000, "currency": "USD"}, "r": "damaged", "k": "gql-refund-1"})
	if dig(d, "refundOrder", "refunded", "amount") != 1000.0 || dig(d, "refundOrder", "refunded", "currency") != "USD" {
		t.Fatalf("refundOrder: %v", d)
	}
	again := gqlOK(t, s.u, s.admin, gqlRefundOrder, map[string]any{"id": id, "amount": map[string]any{"amount": 1000, "currency": "USD"}, "r": "damaged", "k": "gql-refund-1"})
	if dig(again, "refundOrder", "refunded", "amount") != 1000.0 {
		t.Fatalf("replayed refund refunded again: %v", again)
	}
	if r := refund(s.admin, 2000, "USD", "gql-refund-1"); r.code() != "idempotency_conflict" {
		t.Fatalf("same key, other amount: %s", r.Raw)
	}
	if r := refund(s.admin, total, "USD", ""); r.code() != "refund_exceeds_captured" {
		t.Fatalf("refund above the captured amount: %s", r.Raw)
	}
	pay := s.paymentOf(id)
	if got := dig(gqlOK(t, s.u, tok, `query($id: ID!) { order(id: $id) { refunded { amount } } }`, map[string]any{"id": id}), "order", "refunded", "amount"); got != 1000.0 {
		t.Fatalf("refunded after the refused refunds: %v (payment %v)", got, pay)
	}
	for _, c := range []struct {
		mutation string
		status   int
	}{{"shipOrder", 200}, {"shipOrder", 409}, {"refundOrder", 200}, {"refundOrder", 422}} {
		if !gqlAuditSeen(t, s, c.mutation, c.status) {
			t.Errorf("audit log: no %s with status %d", c.mutation, c.status)
		}
	}
}
