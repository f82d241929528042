package acceptance

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// gqlResult is a GraphQL response envelope.
type gqlResult struct {
	Status int
	Data   map[string]any
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	}
	Raw string
}

// code is the extensions.code of the first error ("" when none).
func (r gqlResult) code() string {
	if len(r.Errors) == 0 {
		return ""
	}
	c, _ := r.Errors[0].Extensions["code"].(string)
	return c
}

func gqlDo(t *testing.T, base, token, query string, vars map[string]any) gqlResult {
	t.Helper()
	body := map[string]any{"query": query}
	if vars != nil {
		body["variables"] = vars
	}
	b, _ := json.Marshal(body)
	status, raw := gqlHTTP(t, base, "POST", "/graphql", token, bytes.NewReader(b), "application/json")
	out := gqlResult{Status: status, Raw: string(raw)}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("graphql answer is not an envelope (%d): %.300s", status, raw)
	}
	return out
}

// gqlHTTP sends a request to /graphql. It is no REST route (not in the
// OpenAPI document), so it bypasses the contract check of call.
func gqlHTTP(t *testing.T, base, method, path, token string, body io.Reader, accept string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, raw
}

// gqlOK runs a query that must succeed without errors.
func gqlOK(t *testing.T, base, token, query string, vars map[string]any) map[string]any {
	t.Helper()
	r := gqlDo(t, base, token, query, vars)
	if r.Status != 200 || len(r.Errors) > 0 || r.Data == nil {
		t.Fatalf("graphql %.80s: %d %s", query, r.Status, r.Raw)
	}
	return r.Data
}

func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

const fourSubgraphQuery = `query($id: ID!) { order(id: $id) { id status total { amount currency }
  items { quantity unitPrice { amount currency } product { id name price { amount } } }
  payment { status amount { amount currency } }
  fulfillment { status courier } } }`

// The federated graph over HTTP, as a client uses it: catalog products,
// placeOrder with an idempotency key, the one query that spans catalog,
// ordering, payments and fulfillment, errors with REST's codes, and the
// protections; in both topologies (the split gateway composes the
// contexts' subgraphs from GATEWAY_UPSTREAMS).
func TestGraphQLOverHTTP(t *testing.T) {
	s := newShop(t, nil)
	tok := customerToken(t, s.u, s.smtp, "graph@shop.test")
	other := customerToken(t, s.u, s.smtp, "graph-other@shop.test")
	pid := s.product("SKU-GRAPH", 2500, 10)

	// Catalog, anonymous.
	d := gqlOK(t, s.u, "", `query($id: ID!) { product(id: $id) { id name sku price { amount currency } stock { available } status } }`, map[string]any{"id": pid})
	if dig(d, "product", "name") != "SKU-GRAPH" || dig(d, "product", "price", "amount") != 2500.0 || dig(d, "product", "price", "currency") != "USD" ||
		dig(d, "product", "stock", "available") != 10.0 || dig(d, "product", "status") != "ACTIVE" {
		t.Fatalf("product: %v", d)
	}
	if d := gqlOK(t, s.u, "", `{ product(id: "00000000-0000-7000-8000-000000000000") { id } }`, nil); d["product"] != nil {
		t.Fatalf("unknown product: %v", d)
	}
	d = gqlOK(t, s.u, "", `{ products(first: 5) { items { id name } nextCursor } }`, nil)
	if items, _ := dig(d, "products", "items").([]any); len(items) != 1 {
		t.Fatalf("products: %v", d)
	}

	// The caller's account and address book (auth's subgraph).
	if r := gqlDo(t, s.u, "", `{ me { id } }`, nil); r.code() != "unauthenticated" {
		t.Fatalf("anonymous me: %s", r.Raw)
	}
	d = gqlOK(t, s.u, tok, `mutation($in: AddressInput!) { addAddress(input: $in) { id city country isDefault } }`,
		map[string]any{"in": map[string]any{"line1": "1 Graph St", "city": "Town", "postalCode": "10001", "country": "US"}})
	addr, _ := dig(d, "addAddress", "id").(string)
	if addr == "" || dig(d, "addAddress", "isDefault") != true {
		t.Fatalf("addAddress: %v", d)
	}
	if r := gqlDo(t, s.u, tok, `mutation { addAddress(input: {line1: "x"}) { id } }`, nil); r.code() != "validation_failed" {
		t.Fatalf("undeliverable address: %s", r.Raw)
	}
	d = gqlOK(t, s.u, tok, `{ me { email role status addresses { id city } } }`, nil)
	if dig(d, "me", "email") != "graph@shop.test" || dig(d, "me", "role") != "CUSTOMER" || dig(d, "me", "addresses", 0, "id") != addr {
		t.Fatalf("me: %v", d)
	}
	if r := gqlDo(t, s.u, other, `mutation($id: ID!) { deleteAddress(id: $id) }`, map[string]any{"id": addr}); r.code() != "not_found" {
		t.Fatalf("delete someone else's address: %s", r.Raw)
	}

	// Orders need a user, like REST.
	if r := gqlDo(t, s.u, "", `{ orders { items { id } } }`, nil); r.Status != 200 || r.code() != "unauthenticated" {
		t.Fatalf("anonymous orders: %d %s", r.Status, r.Raw)
	}

	// placeOrder: the idempotency key replays, another session under it conflicts.
	// The cart and checkout (cart's subgraph; lines reference catalog's Product).
	if r := gqlDo(t, s.u, tok, `mutation($p: ID!) { addCartItem(productId: $p, quantity: 100) { id } }`, map[string]any{"p": pid}); r.code() != "validation_failed" {
		t.Fatalf("quantity 100: %s", r.Raw)
	}
	gqlOK(t, s.u, tok, `mutation($p: ID!) { addCartItem(productId: $p, quantity: 1) { id } }`, map[string]any{"p": pid})
	d = gqlOK(t, s.u, tok, `mutation($p: ID!) { setCartItemQuantity(productId: $p, quantity: 2) { total { amount currency } } }`, map[string]any{"p": pid})
	if dig(d, "setCartItemQuantity", "total", "amount") != 5000.0 || dig(d, "setCartItemQuantity", "total", "currency") != "USD" {
		t.Fatalf("cart total: %v", d)
	}
	d = gqlOK(t, s.u, tok, `{ cart { items { quantity flags product { name stock { available } } } } }`, nil)
	if dig(d, "cart", "items", 0, "product", "name") != "SKU-GRAPH" || dig(d, "cart", "items", 0, "quantity") != 2.0 {
		t.Fatalf("cart: %v", d)
	}
	if r := gqlDo(t, s.u, tok, `mutation { applyPromo(code: "NOPE") { promoCode } }`, nil); r.Status != 200 || r.code() == "" {
		t.Fatalf("unknown promo: %s", r.Raw)
	}
	d = gqlOK(t, s.u, tok, `mutation($a: CheckoutAddressInput!) { checkout(input: {address: $a, courier: STANDARD, paymentGateway: TEST}) {
		id status total { amount } items { quantity product { name } } } }`,
		map[string]any{"a": map[string]any{"line1": "1 St", "city": "Town", "postalCode": "10001", "country": "US"}})
	session, _ := dig(d, "checkout", "id").(string)
	if session == "" || dig(d, "checkout", "status") != "PENDING" || dig(d, "checkout", "items", 0, "product", "name") != "SKU-GRAPH" {
		t.Fatalf("checkout: %v", d)
	}
	place := `mutation($s: ID!, $k: String) { placeOrder(checkoutSessionId: $s, idempotencyKey: $k) { id status total { amount currency } } }`
	d = gqlOK(t, s.u, tok, place, map[string]any{"s": session, "k": "graph-order-1"})
	id, _ := dig(d, "placeOrder", "id").(string)
	if id == "" || dig(d, "placeOrder", "status") != "PENDING_PAYMENT" {
		t.Fatalf("placeOrder: %v", d)
	}
	if again := gqlOK(t, s.u, tok, place, map[string]any{"s": session, "k": "graph-order-1"}); dig(again, "placeOrder", "id") != id {
		t.Fatalf("replay: %v, want %s", again, id)
	}
	if r := gqlDo(t, s.u, tok, place, map[string]any{"s": "00000000-0000-7000-8000-000000000001", "k": "graph-order-1"}); r.code() != "idempotency_conflict" {
		t.Fatalf("same key, other session: %s", r.Raw)
	}
	if r := gqlDo(t, s.u, tok, place, map[string]any{"s": "not-a-uuid"}); r.code() != "validation_failed" {
		t.Fatalf("bad session id: %s", r.Raw)
	}

	// cancelOrder, with REST's codes for what cannot be canceled.
	canceler := customerToken(t, s.u, s.smtp, "graph-cancel@shop.test")
	d = gqlOK(t, s.u, canceler, place, map[string]any{"s": s.checkout(canceler, pid, 1)})
	cancelID := dig(d, "placeOrder", "id").(string)
	cancel := `mutation($id: ID!) { cancelOrder(id: $id) { id status } }`
	if r := gqlDo(t, s.u, other, cancel, map[string]any{"id": cancelID}); r.code() != "not_found" {
		t.Fatalf("cancel someone else's order: %s", r.Raw)
	}
	if d := gqlOK(t, s.u, canceler, cancel, map[string]any{"id": cancelID}); dig(d, "cancelOrder", "status") != "CANCELED" {
		t.Fatalf("cancel: %v", d)
	}

	// Pay the first order; fulfillment follows.
	rest := expect(t, call(t, s.u, "GET", "/api/v1/orders/"+id, nil, tok), 200, "order").JSON()
	expect(t, s.webhook("evt_graph_paid", "payment_intent.succeeded", rest["payment"].(map[string]any)["intent_id"].(string), int64(rest["total"].(float64)), time.Now().Unix()), 200, "webhook")
	s.waitStatus(tok, id, "fulfilling")

	// The query over four subgraphs.
	var o any
	deadline := time.Now().Add(20 * time.Second)
	for {
		o = dig(gqlOK(t, s.u, tok, fourSubgraphQuery, map[string]any{"id": id}), "order")
		if dig(o, "fulfillment", "status") == "IN_PROGRESS" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("fulfillment not in progress: %v", o)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if dig(o, "id") != id || dig(o, "status") != "FULFILLING" || dig(o, "total", "amount") != rest["total"].(float64) ||
		dig(o, "items", 0, "quantity") != 2.0 || dig(o, "items", 0, "unitPrice", "amount") != 2500.0 ||
		dig(o, "items", 0, "product", "id") != pid || dig(o, "items", 0, "product", "name") != "SKU-GRAPH" ||
		dig(o, "payment", "status") != "SUCCEEDED" || dig(o, "payment", "amount", "amount") != rest["total"].(float64) ||
		dig(o, "fulfillment", "courier") != "standard" {
		t.Fatalf("order across subgraphs: %v", o)
	}
	d = gqlOK(t, s.u, tok, `{ orders(first: 10) { items { id status payment { status } fulfillment { status } items { product { name } } } } }`, nil)
	if items, _ := dig(d, "orders", "items").([]any); len(items) != 1 || dig(items, 0, "payment", "status") != "SUCCEEDED" || dig(items, 0, "items", 0, "product", "name") != "SKU-GRAPH" {
		t.Fatalf("orders: %v", d)
	}
	d = gqlOK(t, s.u, tok, `query($id: ID!) { order(id: $id) { timeline { type createdAt } } }`, map[string]any{"id": id})
	if tl, _ := dig(d, "order", "timeline").([]any); len(tl) == 0 {
		t.Fatalf("timeline: %v", d)
	}

	// Another user's order is not_found, like REST's 404.
	if r := gqlDo(t, s.u, other, fourSubgraphQuery, map[string]any{"id": id}); r.Status != 200 || r.code() != "not_found" || dig(r.Data, "order") != nil {
		t.Fatalf("someone else's order: %d %s", r.Status, r.Raw)
	}

	// Protections: errors in the envelope, never a 5xx, never a hang.
	introspect := "{ __schema { types { " + strings.Repeat("fields { type { ", 10) + "name" + strings.Repeat(" } }", 10) + " } } }"
	nested := "{ products { items { " + strings.Repeat("stock { ", 50) + "available" + strings.Repeat(" }", 50) + " } } }"
	var aliases strings.Builder
	aliases.WriteString("{")
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&aliases, " a%d: products { nextCursor }", i)
	}
	aliases.WriteString(" }")
	for name, c := range map[string]struct {
		query string
		code  string
	}{
		"depth 50":            {nested, "query_too_deep"},
		"introspection abuse": {introspect, "query_too_deep"},
		"1000 aliases":        {aliases.String(), "too_many_aliases"},
		"1 MB query":          {"{ " + strings.Repeat("__typename ", 90000) + "}", "query_too_large"},
		"unparsable":          {"{ products(", "graphql_parse_failed"},
		"unknown":             {"{ nope }", "validation_failed"},
	} {
		start := time.Now()
		r := gqlDo(t, s.u, tok, c.query, nil)
		if r.Status >= 500 || len(r.Errors) == 0 || (c.code != "" && r.code() != c.code) || time.Since(start) > 5*time.Second {
			t.Errorf("%s: %d in %s: %.300s", name, r.Status, time.Since(start), r.Raw)
		}
	}
	if d := gqlOK(t, s.u, "", `{ __schema { queryType { name } } }`, nil); dig(d, "__schema", "queryType", "name") != "Query" {
		t.Fatalf("introspection: %v", d)
	}

	// GET: queries, and GraphiQL for a browser.
	if st, b := gqlHTTP(t, s.u, "GET", "/graphql?query="+url.QueryEscape("{ products { items { id } } }"), "", nil, "application/json"); st != 200 || !strings.Contains(string(b), pid) {
		t.Fatalf("GET query: %d %s", st, b)
	}
	if st, b := gqlHTTP(t, s.u, "GET", "/graphql", "", nil, "text/html"); st != 200 || !strings.Contains(string(b), "GraphiQL") {
		t.Fatalf("GraphiQL page: %d %.200s", st, b)
	}
	if st, b := gqlHTTP(t, s.u, "GET", "/graphql?query="+url.QueryEscape(`mutation { cancelOrder(id: "x") { id } }`), tok, nil, "application/json"); st != 405 {
		t.Fatalf("mutation over GET: %d %s", st, b)
	}
	if st, b := gqlHTTP(t, s.u, "POST", "/internal/graphql/ordering", tok, strings.NewReader(`{"query":"{ orders { items { id } } }"}`), "application/json"); st != 404 && st != 405 {
		t.Fatalf("internal subgraph route answered publicly: %d %s", st, b)
	}
}

// GRAPHQL_INTROSPECTION=false refuses introspection, and /graphql shares
// REST's rate limits (RATE_LIMIT_PER_MINUTE per IP).
func TestGraphQLIntrospectionOffAndRateLimits(t *testing.T) {
	// Its own rate-limit counters: under CI the shops share a Redis, and
	// the requests of earlier tests in the same minute count per IP.
	s := newShop(t, map[string]string{"GRAPHQL_INTROSPECTION": "false", "RATE_LIMIT_PER_MINUTE": "6", "REDIS_URL": privateRedisURL(t)})
	if r := gqlDo(t, s.u, "", `{ __schema { types { name } } }`, nil); r.Status != 200 || r.code() != "introspection_disabled" {
		t.Fatalf("introspection: %d %s", r.Status, r.Raw)
	}
	gqlOK(t, s.u, "", `{ products { items { id __typename } } }`, nil)
	for i := 0; ; i++ {
		st, b := gqlHTTP(t, s.u, "POST", "/graphql", "", strings.NewReader(`{"query":"{ products { nextCursor } }"}`), "application/json")
		if st == 429 {
			break
		}
		if st != 200 || i > 10 {
			t.Fatalf("request %d: %d %s (want 429 within the limit)", i, st, b)
		}
	}
}

// Automatic persisted queries, as a client library does them: the hash
// alone is refused until the text is sent once with it; then the hash
// alone answers, over POST and as a cacheable GET.
func TestGraphQLPersistedQueries(t *testing.T) {
	s := newShop(t, nil)
	s.product("SKU-APQ", 1200, 3)
	// A text of its own: under CI the shops share a Redis, where an earlier
	// run's registration of the same text would still be kept.
	query := fmt.Sprintf(`{ products(first: 5) { items { name price { amount currency } } } run%d: __typename }`, time.Now().UnixNano())
	sum := sha256.Sum256([]byte(query))
	ext := map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hex.EncodeToString(sum[:])}}
	post := func(body map[string]any) gqlResult {
		t.Helper()
		b, _ := json.Marshal(body)
		st, raw := gqlHTTP(t, s.u, "POST", "/graphql", "", bytes.NewReader(b), "application/json")
		out := gqlResult{Status: st, Raw: string(raw)}
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%d %s", st, raw)
		}
		return out
	}
	if r := post(map[string]any{"extensions": ext}); r.Status != 200 || r.code() != "PERSISTED_QUERY_NOT_FOUND" || r.Errors[0].Message != "PersistedQueryNotFound" {
		t.Fatalf("unknown hash: %d %s", r.Status, r.Raw)
	}
	if r := post(map[string]any{"query": query + " ", "extensions": ext}); r.Status != 400 {
		t.Fatalf("a text that does not match its hash: %d %s", r.Status, r.Raw)
	}
	if r := post(map[string]any{"query": query, "extensions": ext}); r.Status != 200 || dig(r.Data, "products", "items", 0, "name") != "SKU-APQ" {
		t.Fatalf("registration: %d %s", r.Status, r.Raw)
	}
	if r := post(map[string]any{"extensions": ext}); r.Status != 200 || dig(r.Data, "products", "items", 0, "price", "amount") != 1200.0 {
		t.Fatalf("by hash: %d %s", r.Status, r.Raw)
	}
	x, _ := json.Marshal(ext)
	st, raw := gqlHTTP(t, s.u, "GET", "/graphql?extensions="+url.QueryEscape(string(x)), "", nil, "application/json")
	if st != 200 || !strings.Contains(string(raw), `"SKU-APQ"`) {
		t.Fatalf("GET by hash: %d %s", st, raw)
	}
}
