package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/opencommerce/commerce/internal/auth/authapi"
	"github.com/opencommerce/commerce/internal/platform/config"
	"github.com/opencommerce/commerce/internal/platform/events"
	"github.com/opencommerce/commerce/internal/server/servertest"
)

// adminAndCustomer starts a server with an admin (a@shop.test) and a
// verified customer (c@shop.test) and returns their access tokens.
func adminAndCustomer(t *testing.T, mutate func(*config.Config)) (e *servertest.Env, admin, cust string) {
	t.Helper()
	e = servertest.Start(t, func(c *config.Config) {
		c.AdminEmail, c.AdminPassword = "a@shop.test", "admin-password"
		if mutate != nil {
			mutate(c)
		}
	})
	admin = e.Do("POST", "/api/v1/auth/login", map[string]string{"email": "a@shop.test", "password": "admin-password"}, "").Str("access_token")
	if r := e.Do("POST", "/api/v1/auth/register", map[string]string{"email": "c@shop.test", "password": "customer-password", "name": "Cust"}, ""); r.Status != 201 {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}
	if r := e.Do("POST", "/api/v1/auth/verify", map[string]string{"token": e.WaitToken("c@shop.test", "verify_email")}, ""); r.Status != 200 {
		t.Fatalf("verify: %d %s", r.Status, r.Body)
	}
	cust = e.Do("POST", "/api/v1/auth/login", map[string]string{"email": "c@shop.test", "password": "customer-password"}, "").Str("access_token")
	if admin == "" || cust == "" {
		t.Fatal("no tokens")
	}
	return e, admin, cust
}

func countRows(t *testing.T, e *servertest.Env, q string, args ...any) int {
	t.Helper()
	var n int
	if err := e.DB.NewRaw(q, args...).Scan(context.Background(), &n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Every change an administrator makes is in the audit log (after the
// handler, with its status); reads are not; customers cannot read it.
func TestAuditLogRecordsAdminChanges(t *testing.T) {
	e, admin, cust := adminAndCustomer(t, nil)
	who, _ := e.Server.Keys.Verifier().Verify(admin)
	before := countRows(t, e, "SELECT count(*) FROM platform.audit_log")
	r := e.Do("POST", "/api/v1/admin/products", map[string]any{"sku": "AU1", "name": "Audited", "category": "c", "price": 900, "currency": "USD", "weight_grams": 100, "initial_stock": 5}, admin)
	if r.Status != 201 {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	pid := r.Str("id")
	if r := e.Do("PUT", "/api/v1/admin/products/"+pid, map[string]any{"name": ""}, admin); r.Status != 422 {
		t.Fatalf("bad update: %d %s", r.Status, r.Body)
	}
	e.Do("GET", "/api/v1/admin/users", nil, admin)
	e.Do("GET", "/api/v1/admin/audit", nil, admin)
	if r := e.Do("POST", "/api/v1/admin/products", map[string]any{"sku": "AU2"}, cust); r.Status != 403 {
		t.Fatalf("customer create: %d", r.Status)
	}
	if n := countRows(t, e, "SELECT count(*) FROM platform.audit_log") - before; n != 2 {
		t.Fatalf("%d audit rows, want 2 (the create and the refused update; no reads, nothing for the customer)", n)
	}
	var row struct {
		ActorID    string `bun:"actor_id"`
		ActorEmail string `bun:"actor_email"`
		Method     string `bun:"method"`
		Route      string `bun:"route"`
		Path       string `bun:"path"`
		Status     int    `bun:"status"`
		RequestID  string `bun:"request_id"`
	}
	if err := e.DB.NewRaw("SELECT actor_id, actor_email, method, route, path, status, request_id FROM platform.audit_log WHERE method = 'PUT'").Scan(context.Background(), &row); err != nil {
		t.Fatal(err)
	}
	if row.ActorID != who.UserID || row.ActorEmail != who.Email || row.Route != "/api/v1/admin/products/{id}" || row.Path != "/api/v1/admin/products/"+pid || row.Status != 422 || row.RequestID == "" {
		t.Fatalf("audit row: %+v", row)
	}

	r = e.Do("GET", "/api/v1/admin/audit?limit=1", nil, admin)
	items, _ := r.JSON()["items"].([]any)
	if r.Status != 200 || len(items) != 1 || items[0].(map[string]any)["method"] != "PUT" || r.Str("next_cursor") == "" {
		t.Fatalf("audit page 1: %d %s", r.Status, r.Body)
	}
	r = e.Do("GET", "/api/v1/admin/audit?limit=1&cursor="+r.Str("next_cursor"), nil, admin)
	items, _ = r.JSON()["items"].([]any)
	if r.Status != 200 || len(items) != 1 || items[0].(map[string]any)["status"] != float64(201) {
		t.Fatalf("audit page 2: %d %s", r.Status, r.Body)
	}
	for actor, want := range map[string]int{"a@shop.test": 2, "A@Shop.test": 2, who.UserID: 2, "someone@else.test": 0} {
		r := e.Do("GET", "/api/v1/admin/audit?actor="+actor, nil, admin)
		if items, _ := r.JSON()["items"].([]any); r.Status != 200 || len(items) != want {
			t.Errorf("actor %s: %d %s", actor, r.Status, r.Body)
		}
	}
	if r := e.Do("GET", "/api/v1/admin/audit", nil, cust); r.Status != 403 || r.Str("code") != "forbidden" {
		t.Fatalf("customer on audit: %d %s", r.Status, r.Body)
	}
	if r := e.Do("GET", "/api/v1/admin/audit?cursor=bad", nil, admin); r.Status != 400 {
		t.Fatalf("forged cursor: %d", r.Status)
	}
}

// A dead letter is retried over HTTP from any process; the process
// hosting the consumer applies it through the inbox once; a second retry
// is 409 already_retried.
func TestDeadLetterRetryOverHTTP(t *testing.T) {
	e, admin, cust := adminAndCustomer(t, nil)
	ctx := context.Background()
	userID := uuid.NewString()
	ev, err := events.New(authapi.EventUserVerified, userID, authapi.UserVerified{UserID: userID, Email: "dl@shop.test"})
	if err != nil {
		t.Fatal(err)
	}
	raw := fmt.Sprintf(`{"id":%q,"type":%q,"version":1,"occurred_at":%q,"aggregate_id":%q,"data":%s}`,
		ev.ID, ev.Type, ev.OccurredAt.Format(time.RFC3339Nano), userID, ev.Data)
	var id int64
	if err := e.DB.NewRaw(`INSERT INTO events.dead_letters (consumer, topic, event_id, payload, error, attempts)
		VALUES ('notify.auth_emails', ?, ?, ?, 'smtp down', 5) RETURNING id`, ev.Type, ev.ID, raw).Scan(ctx, &id); err != nil {
		t.Fatal(err)
	}
	r := e.Do("GET", "/api/v1/admin/events/dead-letters?consumer=notify.auth_emails", nil, admin)
	items, _ := r.JSON()["items"].([]any)
	if r.Status != 200 || len(items) != 1 || items[0].(map[string]any)["event_id"] != ev.ID || items[0].(map[string]any)["payload"].(map[string]any)["type"] != ev.Type {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	if r := e.Do("POST", fmt.Sprintf("/api/v1/admin/events/dead-letters/%d/retry", id), nil, cust); r.Status != 403 {
		t.Fatalf("customer retry: %d", r.Status)
	}
	r = e.Do("POST", fmt.Sprintf("/api/v1/admin/events/dead-letters/%d/retry", id), nil, admin)
	if r.Status != 202 || r.JSON()["retry_requested_at"] == nil {
		t.Fatalf("retry: %d %s", r.Status, r.Body)
	}
	deadline := time.Now().Add(15 * time.Second)
	for countRows(t, e, "SELECT count(*) FROM events.dead_letters WHERE id = ? AND retried_at IS NOT NULL", id) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("retry not run")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := countRows(t, e, "SELECT count(*) FROM notify.notifications WHERE event_id = ?", ev.ID); n != 1 {
		t.Fatalf("%d notifications from the retried event, want 1", n)
	}
	r = e.Do("POST", fmt.Sprintf("/api/v1/admin/events/dead-letters/%d/retry", id), nil, admin)
	if r.Status != 409 || r.Str("code") != "already_retried" {
		t.Fatalf("second retry: %d %s", r.Status, r.Body)
	}
	for _, bad := range []string{"999999", "abc", "-1"} {
		if r := e.Do("POST", "/api/v1/admin/events/dead-letters/"+bad+"/retry", nil, admin); r.Status != 404 {
			t.Fatalf("retry %s: %d", bad, r.Status)
		}
	}
	r = e.Do("GET", "/api/v1/admin/events/dead-letters", nil, admin)
	items, _ = r.JSON()["items"].([]any)
	if r.Status != 200 || len(items) != 1 || items[0].(map[string]any)["retried_at"] == nil {
		t.Fatalf("list after retry: %d %s", r.Status, r.Body)
	}
	if n := countRows(t, e, "SELECT count(*) FROM platform.audit_log WHERE route = '/api/v1/admin/events/dead-letters/{id}/retry'"); n != 5 {
		t.Fatalf("%d audited retries, want 5 (202, 409 and three 404)", n)
	}
}

// An administrator's live stream receives order_placed when a customer
// places an order (published by notify after its transaction committed).
func TestAdminStreamReceivesOrderPlaced(t *testing.T) {
	e, admin, cust := adminAndCustomer(t, func(c *config.Config) { c.SSEHeartbeat = 200 * time.Millisecond })
	pid := e.Do("POST", "/api/v1/admin/products", map[string]any{"sku": "S1", "name": "Streamed", "category": "c", "price": 900, "currency": "USD", "weight_grams": 100, "initial_stock": 5}, admin).Str("id")
	addr := e.Do("POST", "/api/v1/me/addresses", map[string]any{"line1": "1 St", "city": "Berlin", "postal_code": "10115", "country": "DE"}, cust).Str("id")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.URL+"/api/v1/admin/stream?access_token="+admin, nil)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	waitLine := func(pred func(string) bool, what string) string {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("stream ended waiting for %s", what)
				}
				if pred(l) {
					return l
				}
			case <-ctx.Done():
				t.Fatalf("no %s", what)
			}
		}
	}
	waitLine(func(l string) bool { return strings.HasPrefix(l, ": ping") }, "heartbeat")

	e.Do("POST", "/api/v1/cart/items", map[string]any{"product_id": pid, "quantity": 1}, cust)
	sid := e.Do("POST", "/api/v1/checkout", map[string]any{"address_id": addr, "courier": "standard", "payment_gateway": "test"}, cust).Str("checkout_session_id")
	r := e.Do("POST", "/api/v1/orders", map[string]any{"checkout_session_id": sid}, cust, "Idempotency-Key", "stream-order-1")
	if r.Status != 201 {
		t.Fatalf("order: %d %s", r.Status, r.Body)
	}
	order := r.Str("id")
	waitLine(func(l string) bool { return l == "event: order_placed" }, "order_placed event")
	data := waitLine(func(l string) bool { return strings.HasPrefix(l, "data: ") }, "its data")
	if !strings.Contains(data, `"type":"order_placed"`) || !strings.Contains(data, `"order_id":"`+order+`"`) || !strings.Contains(data, `"currency":"USD"`) || !strings.Contains(data, `"at":"`) {
		t.Fatalf("data: %s", data)
	}

	// Customers and anonymous callers are refused, also with the query token.
	for tok, want := range map[string]int{cust: 403, "": 401} {
		res, err := http.Get(e.URL + "/api/v1/admin/stream?access_token=" + tok)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != want {
			t.Errorf("stream with %q: %d, want %d", tok[:min(len(tok), 8)], res.StatusCode, want)
		}
	}
}
