package acceptance

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/opencommerce/commerce/internal/platform/mail/mailtest"
	"github.com/opencommerce/commerce/internal/platform/pgtest"
)

// customerToken registers, verifies (through the email) and logs in.
func customerToken(t *testing.T, base string, smtp *mailtest.Server, email string) string {
	t.Helper()
	expect(t, call(t, base, "POST", "/api/v1/auth/register", map[string]string{"email": email, "password": "correct horse", "name": "C"}, ""), 201, "register")
	tok := mailToken(t, smtp.WaitFor(t, email, "Confirm your email", 20*time.Second).Data)
	expect(t, call(t, base, "POST", "/api/v1/auth/verify", map[string]string{"token": tok}, ""), 200, "verify")
	return expect(t, call(t, base, "POST", "/api/v1/auth/login", map[string]string{"email": email, "password": "correct horse"}, ""), 200, "login").Str("access_token")
}

func TestCatalogOverHTTP(t *testing.T) {
	smtp := mailtest.Start(t, mailtest.Plain, "", "")
	p, _ := start(t, map[string]string{
		"DATABASE_URL": pgtest.NewDatabase(t), "REDIS_URL": redisURL(t), "DATA_DIR": t.TempDir(),
		"SMTP_URL": "smtp://" + smtp.Addr + "?tls=none", "BOOTSTRAP_ADMIN_EMAIL": "cat-admin@shop.test", "BOOTSTRAP_ADMIN_PASSWORD": "admin-password",
	})
	u := p.URL
	admin := expect(t, call(t, u, "POST", "/api/v1/auth/login", map[string]string{"email": "cat-admin@shop.test", "password": "admin-password"}, ""), 200, "admin login").Str("access_token")
	customer := customerToken(t, u, smtp, "cat-customer@shop.test")

	body := map[string]any{"sku": "HP-1", "name": "Wireless Headphones", "description": "Over-ear", "category": "audio", "brand": "Acme",
		"attributes": map[string]any{"color": "black"}, "price": 12999, "currency": "USD", "images": []string{"https://img.example/hp.jpg"}, "weight_grams": 350}

	expectProblem(t, call(t, u, "POST", "/api/v1/admin/products", body, customer), 403, "forbidden", "customer create")
	expectProblem(t, call(t, u, "POST", "/api/v1/admin/products", body, ""), 401, "", "anonymous create")
	created := expect(t, call(t, u, "POST", "/api/v1/admin/products", body, admin), 201, "create")
	id := created.Str("id")
	if created.JSON()["version"].(float64) != 1 || created.Str("status") != "active" {
		t.Fatalf("created: %s", created.Body)
	}
	expectProblem(t, call(t, u, "POST", "/api/v1/admin/products", body, admin), 409, "sku_taken", "duplicate sku")

	// Reads, ETag and 304.
	got := expect(t, call(t, u, "GET", "/api/v1/products/"+id, nil, ""), 200, "get")
	etag := got.Header.Get("ETag")
	if etag == "" || got.Str("name") != "Wireless Headphones" {
		t.Fatalf("get: %v %s", got.Header, got.Body)
	}
	expect(t, call(t, u, "GET", "/api/v1/products/"+id, nil, "", "If-None-Match", etag), 304, "conditional get")
	expectProblem(t, call(t, u, "GET", "/api/v1/products/00000000-0000-7000-8000-000000000000", nil, ""), 404, "not_found", "unknown product")
	expectProblem(t, call(t, u, "GET", "/api/v1/products/not-a-uuid", nil, ""), 404, "not_found", "bad id")

	// Update with the right version, then a stale one.
	body["version"] = 1
	body["price"] = 9999
	upd := expect(t, call(t, u, "PUT", "/api/v1/admin/products/"+id, body, admin), 200, "update")
	if upd.JSON()["version"].(float64) != 2 || upd.JSON()["price"].(float64) != 9999 {
		t.Fatalf("update: %s", upd.Body)
	}
	body["price"] = 1
	expectProblem(t, call(t, u, "PUT", "/api/v1/admin/products/"+id, body, admin), 409, "version_conflict", "stale update")
	after := call(t, u, "GET", "/api/v1/products/"+id, nil, "", "If-None-Match", etag)
	if after.Status != 200 {
		t.Log(p.Logs())
	}
	after = expect(t, after, 200, "get after update")
	if after.JSON()["price"].(float64) != 9999 || after.Header.Get("ETag") == etag {
		t.Fatalf("cache not invalidated or stale write applied: %s", after.Body)
	}
	delete(body, "version")
	expectProblem(t, call(t, u, "PUT", "/api/v1/admin/products/"+id, body, admin), 422, "validation_failed", "update without version")

	// Stock.
	st := expect(t, call(t, u, "POST", "/api/v1/admin/products/"+id+"/stock", map[string]any{"delta": 10, "reason": "delivery"}, admin), 200, "adjust")
	if s := st.JSON()["stock"].(map[string]any); s["on_hand"].(float64) != 10 || s["available"].(float64) != 10 {
		t.Fatalf("stock: %s", st.Body)
	}
	expectProblem(t, call(t, u, "POST", "/api/v1/admin/products/"+id+"/stock", map[string]any{"delta": -11, "reason": "shrinkage"}, admin), 409, "stock_below_reserved", "below zero")
	expectProblem(t, call(t, u, "POST", "/api/v1/admin/products/"+id+"/stock", map[string]any{"delta": 5, "reason": "x"}, customer), 403, "", "customer adjust")
	if g := expect(t, call(t, u, "GET", "/api/v1/products/"+id, nil, ""), 200, "get"); g.JSON()["stock"].(map[string]any)["on_hand"].(float64) != 10 {
		t.Fatalf("stock read: %s", g.Body)
	}
	led := expect(t, call(t, u, "GET", "/api/v1/admin/products/"+id+"/stock/ledger", nil, admin), 200, "ledger")
	if items := led.JSON()["items"].([]any); len(items) != 1 || items[0].(map[string]any)["reason"] != "delivery" {
		t.Fatalf("ledger: %s", led.Body)
	}

	// Bad input: 4xx and nothing written.
	bad := []map[string]any{
		{"sku": "B-1", "name": "x", "category": "c", "price": -1, "currency": "USD"},
		{"sku": "B-2", "name": "x", "category": "c", "price": 1, "currency": "ABC"},
		{"sku": "B-3", "name": "x", "category": "c", "currency": "USD"},
		{"sku": "B-4", "category": "c", "price": 1, "currency": "USD"},
		{"sku": "B-5", "name": "x", "category": "c", "price": 1, "currency": "USD", "attributes": map[string]any{"blob": strings.Repeat("x", 20000)}},
		{"sku": "B-6", "name": "x", "category": "c", "price": 1, "currency": "USD", "weight_grams": -5},
		{"sku": "B-7", "name": "x", "category": "c", "price": 1.5, "currency": "USD"},
	}
	for i, b := range bad {
		r := call(t, u, "POST", "/api/v1/admin/products", b, admin)
		if r.Status < 400 || r.Status >= 500 || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("bad input %d: %d %s", i, r.Status, r.Body)
		}
	}
	list := expect(t, call(t, u, "GET", "/api/v1/products?limit=100", nil, ""), 200, "list")
	if n := len(list.JSON()["items"].([]any)); n != 1 {
		t.Fatalf("bad input wrote products: %d", n)
	}

	// Listing with filters and cursor pagination, then archive.
	for i := 0; i < 5; i++ {
		b := map[string]any{"sku": fmt.Sprintf("CAB-%d", i), "name": "Cable", "category": "cables", "brand": "Acme", "price": 500, "currency": "USD"}
		expect(t, call(t, u, "POST", "/api/v1/admin/products", b, admin), 201, "create cable")
	}
	seen := 0
	cursor := ""
	for page := 0; page < 10; page++ {
		r := expect(t, call(t, u, "GET", "/api/v1/products?category=cables&limit=2&cursor="+cursor, nil, ""), 200, "page")
		seen += len(r.JSON()["items"].([]any))
		next, _ := r.JSON()["next_cursor"].(string)
		if next == "" {
			break
		}
		cursor = next
	}
	if seen != 5 {
		t.Fatalf("paged %d cables", seen)
	}
	expect(t, call(t, u, "DELETE", "/api/v1/admin/products/"+id, nil, admin), 204, "archive")
	expect(t, call(t, u, "DELETE", "/api/v1/admin/products/"+id, nil, admin), 204, "archive again")
	if g := expect(t, call(t, u, "GET", "/api/v1/products/"+id, nil, ""), 200, "get archived"); g.Str("status") != "archived" {
		t.Fatalf("archived: %s", g.Body)
	}
	if r := expect(t, call(t, u, "GET", "/api/v1/products?category=audio", nil, ""), 200, "list active"); len(r.JSON()["items"].([]any)) != 0 {
		t.Fatalf("archived product listed: %s", r.Body)
	}
	expectProblem(t, call(t, u, "GET", "/api/v1/products?status=archived", nil, customer), 403, "", "customer lists archived")
	if r := expect(t, call(t, u, "GET", "/api/v1/products?status=archived", nil, admin), 200, "admin lists archived"); len(r.JSON()["items"].([]any)) != 1 {
		t.Fatalf("archived list: %s", r.Body)
	}
}
