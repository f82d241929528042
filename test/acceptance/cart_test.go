package acceptance

import (
	"strings"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/platform/mail/mailtest"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

func TestCartPromotionsQuotesAndCheckoutOverHTTP(t *testing.T) {
	smtp := mailtest.Start(t, mailtest.Plain, "", "")
	p, _ := start(t, map[string]string{
		"DATABASE_URL": pgtest.NewDatabase(t), "REDIS_URL": redisURL(t), "DATA_DIR": t.TempDir(),
		"SMTP_URL": "smtp://" + smtp.Addr + "?tls=none", "BOOTSTRAP_ADMIN_EMAIL": "cart-admin@shop.test", "BOOTSTRAP_ADMIN_PASSWORD": "admin-password",
		"CHECKOUT_SESSION_TTL": "3s",
	})
	u := p.URL
	admin := expect(t, call(t, u, "POST", "/api/v1/auth/login", map[string]string{"email": "cart-admin@shop.test", "password": "admin-password"}, ""), 200, "admin login").Str("access_token")
	ann := customerToken(t, u, smtp, "ann-cart@shop.test")
	bob := customerToken(t, u, smtp, "bob-cart@shop.test")

	mk := func(sku string, price int, currency string, weight, stock int) string {
		return expect(t, call(t, u, "POST", "/api/v1/admin/products", map[string]any{"sku": sku, "name": sku, "category": "c", "price": price,
			"currency": currency, "weight_grams": weight, "initial_stock": stock}, admin), 201, "product "+sku).Str("id")
	}
	mug := mk("MUG", 1250, "USD", 400, 50)
	lamp := mk("LAMP", 4999, "USD", 2500, 2)
	euro := mk("EURO", 1000, "EUR", 100, 5)

	// Cart: add merges, update, remove, currency, limits.
	expectProblem(t, call(t, u, "GET", "/api/v1/cart", nil, ""), 401, "", "anonymous cart")
	c := expect(t, call(t, u, "POST", "/api/v1/cart/items", map[string]any{"product_id": mug, "quantity": 2}, ann), 200, "add")
	c = expect(t, call(t, u, "POST", "/api/v1/cart/items", map[string]any{"product_id": mug, "quantity": 1}, ann), 200, "add again")
	items := c.JSON()["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["quantity"].(float64) != 3 || c.JSON()["subtotal"].(float64) != 3750 {
		t.Fatalf("merge: %s", c.Body)
	}
	expectProblem(t, call(t, u, "POST", "/api/v1/cart/items", map[string]any{"product_id": euro, "quantity": 1}, ann), 422, "currency_mismatch", "mixed currency")
	expectProblem(t, call(t, u, "POST", "/api/v1/cart/items", map[string]any{"product_id": mug, "quantity": 100}, ann), 422, "validation_failed", "quantity 100")
	expectProblem(t, call(t, u, "POST", "/api/v1/cart/items", map[string]any{"product_id": mug, "quantity": -1}, ann), 422, "validation_failed", "negative quantity")
	expectProblem(t, call(t, u, "POST", "/api/v1/cart/items", map[string]any{"product_id": "00000000-0000-7000-8000-000000000000", "quantity": 1}, ann), 422, "", "unknown product")
	expect(t, call(t, u, "POST", "/api/v1/cart/items", map[string]any{"product_id": lamp, "quantity": 1}, ann), 200, "add lamp")
	c = expect(t, call(t, u, "PATCH", "/api/v1/cart/items/"+lamp, map[string]any{"quantity": 3}, ann), 200, "set quantity")
	var lampLine map[string]any
	for _, it := range c.JSON()["items"].([]any) {
		if it.(map[string]any)["product_id"] == lamp {
			lampLine = it.(map[string]any)
		}
	}
	if flags := lampLine["flags"].([]any); len(flags) != 1 || flags[0] != "insufficient_stock" {
		t.Fatalf("short stock flag: %v", lampLine)
	}
	expect(t, call(t, u, "PATCH", "/api/v1/cart/items/"+lamp, map[string]any{"quantity": 0}, ann), 200, "quantity 0 removes")
	expect(t, call(t, u, "POST", "/api/v1/cart/items", map[string]any{"product_id": lamp, "quantity": 1}, ann), 200, "add lamp")
	expect(t, call(t, u, "DELETE", "/api/v1/cart/items/"+lamp, nil, ann), 200, "remove")
	expectProblem(t, call(t, u, "DELETE", "/api/v1/cart/items/"+lamp, nil, ann), 404, "not_found", "remove twice")
	if bobCart := expect(t, call(t, u, "GET", "/api/v1/cart", nil, bob), 200, "bob's cart"); len(bobCart.JSON()["items"].([]any)) != 0 {
		t.Fatalf("carts leak between users: %s", bobCart.Body)
	}

	// Promotions: each refusal code, then one that applies.
	future := time.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	long := time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)
	promo := func(body map[string]any) {
		expect(t, call(t, u, "POST", "/api/v1/admin/promotions", body, admin), 201, "promotion "+body["code"].(string))
	}
	expectProblem(t, call(t, u, "POST", "/api/v1/admin/promotions", map[string]any{"code": "NOPE", "kind": "percent", "value": 10}, ann), 403, "", "customer creates promo")
	promo(map[string]any{"code": "SAVE10", "kind": "percent", "value": 10})
	promo(map[string]any{"code": "OLD", "kind": "percent", "value": 10, "starts_at": long, "ends_at": past})
	promo(map[string]any{"code": "SOON", "kind": "percent", "value": 10, "starts_at": future})
	promo(map[string]any{"code": "BIG", "kind": "fixed", "value": 500, "currency": "USD", "min_subtotal": 10000})
	promo(map[string]any{"code": "EUROFF", "kind": "fixed", "value": 500, "currency": "EUR"})
	expectProblem(t, call(t, u, "POST", "/api/v1/admin/promotions", map[string]any{"code": "SAVE10", "kind": "percent", "value": 5}, admin), 409, "promo_code_taken", "duplicate code")
	expectProblem(t, call(t, u, "POST", "/api/v1/admin/promotions", map[string]any{"code": "BAD", "kind": "percent", "value": 150}, admin), 422, "validation_failed", "150 percent")
	expectProblem(t, call(t, u, "POST", "/api/v1/admin/promotions", map[string]any{"code": "BAD2", "kind": "bogus", "value": 1}, admin), 422, "validation_failed", "unknown kind")
	for code, want := range map[string]string{"MISSING": "promo_not_found", "OLD": "promo_expired", "SOON": "promo_not_started", "BIG": "promo_min_subtotal", "EUROFF": "promo_currency_mismatch"} {
		expectProblem(t, call(t, u, "POST", "/api/v1/cart/promo", map[string]any{"code": code}, ann), 422, want, "promo "+code)
	}
	c = expect(t, call(t, u, "POST", "/api/v1/cart/promo", map[string]any{"code": "save10"}, ann), 200, "apply SAVE10")
	if c.JSON()["discount"].(float64) != 375 || c.Str("promo_code") != "SAVE10" {
		t.Fatalf("discount: %s", c.Body)
	}

	// Quote.
	q := expect(t, call(t, u, "POST", "/api/v1/shipping/quote", map[string]any{"address": map[string]any{"country": "DE"},
		"items": []map[string]any{{"product_id": mug, "quantity": 3}}, "courier": "standard"}, ""), 200, "quote")
	if q.JSON()["cost"].(float64) != 1079 || q.Str("currency") != "USD" || q.JSON()["eta_days"].(float64) != 6 {
		t.Fatalf("quote: %s", q.Body) // EU, 1200 g: the 1-5 kg band, 899 x 1.2
	}
	expectProblem(t, call(t, u, "POST", "/api/v1/shipping/quote", map[string]any{"address": map[string]any{"country": "DE"},
		"items": []map[string]any{{"product_id": mug, "quantity": 3}}, "courier": "drone"}, ""), 422, "validation_failed", "unknown courier")

	// Checkout: someone else's address is 404; inline address works; totals add up.
	bobAddr := expect(t, call(t, u, "POST", "/api/v1/me/addresses", map[string]any{"line1": "9 Bob St", "city": "Paris", "postal_code": "75001", "country": "FR"}, bob), 201, "bob address").Str("id")
	expectProblem(t, call(t, u, "POST", "/api/v1/checkout", map[string]any{"address_id": bobAddr, "courier": "standard", "payment_gateway": "test"}, ann), 404, "not_found", "someone else's address")
	annAddr := expect(t, call(t, u, "POST", "/api/v1/me/addresses", map[string]any{"line1": "1 Ann St", "city": "Berlin", "postal_code": "10115", "country": "DE"}, ann), 201, "ann address").Str("id")
	expectProblem(t, call(t, u, "POST", "/api/v1/checkout", map[string]any{"address_id": annAddr, "courier": "standard", "payment_gateway": "cash"}, ann), 422, "validation_failed", "unknown gateway")
	expectProblem(t, call(t, u, "POST", "/api/v1/checkout", map[string]any{"courier": "standard", "payment_gateway": "test"}, ann), 422, "validation_failed", "no address")
	expectProblem(t, call(t, u, "POST", "/api/v1/checkout", map[string]any{"address": map[string]any{"line1": "x"}, "courier": "standard", "payment_gateway": "test"}, ann), 422, "validation_failed", "bad inline address")
	sess := expect(t, call(t, u, "POST", "/api/v1/checkout", map[string]any{"address_id": annAddr, "courier": "standard", "payment_gateway": "test"}, ann), 201, "checkout")
	j := sess.JSON()
	if j["subtotal"].(float64) != 3750 || j["discount"].(float64) != 375 || j["shipping_cost"].(float64) != 1079 || j["total"].(float64) != 3750-375+1079 ||
		j["currency"] != "USD" || sess.Str("expires_at") == "" || sess.Str("checkout_session_id") == "" {
		t.Fatalf("checkout: %s", sess.Body)
	}
	id := sess.Str("checkout_session_id")
	expectProblem(t, call(t, u, "GET", "/api/v1/checkout/"+id, nil, bob), 404, "not_found", "someone else's session")
	// Prices are frozen: a price change does not touch the session.
	prod := expect(t, call(t, u, "GET", "/api/v1/products/"+mug, nil, ""), 200, "product").JSON()
	prod["price"], prod["version"] = 9999, prod["version"]
	for _, k := range []string{"id", "stock", "created_at", "updated_at"} {
		delete(prod, k)
	}
	expect(t, call(t, u, "PUT", "/api/v1/admin/products/"+mug, prod, admin), 200, "price change")
	if s := expect(t, call(t, u, "GET", "/api/v1/checkout/"+id, nil, ann), 200, "session"); s.JSON()["total"].(float64) != 3750-375+1079 {
		t.Fatalf("frozen total changed: %s", s.Body)
	}
	// The cart is not emptied by checkout (only when an order is placed).
	if c := expect(t, call(t, u, "GET", "/api/v1/cart", nil, ann), 200, "cart"); len(c.JSON()["items"].([]any)) != 1 {
		t.Fatalf("cart emptied at checkout: %s", c.Body)
	}
	// Expiry (CHECKOUT_SESSION_TTL=3s): polled until the session shows it.
	var expiredSess resp
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if expiredSess = expect(t, call(t, u, "GET", "/api/v1/checkout/"+id, nil, ann), 200, "session"); expiredSess.Str("status") == "expired" || time.Now().After(deadline) {
			break
		}
	}
	if expiredSess.Str("status") != "expired" {
		t.Fatalf("status after TTL: %s", expiredSess.Body)
	}
	expectProblem(t, call(t, u, "POST", "/api/v1/checkout/"+id+"/cancel", nil, ann), 409, "checkout_expired", "cancel expired session")

	// Bad input writes nothing.
	before := expect(t, call(t, u, "GET", "/api/v1/cart", nil, ann), 200, "cart").Body
	for _, b := range []string{`{"product_id":`, `{"product_id":"` + mug + `","quantity":"two"}`, `{"product_id":"` + mug + `","quantity":1,"x":1}`} {
		r := call(t, u, "POST", "/api/v1/cart/items", []byte(b), ann)
		if r.Status < 400 || r.Status >= 500 {
			t.Fatalf("bad body %s: %d", b, r.Status)
		}
	}
	after := expect(t, call(t, u, "GET", "/api/v1/cart", nil, ann), 200, "cart").Body
	if !strings.EqualFold(string(before), string(after)) {
		t.Fatalf("bad input changed the cart:\n%s\n%s", before, after)
	}
	if r := expect(t, call(t, u, "GET", "/api/v1/admin/promotions", nil, admin), 200, "promotions"); len(r.JSON()["items"].([]any)) != 5 {
		t.Fatalf("promotions: %s", r.Body)
	}
}
