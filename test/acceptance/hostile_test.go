package acceptance

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// Hostile input over the binary (and, under ACCEPTANCE_TOPOLOGY=split,
// through the gateway): NUL in JSON strings and query parameters is a 400
// invalid_characters naming the field, bytes that are not UTF-8 are a 400
// malformed_json, nothing is stored; validation messages read as
// sentences; one address shape everywhere with countries that exist;
// ?access_token= only on the streaming routes.
func TestHostileInputOverHTTP(t *testing.T) {
	s := newShop(t, nil)
	u := s.u
	tok := customerToken(t, u, s.smtp, "hostile@shop.test")
	pid := s.product("SKU-HOSTILE", 1500, 5)
	field := func(r resp) string {
		list, _ := r.JSON()["errors"].([]any)
		if len(list) == 0 {
			return ""
		}
		f, _ := list[0].(map[string]any)["field"].(string)
		return f
	}
	nul := func(method, path, body, token, wantField string) {
		t.Helper()
		r := call(t, u, method, path, []byte(body), token)
		expectProblem(t, r, 400, "invalid_characters", method+" "+path)
		if wantField != "" && field(r) != wantField {
			t.Fatalf("%s %s: field %q, want %q (%s)", method, path, field(r), wantField, r.Body)
		}
	}

	// 1. NUL in JSON strings: the field is named.
	nul("POST", "/api/v1/auth/login", `{"email":"a\u0000@x.test","password":"correct horse"}`, "", "email")
	nul("POST", "/api/v1/auth/register", `{"email":"n@x.test","password":"correct horse","name":"N\u0000"}`, "", "name")
	nul("PATCH", "/api/v1/me", `{"name":"x\u0000"}`, tok, "name")
	nul("POST", "/api/v1/me/addresses", `{"line1":"1 St\u0000","city":"Berlin","postal_code":"10115","country":"DE"}`, tok, "line1")
	nul("POST", "/api/v1/admin/products", `{"sku":"N1","name":"N\u0000","category":"c","price":1,"currency":"USD"}`, s.admin, "name")
	nul("POST", "/api/v1/chat/conversations", `{"title":"help\u0000"}`, tok, "title")
	nul("POST", "/api/v1/cart/promo", `{"code":"SAVE\u0000"}`, tok, "code")
	nul("POST", "/api/v1/checkout", `{"address":{"line1":"1\u0000","city":"B","postal_code":"1","country":"DE"},"courier":"standard","payment_gateway":"test"}`, tok, "address.line1")
	// An escaped backslash before u0000 is text, not NUL.
	expect(t, call(t, u, "PATCH", "/api/v1/me", []byte(`{"name":"back\\u0000slash"}`), tok), 200, "escaped backslash")

	// 1. NUL (and invalid UTF-8) in query and path parameters.
	for _, path := range []string{"/api/v1/products?category=a%00b", "/api/v1/products?brand=%FF", "/api/v1/search?q=a%00", "/api/v1/products/%00", "/api/v1/products?x%00=1"} {
		expectProblem(t, call(t, u, "GET", path, nil, ""), 400, "invalid_characters", path)
	}
	conv := expect(t, call(t, u, "POST", "/api/v1/chat/conversations", map[string]any{"title": "help"}, tok), 201, "conversation").Str("id")
	expectProblem(t, call(t, u, "GET", "/api/v1/chat/conversations/"+conv+"/messages?q=a%00b", nil, tok), 400, "invalid_characters", "chat ?q=")

	// 2. Invalid UTF-8 in a body is malformed JSON, never stored as U+FFFD.
	expectProblem(t, call(t, u, "PATCH", "/api/v1/me", []byte("{\"name\":\"Ann\xff\"}"), tok), 400, "malformed_json", "invalid UTF-8")
	if name := expect(t, call(t, u, "GET", "/api/v1/me", nil, tok), 200, "me").Str("name"); strings.ContainsRune(name, '\uFFFD') {
		t.Fatalf("stored %q", name)
	}

	// 3. Numbers out of range and wrong types are 4xx, never 5xx.
	expectProblem(t, call(t, u, "POST", "/api/v1/cart/items", []byte(`{"product_id":"`+pid+`","quantity":1e300}`), tok), 400, "malformed_json", "1e300")
	expectProblem(t, call(t, u, "POST", "/api/v1/cart/items", []byte(`{"product_id":"`+pid+`","quantity":"1"}`), tok), 400, "malformed_json", "wrong type")
	expectProblem(t, call(t, u, "POST", "/api/v1/admin/products", map[string]any{"sku": "BIG", "name": "Big", "category": "c", "price": 100000000001, "currency": "USD"}, s.admin), 422, "validation_failed", "price too big")
	expectProblem(t, call(t, u, "GET", "/api/v1/orders/not-a-uuid", nil, tok), 404, "", "garbage order id")
	expectProblem(t, call(t, u, "POST", "/api/v1/me/addresses", map[string]any{"line1": strings.Repeat("x", 100_000), "city": "B", "postal_code": "1", "country": "DE"}, tok), 422, "validation_failed", "huge line1")

	// 6. Messages a person can read.
	r := call(t, u, "POST", "/api/v1/cart/items", map[string]any{"product_id": pid, "quantity": 0}, tok)
	expectProblem(t, r, 422, "validation_failed", "quantity 0")
	if msg := r.JSON()["errors"].([]any)[0].(map[string]any)["message"]; msg != "must be at least 1" {
		t.Fatalf("quantity 0: %q", msg)
	}
	r = call(t, u, "POST", "/api/v1/admin/promotions", map[string]any{"code": "ZERO", "kind": "fixed", "value": 0}, s.admin)
	expectProblem(t, r, 422, "validation_failed", "value 0")
	if msg := r.JSON()["errors"].([]any)[0].(map[string]any)["message"]; msg != "must be greater than 0" {
		t.Fatalf("value 0: %q", msg)
	}

	// 7. One address shape: the quote takes label, phone and is_default
	// like checkout and /me/addresses; XX is not a country anywhere.
	full := map[string]any{"label": "home", "line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "de", "phone": "+49 30 1234567", "is_default": true}
	expect(t, call(t, u, "POST", "/api/v1/shipping/quote", map[string]any{"address": full, "items": []any{map[string]any{"product_id": pid, "quantity": 1}}, "courier": "standard"}, ""), 200, "quote with a full address")
	saved := expect(t, call(t, u, "POST", "/api/v1/me/addresses", full, tok), 201, "saved address")
	if saved.Str("country") != "DE" {
		t.Fatalf("country not upper-cased: %s", saved.Body)
	}
	expect(t, call(t, u, "POST", "/api/v1/cart/items", map[string]any{"product_id": pid, "quantity": 1}, tok), 200, "cart")
	expect(t, call(t, u, "POST", "/api/v1/checkout", map[string]any{"address": full, "courier": "standard", "payment_gateway": "test"}, tok), 201, "checkout with a full address")
	xx := map[string]any{"line1": "1 Main St", "city": "Berlin", "postal_code": "10115", "country": "XX"}
	for _, c := range []struct {
		path, field string
		body        any
	}{
		{"/api/v1/shipping/quote", "address.country", map[string]any{"address": xx, "items": []any{map[string]any{"product_id": pid, "quantity": 1}}, "courier": "standard"}},
		{"/api/v1/checkout", "address.country", map[string]any{"address": xx, "courier": "standard", "payment_gateway": "test"}},
		{"/api/v1/me/addresses", "country", xx},
	} {
		r := call(t, u, "POST", c.path, c.body, tok)
		expectProblem(t, r, 422, "validation_failed", c.path+" XX")
		if field(r) != c.field {
			t.Fatalf("%s: field %q, want %q (%s)", c.path, field(r), c.field, r.Body)
		}
	}

	// 8. ?access_token= only on the streaming routes.
	expectProblem(t, call(t, u, "GET", "/api/v1/me?access_token="+tok, nil, ""), 401, "", "query token on /me")
	expectProblem(t, call(t, u, "POST", "/api/v1/cart/items?access_token="+tok, map[string]any{"product_id": pid, "quantity": 1}, ""), 401, "", "query token on a write")
	sse := openSSE(t, u, tok, "", true) // still works where a header cannot be sent
	sse.cancel()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(u, "http")+"/api/v1/chat/ws?access_token="+tok, nil)
	if err != nil {
		t.Fatalf("chat with ?access_token=: %v", err)
	}
	ws.CloseNow()
}
