package acceptance

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// adminStream opens GET /api/v1/admin/stream with ?access_token= (as the
// console's EventSource does) and delivers each event's data.
func adminStream(t *testing.T, base, token string) <-chan map[string]any {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/admin/stream?access_token="+url.QueryEscape(token), nil)
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("admin stream: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	out := make(chan map[string]any, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				event = line[7:]
			case strings.HasPrefix(line, "data: "):
				var d map[string]any
				if json.Unmarshal([]byte(line[6:]), &d) == nil && d["type"] == event {
					out <- d
				}
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	return out
}

// The admin console's platform routes over HTTP, in both topologies: the
// live stream shows a customer's order, the audit log shows the admin's
// change, dead letters list, users are searched; customers are refused.
func TestAdminPlatformOverHTTP(t *testing.T) {
	s := newShop(t, nil)
	tok := customerToken(t, s.u, s.smtp, "platform-buyer@shop.test")
	stream := adminStream(t, s.u, s.admin)
	// The subscription is live once the head arrived; the relay's side of
	// it shows nowhere outside the binary, so it gets a short window.
	time.Sleep(300 * time.Millisecond)
	prod := s.product("SKU-PLATFORM-1", 1200, 5)
	order := expect(t, s.order(tok, s.checkout(tok, prod, 1)), 201, "order").Str("id")
	deadline := time.After(20 * time.Second)
	for found := false; !found; {
		select {
		case d := <-stream:
			found = d["type"] == "order_placed" && d["order_id"] == order
		case <-deadline:
			t.Fatal("no order_placed on the admin stream")
		}
	}

	audit := expect(t, call(t, s.u, "GET", "/api/v1/admin/audit?actor=ord-admin@shop.test", nil, s.admin), 200, "audit").JSON()["items"].([]any)
	seen := false
	for _, it := range audit {
		e := it.(map[string]any)
		seen = seen || (e["method"] == "POST" && e["route"] == "/api/v1/admin/products" && e["status"] == float64(201))
	}
	if !seen {
		t.Fatalf("product creation not audited: %v", audit)
	}
	expect(t, call(t, s.u, "GET", "/api/v1/admin/events/dead-letters?limit=5", nil, s.admin), 200, "dead letters")
	expectProblem(t, call(t, s.u, "POST", "/api/v1/admin/events/dead-letters/999999/retry", nil, s.admin), 404, "not_found", "unknown letter")
	users := expect(t, call(t, s.u, "GET", "/api/v1/admin/users?q=PLATFORM-buyer&role=customer", nil, s.admin), 200, "users").JSON()["items"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["email"] != "platform-buyer@shop.test" {
		t.Fatalf("user search: %v", users)
	}
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/v1/admin/audit"}, {"GET", "/api/v1/admin/events/dead-letters"}, {"POST", "/api/v1/admin/events/dead-letters/1/retry"},
		{"GET", "/api/v1/admin/stream?access_token=" + tok},
	} {
		expectProblem(t, call(t, s.u, r.method, r.path, nil, tok), 403, "forbidden", "customer on "+r.path)
	}
}
